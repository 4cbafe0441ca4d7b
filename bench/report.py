"""The results as a Markdown table (printed, and pasted into bench/README.md) and a chart."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bench.harness import WorkloadResult


def table(results: Sequence[WorkloadResult]) -> str:
    """One row per case: median µs per op, and the median in-round ratio to the baseline."""
    lines = [
        "| workload | case | µs/op (median) | x baseline (median) | IQR of ratio | ops/round |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for w in results:
        for c in w.cases:
            low, high = c.ratio_spread
            lines.append(
                f"| {w.name} | {c.label} | {c.median_us:,.1f} | {c.median_ratio:.2f} "
                f"| {low:.2f}-{high:.2f} | {w.ops:,} |"
            )
    return "\n".join(lines)


def comparisons(rows: Sequence[tuple[str, float]]) -> str:
    """Named in-round ratios (e.g. generated async / raw psycopg async)."""
    lines = ["| comparison (median of in-round ratios) | ratio |", "|---|---:|"]
    lines += [f"| {label} | {ratio:.2f} |" for label, ratio in rows]
    return "\n".join(lines)


def chart(results: Sequence[WorkloadResult], path: Path) -> None:
    """Horizontal bars of each case's median ratio to its workload's baseline, log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{w.name} · {c.label}" for w in results for c in w.cases]
    ratios = [c.median_ratio for w in results for c in w.cases]
    colours = [
        "tab:gray" if "baseline" in c.label or "A/A" in c.label else "tab:blue"
        for w in results
        for c in w.cases
    ]
    fig, ax = plt.subplots(figsize=(11, 0.28 * len(labels) + 1.5))
    y = list(range(len(labels)))[::-1]
    ax.barh(y, ratios, color=colours)
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_xscale("log")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xlabel("time per op ÷ raw psycopg baseline, same round (median; < 1 is faster)")
    ax.set_title("plue-db: generated functions vs alternatives")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)

"""Interleaved rounds and in-round ratios: the measuring method shared by every workload.

Machine noise drifts over seconds (CPU frequency, the server's checkpoints, other
processes), so every case of a workload runs once per round, in a rotated order, and
each case is compared with the baseline of the *same* round. The medians of those
per-round ratios are what the table reports; the A/A control (the baseline timed
under another name) shows how far a ratio moves with no code change at all.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

Timer = Callable[[int], float]
"""Runs ``n`` operations and returns the seconds one operation took on average."""


@dataclass(frozen=True, slots=True)
class Case:
    """One way of doing a workload's operation."""

    label: str
    timer: Timer


@dataclass(frozen=True, slots=True)
class Workload:
    """An operation measured several ways; ``cases[0]`` is the baseline."""

    name: str
    ops: int
    cases: Sequence[Case]


@dataclass(slots=True)
class CaseResult:
    """A case's per-round seconds per op and its per-round ratios to the baseline."""

    label: str
    seconds: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)

    @property
    def median_us(self) -> float:
        return statistics.median(self.seconds) * 1e6

    @property
    def median_ratio(self) -> float:
        return statistics.median(self.ratios)

    @property
    def ratio_spread(self) -> tuple[float, float]:
        """The interquartile range of the per-round ratios (the noise around the median)."""
        if len(self.ratios) < 2:
            return (self.ratios[0], self.ratios[0])
        q = statistics.quantiles(self.ratios, n=4, method="inclusive")
        return (q[0], q[2])


@dataclass(slots=True)
class WorkloadResult:
    name: str
    ops: int
    rounds: int
    cases: list[CaseResult]

    def case(self, label: str) -> CaseResult:
        for c in self.cases:
            if c.label == label:
                return c
        raise KeyError(f"workload {self.name!r} has no case {label!r}")

    def paired_ratio(self, numerator: str, denominator: str) -> float:
        """Median over rounds of numerator/denominator, both taken in the same round."""
        num, den = self.case(numerator).seconds, self.case(denominator).seconds
        return statistics.median(n / d for n, d in zip(num, den, strict=True))


WARMUP_OPS = 12
"""Enough calls for psycopg to prepare a statement (5) and the server to settle its
plan choice (5 custom plans, then maybe the generic one), so rounds see steady state."""


def run(
    workload: Workload,
    rounds: int,
    log: Callable[[str], None] = print,
    round_budget: float | None = None,
) -> WorkloadResult:
    """Warm every case up, then time ``rounds`` interleaved rounds.

    With ``round_budget`` (seconds), fewer than ``workload.ops`` ops per case are run
    when the warm-up shows a round would take longer (a slow plan must not make the
    run take an hour); never fewer than 3.
    """
    cases = list(workload.cases)
    warm = [case.timer(min(workload.ops, WARMUP_OPS)) for case in cases]
    ops = workload.ops
    if round_budget is not None:
        ops = max(3, min(ops, int(round_budget / sum(warm))))
    results = [CaseResult(c.label) for c in cases]
    for r in range(rounds):
        shift = r % len(cases)
        order = list(range(len(cases)))[shift:] + list(range(len(cases)))[:shift]
        seconds = [0.0] * len(cases)
        for i in order:
            seconds[i] = cases[i].timer(ops)
        for result, s in zip(results, seconds, strict=True):
            result.seconds.append(s)
            result.ratios.append(s / seconds[0])
    log(f"  {workload.name}: {rounds} rounds x {ops} ops done")
    return WorkloadResult(workload.name, ops, rounds, results)

"""``python -m bench.ha``: what durability and a transaction-mode pooler cost.

- **Commit latency**, local vs ``synchronous_commit=remote_apply``: a primary and one
  streaming replica from the wheel's PostgreSQL 16 binaries (plue_db.servers.replicas), the
  replica named in ``synchronous_standby_names``; one autocommit connection inserts a
  row per commit, the two settings alternating round by round on the same connection
  (``SET synchronous_commit``). Baseline: ``local`` (the primary's own WAL flush).
- **Calls per second through pgbouncer** (Debian's, transaction mode, 4 server
  connections) vs direct: 8 threads calling the generated ``users.get_user_by_id``
  through ``open_pool`` (8 connections). Baseline: direct, preparation on (the default).
  Also direct with preparation off, to tell the pooler's hop from the lost preparation.

Each case runs in interleaved rounds (order rotated per round); reported: the median
per round and the median of per-round ratios to the baseline of the same round.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Callable, Sequence

import psycopg
from plue_queries import users
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from bench.scratch import scratch_database
from plue_db import servers
from plue_db.pool import SyncPool, Timeouts, open_pool
from plue_db.servers import pgbouncer, replicas

THREADS = 8


def _rounds(cases: dict[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """Run every case once per round, rotating the order; each returns one measurement."""
    names = list(cases)
    results: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            results[name].append(cases[name]())
    return results


def _report(title: str, unit: str, results: dict[str, list[float]], baseline: str) -> str:
    precision = ".3f" if unit == "ms" else ".0f"
    lines = [f"### {title}", "", f"| case | median {unit} | ratio to {baseline} (IQR) |"]
    lines.append("|---|---|---|")
    for name, values in results.items():
        ratios = sorted(v / b for v, b in zip(values, results[baseline], strict=True))
        quartiles = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
        lines.append(
            f"| {name} | {statistics.median(values):{precision}} | {statistics.median(ratios):.2f}"
            f" ({quartiles[0]:.2f}-{quartiles[-1]:.2f}) |"
        )
    return "\n".join(lines)


def commit_latency(rounds: int, commits: int) -> str:
    """Milliseconds per commit, local vs remote_apply, on a primary with one sync replica."""
    with replicas.running_cluster(replicas=1) as cluster:
        replica = cluster.replicas[0]
        cluster.set_synchronous([replica.name], "remote_apply")
        with psycopg.connect(cluster.primary.url(), autocommit=True) as conn:
            conn.execute("CREATE TABLE commits (id bigint GENERATED ALWAYS AS IDENTITY, n int)")

            def per_commit(level: str) -> Callable[[], float]:
                def run() -> float:
                    conn.execute("SELECT set_config('synchronous_commit', %s, false)", (level,))
                    started = time.perf_counter()
                    for n in range(commits):
                        conn.execute("INSERT INTO commits (n) VALUES (%s)", (n,))
                    return (time.perf_counter() - started) / commits * 1000

                return run

            cases = {level: per_commit(level) for level in ("local", "on", "remote_apply")}
            for case in cases.values():
                case()  # warm-up
            results = _rounds(cases, rounds)
    return _report("Commit latency (PostgreSQL 16, loopback replica)", "ms", results, "local")


def _calls_per_second(pool: SyncPool, user_id: int, calls: int) -> Callable[[], float]:
    def run() -> float:
        start = threading.Barrier(THREADS + 1)

        def work() -> None:
            start.wait()
            for _ in range(calls):
                with pool.connection() as conn:
                    assert users.get_user_by_id(conn, id=user_id) is not None

        threads = [threading.Thread(target=work) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        start.wait()
        started = time.perf_counter()
        for thread in threads:
            thread.join()
        return THREADS * calls / (time.perf_counter() - started)

    return run


def pooler_throughput(server: str, rounds: int, calls: int) -> str:
    """Calls per second: direct (prepared / not) vs through pgbouncer in transaction mode."""
    with scratch_database(server) as url:
        name = sql.Identifier(str(conninfo_to_dict(url)["dbname"]))
        with psycopg.connect(server, autocommit=True) as admin:
            for setting, value in Timeouts().by_setting().items():
                admin.execute(
                    sql.SQL("ALTER DATABASE {} SET {} = {}").format(
                        name, sql.Identifier(setting), sql.Literal(value)
                    )
                )
        with psycopg.connect(url) as conn:
            user = users.create_user(
                conn, username="bench", display_name="Bench", bio="", is_admin=False
            )
        with (
            pgbouncer.running(server, pool_size=THREADS // 2) as bouncer,
            open_pool(url, min_size=THREADS, max_size=THREADS) as direct,
            open_pool(
                url, transaction_pooler=True, min_size=THREADS, max_size=THREADS
            ) as unprepared,
            open_pool(
                bouncer.url(url), transaction_pooler=True, min_size=THREADS, max_size=THREADS
            ) as pooled,
        ):
            cases = {
                "direct": _calls_per_second(direct, user.id, calls),
                "direct, preparation off": _calls_per_second(unprepared, user.id, calls),
                f"{bouncer.version()}, transaction mode": _calls_per_second(pooled, user.id, calls),
            }
            for case in cases.values():
                case()  # warm-up: connections made, statements prepared
            results = _rounds(cases, rounds)
    return _report(
        f"Calls per second, {THREADS} threads (get_user_by_id)", "calls/s", results, "direct"
    )


def main(argv: Sequence[str] | None = None) -> str:
    parser = argparse.ArgumentParser(prog="python -m bench.ha", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run (seconds)")
    parser.add_argument("--server-url", help="server for the pooler case (default: configured)")
    args = parser.parse_args(argv)
    rounds, commits, calls = (3, 20, 20) if args.quick else (15, 300, 300)
    server = args.server_url or servers.database_url()
    text = "\n\n".join([commit_latency(rounds, commits), pooler_throughput(server, rounds, calls)])
    print(text)
    return text


if __name__ == "__main__":
    main()

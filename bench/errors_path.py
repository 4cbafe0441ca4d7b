"""What naming constraint violations costs on the success path: nothing measurable.

Generated functions that write wrap their execute in ``try: ... except
psycopg.IntegrityError`` (plue_queries.errors). On CPython 3.11 a try block costs
nothing until something is raised; this run shows it on a real call. One connection,
autocommit, ``synchronous_commit=off``; the operation is ``users.update_user_profile``
(an UPDATE ... RETURNING of one row, which can violate constraints, so it translates).

- baseline: today's shape before the change, written out here: the same thread
  cursor, SQL constant, arguments and row decoder, with no handler;
- A/A: the baseline timed again under another name (the noise);
- generated: ``users.update_user_profile`` itself, with the handler;
- handler, no pipeline block: the generated shape before issue 17, without the
  ``with completed(conn):`` that completes the execute inside a caller's pipeline.

Interleaved rounds and in-round ratios, as bench/harness.py does for every workload.
``python -m bench.errors_path [--rounds N] [--server-url URL]``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import psycopg
from plue_queries import models, users
from plue_queries.errors import raise_named
from sqlc_gen_psycopg_runtime.cursors import thread_cursor

from bench.harness import Case, Timer, Workload, run
from bench.report import comparisons, table
from bench.scratch import scratch_database
from plue_db import dsn, servers


def update_without_handler(
    conn: psycopg.Connection[Any], *, display_name: str, bio: str, avatar_url: str | None, id: int
) -> models.User | None:
    """update_user_profile as generated before errors were named (no try/except)."""
    cur = thread_cursor(conn)
    cur.execute(users.UPDATE_USER_PROFILE, (display_name, bio, avatar_url, id))
    r = cur.fetchone()
    return None if r is None else models.load_user(r)


def update_without_pipeline_block(
    conn: psycopg.Connection[Any], *, display_name: str, bio: str, avatar_url: str | None, id: int
) -> models.User | None:
    """update_user_profile as generated before its execute went in ``with completed(conn):``
    (the block that completes it inside a caller's pipeline, issue 17)."""
    cur = thread_cursor(conn)
    try:
        cur.execute(users.UPDATE_USER_PROFILE, (display_name, bio, avatar_url, id))
    except psycopg.IntegrityError as error:
        raise_named(error)
        raise
    r = cur.fetchone()
    return None if r is None else models.load_user(r)


def timer(conn: psycopg.Connection[Any], function: Any, user_id: int) -> Timer:
    def measure(n: int) -> float:
        start = time.perf_counter()
        for i in range(n):
            function(conn, display_name=f"name {i}", bio="", avatar_url=None, id=user_id)
        return (time.perf_counter() - start) / n

    return measure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=24)
    parser.add_argument("--ops", type=int, default=400)
    parser.add_argument("--server-url", default=None)
    args = parser.parse_args()
    server = args.server_url or servers.database_url()
    with scratch_database(server) as url:
        fast = dsn.with_params(url, options="-c synchronous_commit=off")
        with psycopg.connect(fast, autocommit=True) as conn:
            user = users.create_user(
                conn, username="bench_errors", display_name="B", bio="", is_admin=False
            )
            workload = Workload(
                "update_user_profile (success path)",
                args.ops,
                [
                    Case("no handler (before)", timer(conn, update_without_handler, user.id)),
                    Case("A/A: no handler again", timer(conn, update_without_handler, user.id)),
                    Case(
                        "generated, with handler", timer(conn, users.update_user_profile, user.id)
                    ),
                    Case(
                        "handler, no pipeline block",
                        timer(conn, update_without_pipeline_block, user.id),
                    ),
                ],
            )
            result = run(workload, args.rounds)
    print(table([result]))
    print()
    print(
        comparisons(
            [
                (
                    "generated with handler / before",
                    result.case("generated, with handler").median_ratio,
                ),
                (
                    "generated / handler without the pipeline block",
                    result.case("generated, with handler").median_ratio
                    / result.case("handler, no pipeline block").median_ratio,
                ),
                ("A/A control", result.case("A/A: no handler again").median_ratio),
            ]
        )
    )


if __name__ == "__main__":
    main()

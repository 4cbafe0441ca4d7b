"""``python -m bench.scale --quick`` end to end: every row of the tables, scratch forges dropped.

Only the shape and the exact counts are checked; timings on a shared machine are not
assertions.
"""

from __future__ import annotations

import math
import os
import re

import psycopg

from bench import scale
from bench.scale import main

PAGE = re.compile(
    r"^\| (?P<query>[^|]+) \| (?P<page>first|deep) \| [\d,]+ → [\d,]+ \| (?P<rows>[\d,]+) → "
    r"[\d,]+ \| [\d →]+ \| [\d,]+ \| [\d,]+ \| (?P<ratio>[\d.]+)x \|$"
)
THROUGHPUT = re.compile(r"^\| (?P<label>[^|]+) \| (?P<ops>[\d,]+) \| [\d.]+ \| [\d,]+ \|$")


def _scratch_databases(server_url: str) -> set[str]:
    with psycopg.connect(server_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s",
            (f"plue_bench_{os.getpid()}_%",),
        ).fetchall()
    return {str(r[0]) for r in rows}


def test_quick_run_reports_every_list_and_throughput(server_url: str) -> None:
    before = _scratch_databases(server_url)
    logged: list[str] = []

    text = main(["--quick", "--server-url", server_url], log=logged.append)

    pages = [m.groupdict() for line in text.splitlines() if (m := PAGE.match(line))]
    assert [(p["query"], p["page"]) for p in pages] == [
        (q.name, page) for q in scale.LISTS for page in ("first", "deep")
    ]
    assert all(math.isfinite(float(p["ratio"])) and float(p["ratio"]) > 0 for p in pages)
    assert all(int(p["rows"].replace(",", "")) > 0 for p in pages)

    throughputs = {
        m["label"]: int(m["ops"].replace(",", ""))
        for line in text.splitlines()
        if (m := THROUGHPUT.match(line))
    }
    created = scale.QUICK.issues_per_thread * scale.WORKERS
    assert throughputs == {
        f"claim a queued run ({scale.WORKERS} workers)": scale.QUICK.claims,
        f"create an issue, one hot repository ({scale.WORKERS} threads)": created,
        f"create an issue, 2 repositories ({scale.WORKERS} threads)": created,
    }
    assert text.startswith("Machine: ")
    assert _scratch_databases(server_url) == before == set()

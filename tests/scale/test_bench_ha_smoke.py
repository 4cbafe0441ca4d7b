"""bench.ha still runs end to end (a quick run: a replica, pgbouncer, both tables)."""

from __future__ import annotations

import pytest

from bench import ha


@pytest.mark.slow
def test_quick_run_prints_both_tables(server_url: str) -> None:
    text = ha.main(["--quick", "--server-url", server_url])
    assert "| remote_apply |" in text and "| local | " in text
    assert "| direct |" in text and "PgBouncer 1." in text and "transaction mode |" in text

"""bench.index_build on a small table: the plain build holds a write for about its whole
duration; the concurrent build (the control) lets writes through and holds none that
long. The full run's numbers are in bench/README.md; this keeps the module working."""

from __future__ import annotations

from bench import index_build


def test_plain_build_blocks_writes_and_concurrent_does_not(server_url: str) -> None:
    plain, concurrent = index_build.run(server_url, rows=100_000, before=0.5, after=0.3)
    assert plain.statement == "CREATE INDEX"
    assert concurrent.statement == "CREATE INDEX CONCURRENTLY"
    assert plain.max_latency_during >= 0.8 * plain.seconds
    assert concurrent.writes_during > index_build.WRITERS
    assert concurrent.max_latency_during < 0.8 * concurrent.seconds
    table = index_build.table([plain, concurrent], 100_000)
    assert table.count("\n") == 3

"""bench.model_types runs (a quick run): every model_type is measured against raw psycopg
and against the dataclass, with the A/A control, on a real server."""

from __future__ import annotations

from bench import model_types


def test_quick_run_reports_every_kind_and_the_controls(server_url: str) -> None:
    text = model_types.main(["--quick", "--server-url", server_url], log=lambda _: None)
    for kind in model_types.KINDS:
        assert f"list_notes: 50 table models: {kind} / raw |" in text
    for kind in model_types.KINDS[1:]:
        assert f"load_note: {kind} / dataclass |" in text
    assert text.count(": A/A |") == 3

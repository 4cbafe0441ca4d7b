"""The kitchen-sink golden fixture's package on a real server: its database and rows.

A pytest plugin (tests/conftest.py loads it). ``kitchen_conn`` is a connection to a
database of the module's own holding the fixture's schema, rolled back after the test;
``kind_values`` builds one row of every type family the fixture covers.
"""

from __future__ import annotations

import datetime
import ipaddress
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from kitchen import enums, models

from tests.fix_db import Conn, fresh_database
from tests.paths import GOLDEN

KITCHEN_SINK = GOLDEN / "kitchen_sink"


@pytest.fixture(scope="module")
def kitchen_url(server_url: str) -> Iterator[str]:
    with fresh_database(server_url, KITCHEN_SINK / "schema.sql") as url:
        yield url


@pytest.fixture
def kitchen_conn(kitchen_url: str) -> Iterator[Conn]:
    with psycopg.connect(kitchen_url) as conn:
        models.register_composites(conn)
        yield conn
        conn.rollback()


def kind_values(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "small": -32768,
        "regular": 2147483647,
        "big": -9223372036854775808,
        "amount": Decimal("12345678901234.123456"),
        "ratio": 0.5,
        "precise": 1e308,
        "flag": True,
        "label": "emoji 🦀, RTL שלום, NUL-free",
        "code": "ABC-123",
        "fixed": "xy ",
        "blob": b"\x00\xff\x10binary",
        "ident": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "day": datetime.date(2026, 2, 28),
        "at_time": datetime.time(23, 59, 59, 999999),
        "at_timetz": datetime.time(1, 2, 3, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
        "local_ts": datetime.datetime(2000, 1, 1, 12, 0),
        "ts": datetime.datetime(2026, 11, 22, 10, 30, 15, 123456, tzinfo=datetime.UTC),
        "span": datetime.timedelta(days=3, seconds=5, microseconds=7),
        "doc": {"a": [1, 2, {"b": None}], "s": "x"},
        "docb": {"nested": {"list": [True, False], "n": 1.5}},
        "addr": ipaddress.ip_interface("192.168.1.10/24"),
        "net": ipaddress.ip_network("10.0.0.0/8"),
        "tags": ["a", "b c", 'd"e', "f,g"],
        "grid": [[1, 2], [3, 4]],
        "feeling": enums.Mood.TRÈS_BIEN if hasattr(enums.Mood, "TRÈS_BIEN") else enums.Mood.HAPPY,
        "feelings": [enums.Mood.SAD, enums.Mood.OK],
        "wallet": "0x" + "ab" * 20,
        "note": None,
    }
    values.update(overrides)
    return values

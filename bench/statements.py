"""The statements measured, each with its generated function and a hand-written decoder.

A statement names the generated constant (the SQL every client runs), how the
generated sync and async functions are called, how a baseline turns a tuple row into
the same dataclass the generated function returns, and the arguments of each call.
"""

from __future__ import annotations

import inspect
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, LiteralString

from plue_queries import enums, issues, models, users
from plue_queries.aio import issues as aissues
from plue_queries.aio import users as ausers

from bench.seed import Seeded

Args = tuple[Any, ...]
Row = Sequence[Any]


@dataclass(frozen=True, slots=True)
class Statement:
    name: str
    sql: LiteralString
    many: bool
    call: Callable[..., object]
    """The generated sync function, called as ``call(conn, **kwargs)``."""
    acall: Callable[..., Awaitable[object]]
    decode: Callable[[Row], object]
    argsets: list[Args]
    """Arguments of successive calls, in ``$n`` order; timers cycle through them."""
    pgbench_sets: dict[int, str] = field(default_factory=dict)
    """``$n`` -> a pgbench ``\\set`` expression drawing that argument per transaction."""

    def calls(self) -> list[tuple[Args, dict[str, Any]]]:
        """Each call's positional arguments (for raw clients) beside its keywords.

        The generated signature lists its keywords in ``$n`` order, so the names are
        read from it rather than restated here.
        """
        params = inspect.signature(self.call).parameters.values()
        names = [p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY]
        return [(a, dict(zip(names, a, strict=True))) for a in self.argsets]


def issue_from_row(r: Row) -> models.Issue:
    """What hand-written code does to get an Issue: positional, the enum looked up in the
    same value->member dict the generated code uses."""
    return models.Issue(
        r[0],
        r[1],
        r[2],
        r[3],
        r[4],
        enums.ISSUE_STATE_BY_VALUE[r[5]],
        r[6],
        r[7],
        r[8],
        r[9],
        r[10],
        r[11],
    )


def user_from_row(r: Row) -> models.User:
    return models.User(*r)


def comment_from_row(r: Row) -> models.Comment:
    return models.Comment(*r)


def point_lookup(seeded: Seeded, rng: random.Random, count: int) -> Statement:
    """users.get_user_by_id on a random user."""
    n = seeded.size.users
    return Statement(
        name="point lookup (get_user_by_id)",
        sql=users.GET_USER_BY_ID,
        many=False,
        call=users.get_user_by_id,
        acall=ausers.get_user_by_id,
        decode=user_from_row,
        argsets=[(rng.randint(1, n),) for _ in range(count)],
        pgbench_sets={1: f"random(1, {n})"},
    )


def list_page(seeded: Seeded, count: int) -> Statement:
    """issues.list_issues: the newest 50 open issues of the hot repository."""
    args: Args = (seeded.hot_repository_id, enums.IssueState.OPEN, None, None, None, None, None, 50)
    return Statement(
        name="50-row list (list_issues)",
        sql=issues.LIST_ISSUES,
        many=True,
        call=issues.list_issues,
        acall=aissues.list_issues,
        decode=issue_from_row,
        argsets=[args] * count,
    )


def insert_returning(seeded: Seeded, rng: random.Random, count: int) -> Statement:
    """issues.create_comment: one INSERT ... RETURNING, autocommitted."""
    s = seeded.size
    return Statement(
        name="insert RETURNING (create_comment)",
        sql=issues.CREATE_COMMENT,
        many=False,
        call=issues.create_comment,
        acall=aissues.create_comment,
        decode=comment_from_row,
        argsets=[
            (rng.randint(1, s.issues), rng.randint(1, s.users), "Looks good to me.")
            for _ in range(count)
        ],
        pgbench_sets={1: f"random(1, {s.issues})", 2: f"random(1, {s.users})"},
    )


def create_issue(seeded: Seeded, rng: random.Random, count: int) -> Statement:
    """issues.create_issue: number taken under the repository row lock, then the insert."""
    s = seeded.size
    return Statement(
        name="create-issue (create_issue)",
        sql=issues.CREATE_ISSUE,
        many=False,
        call=issues.create_issue,
        acall=aissues.create_issue,
        decode=issue_from_row,
        argsets=[
            (
                rng.randint(1, s.repositories),
                "Crash when rebasing a change",
                "It crashes.",
                rng.randint(1, s.users),
                None,
                None,
            )
            for _ in range(count)
        ],
        pgbench_sets={1: f"random(1, {s.repositories})", 4: f"random(1, {s.users})"},
    )

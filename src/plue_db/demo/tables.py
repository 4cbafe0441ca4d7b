"""The one plain-text table renderer, for ``plue-db demo`` and ``plue-db stats``.

Terminal output stays readable without a dependency: columns padded to their widest
cell, numeric columns right-aligned, a missing value shown as ``-``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Headers, a rule of dashes, then the rows; ``(no rows)`` under an empty table.

    A column is right-aligned when every value in it is a number (a bool is not one).
    """
    text = [[_cell(value) for value in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in text:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    right = [bool(rows) and all(_is_number(row[i]) for row in rows) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        padded = (
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)
        )
        return "  ".join(padded).rstrip()

    out = [line(headers), line(["-" * w for w in widths]), *(line(row) for row in text)]
    if not rows:
        out.append("(no rows)")
    return "\n".join(out)


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)

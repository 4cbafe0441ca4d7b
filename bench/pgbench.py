"""pgbench as the physical limit: the same statement, ``-M prepared``, same server and socket.

pgbench is C with libpq and no row decoding, so what it costs per statement is what
the server and the socket cost; a Python client can only add to it. pgbench cannot
bind a NULL (it sends the text "NULL"), so NULL arguments become literal NULLs in its
copy of the statement; every other argument stays a bound parameter.
"""

from __future__ import annotations

import re
import subprocess

from psycopg.conninfo import make_conninfo

from bench import placeholders
from bench.harness import Timer
from bench.statements import Statement
from plue_db.servers import embedded

_COMMENT = re.compile(r"--[^\n]*")
_TPS = re.compile(r"^tps = ([0-9.]+) \(without initial connection time\)", re.M)


def script(st: Statement) -> tuple[str, list[str]]:
    """The pgbench script for ``st`` and the ``-D`` definitions of its constant arguments."""
    sample = st.argsets[0]
    text = placeholders.pgbench_style(st.sql)
    lines, defines = [], []
    for n in sorted(set(placeholders.numbers(st.sql))):
        if n in st.pgbench_sets:
            lines.append(f"\\set p{n} {st.pgbench_sets[n]}")
        elif sample[n - 1] is None:
            text = re.sub(rf":p{n}\b", "NULL", text)
        else:
            defines += ["-D", f"p{n}={sample[n - 1]}"]
    # One line per statement; a comment would swallow the rest of it. No benchmarked
    # query holds "--" inside a literal, so stripping to the end of line is exact.
    body = " ".join(_COMMENT.sub("", text).split())
    return "\n".join([*lines, body + ";", ""]), defines


def timer(url: str, st: Statement, clients: int = 1) -> Timer:
    """Seconds per statement (1 / tps) over ``n`` transactions shared by ``clients``."""
    text, defines = script(st)
    argv = [
        str(embedded.bin_dir() / "pgbench"),
        "--no-vacuum",
        "--protocol=prepared",
        f"--client={clients}",
        f"--jobs={min(clients, 2)}",
        "--file=-",
        *defines,
    ]

    def run(n: int) -> float:
        transactions = max(1, n // clients)
        out = subprocess.run(
            [*argv, f"--transactions={transactions}", make_conninfo(url)],
            input=text,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        match = _TPS.search(out)
        if match is None:
            raise RuntimeError(f"pgbench printed no tps for {st.name}:\n{out}")
        return 1.0 / float(match.group(1))

    return run

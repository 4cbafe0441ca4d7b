"""Connection strings as users write them: checked before libpq sees them, printed without secrets.

libpq's parse errors quote the piece of the string they choke on, and that piece can be
the password (``unexpected spaces found in "TOP SECRET"``); a URL whose password holds
an unencoded ``/`` or ``@`` parses "fine" with password fragments in the host, port or
database name, which connection errors then repeat. So plue-db checks a connection
string itself and says what is wrong in its own words (never libpq's parse message),
masks passwords by looking at the text (so even a string libpq cannot parse is shown
safely), and scrubs every password it knows of out of a message before printing it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import suppress
from urllib.parse import unquote

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

MASK = "***"

_URL = re.compile(r"^(postgres(?:ql)?://)(.*)$", re.DOTALL)
# A password value runs to the next "key=" (keyword form: space-separated, URL query:
# '&'-separated) or to the end, so a password with a space or '&' in it is masked whole;
# a quoted one that is unterminated or runs on after its quote is masked to the end.
_KEYWORD_PASSWORD = re.compile(
    r"(?<![\w.])password\s*=\s*('(?:[^'\\]|\\.)*'(?=\s|$)|'.*|.*?(?=\s+[A-Za-z_]+\s*=|$))",
    re.DOTALL,
)
_QUERY_PASSWORD = re.compile(r"(?<=[?&])password=(.*?(?=&[A-Za-z_]+=|$))", re.DOTALL)
_QUOTED = re.compile(r'"[^"]*"|\'[^\']*\'')

# libpq's parse errors, by the start of their text, in plue-db's words: libpq's own
# text is never shown because it quotes the offending part of the string.
_PARSE_PROBLEMS = (
    ("unexpected spaces", "an unencoded space; write spaces as %20"),
    ("invalid percent-encoded token", "a '%' not followed by two hex digits; write '%' as %25"),
    ("forbidden value %00", "an encoded NUL byte (%00)"),
    ('missing "=" after', "a word without '=' (key=value pairs; quote values with spaces)"),
    ("unterminated quoted string", "an unterminated quoted value"),
    ("invalid connection option", "an unknown connection option"),
    ("invalid uri query parameter", "an unknown query parameter"),
    ("extra key/value separator", "a query parameter with two '='"),
    ("missing key/value separator", "a query parameter without '='"),
    ("end of string reached when looking for matching", "a '[' without its ']'"),
    ("ipv6 host address may not be empty", "an empty [] host"),
    ("unexpected character", "an unexpected character in the host or port"),
)


class DsnError(ValueError):
    """A connection string plue-db will not use; the message names its source, never its text."""


def redacted(dsn: str) -> str:
    """``dsn`` with every password masked, safe to print even if libpq cannot parse it."""
    pieces, shown = [], 0
    for start, end in _merged(_password_spans(dsn)):
        pieces += [dsn[shown:start], MASK]
        shown = end
    return "".join([*pieces, dsn[shown:]])


def secrets(dsn: str) -> set[str]:
    """The password(s) in ``dsn`` as written, unquoted and percent-decoded (non-empty)."""
    found = set()
    for start, end in _password_spans(dsn):
        raw = dsn[start:end]
        found |= {raw, raw.strip("'"), unquote(raw)}
    with suppress(psycopg.ProgrammingError):  # unparseable: the spans above are all there is
        found.add(str(conninfo_to_dict(dsn).get("password") or ""))
    return {s for s in found if s}


def scrub(message: str, dsns: Iterable[str]) -> str:
    """``message`` with each DSN redacted and any quoted fragment of a password masked."""
    dsns = [d for d in dsns if d]
    for dsn in dsns:
        message = message.replace(dsn, redacted(dsn))
    hidden: set[str] = set().union(*(secrets(d) for d in dsns))
    # Up to two characters are too common to hunt for ('u' in 'user "u"').
    for secret in sorted(hidden, key=len, reverse=True):
        if len(secret) > 2:
            message = message.replace(secret, MASK)

    def mask(match: re.Match[str]) -> str:
        leaks = any(_overlap(match[0][1:-1], secret) for secret in hidden)
        return f'"{MASK}"' if leaks else match[0]

    return _QUOTED.sub(mask, message)


def _overlap(quoted: str, secret: str) -> bool:
    """Whether a quoted fragment shares three characters in a row with ``secret``.

    libpq quotes a misparsed host or value, which can hold part of a password with a
    neighbour (``'zzword@127.0.0.1'``); short ones only count when they are all of it.
    """
    if len(quoted) < 3 or len(secret) < 3:
        return quoted == secret
    return any(secret[i : i + 3] in quoted for i in range(len(secret) - 2))


def with_params(dsn: str, **params: str | int | None) -> str:
    """``dsn`` with ``params`` set (another database, port, application_name...); a
    parameter given as None is removed (another user without the old password).

    The one place plue-db rewrites a connection string: libpq's own parser and printer
    (psycopg.conninfo), so URLs, keyword strings and multi-host lists all come out right.
    """
    return make_conninfo("", **{**conninfo_to_dict(dsn), **params})


def validate(dsn: str, source: str) -> str:
    """``dsn`` if libpq can use it as meant; else DsnError naming ``source`` and the problem."""
    problem = _url_problem(dsn) or _parse_problem(dsn)
    if problem:
        raise DsnError(f"{source} is not a usable connection string: {problem} ({redacted(dsn)})")
    return dsn


def _url_problem(dsn: str) -> str | None:
    """An '@' that libpq would not read as the end of user:password (it stops at '/' or '@')."""
    url = _URL.match(dsn)
    if url is None:
        return None
    rest = url[2]
    stop = re.search(r"[@/]", rest)
    if stop is None:
        return None
    after = rest[stop.end() :].split("?", 1)[0]
    if "@" not in after:
        return None
    if stop[0] == "/":
        return "an '@' after the first '/'; write '/' in a password as %2F"
    return "more than one '@'; write '@' in a user name or password as %40"


def _parse_problem(dsn: str) -> str | None:
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        text = str(exc).lower()
        return next(
            (p for start, p in _PARSE_PROBLEMS if text.startswith(start)), "libpq rejects it"
        )
    ports = str(params.get("port") or "").split(",")
    if not all(port.strip().isdigit() or not port.strip() for port in ports):
        return "a port that is not a number"
    return None


def _password_spans(dsn: str) -> Iterator[tuple[int, int]]:
    """Where passwords sit in ``dsn``: URL user info, ``?password=``, ``password=``."""
    url = _URL.match(dsn)
    if url is None:
        for match in _KEYWORD_PASSWORD.finditer(dsn):
            yield match.span(1)
        return
    offset = url.start(2)
    rest = url[2]
    # The user info ends at the last '@' (a password may hold unencoded '@', '/', '?').
    at = rest.rfind("@")
    colon = rest.find(":", 0, at)
    if at > 0 and colon >= 0:
        yield offset + colon + 1, offset + at
    for match in _QUERY_PASSWORD.finditer(rest):
        yield offset + match.start(1), offset + match.end(1)


def _merged(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping spans joined, in order."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged

"""Making untrusted text storable: PostgreSQL never stores NUL in text or jsonb.

Agent output and build logs contain NUL bytes. Ordinary writes should fail loudly on
them (psycopg raises DataError for text, PostgreSQL UntranslatableCharacter for
jsonb), so nothing is silently altered; log ingestion, where losing a line is worse
than altering a byte, calls these functions explicitly first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

NUL = "\x00"
REPLACEMENT = "\N{REPLACEMENT CHARACTER}"

JsonLike = Mapping[str, "JsonLike"] | Sequence["JsonLike"] | str | int | float | bool | None


def clean_text(text: str, replacement: str = REPLACEMENT) -> str:
    """``text`` with every NUL replaced (by U+FFFD unless told otherwise)."""
    return text.replace(NUL, replacement) if NUL in text else text


def clean_json(value: JsonLike, replacement: str = REPLACEMENT) -> JsonLike:
    """A JSON value with NUL replaced in every string and key, however deep."""
    if isinstance(value, str):
        return clean_text(value, replacement)
    if isinstance(value, Mapping):
        return {clean_text(k, replacement): clean_json(v, replacement) for k, v in value.items()}
    if isinstance(value, Sequence):
        return [clean_json(item, replacement) for item in value]
    return value

"""Making untrusted text storable: PostgreSQL never stores NUL in text or jsonb.

Agent output and build logs contain NUL bytes. Ordinary writes should fail loudly on
them (psycopg raises DataError for text, PostgreSQL UntranslatableCharacter for
jsonb), so nothing is silently altered; log ingestion, where losing a line is worse
than altering a byte, calls these functions explicitly first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

# The JSON aliases are the generated package's public ones (plue_db ships with it; it
# must never import plue_db back).
from plue_queries.types import JsonInput

NUL = "\x00"
REPLACEMENT = "\N{REPLACEMENT CHARACTER}"


def clean_text(text: str, replacement: str = REPLACEMENT) -> str:
    """``text`` with every NUL replaced (by U+FFFD unless told otherwise)."""
    return text.replace(NUL, replacement) if NUL in text else text


def clean_json(value: JsonInput, replacement: str = REPLACEMENT) -> JsonInput:
    """A JSON value with NUL replaced in every string and key, however deep."""
    if isinstance(value, str):
        return clean_text(value, replacement)
    if isinstance(value, Mapping):
        return {clean_text(k, replacement): clean_json(v, replacement) for k, v in value.items()}
    if isinstance(value, Sequence):
        return [clean_json(item, replacement) for item in value]
    return value

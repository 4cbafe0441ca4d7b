"""Entry point of the sqlc process plugin: GenerateRequest JSON in, files out.

sqlc starts it with almost no environment (no PATH) and shows its stderr on failure.
Any GenerationError becomes one message on stderr and exit status 1, with no output,
so sqlc writes nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sqlc_gen_psycopg.errors import GenerationError
from sqlc_gen_psycopg.model import Builder
from sqlc_gen_psycopg.options import parse_options
from sqlc_gen_psycopg.protocol import encode_response, parse_request
from sqlc_gen_psycopg.render import render
from sqlc_gen_psycopg.schema_info import read_schema


def generate(data: bytes) -> dict[str, str]:
    """The whole pipeline, for tests and for main()."""
    request = parse_request(data)
    options = parse_options(request.options)
    schema = read_schema([Path(p) for p in request.schema_files])
    package = Builder(request, options, schema).build()
    return render(package)


def main() -> None:
    try:
        files = generate(sys.stdin.buffer.read())
    except GenerationError as exc:
        sys.stderr.write(f"sqlc-gen-psycopg: {exc}\n")
        sys.exit(1)
    sys.stdout.buffer.write(encode_response(files))


if __name__ == "__main__":
    main()

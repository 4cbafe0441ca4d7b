"""Entry point of the sqlc process plugin: GenerateRequest JSON in, files out.

sqlc starts it with almost no environment (no PATH) and shows its stderr on failure.
Any GenerationError becomes one message on stderr and exit status 1, with no output,
so sqlc writes nothing.
"""

from __future__ import annotations

import importlib.metadata
import json
import sys

from sqlc_gen_psycopg.analysis_mode import config_directory
from sqlc_gen_psycopg.errors import GenerationError
from sqlc_gen_psycopg.identity_columns import identities_not_null
from sqlc_gen_psycopg.model.build import Builder
from sqlc_gen_psycopg.options import parse_options
from sqlc_gen_psycopg.protocol import encode_response, parse_request
from sqlc_gen_psycopg.render import render
from sqlc_gen_psycopg.schema_info import read_schema
from sqlc_gen_psycopg.view_columns import merge_view_columns
from sqlc_gen_psycopg.view_nullability import prove_views

NOT_JSON = (
    "the input is not sqlc's JSON generate request: run this plugin from sqlc, with "
    "`format: json` in its `plugins:` entry of sqlc.yaml (sqlc's default is protobuf)"
)


def generate(data: bytes) -> dict[str, str]:
    """The whole pipeline, for tests and for main()."""
    try:
        request = parse_request(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GenerationError(NOT_JSON) from exc
    options = parse_options(request.options)
    schema = read_schema([config_directory() / p for p in request.schema_files])
    request = merge_view_columns(identities_not_null(request, schema), schema)
    request = prove_views(request, schema)
    package = Builder(request, options, schema).build()
    files = render(package)
    for line in package.warnings:  # sqlc drops them on success: manifest.json keeps them
        sys.stderr.write(f"sqlc-gen-psycopg: warning: {line}\n")
    return files


def read_request() -> bytes:
    """stdin, refused in one line unless it can be sqlc's JSON: protobuf (``format``
    left out) is binary, and a terminal means someone ran the script by hand."""
    if sys.stdin.isatty():
        raise GenerationError(NOT_JSON)
    data = sys.stdin.buffer.read()
    if not data.lstrip().startswith(b"{"):
        raise GenerationError(NOT_JSON)
    return data


def main() -> None:
    if sys.argv[1:] == ["--version"]:  # sqlc passes only its RPC method name
        print(f"sqlc-gen-psycopg {importlib.metadata.version('sqlc-gen-psycopg')}")
        return
    try:
        files = generate(read_request())
    except GenerationError as exc:
        sys.stderr.write(f"sqlc-gen-psycopg: {exc}\n")
        sys.exit(1)
    sys.stdout.buffer.write(encode_response(files))


if __name__ == "__main__":
    main()

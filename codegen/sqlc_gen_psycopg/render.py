"""Rendering the model to Python source with jinja2 (templates only print), then
formatting it with ruff."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import tempfile
import tomllib
from pathlib import Path

import jinja2
from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]

from sqlc_gen_psycopg import imports
from sqlc_gen_psycopg.contents import contents
from sqlc_gen_psycopg.errors import GenerationError
from sqlc_gen_psycopg.manifest import FILE_NAME as MANIFEST_FILE
from sqlc_gen_psycopg.manifest import manifest
from sqlc_gen_psycopg.model.package import ASYNC, ASYNCPG, SYNC, Flavor, Module, Package
from sqlc_gen_psycopg.model.results import private_aliases
from sqlc_gen_psycopg.model.types import Scope, Symbol, TypeRef, from_import, from_runtime

TEMPLATES = Path(__file__).parent / "templates"


def docstring(text: str) -> str:
    """Text safe inside a triple-quoted docstring at the 4-space level (every docstring
    we emit is), continuation lines indented to match."""
    safe = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"').rstrip('"')
    return safe.replace("\n", "\n    ")


def docstring_closed(text: str) -> str:
    """A docstring body followed directly by the closing quotes: multi-line ones end on
    a line of their own (PEP 257); ruff format then fixes the indentation."""
    body = docstring(text)
    return f"{body}\n" if "\n" in body else body


def pystr(text: str) -> str:
    """A one-line Python string literal."""
    return repr(text)


def pystr_body(text: str) -> str:
    """The body of a triple-quoted literal holding SQL exactly (backslashes, quotes)."""
    body = text.replace("\\", "\\\\").replace('"""', '""\\"')
    return body[:-1] + '\\"' if body.endswith('"') else body


@jinja2.pass_context
def py(context: jinja2.runtime.Context, item: Symbol | TypeRef) -> str:
    """A symbol or annotation as written in the module being rendered."""
    scope: Scope = context["scope"]
    return item.text(scope)


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - we render Python source, not HTML
    )
    env.filters.update(
        docstring=docstring,
        docstring_closed=docstring_closed,
        pystr=pystr,
        pystr_body=pystr_body,
        py=py,
    )
    return env


# Written in every package: where callers look for the classes to catch. The helpers
# are imported from sqlc-gen-psycopg-runtime (contents.py).
ALWAYS = ("types.py", "errors.py")


def render(pkg: Package) -> dict[str, str]:
    """Every file of the package, keyed by path relative to the codegen ``out`` dir, and
    the manifest of what it holds."""
    env = environment()
    uses = contents(pkg)
    models_scope = private_aliases(
        [*(m.cls for m in pkg.models), *(c.cls for c in pkg.composites)],
        Scope(pkg.name, f"{pkg.name}.models"),
    )
    files: dict[str, str] = {
        "__init__.py": render_init(env, pkg, SYNC),
        "models.py": env.get_template("models.py.j2").render(
            pkg=pkg, scope=models_scope, imports=imports.models_module(pkg, models_scope)
        ),
        **{name: env.get_template(f"{name}.j2").render(pkg=pkg, uses=uses) for name in ALWAYS},
        "py.typed": "",
    }
    if pkg.enums:
        files["enums.py"] = env.get_template("enums.py.j2").render(
            pkg=pkg, imports=imports.enums_module(pkg, Scope(pkg.name, f"{pkg.name}.enums"))
        )
    for flavor in pkg.flavors:
        folder = f"{flavor.subpackage}/" if flavor.subpackage else ""
        source = pkg.for_asyncpg() if flavor is ASYNCPG else pkg
        for module in source.modules:
            files[f"{folder}{module.stem}.py"] = render_module(env, source, module, flavor)
        if flavor.subpackage:
            files[f"{folder}__init__.py"] = render_init(env, source, flavor)
    if pkg.emit_asyncpg:
        files["_asyncpg.py"] = env.get_template("_asyncpg.py.j2").render(pkg=pkg)
    return {**format_sources(files, pkg.name), MANIFEST_FILE: manifest(pkg)}


def module_scope(pkg: Package, module: Module, flavor: Flavor) -> Scope:
    """Where a query module is written; the async twins read SQL constants and row
    classes from its sync module as ``q``."""
    sync = pkg.module_name(module.stem)
    if flavor.aio:
        return Scope(pkg.name, f"{pkg.name}.{flavor.subpackage}.{module.stem}", {sync: "q"})
    return private_aliases(module.classes(), Scope(pkg.name, sync))


TEMPLATE = {SYNC: "queries.py.j2", ASYNC: "aio_queries.py.j2", ASYNCPG: "asyncpg_queries.py.j2"}


def render_module(env: jinja2.Environment, pkg: Package, module: Module, flavor: Flavor) -> str:
    template = TEMPLATE[flavor]
    scope = module_scope(pkg, module, flavor)
    return env.get_template(template).render(
        pkg=pkg,
        module=module,
        flavor=flavor,
        scope=scope,
        imports=imports.query_module(module, flavor, scope, classes=pkg.emit_classes),
    )


INIT_DOCS = {
    SYNC: "Typed query functions generated by sqlc-gen-psycopg, one module per query file.",
    ASYNC: "Async twins of {}'s query functions (psycopg.AsyncConnection).",
    ASYNCPG: "{}'s query functions over asyncpg; call init_connection once per connection.",
}
# What a subpackage's __init__ offers besides the query functions.
INIT_RUNTIME = {
    ASYNCPG: (
        from_runtime("asyncpg_target", "Connection"),
        from_runtime("asyncpg_target", "StreamNeedsTransactionError"),
        from_import("._asyncpg", "init_connection"),
    ),
}


def render_init(env: jinja2.Environment, pkg: Package, flavor: Flavor) -> str:
    exports = {m.stem: pkg.package_exports(m) for m in pkg.modules}
    base = f"{pkg.name}.{flavor.subpackage}" if flavor.subpackage else pkg.name
    # ``import x as x``: the form type checkers take as a re-export, one line a name
    scope = Scope(pkg.name, base)
    lines = [
        f"from {scope.resolve(s.module)} import {s.name} as {s.name}"
        for s in INIT_RUNTIME.get(flavor, ())
    ]
    return env.get_template("init.py.j2").render(
        pkg=pkg,
        base=base,
        exports=exports,
        doc=INIT_DOCS[flavor].format(pkg.name),
        runtime=lines,
        # the package checks, once, that the runtime installed is the one it was made for
        generated_by="" if flavor.subpackage else importlib.metadata.version("sqlc-gen-psycopg"),
    )


def nearest_ruff_config(start: Path) -> Path | None:
    """The ruff settings ruff itself would use for files under ``start`` (sqlc's cwd)."""
    for folder in (start, *start.parents):
        for name in ("ruff.toml", ".ruff.toml", "pyproject.toml"):
            candidate = folder / name
            if candidate.is_file() and (
                name != "pyproject.toml" or "[tool.ruff" in candidate.read_text()
            ):
                return candidate
    return None


def first_party_roots(config: Path, layout: Path) -> str:
    """ruff's ``src`` setting as an inline override with absolute paths: the project's
    own (``[tool.ruff] src``, default ``[".", "src"]``, relative to the config's folder)
    and ``layout``, where the package is formatted.

    ruff resolves relative ``src`` entries against its working directory when given
    ``--config``, so in the temporary layout an import of the project's own code (a
    converter's module in ``src/``) counted as third-party there and first-party in the
    project: the generated imports were sorted differently from ``ruff check``'s view.
    """
    data = tomllib.loads(config.read_text()) if config.suffix == ".toml" else {}
    settings = data.get("tool", {}).get("ruff", {}) if config.name == "pyproject.toml" else data
    entries = settings.get("src", [".", "src"])
    roots = [str((config.parent / entry).resolve()) for entry in entries] + [str(layout)]
    return "src = [" + ", ".join(json.dumps(root) for root in roots) + "]"


def format_sources(files: dict[str, str], package: str) -> dict[str, str]:
    """Sort imports and format with ruff, using the project's ruff settings when present.

    Files are laid out under a directory named after the package, as in the project,
    so ruff classifies the package's own imports as first-party the same way, and the
    project's ``src`` folders count as first-party as they do in the project.
    """
    ruff = find_ruff_bin()
    config = nearest_ruff_config(Path.cwd())
    with tempfile.TemporaryDirectory(prefix="sqlc-gen-psycopg-") as tmp:
        config_args = (
            ["--config", str(config), "--config", first_party_roots(config, Path(tmp))]
            if config
            else []
        )
        root = Path(tmp) / package
        for name, text in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        steps = (
            # Imports come from the model: ruff only sorts them, and an unused or a
            # missing name (F401, F821) is a bug that fails generation.
            [
                ruff,
                "check",
                "--quiet",
                "--no-cache",
                "--select=I,F401,F821",
                "--fix",
                "--unfixable=F401",
                *config_args,
                ".",
            ],
            [ruff, "format", "--quiet", "--no-cache", *config_args, "."],
        )
        for command in steps:
            done = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)  # noqa: S603
            if done.returncode != 0:
                raise GenerationError(
                    "generated code failed to format (a bug in sqlc-gen-psycopg):\n"
                    + done.stdout
                    + done.stderr
                )
        return {name: (root / name).read_text() for name in files}

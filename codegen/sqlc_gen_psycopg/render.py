"""Rendering the model to Python source with jinja2 (templates only print), then
formatting it with ruff."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import jinja2
from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]

from sqlc_gen_psycopg import imports
from sqlc_gen_psycopg.errors import GenerationError
from sqlc_gen_psycopg.manifest import FILE_NAME as MANIFEST_FILE
from sqlc_gen_psycopg.manifest import manifest
from sqlc_gen_psycopg.model.package import ASYNC, SYNC, Flavor, Module, Package
from sqlc_gen_psycopg.model.results import private_aliases
from sqlc_gen_psycopg.model.types import Scope, Symbol, TypeRef

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


STATIC = ("types.py", "_types.py", "_cursors.py", "_streams.py", "_atomic.py")


def render(pkg: Package) -> dict[str, str]:
    """Every file of the package, keyed by path relative to the codegen ``out`` dir, and
    the manifest of what it holds."""
    env = environment()
    models_scope = private_aliases(
        [*(m.cls for m in pkg.models), *(cls for _, cls in pkg.composites)],
        Scope(pkg.name, f"{pkg.name}.models"),
    )
    files: dict[str, str] = {
        "__init__.py": render_init(env, pkg, aio=False),
        "models.py": env.get_template("models.py.j2").render(
            pkg=pkg, scope=models_scope, imports=imports.models_module(pkg, models_scope)
        ),
        "enums.py": env.get_template("enums.py.j2").render(
            pkg=pkg, imports=imports.enums_module(pkg, Scope(pkg.name, f"{pkg.name}.enums"))
        ),
        **{name: env.get_template(f"{name}.j2").render(pkg=pkg) for name in STATIC},
        "py.typed": "",
    }
    for module in pkg.modules:
        files[f"{module.stem}.py"] = render_module(env, pkg, module, SYNC)
        if pkg.emit_async:
            files[f"aio/{module.stem}.py"] = render_module(env, pkg, module, ASYNC)
    if pkg.emit_async:
        files["aio/__init__.py"] = render_init(env, pkg, aio=True)
    return {**format_sources(files, pkg.name), MANIFEST_FILE: manifest(pkg)}


def module_scope(pkg: Package, module: Module, flavor: Flavor) -> Scope:
    """Where a query module is written; the async twin reads SQL constants and row
    classes from its sync module as ``q``."""
    sync = pkg.module_name(module.stem)
    if flavor.aio:
        return Scope(pkg.name, pkg.module_name(module.stem, aio=True), {sync: "q"})
    return private_aliases(module.classes(), Scope(pkg.name, sync))


def render_module(env: jinja2.Environment, pkg: Package, module: Module, flavor: Flavor) -> str:
    template = "aio_queries.py.j2" if flavor.aio else "queries.py.j2"
    scope = module_scope(pkg, module, flavor)
    return env.get_template(template).render(
        pkg=pkg,
        module=module,
        flavor=flavor,
        scope=scope,
        imports=imports.query_module(module, flavor, scope),
    )


def render_init(env: jinja2.Environment, pkg: Package, *, aio: bool) -> str:
    exports = {
        m.stem: sorted(name for fn in m.functions for name in fn.exported) for m in pkg.modules
    }
    all_names = sorted([m.stem for m in pkg.modules] + [n for v in exports.values() for n in v])
    base = f"{pkg.name}.aio" if aio else pkg.name
    doc = (
        f"Async twins of {pkg.name}'s query functions (psycopg.AsyncConnection)."
        if aio
        else "Typed query functions generated by sqlc-gen-psycopg, one module per query file."
    )
    return env.get_template("init.py.j2").render(
        pkg=pkg, base=base, exports=exports, all_names=all_names, doc=doc
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


def format_sources(files: dict[str, str], package: str) -> dict[str, str]:
    """Sort imports and format with ruff, using the project's ruff settings when present.

    Files are laid out under a directory named after the package, as in the project,
    so ruff classifies the package's own imports as first-party the same way.
    """
    ruff = find_ruff_bin()
    config = nearest_ruff_config(Path.cwd())
    config_args = ["--config", str(config)] if config else []
    with tempfile.TemporaryDirectory(prefix="sqlc-gen-psycopg-") as tmp:
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

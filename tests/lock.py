"""The exact versions development and CI install (requirements/dev.lock), for tests that
build scratch virtualenvs: they must test the versions everyone else runs."""

from __future__ import annotations

import re

from tests.paths import ROOT

LOCK = ROOT / "requirements" / "dev.lock"


def canonical(name: str) -> str:
    """A distribution name as pip compares them (PEP 503: case and -_. runs ignored)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_versions() -> dict[str, str]:
    """Every locked distribution (canonical name) and its version."""
    pins = (line.split("==") for line in LOCK.read_text().splitlines() if "==" in line)
    return {canonical(name): version.strip() for name, version in pins}


def locked(name: str) -> str:
    """``name==version`` as locked; fails naming the package when the lock lacks it."""
    version = locked_versions().get(canonical(name))
    assert version, f"{name} is not in {LOCK}; add it to pyproject.toml and run `make lock`"
    return f"{name}=={version}"

"""The lock file is what installs use, and the README tells its versions truthfully."""

from __future__ import annotations

import re

from core.config import PROJECT_ROOT

LOCK = PROJECT_ROOT / "requirements.lock"


def _locked() -> dict[str, set[str]]:
    versions: dict[str, set[str]] = {}
    for name, version in re.findall(r"^([a-z0-9][a-z0-9._-]*)==([^ \\;]+)", LOCK.read_text(), re.M):
        versions.setdefault(name.lower(), set()).add(version)
    return versions


def test_every_locked_requirement_has_hashes() -> None:
    text = LOCK.read_text()
    blocks = re.split(r"\n(?=[a-z0-9])", text.split("\n", 2)[2])
    assert blocks and all("--hash=sha256:" in block for block in blocks if block.strip())


def test_the_lock_pins_every_direct_dependency() -> None:
    import tomllib

    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["dev"]
    names = {re.split(r"[<>=\[ ;]", req, maxsplit=1)[0].lower() for req in wanted}
    assert names - set(_locked()) == set()


def test_the_readme_table_matches_the_lock() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    table = readme.split("## Dependencies: installed from the lock", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"\| ([a-z0-9-]+) \| ([0-9.]+) ", table)
    assert len(rows) >= 10
    locked = _locked()
    assert {name: version for name, version in rows if version not in locked.get(name, set())} == {}


def test_installed_versions_are_the_locked_ones() -> None:
    import importlib.metadata

    locked = _locked()
    for name in ("flask", "babel", "sqlalchemy", "pluggy", "flask-babel"):
        assert importlib.metadata.version(name) in locked[name], name

"""Layers: the core (and its tests) never imports a plugin, and a plugin never imports another.

The core reaches plugins through hooks only, so it must start, migrate and pass its own tests
with no plugin installed (tests/test_plugin_matrix.py runs that); a core test that imports
``plugins.visits`` would break that promise without anyone noticing. A check of one plugin's
pages belongs to that plugin's tests (``plugins/<name>/tests/``). The source is read with
``ast``: imports, relative imports and the dotted names given to ``import_module``,
``__import__`` and the ``patch``/``setattr`` helpers.
"""

from __future__ import annotations

import ast
from pathlib import Path

from core.config import PROJECT_ROOT

DYNAMIC_IMPORTERS = {"import_module", "__import__", "find_spec", "patch", "setattr", "delattr"}


def module_name(path: Path, root: Path = PROJECT_ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module name ``source`` (the module ``module``) imports, relative ones resolved."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                prefix = ".".join(base)
            else:
                prefix = ""
            target = ".".join(p for p in (prefix, node.module or "") if p)
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names if alias.name != "*")
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in DYNAMIC_IMPORTERS:
                for arg in node.args[:1]:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        found.add(arg.value)
    return found


def plugin_of(module: str) -> str | None:
    """``visits`` for ``plugins.visits.services``; ``""`` for the ``plugins`` package itself."""
    parts = module.split(".")
    if parts[0] != "plugins":
        return None
    return parts[1] if len(parts) > 1 else ""


def sources(*patterns: str) -> list[Path]:
    return sorted({p for pattern in patterns for p in PROJECT_ROOT.glob(pattern)})


CORE_SIDE = sources("core/**/*.py", "tests/*.py", "tests/browser/*.py", "conftest.py")
PLUGIN_SIDE = sources("plugins/*/**/*.py")


def imports_of(path: Path) -> set[str]:
    return imported_modules(
        path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py"
    )


def test_the_scan_covers_the_core_its_tests_and_every_plugin() -> None:
    core_side = {module_name(p) for p in CORE_SIDE}
    assert {"core.app", "core.testing", "tests.test_crawl", "tests.browser.test_core_journey"} <= (
        core_side
    )
    plugins = {plugin_of(module_name(p)) for p in PLUGIN_SIDE}
    assert {"visits", "funds"} <= plugins


def test_the_core_and_its_tests_import_no_plugin() -> None:
    found = {
        str(path.relative_to(PROJECT_ROOT)): sorted(bad)
        for path in CORE_SIDE
        if (bad := {m for m in imports_of(path) if plugin_of(m) is not None})
    }
    assert found == {}


def test_a_plugin_imports_no_other_plugin() -> None:
    found = {}
    for path in PLUGIN_SIDE:
        own = plugin_of(module_name(path))
        if bad := {m for m in imports_of(path) if plugin_of(m) not in (None, own)}:
            found[str(path.relative_to(PROJECT_ROOT))] = sorted(bad)
    assert found == {}


def test_the_scan_catches_every_way_of_importing() -> None:
    source = "\n".join(
        [
            "import plugins.visits.services",
            "from plugins.funds import models",
            "from plugins import funds",
            "from ...funds.services import deposit",
            "from ... import funds as money",
            "import importlib",
            "importlib.import_module('plugins.funds.cli')",
            "monkeypatch.setattr('plugins.funds.services.deposit', None)",
            "from core.db import session",
            "from . import helpers",
        ]
    )
    found = imported_modules(source, "plugins.visits.tests.test_x")
    assert {
        "plugins.visits.services",
        "plugins.funds",
        "plugins.funds.models",
        "plugins.funds.services",
        "plugins",
        "plugins.funds.cli",
        "plugins.funds.services.deposit",
        "plugins.visits.tests.helpers",
        "core.db",
    } <= found
    others = {m for m in found if plugin_of(m) not in (None, "visits")}
    assert {"plugins", "plugins.funds", "plugins.funds.services", "plugins.funds.cli"} <= others
    assert "plugins.visits.tests.helpers" not in others
    assert plugin_of("plugins") == "" and plugin_of("core.plugins") is None

"""Every hook has a docstring, a ``### <hook_name>`` section in docs/plugins.md and a test in
tests/test_hooks.py (a test function whose name contains the hook's name), like Datasette's
``test_plugin_hooks_are_documented`` / ``test_plugin_hooks_have_tests``."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from core import hookspecs

ROOT = Path(__file__).resolve().parent.parent
HOOKS = hookspecs.all_hook_names()
GUIDE = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
SECTIONS = {m.group(1): m.start() for m in re.finditer(r"^### (\w+)\s*$", GUIDE, re.MULTILINE)}


def _test_names() -> list[str]:
    tree = ast.parse((ROOT / "tests" / "test_hooks.py").read_text(encoding="utf-8"))
    return [
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    ]


def test_hookspecs_are_found() -> None:
    assert len(HOOKS) >= 17
    assert "portal_nav_items" in HOOKS and "release_blockers" in HOOKS


@pytest.mark.parametrize("name", HOOKS)
def test_plugin_hook_has_a_docstring(name: str) -> None:
    doc = inspect.getdoc(getattr(hookspecs, name)) or ""
    assert len(doc.split()) >= 8, f"hookspec {name} needs a docstring: when, arguments, returns"


@pytest.mark.parametrize("name", HOOKS)
def test_plugin_hook_is_documented(name: str) -> None:
    assert name in SECTIONS, f"docs/plugins.md has no '### {name}' section"
    start = SECTIONS[name]
    following = [pos for pos in SECTIONS.values() if pos > start]
    section = GUIDE[start : min(following) if following else len(GUIDE)]
    signature = inspect.signature(getattr(hookspecs, name))
    params = ", ".join(signature.parameters)
    assert f"{name}({params})" in section, f"the {name} section must show its exact signature"
    assert "```python" in section, f"the {name} section needs a sample"


@pytest.mark.parametrize("name", HOOKS)
def test_plugin_hook_has_a_test(name: str) -> None:
    assert any(name in test for test in _test_names()), (
        f"tests/test_hooks.py has no test_… function whose name mentions {name}"
    )


# Hooks the built-in plugins publish (``plugins/<name>/hookspecs.py``), read as source: the
# core's tests import no plugin. Each needs the same three things, its test in the plugin's own
# ``tests/`` (a throwaway plugin implementing it).
def _published() -> dict[str, tuple[Path, ast.FunctionDef]]:
    found: dict[str, tuple[Path, ast.FunctionDef]] = {}
    for spec in sorted((ROOT / "plugins").glob("*/hookspecs.py")):
        for node in ast.parse(spec.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef) and any(
                "hookspec" in ast.unparse(d) for d in node.decorator_list
            ):
                found[node.name] = (spec.parent, node)
    return found


PUBLISHED = _published()


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_hook_has_docs_and_a_test(name: str) -> None:
    folder, node = PUBLISHED[name]
    doc = ast.get_docstring(node) or ""
    assert len(doc.split()) >= 8, f"hookspec {name} needs a docstring: when, arguments, returns"
    assert name in SECTIONS, f"docs/plugins.md has no '### {name}' section"
    start = SECTIONS[name]
    following = [pos for pos in SECTIONS.values() if pos > start]
    section = GUIDE[start : min(following) if following else len(GUIDE)]
    params = ", ".join(a.arg for a in node.args.args)
    assert f"{name}({params})" in section, f"the {name} section must show its exact signature"
    assert "```python" in section, f"the {name} section needs a sample"
    tests = [
        fn.name
        for path in (folder / "tests").glob("test_*.py")
        for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(fn, ast.FunctionDef) and fn.name.startswith("test_")
    ]
    assert any(name in t for t in tests), f"{folder.name}/tests has no test mentioning {name}"


def test_no_section_for_a_hook_that_does_not_exist() -> None:
    hook_like = {s for s in SECTIONS if s.islower() and "_" in s}
    known = set(HOOKS) | set(PUBLISHED)
    assert hook_like <= known, hook_like - known

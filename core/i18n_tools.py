"""Catalog maintenance: ``python -m core.i18n_tools update|compile|check``.

Each owner (the core and every plugin folder) has its own gettext domain and catalogs:
``core/translations`` (domain ``core``, sources ``core/`` and ``templates/``) and
``plugins/<name>/translations`` (domain ``<name>``, sources ``plugins/<name>/``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from core.config import LANGUAGES, PROJECT_ROOT

MAPPING = PROJECT_ROOT / "babel.cfg"


@dataclass(frozen=True)
class Owner:
    domain: str
    catalogs: Path
    sources: tuple[Path, ...]


def owners() -> list[Owner]:
    found = [
        Owner(
            "core",
            PROJECT_ROOT / "core" / "translations",
            (PROJECT_ROOT / "core", PROJECT_ROOT / "templates"),
        )
    ]
    plugins = PROJECT_ROOT / "plugins"
    if plugins.is_dir():
        for folder in sorted(p for p in plugins.iterdir() if (p / "__init__.py").exists()):
            found.append(Owner(folder.name, folder / "translations", (folder,)))
    return found


def _babel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


def update() -> None:
    for owner in owners():
        owner.catalogs.mkdir(parents=True, exist_ok=True)
        pot = owner.catalogs / f"{owner.domain}.pot"
        _babel(
            "extract",
            "-F",
            str(MAPPING),
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "--no-location",
            "--sort-output",
            "-o",
            str(pot),
            *[str(s) for s in owner.sources],
        )
        for lang in LANGUAGES:
            po = owner.catalogs / lang / "LC_MESSAGES" / f"{owner.domain}.po"
            if po.exists():
                _babel(
                    "update",
                    "-i",
                    str(pot),
                    "-d",
                    str(owner.catalogs),
                    "-D",
                    owner.domain,
                    "-l",
                    lang,
                    "--no-fuzzy-matching",
                    "--ignore-obsolete",
                )
            else:
                _babel(
                    "init",
                    "-i",
                    str(pot),
                    "-d",
                    str(owner.catalogs),
                    "-D",
                    owner.domain,
                    "-l",
                    lang,
                )


def compile_all() -> None:
    for owner in owners():
        for lang in LANGUAGES:
            po = owner.catalogs / lang / "LC_MESSAGES" / f"{owner.domain}.po"
            if po.exists():
                _babel("compile", "-d", str(owner.catalogs), "-D", owner.domain, "-l", lang)


def missing() -> dict[str, list[str]]:
    """Messages untranslated or fuzzy in the Arabic and French catalogs (English may echo)."""
    problems: dict[str, list[str]] = {}
    for owner in owners():
        for lang in ("ar", "fr"):
            po = owner.catalogs / lang / "LC_MESSAGES" / f"{owner.domain}.po"
            if not po.exists():
                problems[str(po)] = ["<catalog missing>"]
                continue
            with po.open("rb") as fh:
                catalog = read_po(fh)
            bad = []
            for msg in catalog:
                if not msg.id:
                    continue
                strings = msg.string if isinstance(msg.string, tuple) else (msg.string,)
                if msg.fuzzy or not all(strings):
                    bad.append(msg.id if isinstance(msg.id, str) else msg.id[0])
            if bad:
                problems[str(po)] = bad
    return problems


def main(argv: list[str]) -> int:
    action = argv[1] if len(argv) > 1 else "compile"
    if action == "update":
        update()
        compile_all()
    elif action == "compile":
        compile_all()
    elif action == "check":
        problems = missing()
        for path, ids in problems.items():
            print(f"{path}: {len(ids)} missing: {ids[:5]}")
        return 1 if problems else 0
    else:
        print("usage: python -m core.i18n_tools update|compile|check")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Catalog maintenance: ``python -m core.i18n_tools update|compile|check [OWNER...]``.

With owner names (``core``, ``visits``…) only those catalogs are touched; without, all of them.

Each owner (the core and every plugin folder) has its own gettext domain and catalogs:
``core/translations`` (domain ``core``, sources ``core/`` and ``templates/``) and
``plugins/<name>/translations`` (domain ``<name>``, sources ``plugins/<name>/``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po, write_po

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


def selected(names: list[str] | None = None) -> list[Owner]:
    """The owners named (all when ``names`` is empty); an unknown name is an error."""
    found = owners()
    if not names:
        return found
    known = {o.domain for o in found}
    unknown = sorted(set(names) - known)
    if unknown:
        raise SystemExit(f"unknown catalog owner(s): {', '.join(unknown)}; known: {sorted(known)}")
    return [o for o in found if o.domain in names]


def catalog_path(owner: Owner, lang: str) -> Path:
    return owner.catalogs / lang / "LC_MESSAGES" / f"{owner.domain}.po"


def update(names: list[str] | None = None) -> None:
    for owner in selected(names):
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
            po = catalog_path(owner, lang)
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
                sync_plural_forms(po, lang)
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


def sync_plural_forms(po: Path, lang: str) -> bool:
    """Give a catalog the plural rules of the Babel we ship (``pybabel update`` keeps the old
    header). Messages gain empty forms where the new rules have more, which the plural check
    then reports until a translator fills them. A header with the same number of forms is
    left alone: its expression may order the forms differently (Arabic's did), and its
    translations follow that order. Returns whether the file changed."""
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    rules = get_plural(lang)
    if catalog.num_plurals == rules.num_plurals:
        return False
    headers = [
        (k, f"nplurals={rules.num_plurals}; plural={rules.plural_expr};")
        if k.lower() == "plural-forms"
        else (k, v)
        for k, v in catalog.mime_headers
    ]
    catalog.mime_headers = headers
    with po.open("wb") as fh:
        write_po(fh, catalog, omit_header=False, ignore_obsolete=True, include_previous=False)
    return True


def compile_all(names: list[str] | None = None) -> None:
    for owner in selected(names):
        for lang in LANGUAGES:
            po = catalog_path(owner, lang)
            if po.exists():
                _babel("compile", "-d", str(owner.catalogs), "-D", owner.domain, "-l", lang)


def missing(names: list[str] | None = None) -> dict[str, list[str]]:
    """Messages untranslated or fuzzy in the Arabic and French catalogs (English may echo)."""
    problems: dict[str, list[str]] = {}
    for owner in selected(names):
        for lang in ("ar", "fr"):
            po = catalog_path(owner, lang)
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


def plural_problems(names: list[str] | None = None) -> dict[str, list[str]]:
    """Catalogs whose plural header or plural messages do not have the language's forms.

    The number of forms is the shipped Babel's: Arabic six (zero, one, two, few 3-10, "other"
    100-102, many 11-99), French three since Babel 2.19 (one; many, for exact millions: "1 000
    000 de comptes"; other), English two. Each ``ngettext`` message needs a non-empty
    translation for every form.
    """
    problems: dict[str, list[str]] = {}
    for owner in selected(names):
        for lang in LANGUAGES:
            po = catalog_path(owner, lang)
            if not po.exists():
                continue
            with po.open("rb") as fh:
                catalog = read_po(fh, locale=lang)
            expected = get_plural(lang).num_plurals
            bad = []
            if catalog.num_plurals != expected:
                bad.append(
                    f"<header has {catalog.num_plurals} plural forms, {lang} has {expected}>"
                )
            for msg in catalog:
                if msg.id and msg.pluralizable:
                    forms = msg.string if isinstance(msg.string, tuple) else (msg.string,)
                    if len(forms) != expected or not all(forms):
                        bad.append(msg.id[0])
            if bad:
                problems[str(po)] = bad
    return problems


def main(argv: list[str]) -> int:
    action = argv[1] if len(argv) > 1 else "compile"
    names = argv[2:]
    if action == "update":
        update(names)
        compile_all(names)
    elif action == "compile":
        compile_all(names)
    elif action == "check":
        problems = missing(names)
        for path, ids in plural_problems(names).items():
            problems.setdefault(path, []).extend(ids)
        for path, ids in problems.items():
            print(f"{path}: {len(ids)} missing: {ids[:5]}")
        return 1 if problems else 0
    else:
        print("usage: python -m core.i18n_tools update|compile|check [OWNER...]")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

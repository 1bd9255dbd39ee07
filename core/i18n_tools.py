"""Catalog maintenance: ``python -m core.i18n_tools update|compile|check [OWNER...]``.

With owner names (``core``, ``visits``…) only those catalogs are touched; without, all of them.

Each owner (the core and every plugin folder) has its own gettext domain and catalogs:
``core/translations`` (domain ``core``, sources ``core/`` and ``templates/``) and
``plugins/<name>/translations`` (domain ``<name>``, sources ``plugins/<name>/``), and
``packages/<dist>/<module>/translations`` (the domain its catalogs are named after).
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

# The order of the six Arabic forms in our catalogs (Babel's plural expression): msgstr[0] for
# 0, [1] for 1, [2] for 2, [3] for 3-10 (plural noun), [4] for 100-102 (singular genitive:
# "100 طفل"), [5] for 11-99 (singular accusative: "15 طفلًا"). Note [4] and [5]: "other" comes
# before "many".
ARABIC_FORMS = ("zero", "one", "two", "few (3-10)", "other (100-102)", "many (11-99)")


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
    # modules shipped as their own distributions beside the core (packages/<dist>/<module>/):
    # the domain is the name of their catalogs (translations/<lang>/LC_MESSAGES/<domain>.po)
    packages = PROJECT_ROOT / "packages"
    if packages.is_dir():
        for folder in sorted(packages.glob("*/*/translations")):
            domains = sorted({po.stem for po in folder.glob("*/LC_MESSAGES/*.po")})
            if len(domains) == 1:
                found.append(Owner(domains[0], folder, (folder.parent,)))
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
            "-k",
            "lazy_pgettext:1c,2",
            "-k",
            "count_message:1,2",
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


TANWEEN_FATH = "\u064b"  # ً: the accusative ending of "15 مكانًا"


def arabic_plural_problem(forms: tuple[str, ...] | list[str]) -> str:
    """What is wrong with the six Arabic forms of a count message, or ``""``.

    The noun after 3-10 is plural ("3 أماكن متبقية"), after 11-99 singular accusative, written
    with its tanween ("15 مكانًا متبقيًا"), after 100-102 singular genitive ("100 مكان متبقٍّ"):
    three different sentences, and the 11-99 one carries more ``ً`` than the 100-102 one (which
    catches the two forms swapped, as "15 مكان متبق" was).
    """
    few, other, many = forms[3], forms[4], forms[5]
    if len({few, other, many}) < 3:
        return "Arabic forms for 3-10, 11-99 and 100-102 must differ"
    if many.count(TANWEEN_FATH) <= other.count(TANWEEN_FATH):
        return "Arabic form [5] (11-99) needs the accusative tanween, form [4] (100-102) not"
    return ""


def plural_problems(names: list[str] | None = None) -> dict[str, list[str]]:
    """Catalogs whose plural header or plural messages do not have the language's forms.

    The number of forms is the shipped Babel's: Arabic six (zero, one, two, few 3-10, "other"
    100-102, many 11-99), French three since Babel 2.19 (one; many, for exact millions: "1 000
    000 de comptes"; other), English two. Each ``ngettext`` message needs a non-empty
    translation for every form, and in Arabic the forms for 3-10, 11-99 and 100-102 differ
    (the noun's number and case change; see :data:`ARABIC_FORMS`).
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
                    elif lang == "ar" and (problem := arabic_plural_problem(forms)):
                        bad.append(f"{msg.id[0]} <{problem}>")
            if bad:
                problems[str(po)] = bad
    return problems


def _translations(po: Path, lang: str) -> dict[tuple[str | None, str], object]:
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    found: dict[tuple[str | None, str], object] = {}
    for msg in catalog:
        if not msg.id:
            continue
        strings = msg.string if isinstance(msg.string, tuple) else (msg.string,)
        if msg.fuzzy or not all(strings):
            continue
        msgid = msg.id if isinstance(msg.id, str) else msg.id[0]
        found[(msg.context, msgid)] = msg.string
    return found


def conflicts(names: list[str] | None = None) -> list[str]:
    """Messages two catalogs translate differently in one language.

    Flask-Babel merges every domain into one table at run time (plugins first, the core
    last), so such a message shows the last domain's translation everywhere, even on the
    other owner's pages ("Record" the noun of the audit page replacing "Record" the verb of
    the gate). Two meanings need a context (``pgettext("verb", "Record")``); two wordings of
    one meaning need one wording. Returns readable lines, empty when all agree.
    """
    problems: list[str] = []
    for lang in LANGUAGES:
        seen: dict[tuple[str | None, str], tuple[str, object]] = {}
        for owner in selected(names):
            po = catalog_path(owner, lang)
            if not po.exists():
                continue
            for key, string in _translations(po, lang).items():
                if key in seen and seen[key][1] != string:
                    context = f" (context {key[0]!r})" if key[0] else ""
                    problems.append(
                        f"{lang}: {key[1]!r}{context}: {seen[key][0]} says {seen[key][1]!r}, "
                        f"{owner.domain} says {string!r}"
                    )
                seen.setdefault(key, (owner.domain, string))
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
        clashes = conflicts(names)
        for line in clashes:
            print(f"two translations of one message: {line}")
        return 1 if problems or clashes else 0
    else:
        print("usage: python -m core.i18n_tools update|compile|check [OWNER...]")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

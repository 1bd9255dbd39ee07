"""Complaint categories: the general ones this module owns and those every module adds through
the ``complaints_categories`` hook (routing: each category names the office that handles it)."""

from __future__ import annotations

from flask import current_app

from core.contributions import ComplaintCategory
from core.i18n import lazy_gettext as _l
from core.plugins import get_plugin_manager

DEFAULT_OFFICE = "complaints_officer"

GENERAL_CATEGORIES: list[ComplaintCategory] = [
    ComplaintCategory("treatment", _l("Treatment by staff"), "complaints", DEFAULT_OFFICE, 10),
    ComplaintCategory(
        "living_conditions", _l("Living conditions"), "complaints", DEFAULT_OFFICE, 20
    ),
    ComplaintCategory("food", _l("Food"), "complaints", DEFAULT_OFFICE, 30),
    ComplaintCategory("discrimination", _l("Discrimination"), "complaints", DEFAULT_OFFICE, 40),
    ComplaintCategory("other", _l("Other"), "complaints", DEFAULT_OFFICE, 900),
]


def all_categories() -> list[ComplaintCategory]:
    """Every category, ordered by ``order`` then code; a code given twice keeps the first."""
    pm = get_plugin_manager(current_app)
    found: list[ComplaintCategory] = []
    for _plugin, item in pm.collect_by_plugin("complaints_categories"):
        # only ComplaintCategory values (anything else is left out)
        if isinstance(item, ComplaintCategory) and item.code:
            found.append(item)
    found.sort(key=lambda c: (c.order, c.code))
    seen: dict[str, ComplaintCategory] = {}
    for cat in found:
        seen.setdefault(cat.code, cat)
    return list(seen.values())


def category(code: str) -> ComplaintCategory | None:
    return next((c for c in all_categories() if c.code == code), None)


def category_label(code: str) -> str:
    """A stored category code in the reader's language (the code itself if no module gives it)."""
    cat = category(code)
    return str(cat.label) if cat is not None else code


def office_of(code: str) -> str:
    cat = category(code)
    return cat.office if cat is not None else DEFAULT_OFFICE

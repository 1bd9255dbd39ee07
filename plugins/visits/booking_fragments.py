"""The repeated parts of the families' booking page (``visits/book.html``), rendered once per
values and language, then kept (``core.templating.kept_fragment``).

A booking window shows a family some 150 visiting times at once; drawn by the page's loop,
each cost a loop body of filters, a plural and an escape (a third of the page's time). The
button of one time reads only the values in its key — id, start, end, kind, places left,
chosen — so it is rendered once and joined from then on; a booking changes the places left of
its own time, whose button is rendered again. The empty rows for the people coming with the
visitor (a dozen labelled fields) read only their number and the adult age."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from flask import current_app
from markupsafe import Markup

from core.i18n import local_day
from core.templating import kept_fragment

TEMPLATE = "visits/_slot_choice.html"
COMPANIONS = "visits/_companions.html"


def slots_by_day(slots: Sequence[Any]) -> list[tuple[dt.date, list[Any]]]:
    """The slots (in time order) grouped by their local day, in order."""
    days: list[tuple[dt.date, list[Any]]] = []
    for slot in slots:
        day = local_day(slot.starts_at)
        if not days or days[-1][0] != day:
            days.append((day, []))
        days[-1][1].append(slot)
    return days


def slot_choices(slots: Sequence[Any], kind_names: Mapping[str, str], chosen: Any) -> Markup:
    """The radio buttons of ``slots`` (``chosen``: the submitted ``slot_id``, checked)."""
    parts = []
    for slot in slots:
        label = kind_names.get(slot.kind, slot.kind)
        places = slot.capacity - slot.booked
        checked = chosen == str(slot.id)
        key = (slot.id, slot.starts_at, slot.ends_at, label, places, checked)
        parts.append(
            kept_fragment(
                TEMPLATE, key, slot=slot, kind_label=label, places=places, checked=checked
            )
        )
    return Markup("").join(parts)


def companions(form: Any, rules: Any) -> Markup:
    """The rows for the people coming with the visitor: empty (the page asked for), kept per
    number of rows and adult age; a submission's (what was typed, its errors), rendered."""
    if form.is_submitted():
        template = current_app.jinja_env.get_template(COMPANIONS)
        return Markup(template.render(form=form, rules=rules))
    key = (len(form.companions), rules.adult_age)
    return kept_fragment(COMPANIONS, key, form=form, rules=rules)

"""The audit trail page, with filters, for auditors and the central administration."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

from flask import Blueprint, render_template, request

from core.audit import presentation
from core.audit.queries import EventFilters, day_after, day_start, search_events
from core.establishments.services import all_establishments
from core.portal.access import permission_required
from core.validation import ascii_digits

bp = Blueprint("audit", __name__, url_prefix="/audit")
PER_PAGE = 50


def _clean(value: str | None) -> str:
    """A filter value without control characters (the databases cannot compare NUL), capped."""
    text = "".join(ch for ch in (value or "") if unicodedata.category(ch) not in ("Cc", "Cs"))
    return text.strip()[:200]


def _day(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@bp.get("/")
@permission_required("audit.view")
def index() -> Any:
    filters = {
        k: _clean(request.args.get(k))
        for k in ("actor", "action", "object_type", "object_id", "establishment", "since", "until")
    }
    since, until = _day(filters["since"]), _day(filters["until"])
    for key, day in (("since", since), ("until", until)):
        if day is None:
            filters[key] = ""  # an unreadable date is shown blank and not applied
    try:
        page = min(max(1, int(request.args.get("page", 1))), 100_000)
    except ValueError:
        page = 1
    vocab = presentation.vocabulary()
    actions = presentation.matching_actions(filters["action"], vocab)
    rows, total = search_events(
        EventFilters(
            actions=tuple(actions) if actions is not None else None,
            object_type=filters["object_type"],
            object_id=ascii_digits(filters["object_id"]),
            establishment=filters["establishment"],
            actor=filters["actor"],
            since=day_start(since) if since else None,
            until=day_after(until) if until else None,
        ),
        page,
        PER_PAGE,
    )
    return render_template(
        "audit/index.html",
        rows=presentation.show(rows, vocab),
        object_types=sorted(vocab.object_types.items(), key=lambda kv: kv[1]),
        action_labels=sorted(set(vocab.actions.values())),
        total=total,
        page=page,
        per_page=PER_PAGE,
        filters=filters,
        establishments=all_establishments(),
    )

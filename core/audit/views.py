"""The audit trail page, with filters, for auditors and the central administration."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template, request
from sqlalchemy import func, select

from core.audit.models import AuditEvent
from core.config import TIMEZONE
from core.db import session as db_session
from core.establishments.services import all_establishments
from core.portal.access import permission_required

bp = Blueprint("audit", __name__, url_prefix="/audit")
PER_PAGE = 50
TZ = ZoneInfo(TIMEZONE)  # the days of the filter are the days shown on the page


def _clean(value: str | None) -> str:
    """A filter value without control characters (the databases cannot compare NUL), capped."""
    text = "".join(ch for ch in (value or "") if unicodedata.category(ch) not in ("Cc", "Cs"))
    return text.strip()[:200]


@bp.get("/")
@permission_required("audit.view")
def index() -> Any:
    stmt = select(AuditEvent)
    filters = {
        k: _clean(request.args.get(k))
        for k in ("actor", "action", "object_type", "object_id", "establishment", "since", "until")
    }
    if filters["actor"]:
        stmt = stmt.where(AuditEvent.actor_username == filters["actor"].lower())
    if filters["action"]:
        stmt = stmt.where(AuditEvent.action.startswith(filters["action"]))
    if filters["object_type"]:
        stmt = stmt.where(AuditEvent.object_type == filters["object_type"])
    if filters["object_id"]:
        stmt = stmt.where(AuditEvent.object_id == filters["object_id"])
    ests = all_establishments()
    if filters["establishment"]:
        ids = [e.id for e in ests if e.code == filters["establishment"]]
        stmt = stmt.where(AuditEvent.establishment_id.in_(ids or [-1]))
    for key, op in (("since", "ge"), ("until", "lt")):
        if filters[key]:
            try:
                day = dt.date.fromisoformat(filters[key])
                moment = dt.datetime.combine(
                    day if op == "ge" else day + dt.timedelta(days=1), dt.time(), tzinfo=TZ
                )
            except (ValueError, OverflowError):
                filters[key] = ""
                continue
            stmt = stmt.where(
                AuditEvent.occurred_at >= moment if op == "ge" else AuditEvent.occurred_at < moment
            )
    try:
        page = min(max(1, int(request.args.get("page", 1))), 100_000)
    except ValueError:
        page = 1
    total = db_session().scalar(select(func.count()).select_from(stmt.subquery())) or 0
    events = list(
        db_session().scalars(
            stmt.order_by(AuditEvent.id.desc()).offset((page - 1) * PER_PAGE).limit(PER_PAGE)
        )
    )
    return render_template(
        "audit/index.html",
        events=events,
        total=total,
        page=page,
        per_page=PER_PAGE,
        filters=filters,
        establishments=ests,
        est_by_id={e.id: e for e in ests},
    )

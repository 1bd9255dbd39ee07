"""The audit trail page, with filters, for auditors and the central administration."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, render_template, request
from sqlalchemy import func, select

from core.audit.models import AuditEvent
from core.db import session as db_session
from core.establishments.services import all_establishments
from core.portal.access import permission_required

bp = Blueprint("audit", __name__, url_prefix="/audit")
PER_PAGE = 50


@bp.get("/")
@permission_required("audit.view")
def index() -> Any:
    stmt = select(AuditEvent)
    filters = {
        k: (request.args.get(k) or "").strip()
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
            except ValueError:
                filters[key] = ""
                continue
            moment = dt.datetime.combine(
                day if op == "ge" else day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC
            )
            stmt = stmt.where(
                AuditEvent.occurred_at >= moment if op == "ge" else AuditEvent.occurred_at < moment
            )
    try:
        page = max(1, int(request.args.get("page", 1)))
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

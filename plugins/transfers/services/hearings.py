"""The digital court: hearings held by video link from the establishment. No move happens;
each one counts as a move avoided and the escort hours it saved, per establishment and month."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from core.audit import services as audit
from core.db import session as db_session
from core.detainees.models import Detainee
from core.errors import Conflict, ValidationFailed
from core.identity.services import require
from core.principals import Principal
from core.scoping import ensure_in_scope
from plugins.transfers.models import RemoteHearing, Transfer
from plugins.transfers.services import workflow
from plugins.transfers.services.common import clean_text, raise_if, today_local

DEFAULT_ESCORT_HOURS = 6  # two officers, a round trip and the wait at court


def record_hearing(
    det: Detainee, data: dict[str, Any], actor: Principal, *, transfer: Transfer | None = None
) -> RemoteHearing:
    """Record a hearing held by video link (audited)."""
    require(actor, "transfers.hearings")
    ensure_in_scope(actor, det.establishment_id)
    errors: dict[str, str] = {}
    court = clean_text(data.get("court"), "court", limit=200, required=True, errors=errors)
    ref = clean_text(data.get("case_reference"), "case_reference", limit=60, errors=errors)
    day = workflow._parse_date(data.get("hearing_on"), "hearing_on", errors)
    if day is None and "hearing_on" not in errors:
        day = today_local()
    if day is not None and day > today_local() + dt.timedelta(days=366):
        errors["hearing_on"] = _("Choose a day within a year.")
    raw = data.get("escort_hours")
    try:
        hours = DEFAULT_ESCORT_HOURS if raw in (None, "") else int(str(raw).strip())
    except ValueError:
        hours = -1
    if not 0 <= hours <= 72:
        errors["escort_hours"] = _("A number from 0 to 72.")
    raise_if(errors)
    hearing = RemoteHearing(
        establishment_id=det.establishment_id,
        detainee_id=det.id,
        transfer_id=transfer.id if transfer is not None else None,
        court=court,
        hearing_on=day,
        case_reference=ref,
        escort_hours=hours,
        recorded_by=getattr(actor, "username", "") or "system",
    )
    db_session().add(hearing)
    db_session().flush()
    audit.record(
        "transfers.hearing.record",
        "transfers_hearing",
        str(hearing.id),
        establishment_id=det.establishment_id,
        summary={
            "detainee": det.registration_number,
            "court": court,
            "date": day.isoformat() if day else "",
            "escort_hours": hours,
        },
        actor=actor,
    )
    return hearing


def hold_by_video(transfer: Transfer, actor: Principal, data: dict[str, Any]) -> RemoteHearing:
    """A court appearance held by video link instead: the hearing is recorded and the
    transfer is cancelled with that reason — no move happens."""
    if transfer.kind.value != "court":
        raise ValidationFailed(
            _("Only a court appearance can be held by video link."), code="not_a_court_move"
        )
    if not transfer.is_active or transfer.status.value == "in_transit":
        raise Conflict(_("This transfer is no longer waiting to leave."), code="invalid_transition")
    data = dict(data)
    data.setdefault("court", transfer.place)
    if not data.get("court"):
        data["court"] = transfer.place
    hearing = record_hearing(transfer.detainee, data, actor, transfer=transfer)
    workflow.cancel(transfer, actor, reason=_("Held by video link"))
    return hearing


@dataclass(frozen=True)
class MonthFigures:
    month: str  # YYYY-MM
    hearings: int
    hours: int


def _month_key(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def monthly_figures(
    actor: Principal, establishment_id: int | None = None, months: int = 12
) -> list[MonthFigures]:
    """Hearings by video link (moves avoided) and escort hours saved, per month, for the last
    ``months`` months, in the actor's establishments (or one of them). Scoped by the query
    layer; grouped in Python over a year of rows at most (one row per hearing)."""
    today = today_local()
    first = dt.date(today.year, today.month, 1)
    for _i in range(months - 1):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    stmt = select(RemoteHearing.hearing_on, func.count(), func.sum(RemoteHearing.escort_hours))
    stmt = stmt.where(RemoteHearing.hearing_on >= first, RemoteHearing.hearing_on <= today)
    if establishment_id is not None:
        stmt = stmt.where(RemoteHearing.establishment_id == establishment_id)
    stmt = stmt.group_by(RemoteHearing.hearing_on)
    per: dict[str, list[int]] = {}
    for day, n, hours in db_session().execute(stmt):
        key = _month_key(day)
        bucket = per.setdefault(key, [0, 0])
        bucket[0] += int(n)
        bucket[1] += int(hours or 0)
    out = []
    cursor = first
    while cursor <= today:
        key = _month_key(cursor)
        n, hours = per.get(key, [0, 0])
        out.append(MonthFigures(key, n, hours))
        cursor = (cursor + dt.timedelta(days=32)).replace(day=1)
    return out


def recent_hearings(actor: Principal, limit: int = 20) -> list[RemoteHearing]:
    require(actor, "transfers.view")
    stmt = select(RemoteHearing).order_by(RemoteHearing.hearing_on.desc(), RemoteHearing.id.desc())
    return list(db_session().scalars(stmt.limit(limit)))

"""Weekly visiting sessions (templates) and the slots they generate."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from core.audit import services as audit
from core.db import session as db_session
from core.db import utcnow
from core.errors import NotFound, ValidationFailed
from core.establishments.models import Establishment
from core.principals import Principal

from ..models import SessionTemplate, Slot, SlotStatus
from .common import _int, _parse_date, _staff, local_date, local_moment
from .slots import blocked_days

TIME_RE = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


def add_template(
    actor: Principal, establishment: Establishment, data: Mapping[str, Any]
) -> SessionTemplate:
    _staff(actor, "visits.manage", establishment.id)
    errors: dict[str, str] = {}
    weekday = _int(data.get("weekday"), "weekday", errors, 0, 6)
    start = str(data.get("start_time") or "").strip()
    end = str(data.get("end_time") or "").strip()
    if not TIME_RE.match(start):
        errors["start_time"] = _("Enter a time as HH:MM.")
    if not TIME_RE.match(end):
        errors["end_time"] = _("Enter a time as HH:MM.")
    elif TIME_RE.match(start) and end <= start:
        errors["end_time"] = _("The end must come after the start.")
    capacity = _int(data.get("capacity", 0), "capacity", errors, 0, 1000)
    supervised = _int(
        data.get("capacity_supervised", 0) or 0, "capacity_supervised", errors, 0, 1000
    )
    if capacity == 0 and supervised == 0:
        errors["capacity"] = _("Give at least one place.")
    valid_from = _parse_date(data.get("valid_from"), "valid_from", errors)
    valid_to = _parse_date(data.get("valid_to"), "valid_to", errors)
    if valid_from is None and "valid_from" not in errors:
        valid_from = local_date(utcnow())
    if valid_from and valid_to and valid_to < valid_from:
        errors["valid_to"] = _("The end must come after the start.")
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    tpl = SessionTemplate(
        establishment_id=establishment.id,
        weekday=weekday,
        start_time=start,
        end_time=end,
        capacity=capacity,
        capacity_supervised=supervised,
        valid_from=valid_from,
        valid_to=valid_to,
        active=True,
    )
    db_session().add(tpl)
    db_session().flush()
    audit.record(
        "visits.template.create",
        "visits_template",
        tpl.id,
        establishment_id=establishment.id,
        summary={
            "weekday": weekday,
            "start": start,
            "end": end,
            "capacity": capacity,
            "capacity_supervised": supervised,
        },
        actor=actor,
    )
    return tpl


def deactivate_template(actor: Principal, template_id: int) -> SessionTemplate:
    tpl = db_session().get(SessionTemplate, template_id)
    if tpl is None:
        raise NotFound(_("This session does not exist."))
    _staff(actor, "visits.manage", tpl.establishment_id)
    tpl.active = False
    audit.record(
        "visits.template.deactivate",
        "visits_template",
        tpl.id,
        establishment_id=tpl.establishment_id,
        actor=actor,
    )
    return tpl


def templates_of(establishment_id: int) -> list[SessionTemplate]:
    return list(
        db_session().scalars(
            select(SessionTemplate)
            .where(SessionTemplate.establishment_id == establishment_id)
            .order_by(
                SessionTemplate.active.desc(), SessionTemplate.weekday, SessionTemplate.start_time
            )
        )
    )


def generate_slots(
    actor: Principal, establishment: Establishment, start: dt.date, days: int
) -> int:
    """Create the slots of the active templates from ``start`` for ``days`` days (idempotent;
    blocked dates are skipped). Returns how many slots were created."""
    _staff(actor, "visits.manage", establishment.id)
    if not 1 <= days <= 120:
        raise ValidationFailed(
            _("Please correct the highlighted fields."),
            fields={"days": _("Enter a number from %(lo)d to %(hi)d.", lo=1, hi=120)},
        )
    sess = db_session()
    end = start + dt.timedelta(days=days - 1)
    blocked = blocked_days(establishment.id, start, end)
    templates = [t for t in templates_of(establishment.id) if t.active]
    existing = {
        (tid, kind, starts)
        for tid, kind, starts in sess.execute(
            select(Slot.template_id, Slot.kind, Slot.starts_at).where(
                Slot.establishment_id == establishment.id,
                Slot.template_id.is_not(None),
                Slot.starts_at >= local_moment(start, "00:00"),
                Slot.starts_at < local_moment(end + dt.timedelta(days=1), "00:00"),
            )
        )
    }
    made = 0
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        if day in blocked:
            continue
        for tpl in templates:
            if tpl.weekday != day.weekday() or day < tpl.valid_from:
                continue
            if tpl.valid_to is not None and day > tpl.valid_to:
                continue
            starts, ends = local_moment(day, tpl.start_time), local_moment(day, tpl.end_time)
            for kind, capacity in (
                ("ordinary", tpl.capacity),
                ("supervised", tpl.capacity_supervised),
            ):
                if capacity <= 0 or (tpl.id, kind, starts) in existing:
                    continue
                sess.add(
                    Slot(
                        establishment_id=establishment.id,
                        template_id=tpl.id,
                        kind=kind,
                        starts_at=starts,
                        ends_at=ends,
                        capacity=capacity,
                        booked=0,
                        status=SlotStatus.open,
                    )
                )
                made += 1
    sess.flush()
    if made:
        audit.record(
            "visits.slots.generate",
            "visits_slots",
            establishment.code,
            establishment_id=establishment.id,
            summary={"from": start.isoformat(), "days": days, "created": made},
            actor=actor,
        )
    return made

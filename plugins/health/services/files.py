"""The file's life: opened at admission (screening due within 24 hours), the arrival screening
and its overdue list, fitness to travel (the transfer veto and the escort's needs), and the
hand-over to the destination's care team on transfer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update

from core.audit import services as audit
from core.contributions import EscortHealth
from core.db import session as db_session
from core.db import utcnow
from core.detainees.models import Detainee, LegalStatus
from core.errors import Forbidden
from core.i18n import lazy_gettext as _l
from core.identity.models import User
from core.principals import SYSTEM
from core.vetoes import Blocker
from plugins.health.models import (
    Appointment,
    AppointmentStatus,
    Change,
    Handover,
    HealthFile,
    Level,
    Pregnancy,
    Screening,
    TbResult,
)
from plugins.health.services.access import FileAccess, as_system
from plugins.health.services.common import check_date, choice, clean_text, record, track

SCREENING_WITHIN = dt.timedelta(hours=24)


def open_health_file(
    det: Detainee, actor: Any, *, due_from: dt.datetime | None = None
) -> HealthFile:
    """Open the detainee's file (admission): the arrival screening is due within 24 hours."""
    start = due_from or det.admitted_at or utcnow()
    hfile = HealthFile(
        detainee_id=det.id,
        establishment_id=det.establishment_id,
        opened_at=utcnow(),
        screening_due_at=start + SCREENING_WITHIN,
    )
    sess = db_session()
    sess.add(hfile)
    sess.flush()
    audit.record(
        "health.file.open",
        "health_file",
        det.registration_number,
        establishment_id=det.establishment_id,
        summary={"screening_due_at": hfile.screening_due_at.isoformat()},
        actor=actor,
    )
    return hfile


def on_admitted(det: Detainee, actor: Any) -> None:
    with as_system():
        open_health_file(det, actor)


def on_transferred(det: Detainee, source: Any, destination: Any, actor: Any) -> None:
    """In the move's transaction: the file now belongs to the destination's care team (the
    origin's loses it at once); booked appointments at the origin are cancelled."""
    sess = db_session()
    with as_system():
        hfile = sess.scalar(select(HealthFile).where(HealthFile.detainee_id == det.id))
        if hfile is None:
            return
        hfile.establishment_id = destination.id
        sess.add(
            Handover(
                file_id=hfile.id,
                from_establishment_id=source.id,
                to_establishment_id=destination.id,
                at=utcnow(),
                actor_username=getattr(actor, "username", "") or "",
            )
        )
        sess.execute(
            update(Appointment)
            .where(
                Appointment.file_id == hfile.id,
                Appointment.establishment_id == source.id,
                Appointment.status.in_([AppointmentStatus.booked, AppointmentStatus.checked_in]),
            )
            .values(status=AppointmentStatus.cancelled, status_at=utcnow())
            .execution_options(synchronize_session="fetch")
        )
        sess.flush()
        audit.record(
            "health.file.handover",
            "health_file",
            det.registration_number,
            establishment_id=destination.id,
            summary={"establishment": [source.code, destination.code]},
            actor=actor,
        )


# ---------------------------------------------------------------------------------------------
# Arrival screening
# ---------------------------------------------------------------------------------------------


def record_screening(acc: FileAccess, data: dict[str, Any]) -> Screening:
    if not acc.can_write:
        raise Forbidden(_("You are not allowed to do this."))
    row = Screening(
        file_id=acc.file.id,
        establishment_id=acc.file.establishment_id,
        created_by_id=getattr(acc.user, "id", None),
        created_at=utcnow(),
        tuberculosis=choice(data.get("tuberculosis"), TbResult, "tuberculosis"),
        self_harm_risk=choice(data.get("self_harm_risk"), Level, "self_harm_risk"),
        pregnancy=choice(data.get("pregnancy"), Pregnancy, "pregnancy"),
        chronic_conditions=clean_text(data.get("chronic_conditions"), "chronic_conditions"),
        addictions=clean_text(data.get("addictions"), "addictions"),
        mental_health=clean_text(data.get("mental_health"), "mental_health"),
        notes=clean_text(data.get("notes"), "notes"),
    )
    sess = db_session()
    sess.add(row)
    first = acc.file.screened_at is None
    if first:
        acc.file.screened_at = row.created_at
    sess.flush()
    record(acc, "health.screening.record", screening=row.id, first=first)
    return row


def screenings(acc: FileAccess, *, limit: int | None = None) -> list[Screening]:
    """The file's screenings, latest first (``limit``: only the first ones, in SQL)."""
    stmt = (
        select(Screening)
        .where(Screening.file_id == acc.file.id)
        .order_by(Screening.created_at.desc(), Screening.id.desc())
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(db_session().scalars(stmt))


SCREENING_FIELDS = (
    "tuberculosis",
    "self_harm_risk",
    "pregnancy",
    "chronic_conditions",
    "addictions",
    "mental_health",
    "notes",
)


def get_screening(acc: FileAccess, screening_id: int, *, lock: bool = False) -> Screening:
    stmt = select(Screening).where(Screening.id == screening_id, Screening.file_id == acc.file.id)
    if lock:
        stmt = stmt.with_for_update()
    row = db_session().scalar(stmt)
    if row is None:
        from core.errors import NotFound

        raise NotFound(_("Not found."))
    return row


def correct_screening(acc: FileAccess, screening_id: int, data: dict[str, Any]) -> Screening:
    """Correct an arrival screening: the fields given replace the recorded ones, and each
    change is a dated line of the file's history (who, when, where, before, after) — never a
    silent overwrite. The screening's date stays the day it was done."""
    if not acc.can_write:
        raise Forbidden(_("You are not allowed to do this."))
    row = get_screening(acc, screening_id, lock=True)
    new: dict[str, Any] = {}
    for name, enum_class in (
        ("tuberculosis", TbResult),
        ("self_harm_risk", Level),
        ("pregnancy", Pregnancy),
    ):
        if data.get(name) is not None:
            new[name] = choice(data[name], enum_class, name)
    for name in ("chronic_conditions", "addictions", "mental_health", "notes"):
        if data.get(name) is not None:
            new[name] = clean_text(data[name], name)
    changed = {
        k: (getattr(row, k), v)
        for k, v in new.items()
        if getattr(getattr(row, k), "value", getattr(row, k)) != getattr(v, "value", v)
    }
    if not changed:
        return row
    track(
        acc,
        "screening",
        row.id,
        {
            k: (getattr(old, "value", old), getattr(value, "value", value))
            for k, (old, value) in changed.items()
        },
    )
    for key, (_old, value) in changed.items():
        setattr(row, key, value)
    db_session().flush()
    record(acc, "health.screening.correct", screening=row.id, fields=sorted(changed))
    return row


def last_correction(acc: FileAccess, screening_id: int) -> Change | None:
    """The latest history line about this screening (``None``: never corrected)."""
    return db_session().scalar(
        select(Change)
        .where(
            Change.file_id == acc.file.id,
            Change.object_type == "screening",
            Change.object_id == screening_id,
        )
        .order_by(Change.changed_at.desc(), Change.id.desc())
        .limit(1)
    )


def screening_json(acc: FileAccess, row: Screening) -> dict[str, Any]:
    corrected = last_correction(acc, row.id)
    return {
        "id": row.id,
        **{k: getattr(getattr(row, k), "value", getattr(row, k)) for k in SCREENING_FIELDS},
        "done_at": row.created_at.isoformat(),
        "corrected_at": corrected.changed_at.isoformat() if corrected else None,
    }


@dataclass(frozen=True)
class Overdue:
    registration_number: str
    detainee: Detainee
    due_at: dt.datetime


def overdue_screenings(establishment_ids: list[int], *, limit: int = 200) -> list[Overdue]:
    """Held detainees whose arrival screening is past due (scoped by the query layer)."""
    now = utcnow()
    rows = db_session().execute(
        select(HealthFile, Detainee)
        .join(Detainee, Detainee.id == HealthFile.detainee_id)
        .where(
            HealthFile.establishment_id.in_(establishment_ids or [-1]),
            HealthFile.screened_at.is_(None),
            HealthFile.screening_due_at < now,
            Detainee.legal_status != LegalStatus.released,
        )
        .order_by(HealthFile.screening_due_at)
        .limit(limit)
    )
    return [Overdue(d.registration_number, d, f.screening_due_at) for f, d in rows]


# ---------------------------------------------------------------------------------------------
# Fitness to travel
# ---------------------------------------------------------------------------------------------


def set_fitness(
    acc: FileAccess, fit: Any, needs: Any = "", until: dt.date | None = None
) -> HealthFile:
    """A doctor's decision: fit or unfit to travel, the escort's needs (never a diagnosis),
    and until when it holds. Unfit blocks transfers (not a hospital move)."""
    if not (acc.can_write and acc.is_doctor):
        raise Forbidden(_("Only a doctor may decide fitness to travel."), code="doctor_only")
    if not isinstance(fit, bool):
        from plugins.health.services.common import invalid

        raise invalid(fit_to_travel=_("Enter true or false."))
    needs = clean_text(needs, "needs", max_len=500)
    check_date(until, "until")
    hfile = acc.file
    track(
        acc,
        "file",
        hfile.id,
        {
            "fit_to_travel": (hfile.fit_to_travel, fit),
            "fitness_needs": (hfile.fitness_needs, needs),
            "fitness_until": (hfile.fitness_until, until),
        },
    )
    hfile.fit_to_travel = fit
    hfile.fitness_needs = needs
    hfile.fitness_until = until
    hfile.fitness_by_id = getattr(acc.user, "id", None)
    hfile.fitness_at = utcnow()
    db_session().flush()
    record(acc, "health.fitness", fit_to_travel=fit, until=until.isoformat() if until else None)
    return hfile


def fitness_holds(hfile: HealthFile, day: dt.date) -> bool:
    return hfile.fit_to_travel is not None and (
        hfile.fitness_until is None or hfile.fitness_until >= day
    )


UNFIT = _l("Unfit to travel: decided by %(doctor)s on %(day)s.")


def transfer_blockers(det: Detainee, context: Any) -> list[Blocker]:
    """ "Unfit to travel" with the doctor's decision; a hospital move is never blocked by it."""
    if getattr(context, "kind", "transfer") == "hospital":
        return []
    with as_system():
        hfile = db_session().scalar(select(HealthFile).where(HealthFile.detainee_id == det.id))
        if hfile is None or hfile.fit_to_travel is not False:
            return []
        day = getattr(context, "date", None) or utcnow().date()
        if not fitness_holds(hfile, day):
            return []
        doctor = db_session().get(User, hfile.fitness_by_id) if hfile.fitness_by_id else None
    return [
        Blocker(
            "unfit_to_travel",
            "health",
            _(
                "Unfit to travel: decided by %(doctor)s on %(day)s.",
                doctor=doctor.full_name if doctor else _("a doctor"),
                day=hfile.fitness_at.date().isoformat() if hfile.fitness_at else "",
            ),
            overridable=False,
        )
    ]


def escort_health(det: Detainee) -> EscortHealth | None:
    """What the escort may know: fit or not, the needs for the journey — never a diagnosis."""
    with as_system():
        hfile = db_session().scalar(select(HealthFile).where(HealthFile.detainee_id == det.id))
        if hfile is None:
            return None
        doctor = db_session().get(User, hfile.fitness_by_id) if hfile.fitness_by_id else None
        today = utcnow().date()
        decided = fitness_holds(hfile, today)
        return EscortHealth(
            fit_to_travel=hfile.fit_to_travel if decided else None,
            needs=(hfile.fitness_needs or "") if decided else "",
            until=hfile.fitness_until if decided else None,
            decided_by=doctor.full_name if (doctor and decided) else "",
            decided_on=hfile.fitness_at.date() if (hfile.fitness_at and decided) else None,
            module="health",
        )


def fitness_payload(hfile: HealthFile) -> dict[str, Any]:
    today = utcnow().date()
    holds = fitness_holds(hfile, today)
    return {
        "fit_to_travel": hfile.fit_to_travel if holds else None,
        "needs": (hfile.fitness_needs or "") if holds else "",
        "until": hfile.fitness_until.isoformat() if (holds and hfile.fitness_until) else None,
        "decided_at": hfile.fitness_at.isoformat() if (holds and hfile.fitness_at) else None,
    }


__all__ = [
    "SCREENING_FIELDS",
    "SYSTEM",
    "UNFIT",
    "correct_screening",
    "escort_health",
    "fitness_payload",
    "get_screening",
    "last_correction",
    "on_admitted",
    "on_transferred",
    "open_health_file",
    "overdue_screenings",
    "record_screening",
    "screening_json",
    "screenings",
    "set_fitness",
    "transfer_blockers",
]

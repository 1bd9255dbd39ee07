"""Prescriptions (draft → signed by a doctor → stopped) and the doses a nurse records (given,
refused, missed). A signed prescription carries the SHA-256 of its content, checked on display
and on the printable copy."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core.db import session as db_session
from core.db import utcnow
from core.detainees.models import Detainee, LegalStatus
from core.errors import Conflict, Forbidden, NotFound
from plugins.health import states
from plugins.health.crypto import content_hash
from plugins.health.models import (
    DoseOutcome,
    DoseRecord,
    HealthFile,
    Prescription,
    PrescriptionStatus,
)
from plugins.health.services.access import FileAccess
from plugins.health.services.common import (
    MAX_SHORT,
    check_date,
    choice,
    clean_text,
    invalid,
    record,
    track,
    transition,
)
from plugins.health.services.localtime import LOCAL_TZ, day_bounds, local_time, today_local

TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
#: a dose not recorded this long after it was due counts as missed on the dashboard
LATE_AFTER = dt.timedelta(hours=2)


def clean_times(raw: Any) -> str:
    """``"8:00, 20:00"`` → ``"08:00,20:00"`` (sorted, distinct); at most 8 a day."""
    text = clean_text(raw, "times", max_len=60, line=True)
    if not text:
        return ""
    found = []
    for part in re.split(r"[,\s;]+", text):
        if not part:
            continue
        if re.fullmatch(r"\d:[0-5]\d", part):
            part = "0" + part
        if not TIME_RE.match(part):
            raise invalid(times=_("Enter times of day as HH:MM, separated by commas."))
        found.append(part)
    found = sorted(set(found))
    if len(found) > 8:
        raise invalid(times=_("At most 8 times a day."))
    return ",".join(found)


def _content(p: Prescription) -> dict[str, Any]:
    return {
        "id": p.id,
        "file": p.file_id,
        "medication": p.medication,
        "dosage": p.dosage,
        "instructions": p.instructions,
        "times": p.times,
        "starts_on": p.starts_on.isoformat(),
        "ends_on": p.ends_on.isoformat() if p.ends_on else None,
    }


def create(
    acc: FileAccess,
    *,
    medication: Any,
    dosage: Any,
    instructions: Any = "",
    times: Any = "",
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
) -> Prescription:
    """A draft (a nurse may prepare it; only a doctor signs)."""
    if not acc.can_write:
        raise Forbidden(_("You are not allowed to do this."))
    starts_on = check_date(starts_on, "starts_on") or today_local()
    check_date(ends_on, "ends_on")
    if ends_on is not None and ends_on < starts_on:
        raise invalid(ends_on=_("The end cannot be before the start."))
    row = Prescription(
        file_id=acc.file.id,
        establishment_id=acc.file.establishment_id,
        created_by_id=getattr(acc.user, "id", None),
        created_at=utcnow(),
        medication=clean_text(
            medication, "medication", required=True, max_len=MAX_SHORT, line=True
        ),
        dosage=clean_text(dosage, "dosage", required=True, max_len=MAX_SHORT, line=True),
        instructions=clean_text(instructions, "instructions", max_len=1000),
        times=clean_times(times),
        starts_on=starts_on,
        ends_on=ends_on,
    )
    db_session().add(row)
    db_session().flush()
    track(
        acc,
        "prescription",
        row.id,
        {"medication": (None, row.medication), "dosage": (None, row.dosage)},
    )
    record(acc, "health.prescription.create", prescription=row.id)
    return row


def get(acc: FileAccess, prescription_id: int) -> Prescription:
    row = db_session().get(Prescription, prescription_id)
    if row is None or row.file_id != acc.file.id:
        raise NotFound(_("Not found."))
    return row


def sign(acc: FileAccess, prescription_id: int) -> Prescription:
    """Only a doctor signs; a nurse never can, whatever permissions say."""
    from core.identity.services import has_permission
    from plugins.health.permissions import SIGN

    if not (acc.can_write and acc.is_doctor and has_permission(acc.user, SIGN)):
        raise Forbidden(_("Only a doctor may sign a prescription."), code="doctor_only")
    row = get(acc, prescription_id)
    digest = content_hash(_content(row))
    transition(
        Prescription,
        row,
        states.PRESCRIPTION,
        PrescriptionStatus.signed,
        signed_by_id=getattr(acc.user, "id", None),
        signed_at=utcnow(),
        content_hash=digest,
    )
    record(acc, "health.prescription.sign", prescription=row.id)
    return row


def stop(acc: FileAccess, prescription_id: int) -> Prescription:
    if not (acc.can_write and acc.is_doctor):
        raise Forbidden(_("Only a doctor may stop a prescription."), code="doctor_only")
    row = get(acc, prescription_id)
    transition(
        Prescription, row, states.PRESCRIPTION, PrescriptionStatus.stopped, stopped_at=utcnow()
    )
    track(acc, "prescription", row.id, {"status": ("signed", "stopped")})
    record(acc, "health.prescription.stop", prescription=row.id)
    return row


def intact(row: Prescription) -> bool | None:
    if row.status == PrescriptionStatus.draft or not row.content_hash:
        return None
    return content_hash(_content(row)) == row.content_hash


def of_file(acc: FileAccess) -> list[Prescription]:
    return list(
        db_session().scalars(
            select(Prescription)
            .where(Prescription.file_id == acc.file.id)
            .order_by(Prescription.status, Prescription.created_at.desc())
        )
    )


def active_on(row: Prescription, day: dt.date) -> bool:
    return (
        row.status == PrescriptionStatus.signed
        and row.starts_on <= day
        and (row.ends_on is None or row.ends_on >= day)
    )


# ---------------------------------------------------------------------------------------------
# Doses
# ---------------------------------------------------------------------------------------------


def record_dose(
    acc: FileAccess, prescription_id: int, due_at: dt.datetime, outcome: Any, note: Any = ""
) -> DoseRecord:
    """A nurse (or doctor) records one due dose: given, refused or missed — once."""
    if not acc.can_write:
        raise Forbidden(_("You are not allowed to do this."))
    row = get(acc, prescription_id)
    result = choice(outcome, DoseOutcome, "outcome")
    if due_at.tzinfo is None:
        raise invalid(due_at=_("Enter a date and time with its offset (ISO 8601)."))
    local = due_at.astimezone(LOCAL_TZ)
    if not active_on(row, local.date()) or local.strftime("%H:%M") not in row.times.split(","):
        raise invalid(due_at=_("No dose of this prescription is due at that time."))
    if due_at > utcnow() + dt.timedelta(hours=1):
        raise invalid(due_at=_("This dose is not due yet."))
    dose = DoseRecord(
        prescription_id=row.id,
        establishment_id=acc.file.establishment_id,
        due_at=due_at,
        outcome=result,
        note=clean_text(note, "note", max_len=500),
        recorded_by_id=getattr(acc.user, "id", None),
        recorded_at=utcnow(),
    )
    sess = db_session()
    try:
        with sess.begin_nested():
            sess.add(dose)
            sess.flush()
    except IntegrityError as exc:
        raise Conflict(_("This dose is already recorded."), code="already_recorded") from exc
    record(acc, "health.dose.record", prescription=row.id, outcome=result.value)
    return dose


@dataclass(frozen=True)
class DueDose:
    prescription: Prescription
    due_at: dt.datetime
    record: DoseRecord | None

    @property
    def late(self) -> bool:
        return self.record is None and self.due_at + LATE_AFTER < utcnow()


def due_doses(
    acc: FileAccess, day: dt.date | None = None, *, of: list[Prescription] | None = None
) -> list[DueDose]:
    """Today's doses of the file's signed prescriptions, recorded or not (``of``: the file's
    prescriptions when the caller already holds them)."""
    day = day or today_local()
    out: list[DueDose] = []
    rows = [p for p in (of_file(acc) if of is None else of) if active_on(p, day) and p.times]
    if not rows:
        return out
    start, end = day_bounds(day)
    recorded = {
        (d.prescription_id, d.due_at): d
        for d in db_session().scalars(
            select(DoseRecord).where(
                DoseRecord.prescription_id.in_([p.id for p in rows]),
                DoseRecord.due_at >= start,
                DoseRecord.due_at < end,
            )
        )
    }
    for p in rows:
        for hhmm in p.times.split(","):
            due = local_time(day, hhmm)
            out.append(DueDose(p, due, recorded.get((p.id, due))))
    return sorted(out, key=lambda d: (d.due_at, d.prescription.id))


def missed_today(establishment_ids: list[int]) -> int:
    """Doses recorded missed today, plus doses due over two hours ago and not recorded, at
    these establishments (counts only: no medication is decrypted)."""
    day = today_local()
    start, end = day_bounds(day)
    sess = db_session()
    ids = establishment_ids or [-1]
    recorded_missed = int(
        sess.scalar(
            select(func.count())
            .select_from(DoseRecord)
            .where(
                DoseRecord.establishment_id.in_(ids),
                DoseRecord.outcome == DoseOutcome.missed,
                DoseRecord.due_at >= start,
                DoseRecord.due_at < end,
            )
        )
        or 0
    )
    active = sess.execute(
        select(Prescription.id, Prescription.times)
        .join(HealthFile, HealthFile.id == Prescription.file_id)
        .join(Detainee, Detainee.id == HealthFile.detainee_id)
        .where(
            HealthFile.establishment_id.in_(ids),
            Detainee.legal_status != LegalStatus.released,
            Prescription.status == PrescriptionStatus.signed,
            Prescription.starts_on <= day,
            (Prescription.ends_on.is_(None)) | (Prescription.ends_on >= day),
            Prescription.times != "",
        )
    ).all()
    if not active:
        return recorded_missed
    done = {
        (pid, due)
        for pid, due in sess.execute(
            select(DoseRecord.prescription_id, DoseRecord.due_at).where(
                DoseRecord.prescription_id.in_([a[0] for a in active]),
                DoseRecord.due_at >= start,
                DoseRecord.due_at < end,
            )
        )
    }
    late_line = utcnow() - LATE_AFTER
    unrecorded = sum(
        1
        for pid, times in active
        for hhmm in times.split(",")
        if (due := local_time(day, hhmm)) < late_line and (pid, due) not in done
    )
    return recorded_missed + unrecorded


def as_json(row: Prescription) -> dict[str, Any]:
    return {
        "id": row.id,
        "medication": row.medication,
        "dosage": row.dosage,
        "instructions": row.instructions,
        "times": row.times.split(",") if row.times else [],
        "starts_on": row.starts_on.isoformat(),
        "ends_on": row.ends_on.isoformat() if row.ends_on else None,
        "status": row.status.value,
        "signed_at": row.signed_at.isoformat() if row.signed_at else None,
        "intact": intact(row),
    }

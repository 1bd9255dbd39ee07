"""Consultations: reason, notes, vital signs, diagnosis; signed, then read-only (corrections are
dated addenda). A signed consultation carries the SHA-256 of its content, checked on display."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from core.db import session as db_session
from core.db import utcnow
from core.errors import Conflict, Forbidden, NotFound
from plugins.health import states
from plugins.health.crypto import content_hash
from plugins.health.models import Addendum, Consultation, ConsultationStatus
from plugins.health.services.access import FileAccess
from plugins.health.services.common import clean_text, invalid, record, track, transition

#: vital signs: name → (lowest, highest) accepted
VITALS: dict[str, tuple[Decimal, Decimal]] = {
    "temperature": (Decimal("30"), Decimal("45")),
    "pulse": (Decimal("20"), Decimal("250")),
    "systolic": (Decimal("50"), Decimal("260")),
    "diastolic": (Decimal("20"), Decimal("160")),
    "respiratory_rate": (Decimal("4"), Decimal("80")),
    "spo2": (Decimal("50"), Decimal("100")),
    "weight": (Decimal("1"), Decimal("400")),
    "glucose": (Decimal("0.2"), Decimal("6")),
}


def clean_vitals(raw: Any) -> dict[str, str]:
    """``{name: number}`` within the plausible range of each sign; empty values left out."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise invalid(vitals=_("Enter an object."))
    clean: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name, value in raw.items():
        if name not in VITALS:
            errors[f"vitals.{name}"] = _("This field is not expected.")
            continue
        if value is None or value == "":
            continue
        if isinstance(value, bool):
            errors[f"vitals.{name}"] = _("Enter a number.")
            continue
        try:
            number = Decimal(str(value).replace(",", ".").strip())
        except InvalidOperation:
            errors[f"vitals.{name}"] = _("Enter a number.")
            continue
        low, high = VITALS[name]
        if not number.is_finite() or not (low <= number <= high):
            errors[f"vitals.{name}"] = _(
                "Enter a number from %(low)s to %(high)s.", low=low, high=high
            )
            continue
        clean[name] = str(number.normalize()) if number == number.to_integral() else str(number)
    if errors:
        raise invalid(**errors)
    return clean


def _content(c: Consultation) -> dict[str, Any]:
    return {
        "id": c.id,
        "file": c.file_id,
        "seen_at": c.seen_at.isoformat(),
        "reason": c.reason,
        "notes": c.notes,
        "diagnosis": c.diagnosis,
        "vitals": c.vitals,
        "telemedicine": c.telemedicine,
        "signed_by": c.signed_by_id,
        "signed_at": c.signed_at.isoformat() if c.signed_at else None,
    }


def create(
    acc: FileAccess,
    *,
    reason: Any,
    notes: Any,
    diagnosis: Any = "",
    vitals: Any = None,
    telemedicine: bool = False,
    sign: bool = False,
) -> Consultation:
    if not acc.can_write:
        raise Forbidden(_("You are not allowed to do this."))
    row = Consultation(
        file_id=acc.file.id,
        establishment_id=acc.file.establishment_id,
        created_by_id=getattr(acc.user, "id", None),
        created_at=utcnow(),
        seen_at=utcnow(),
        reason=clean_text(reason, "reason", required=True, max_len=500),
        notes=clean_text(notes, "notes", required=True),
        diagnosis=clean_text(diagnosis, "diagnosis", max_len=1000),
        vitals=json.dumps(clean_vitals(vitals), sort_keys=True),
        telemedicine=bool(telemedicine),
    )
    db_session().add(row)
    db_session().flush()
    record(acc, "health.consultation.create", consultation=row.id)
    if sign:
        sign_consultation(acc, row.id)
    return row


def get(acc: FileAccess, consultation_id: int) -> Consultation:
    row = db_session().get(Consultation, consultation_id)
    if row is None or row.file_id != acc.file.id:
        raise NotFound(_("Not found."))
    return row


def update_draft(acc: FileAccess, consultation_id: int, **fields: Any) -> Consultation:
    """A draft may still be edited by its author (each change kept in the history). The
    ``UPDATE`` is conditional on the draft status: a consultation signed meanwhile is a 409,
    never an edit behind its signature."""
    if not acc.can_write:
        raise Forbidden(_("You are not allowed to do this."))
    row = get(acc, consultation_id)
    if row.status != ConsultationStatus.draft:
        raise Conflict(
            _("A signed consultation is read-only: add an addendum."), code="signed_read_only"
        )
    if row.created_by_id != getattr(acc.user, "id", None):
        raise Forbidden(_("Only the author may edit a draft."), code="author_only")
    new = {
        "reason": clean_text(
            fields.get("reason", row.reason), "reason", required=True, max_len=500
        ),
        "notes": clean_text(fields.get("notes", row.notes), "notes", required=True),
        "diagnosis": clean_text(fields.get("diagnosis", row.diagnosis), "diagnosis", max_len=1000),
    }
    if fields.get("vitals") is not None:
        new["vitals"] = json.dumps(clean_vitals(fields["vitals"]), sort_keys=True)
    changed = {k: (getattr(row, k), v) for k, v in new.items() if getattr(row, k) != v}
    if not changed:
        return row
    result = db_session().execute(
        update(Consultation)
        .where(
            Consultation.id == row.id,
            Consultation.status == ConsultationStatus.draft,
        )
        .values(**{k: v for k, (_old, v) in changed.items()})
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict(
            _("A signed consultation is read-only: add an addendum."), code="signed_read_only"
        )
    track(acc, "consultation", row.id, changed)
    db_session().flush()
    db_session().expire(row)
    record(acc, "health.consultation.update", consultation=row.id, fields=sorted(changed))
    return row


def sign_consultation(acc: FileAccess, consultation_id: int) -> Consultation:
    """Sign (its author, a clinician): from now on read-only, with its content hash."""
    row = get(acc, consultation_id)
    if not acc.can_write:
        raise Forbidden(_("You are not allowed to do this."))
    if row.created_by_id not in (None, getattr(acc.user, "id", None)) and not acc.is_doctor:
        raise Forbidden(_("Only the author or a doctor may sign this consultation."))
    now = utcnow()
    signer = getattr(acc.user, "id", None)
    content = _content(row)
    content.update(signed_by=signer, signed_at=now.isoformat())
    digest = content_hash(content)
    transition(
        Consultation,
        row,
        states.CONSULTATION,
        ConsultationStatus.signed,
        signed_by_id=signer,
        signed_at=now,
        content_hash=digest,
    )
    record(acc, "health.consultation.sign", consultation=row.id)
    return row


def intact(row: Consultation) -> bool | None:
    """``True`` when a signed consultation's content matches its hash, ``False`` when it was
    altered, ``None`` for a draft."""
    if row.status != ConsultationStatus.signed:
        return None
    return content_hash(_content(row)) == row.content_hash


def add_addendum(acc: FileAccess, consultation_id: int, text: Any) -> Addendum:
    """A dated correction of a signed consultation (the consultation itself never changes)."""
    if not acc.can_write:
        raise Forbidden(_("You are not allowed to do this."))
    row = get(acc, consultation_id)
    if row.status != ConsultationStatus.signed:
        raise Conflict(
            _("Edit the draft instead: addenda are for signed consultations."), code="invalid_state"
        )
    add = Addendum(
        consultation_id=row.id,
        establishment_id=acc.file.establishment_id,
        text=clean_text(text, "text", required=True),
        created_by_id=getattr(acc.user, "id", None),
        created_at=utcnow(),
    )
    db_session().add(add)
    db_session().flush()
    record(acc, "health.consultation.addendum", consultation=row.id, addendum=add.id)
    return add


def page(acc: FileAccess, page_no: int, per_page: int) -> tuple[list[Consultation], int]:
    """One page of the file's consultations, latest first, and their total — in one
    statement (the total rides along as a window count; a page past the end counts apart)."""
    sess = db_session()
    where = Consultation.file_id == acc.file.id
    found = sess.execute(
        select(Consultation, func.count().over().label("total"))
        .where(where)
        .order_by(Consultation.seen_at.desc(), Consultation.id.desc())
        .offset((page_no - 1) * per_page)
        .limit(per_page)
    ).all()
    if found:
        return [row for row, _total in found], int(found[0][1])
    if page_no == 1:
        return [], 0
    total = int(sess.scalar(select(func.count()).select_from(Consultation).where(where)) or 0)
    return [], total


def all_of(acc: FileAccess) -> list[Consultation]:
    return list(
        db_session().scalars(
            select(Consultation)
            .options(selectinload(Consultation.addenda))
            .where(Consultation.file_id == acc.file.id)
            .order_by(Consultation.seen_at.desc(), Consultation.id.desc())
        )
    )


@dataclass(frozen=True)
class Shown:
    """A consultation as shown: its vitals decoded, its integrity checked."""

    row: Consultation
    vitals: dict[str, str]
    intact: bool | None


def shown(row: Consultation) -> Shown:
    try:
        vitals = json.loads(row.vitals or "{}")
    except ValueError:
        vitals = {}
    return Shown(row, vitals, intact(row))


def as_json(row: Consultation) -> dict[str, Any]:
    s = shown(row)
    return {
        "id": row.id,
        "seen_at": row.seen_at.isoformat(),
        "reason": row.reason,
        "notes": row.notes,
        "diagnosis": row.diagnosis,
        "vitals": s.vitals,
        "telemedicine": row.telemedicine,
        "status": row.status.value,
        "signed_at": row.signed_at.isoformat() if row.signed_at else None,
        "intact": s.intact,
        "addenda": [{"at": a.created_at.isoformat(), "text": a.text} for a in row.addenda],
    }


__all__ = ["VITALS", "dt"]

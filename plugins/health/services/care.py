"""Referrals to outside hospitals (which may ask the transfers module for a hospital move
through the ``transfers.requests`` port), appointments (booked → checked in → done, no-show,
cancelled; telemedicine too), the medical units of each establishment with their schedules,
and the figures: detainees per doctor, the dashboard's counts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from core.audit import services as audit
from core.db import session as db_session
from core.db import utcnow
from core.detainees.models import Detainee, LegalStatus
from core.errors import DomainError, Forbidden, NotFound
from core.establishments.models import Establishment
from core.identity.models import User, UserEstablishment, UserRole
from core.identity.services import has_permission
from core.ports import has_port, port
from core.ports.transfers import TRANSFER_REQUESTS, TransferRequests
from core.scoping import ensure_in_scope
from plugins.health import states
from plugins.health.models import (
    Appointment,
    AppointmentStatus,
    Consultation,
    HealthFile,
    MedicalUnit,
    Referral,
    ReferralStatus,
    UnitKind,
)
from plugins.health.permissions import DOCTOR_ROLES, UNITS
from plugins.health.services.access import FileAccess
from plugins.health.services.common import (
    MAX_SHORT,
    choice,
    clean_text,
    invalid,
    record,
    transition,
)
from plugins.health.services.localtime import day_bounds, today_local

# --- referrals ----------------------------------------------------------------------------------


def refer(
    acc: FileAccess, *, hospital: Any, specialty: Any = "", reason: Any, urgent: bool = False
) -> Referral:
    if not (acc.can_write and acc.is_doctor):
        raise Forbidden(_("Only a doctor may refer to a hospital."), code="doctor_only")
    row = Referral(
        file_id=acc.file.id,
        establishment_id=acc.file.establishment_id,
        created_by_id=getattr(acc.user, "id", None),
        created_at=utcnow(),
        hospital=clean_text(hospital, "hospital", required=True, max_len=MAX_SHORT, line=True),
        specialty=clean_text(specialty, "specialty", max_len=100, line=True),
        reason=clean_text(reason, "reason", required=True, max_len=2000),
        urgent=bool(urgent),
    )
    db_session().add(row)
    db_session().flush()
    record(acc, "health.referral.create", referral=row.id, urgent=row.urgent)
    return row


def referrals(acc: FileAccess) -> list[Referral]:
    return list(
        db_session().scalars(
            select(Referral)
            .where(Referral.file_id == acc.file.id)
            .order_by(Referral.created_at.desc())
        )
    )


def get_referral(acc: FileAccess, referral_id: int) -> Referral:
    row = db_session().get(Referral, referral_id)
    if row is None or row.file_id != acc.file.id:
        raise NotFound(_("Not found."))
    return row


def hospital_moves_available() -> bool:
    """Whether a module provides the transfers port (else the button is hidden)."""
    return has_port(TRANSFER_REQUESTS, TransferRequests)


def ask_hospital_move(acc: FileAccess, referral_id: int, destination: Any) -> Referral:
    """Ask the transfers module for a hospital move (its rules, approvals and vetoes apply),
    in this transaction."""
    if not (acc.can_write and acc.is_doctor):
        raise Forbidden(_("Only a doctor may refer to a hospital."), code="doctor_only")
    row = get_referral(acc, referral_id)
    code = clean_text(destination, "destination", required=True, max_len=40, line=True)
    transfers = port(TRANSFER_REQUESTS, TransferRequests)
    try:
        ref = transfers.request_move(
            acc.user,
            acc.detainee.registration_number,
            destination=code,
            kind="hospital",
            reason="medical",
            note=f"health referral {row.id}",
        )
    except DomainError:
        raise
    transition(
        Referral, row, states.REFERRAL, ReferralStatus.transfer_requested, transfer_id=ref.id
    )
    record(acc, "health.referral.transfer", referral=row.id, transfer=ref.id)
    return row


def close_referral(acc: FileAccess, referral_id: int, status: Any) -> Referral:
    if not acc.can_write:
        raise Forbidden(_("You are not allowed to do this."))
    to = choice(status, ReferralStatus, "status")
    row = get_referral(acc, referral_id)
    transition(Referral, row, states.REFERRAL, to)
    record(acc, "health.referral.status", referral=row.id, status=to.value)
    return row


# --- appointments -------------------------------------------------------------------------------


def book(
    acc: FileAccess,
    *,
    starts_at: dt.datetime | None,
    purpose: Any,
    unit_id: int | None = None,
    telemedicine: bool = False,
) -> Appointment:
    if not acc.can_write:
        raise Forbidden(_("You are not allowed to do this."))
    if starts_at is None:
        raise invalid(starts_at=_("This field is required."))
    from core.query_args import date_in_range

    if starts_at.tzinfo is None or not date_in_range(starts_at):
        raise invalid(starts_at=_("Enter a valid date and time."))
    if starts_at < utcnow() - dt.timedelta(hours=1):
        raise invalid(starts_at=_("This time has passed."))
    unit = None
    if unit_id:
        unit = db_session().get(MedicalUnit, unit_id)
        if unit is None or unit.establishment_id != acc.file.establishment_id or not unit.active:
            raise invalid(unit_id=_("Choose a unit of this establishment."))
    row = Appointment(
        file_id=acc.file.id,
        establishment_id=acc.file.establishment_id,
        created_by_id=getattr(acc.user, "id", None),
        created_at=utcnow(),
        unit_id=unit.id if unit else None,
        starts_at=starts_at,
        purpose=clean_text(purpose, "purpose", required=True, max_len=300),
        telemedicine=bool(
            telemedicine or (unit is not None and unit.kind == UnitKind.telemedicine)
        ),
    )
    db_session().add(row)
    db_session().flush()
    record(acc, "health.appointment.book", appointment=row.id, telemedicine=row.telemedicine)
    return row


def set_appointment_status(acc: FileAccess, appointment_id: int, status: Any) -> Appointment:
    if not acc.can_write:
        raise Forbidden(_("You are not allowed to do this."))
    to = choice(status, AppointmentStatus, "status")
    with acc.reading():
        row = db_session().get(Appointment, appointment_id)
    if row is None or row.file_id != acc.file.id:
        raise NotFound(_("Not found."))
    transition(Appointment, row, states.APPOINTMENT, to, status_at=utcnow())
    record(acc, "health.appointment.status", appointment=row.id, status=to.value)
    return row


def appointments(acc: FileAccess, *, limit: int | None = None) -> list[Appointment]:
    """The file's appointments, latest first (``limit``: only the first ones, in SQL)."""
    with acc.reading():
        stmt = (
            select(Appointment)
            .where(Appointment.file_id == acc.file.id)
            .order_by(Appointment.starts_at.desc())
        )
        if limit is not None:
            stmt = stmt.limit(limit)
        return list(db_session().scalars(stmt))


def appointments_on(establishment_id: int, day: dt.date | None = None) -> list[Appointment]:
    """An establishment's appointments of a local day (the care team's list)."""
    start, end = day_bounds(day or today_local())
    return list(
        db_session().scalars(
            select(Appointment)
            .where(
                Appointment.establishment_id == establishment_id,
                Appointment.starts_at >= start,
                Appointment.starts_at < end,
            )
            .order_by(Appointment.starts_at)
        )
    )


# --- medical units ------------------------------------------------------------------------------


def units(establishment_ids: list[int] | None = None) -> list[MedicalUnit]:
    stmt = select(MedicalUnit).order_by(
        MedicalUnit.establishment_id, MedicalUnit.kind, MedicalUnit.name
    )
    if establishment_ids is not None:
        stmt = stmt.where(MedicalUnit.establishment_id.in_(establishment_ids or [-1]))
    return list(db_session().scalars(stmt))


def add_unit(
    actor: Any,
    establishment: Establishment,
    *,
    kind: Any,
    name: Any,
    schedule: Any = "",
    name_ar: Any = "",
) -> MedicalUnit:
    if not has_permission(actor, UNITS):
        raise Forbidden(_("You are not allowed to do this."))
    ensure_in_scope(actor, establishment.id)
    row = MedicalUnit(
        establishment_id=establishment.id,
        kind=choice(kind, UnitKind, "kind"),
        name=clean_text(name, "name", required=True, max_len=120, line=True),
        name_ar=clean_text(name_ar, "name_ar", max_len=120, line=True),
        schedule=clean_text(schedule, "schedule", max_len=300, line=True),
    )
    db_session().add(row)
    db_session().flush()
    audit.record(
        "health.unit.add",
        "health_unit",
        row.id,
        establishment_id=establishment.id,
        summary={"kind": row.kind.value, "name": row.name, "schedule": row.schedule},
        actor=actor,
    )
    return row


def update_unit(actor: Any, unit: MedicalUnit, *, schedule: Any, active: bool) -> MedicalUnit:
    if not has_permission(actor, UNITS):
        raise Forbidden(_("You are not allowed to do this."))
    ensure_in_scope(actor, unit.establishment_id)
    schedule = clean_text(schedule, "schedule", max_len=300, line=True)
    diff = {}
    if schedule != unit.schedule:
        diff["schedule"] = [unit.schedule, schedule]
    if bool(active) != unit.active:
        diff["active"] = [unit.active, bool(active)]
    unit.schedule, unit.active = schedule, bool(active)
    db_session().flush()
    if diff:
        audit.record(
            "health.unit.update",
            "health_unit",
            unit.id,
            establishment_id=unit.establishment_id,
            summary=diff,
            actor=actor,
        )
    return unit


# --- figures (counts only: nothing here is decrypted) -------------------------------------------


@dataclass(frozen=True)
class Ratio:
    establishment: Establishment
    population: int
    doctors: int

    @property
    def per_doctor(self) -> int | None:
        return round(self.population / self.doctors) if self.doctors else None


def doctor_ratios(establishments: list[Establishment]) -> list[Ratio]:
    """Detainees held per doctor (active users with a doctor's role linked there)."""
    ids = [e.id for e in establishments] or [-1]
    sess = db_session()
    population = dict(
        sess.execute(
            select(Detainee.establishment_id, func.count())
            .where(
                Detainee.establishment_id.in_(ids), Detainee.legal_status != LegalStatus.released
            )
            .group_by(Detainee.establishment_id)
        ).all()
    )
    doctors = dict(
        sess.execute(
            select(UserEstablishment.establishment_id, func.count(func.distinct(User.id)))
            .join(User, User.id == UserEstablishment.user_id)
            .join(UserRole, UserRole.user_id == User.id)
            .where(
                UserEstablishment.establishment_id.in_(ids),
                UserRole.role_code.in_(sorted(DOCTOR_ROLES)),
                User.is_active.is_(True),
            )
            .group_by(UserEstablishment.establishment_id)
        ).all()
    )
    return [
        Ratio(e, int(population.get(e.id, 0)), int(doctors.get(e.id, 0))) for e in establishments
    ]


@dataclass(frozen=True)
class Figures:
    files: int
    screenings_overdue: int
    appointments_today: int
    doses_missed: int
    consultations_30_days: int


def figures(establishment_ids: list[int]) -> Figures:
    from plugins.health.services.prescriptions import missed_today

    sess = db_session()
    ids = establishment_ids or [-1]
    now = utcnow()
    start, end = day_bounds(today_local())
    held = (
        select(HealthFile.id)
        .join(Detainee, Detainee.id == HealthFile.detainee_id)
        .where(HealthFile.establishment_id.in_(ids), Detainee.legal_status != LegalStatus.released)
    )

    def count(stmt: Any) -> int:
        return int(sess.scalar(select(func.count()).select_from(stmt.subquery())) or 0)

    return Figures(
        files=count(held),
        screenings_overdue=count(
            held.where(HealthFile.screened_at.is_(None), HealthFile.screening_due_at < now)
        ),
        appointments_today=count(
            select(Appointment.id).where(
                Appointment.establishment_id.in_(ids),
                Appointment.starts_at >= start,
                Appointment.starts_at < end,
                Appointment.status != AppointmentStatus.cancelled,
            )
        ),
        doses_missed=missed_today(ids),
        consultations_30_days=count(
            select(Consultation.id).where(
                Consultation.establishment_id.in_(ids),
                Consultation.seen_at >= now - dt.timedelta(days=30),
            )
        ),
    )

"""The health file (الملف الصحي / dossier médical) and everything in it.

- :class:`HealthFile` — one per detainee, opened at admission; belongs to the establishment
  that holds the detainee (scoped by the query layer) and follows them on transfer.
- :class:`Screening` — the arrival screening (due within 24 hours of admission).
- :class:`Allergy`, :class:`Problem`, :class:`Vaccination` — the file's lists.
- :class:`Prescription` (draft → signed by a doctor → stopped) and :class:`DoseRecord` (each
  dose given, refused or missed, recorded by a nurse).
- :class:`Consultation` (draft → signed, then read-only) and :class:`Addendum` (dated
  corrections of a signed consultation).
- :class:`Referral` (to an outside hospital), :class:`Appointment`.
- :class:`MedicalUnit` — an establishment's units (general practice, dental, dialysis…).
- :class:`Change` — every field change: who, when, where, old and new value (encrypted).
- :class:`EmergencyAccess`, :class:`AccessLog`, :class:`Handover`.

Clinical free text is stored in :class:`~plugins.health.crypto.EncryptedText` columns.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, BigId, UTCDateTime, utcnow, value_enum
from core.detainees.models import Detainee
from core.establishments.models import Establishment
from core.scoping import EstablishmentScoped
from plugins.health.crypto import EncryptedText


class Level(enum.StrEnum):
    none = "none"
    low = "low"
    medium = "medium"
    high = "high"


class TbResult(enum.StrEnum):
    negative = "negative"
    suspected = "suspected"
    positive = "positive"
    not_tested = "not_tested"


class Pregnancy(enum.StrEnum):
    not_applicable = "not_applicable"
    no = "no"
    yes = "yes"
    unknown = "unknown"


class AllergyKind(enum.StrEnum):
    drug = "drug"
    food = "food"
    other = "other"


class ProblemStatus(enum.StrEnum):
    active = "active"
    resolved = "resolved"


class PrescriptionStatus(enum.StrEnum):
    draft = "draft"
    signed = "signed"
    stopped = "stopped"


class DoseOutcome(enum.StrEnum):
    given = "given"
    refused = "refused"
    missed = "missed"


class ConsultationStatus(enum.StrEnum):
    draft = "draft"
    signed = "signed"


class ReferralStatus(enum.StrEnum):
    requested = "requested"
    transfer_requested = "transfer_requested"
    done = "done"
    cancelled = "cancelled"


class AppointmentStatus(enum.StrEnum):
    booked = "booked"
    checked_in = "checked_in"
    done = "done"
    no_show = "no_show"
    cancelled = "cancelled"


class UnitKind(enum.StrEnum):
    general = "general"
    dental = "dental"
    dialysis = "dialysis"
    tb_lab = "tb_lab"
    psychiatry = "psychiatry"
    telemedicine = "telemedicine"
    other = "other"


class HealthFile(EstablishmentScoped, Base):
    __tablename__ = "health_files"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    detainee_id: Mapped[int] = mapped_column(
        ForeignKey("core_detainees.id", ondelete="RESTRICT"), unique=True
    )
    establishment_id: Mapped[int] = mapped_column(
        ForeignKey("core_establishments.id", ondelete="RESTRICT"), index=True
    )
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    screening_due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    screened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    # fitness to travel: a doctor's decision (None: nobody decided)
    fit_to_travel: Mapped[bool | None] = mapped_column(default=None)
    fitness_needs: Mapped[str | None] = mapped_column(EncryptedText(), default=None)
    fitness_until: Mapped[dt.date | None] = mapped_column(Date, default=None)
    fitness_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_users.id", ondelete="SET NULL"), default=None
    )
    fitness_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)

    detainee: Mapped[Detainee] = relationship(lazy="joined")
    establishment: Mapped[Establishment] = relationship()


class _FilePart:
    """Columns every part of a file has: the file, who recorded it, where and when."""

    file_id: Mapped[int] = mapped_column(
        ForeignKey("health_files.id", ondelete="CASCADE"), index=True
    )
    establishment_id: Mapped[int] = mapped_column(ForeignKey("core_establishments.id"))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Screening(_FilePart, Base):
    __tablename__ = "health_screenings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tuberculosis: Mapped[TbResult] = mapped_column(value_enum(TbResult, 20, check="tb"))
    self_harm_risk: Mapped[Level] = mapped_column(value_enum(Level, 10, check="self_harm"))
    pregnancy: Mapped[Pregnancy] = mapped_column(value_enum(Pregnancy, 20, check="pregnancy"))
    chronic_conditions: Mapped[str] = mapped_column(EncryptedText())
    addictions: Mapped[str] = mapped_column(EncryptedText())
    mental_health: Mapped[str] = mapped_column(EncryptedText())
    notes: Mapped[str] = mapped_column(EncryptedText())


class Allergy(_FilePart, Base):
    __tablename__ = "health_allergies"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[AllergyKind] = mapped_column(value_enum(AllergyKind, 10, check="kind"))
    substance: Mapped[str] = mapped_column(EncryptedText())
    reaction: Mapped[str] = mapped_column(EncryptedText())
    severity: Mapped[Level] = mapped_column(value_enum(Level, 10, check="severity"))
    active: Mapped[bool] = mapped_column(default=True)


class Problem(_FilePart, Base):
    __tablename__ = "health_problems"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    description: Mapped[str] = mapped_column(EncryptedText())
    status: Mapped[ProblemStatus] = mapped_column(
        value_enum(ProblemStatus, 10, check="status"), default=ProblemStatus.active
    )
    onset_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    resolved_on: Mapped[dt.date | None] = mapped_column(Date, default=None)


class Prescription(_FilePart, Base):
    __tablename__ = "health_prescriptions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    medication: Mapped[str] = mapped_column(EncryptedText())
    dosage: Mapped[str] = mapped_column(EncryptedText())
    instructions: Mapped[str] = mapped_column(EncryptedText())
    # the times of day doses are due ("08:00,20:00"); empty: as needed
    times: Mapped[str] = mapped_column(String(60), default="")
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    status: Mapped[PrescriptionStatus] = mapped_column(
        value_enum(PrescriptionStatus, 10, check="status"), default=PrescriptionStatus.draft
    )
    signed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_users.id", ondelete="SET NULL"), default=None
    )
    signed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    stopped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)

    doses: Mapped[list[DoseRecord]] = relationship(
        back_populates="prescription", order_by="DoseRecord.due_at"
    )


class DoseRecord(Base):
    __tablename__ = "health_doses"
    __table_args__ = (UniqueConstraint("prescription_id", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    prescription_id: Mapped[int] = mapped_column(
        ForeignKey("health_prescriptions.id", ondelete="CASCADE"), index=True
    )
    establishment_id: Mapped[int] = mapped_column(ForeignKey("core_establishments.id"))
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[DoseOutcome] = mapped_column(value_enum(DoseOutcome, 10, check="outcome"))
    note: Mapped[str] = mapped_column(EncryptedText())
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_users.id", ondelete="SET NULL"), default=None
    )
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    prescription: Mapped[Prescription] = relationship(back_populates="doses")


class Consultation(_FilePart, Base):
    __tablename__ = "health_consultations"
    __table_args__ = (Index("ix_health_consultations_file_at", "file_id", "seen_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reason: Mapped[str] = mapped_column(EncryptedText())
    notes: Mapped[str] = mapped_column(EncryptedText())
    diagnosis: Mapped[str] = mapped_column(EncryptedText())
    vitals: Mapped[str] = mapped_column(EncryptedText())  # JSON of the vital signs
    telemedicine: Mapped[bool] = mapped_column(default=False)
    status: Mapped[ConsultationStatus] = mapped_column(
        value_enum(ConsultationStatus, 10, check="status"), default=ConsultationStatus.draft
    )
    signed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_users.id", ondelete="SET NULL"), default=None
    )
    signed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    content_hash: Mapped[str] = mapped_column(String(64), default="")

    addenda: Mapped[list[Addendum]] = relationship(
        back_populates="consultation", order_by="Addendum.created_at"
    )


class Addendum(Base):
    __tablename__ = "health_addenda"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("health_consultations.id", ondelete="CASCADE"), index=True
    )
    establishment_id: Mapped[int] = mapped_column(ForeignKey("core_establishments.id"))
    text: Mapped[str] = mapped_column(EncryptedText())
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    consultation: Mapped[Consultation] = relationship(back_populates="addenda")


class Vaccination(_FilePart, Base):
    __tablename__ = "health_vaccinations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    vaccine: Mapped[str] = mapped_column(EncryptedText())
    dose: Mapped[str] = mapped_column(String(40), default="")
    lot: Mapped[str] = mapped_column(String(40), default="")
    given_on: Mapped[dt.date] = mapped_column(Date)


class Referral(_FilePart, Base):
    __tablename__ = "health_referrals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hospital: Mapped[str] = mapped_column(String(200))
    specialty: Mapped[str] = mapped_column(String(100), default="")
    reason: Mapped[str] = mapped_column(EncryptedText())
    urgent: Mapped[bool] = mapped_column(default=False)
    status: Mapped[ReferralStatus] = mapped_column(
        value_enum(ReferralStatus, 20, check="status"), default=ReferralStatus.requested
    )
    transfer_id: Mapped[int | None] = mapped_column(default=None)


class Appointment(EstablishmentScoped, _FilePart, Base):
    __tablename__ = "health_appointments"
    __table_args__ = (Index("ix_health_appointments_est_at", "establishment_id", "starts_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("health_units.id", ondelete="SET NULL"), default=None
    )
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    purpose: Mapped[str] = mapped_column(EncryptedText())
    telemedicine: Mapped[bool] = mapped_column(default=False)
    status: Mapped[AppointmentStatus] = mapped_column(
        value_enum(AppointmentStatus, 20, check="status"), default=AppointmentStatus.booked
    )
    status_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)

    file: Mapped[HealthFile] = relationship()
    unit: Mapped[MedicalUnit | None] = relationship()


class MedicalUnit(EstablishmentScoped, Base):
    __tablename__ = "health_units"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    establishment_id: Mapped[int] = mapped_column(
        ForeignKey("core_establishments.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[UnitKind] = mapped_column(value_enum(UnitKind, 20, check="kind"))
    name: Mapped[str] = mapped_column(String(120))
    name_ar: Mapped[str] = mapped_column(String(120), default="")
    schedule: Mapped[str] = mapped_column(String(300), default="")
    active: Mapped[bool] = mapped_column(default=True)

    establishment: Mapped[Establishment] = relationship()

    def display_name(self, locale: str | None = None) -> str:
        """Arabic on Arabic pages when recorded, else the French name."""
        if (locale or "").startswith("ar") and self.name_ar:
            return self.name_ar
        return self.name


class Change(Base):
    """One field of a file's record changed: who, when, at which establishment, old and new
    value (both encrypted: a clinical field's history is clinical text too)."""

    __tablename__ = "health_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    file_id: Mapped[int] = mapped_column(
        ForeignKey("health_files.id", ondelete="CASCADE"), index=True
    )
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int] = mapped_column()
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(EncryptedText(), default=None)
    new_value: Mapped[str | None] = mapped_column(EncryptedText(), default=None)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_users.id", ondelete="SET NULL"), default=None
    )
    actor_username: Mapped[str] = mapped_column(String(80), default="")
    establishment_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_establishments.id"), default=None
    )
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EmergencyAccess(Base):
    __tablename__ = "health_emergency_access"
    __table_args__ = (Index("ix_health_emergency_access_user_det", "user_id", "detainee_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    detainee_id: Mapped[int] = mapped_column(ForeignKey("core_detainees.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("core_users.id", ondelete="CASCADE"))
    # the detainee's establishment when access was given (its head doctor was told)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("core_establishments.id"))
    reason: Mapped[str] = mapped_column(String(500))
    granted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    expiry_recorded: Mapped[bool] = mapped_column(default=False)


class AccessLog(Base):
    """One opening of a file: who, when, from which establishment, why, under emergency."""

    __tablename__ = "health_access_log"
    __table_args__ = (Index("ix_health_access_log_det_at", "detainee_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    detainee_id: Mapped[int] = mapped_column(ForeignKey("core_detainees.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_users.id", ondelete="SET NULL"), default=None
    )
    username: Mapped[str] = mapped_column(String(80), default="")
    establishment_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_establishments.id"), default=None
    )
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    what: Mapped[str] = mapped_column(String(40), default="file")
    reason: Mapped[str] = mapped_column(String(500), default="")
    emergency: Mapped[bool] = mapped_column(default=False)


class Handover(Base):
    """The file passed to another establishment's care team (a transfer)."""

    __tablename__ = "health_handovers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    file_id: Mapped[int] = mapped_column(
        ForeignKey("health_files.id", ondelete="CASCADE"), index=True
    )
    from_establishment_id: Mapped[int] = mapped_column(ForeignKey("core_establishments.id"))
    to_establishment_id: Mapped[int] = mapped_column(ForeignKey("core_establishments.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_username: Mapped[str] = mapped_column(String(80), default="")


MODELS: list[type] = [
    HealthFile,
    Screening,
    Allergy,
    Problem,
    Prescription,
    DoseRecord,
    Consultation,
    Addendum,
    Vaccination,
    Referral,
    Appointment,
    MedicalUnit,
    Change,
    EmergencyAccess,
    AccessLog,
    Handover,
]

"""The health JSON API (interface.md): the file, consultations, fitness to travel, emergency
access, the access log; and what the pages need (allergies, problems, prescriptions, doses,
appointments)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from flask import Blueprint
from pydantic import BaseModel, Field, StrictBool

from core.api.idempotency import idempotent
from core.api.toolkit import ApiModel, endpoint, page_payload, pagination
from core.identity.models import User
from plugins.health import services
from plugins.health.services import care, consultations, files, lists, overview, prescriptions
from plugins.health.services.access import access_log, grant_emergency, open_file

bp = Blueprint("health_api", __name__, url_prefix="/api/v1/health")
TAGS = ["health"]


class Vitals(ApiModel):
    temperature: str | float | None = None
    pulse: str | int | None = None
    systolic: str | int | None = None
    diastolic: str | int | None = None
    respiratory_rate: str | int | None = None
    spo2: str | int | None = None
    weight: str | float | None = None
    glucose: str | float | None = None


class ConsultationIn(ApiModel):
    reason: str = Field(max_length=500)
    notes: str = Field(max_length=5000)
    diagnosis: str = Field("", max_length=1000)
    vitals: Vitals | None = None
    telemedicine: StrictBool = False
    sign: StrictBool = False


class ConsultationPatch(ApiModel):
    reason: str | None = Field(None, max_length=500)
    notes: str | None = Field(None, max_length=5000)
    diagnosis: str | None = Field(None, max_length=1000)
    vitals: Vitals | None = None


class ScreeningPatch(ApiModel):
    tuberculosis: Literal["not_tested", "negative", "suspected", "positive"] | None = None
    self_harm_risk: Literal["none", "low", "medium", "high"] | None = None
    pregnancy: Literal["not_applicable", "no", "yes", "unknown"] | None = None
    chronic_conditions: str | None = Field(None, max_length=2000)
    addictions: str | None = Field(None, max_length=2000)
    mental_health: str | None = Field(None, max_length=2000)
    notes: str | None = Field(None, max_length=5000)


class FitnessIn(ApiModel):
    fit_to_travel: StrictBool
    needs: str = Field("", max_length=500)
    until: dt.date | None = None


class EmergencyIn(ApiModel):
    reason: str = Field(min_length=1, max_length=500)


class AllergyIn(ApiModel):
    kind: Literal["drug", "food", "other"]
    substance: str = Field(max_length=200)
    reaction: str = Field("", max_length=1000)
    severity: Literal["low", "medium", "high"] = "medium"


class ProblemIn(ApiModel):
    description: str = Field(max_length=1000)
    onset_on: dt.date | None = None


class PrescriptionIn(ApiModel):
    medication: str = Field(max_length=200)
    dosage: str = Field(max_length=200)
    instructions: str = Field("", max_length=1000)
    times: str = Field("", max_length=60, description='Times of day, e.g. "08:00,20:00"')
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None


class DoseIn(ApiModel):
    due_at: dt.datetime
    outcome: Literal["given", "refused", "missed"]
    note: str = Field("", max_length=500)


class AppointmentIn(ApiModel):
    starts_at: dt.datetime
    purpose: str = Field(max_length=300)
    unit_id: int | None = Field(None, ge=1, le=2**31 - 1)
    telemedicine: StrictBool = False


class CreatedOut(BaseModel):
    id: int


class ExpiresOut(BaseModel):
    expires_at: str


class FileOut(BaseModel):
    detainee: dict[str, Any]
    allergies: list[dict[str, Any]]
    problems: list[dict[str, Any]]
    consultations: list[dict[str, Any]]
    prescriptions: list[dict[str, Any]]
    fit_to_travel: bool | None
    fitness: dict[str, Any]
    screening: dict[str, Any]
    emergency_access: bool


class ConsultationOut(BaseModel):
    id: int
    seen_at: str
    reason: str
    notes: str
    diagnosis: str
    vitals: dict[str, str]
    telemedicine: bool
    status: str
    signed_at: str | None
    intact: bool | None
    addenda: list[dict[str, Any]]


class ScreeningOut(BaseModel):
    id: int
    tuberculosis: str
    self_harm_risk: str
    pregnancy: str
    chronic_conditions: str
    addictions: str
    mental_health: str
    notes: str
    corrected_at: str | None


class FitnessOut(BaseModel):
    fit_to_travel: bool | None
    needs: str
    until: str | None
    decided_at: str | None


class AccessLogOut(BaseModel):
    at: str
    user: str
    establishment: str | None
    reason: str
    emergency: bool


@bp.get("/files/<rn>")
@endpoint(
    "A detainee's health file (care team, or under emergency access); every read is audited",
    response=FileOut,
    tags=TAGS,
    errors=(401, 403, 404),
)
def get_file(rn: str, user: User) -> dict[str, Any]:
    acc = open_file(rn, user, what="api")
    return overview.file_payload(acc)


@bp.post("/files/<rn>/consultations")
@endpoint(
    "Record a consultation (doctor or nurse of the establishment)",
    body=ConsultationIn,
    response=CreatedOut,
    status=201,
    tags=TAGS,
    errors=(400, 401, 403, 404, 409, 422),
    description="Honours the `Idempotency-Key` header. `sign: true` signs it at once "
    "(read-only afterwards: corrections are addenda).",
)
@idempotent
def create_consultation(rn: str, body: ConsultationIn, user: User) -> dict[str, Any]:
    acc = open_file(rn, user, what="consultation", write=True)
    row = consultations.create(
        acc,
        reason=body.reason,
        notes=body.notes,
        diagnosis=body.diagnosis,
        vitals=body.vitals.model_dump(exclude_none=True) if body.vitals else None,
        telemedicine=body.telemedicine,
        sign=body.sign,
    )
    return {"id": row.id}


@bp.post("/files/<rn>/fitness")
@endpoint(
    "A doctor's decision on fitness to travel (unfit blocks transfers)",
    body=FitnessIn,
    response=FitnessOut,
    tags=TAGS,
    errors=(400, 401, 403, 404, 422),
)
def set_fitness(rn: str, body: FitnessIn, user: User) -> dict[str, Any]:
    acc = open_file(rn, user, what="fitness", write=True)
    hfile = files.set_fitness(acc, body.fit_to_travel, body.needs, body.until)
    return files.fitness_payload(hfile)


@bp.post("/files/<rn>/emergency-access")
@endpoint(
    "Emergency access to another establishment's file (reason required; time-limited, "
    "audited, notified to the head doctor)",
    body=EmergencyIn,
    response=ExpiresOut,
    status=201,
    tags=TAGS,
    errors=(400, 401, 403, 404, 409, 422),
)
def emergency_access(rn: str, body: EmergencyIn, user: User) -> dict[str, Any]:
    grant = grant_emergency(rn, user, body.reason)
    return {"expires_at": grant.expires_at.isoformat()}


@bp.get("/files/<rn>/access-log")
@endpoint(
    "Who opened the file, when, from where and why (newest first)",
    response=AccessLogOut,
    paginated=True,
    tags=TAGS,
    errors=(400, 401, 403, 404),
)
def get_access_log(rn: str, user: User) -> dict[str, Any]:
    page, per_page = pagination()
    _det, rows, total = access_log(rn, user, page, per_page)
    codes = _establishment_codes([r.establishment_id for r in rows])
    items = [
        {
            "at": r.at.isoformat(),
            "user": r.username,
            "establishment": codes.get(r.establishment_id),
            "reason": r.reason,
            "emergency": r.emergency,
        }
        for r in rows
    ]
    return page_payload(items, total, page, per_page)


def _establishment_codes(ids: list[int | None]) -> dict[int | None, str]:
    from sqlalchemy import select

    from core.db import session
    from core.establishments.models import Establishment

    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return dict(
        session()
        .execute(select(Establishment.id, Establishment.code).where(Establishment.id.in_(wanted)))
        .all()
    )


@bp.post("/files/<rn>/allergies")
@endpoint(
    "Record an allergy",
    body=AllergyIn,
    response=CreatedOut,
    status=201,
    tags=TAGS,
    errors=(400, 401, 403, 404, 422),
)
def add_allergy(rn: str, body: AllergyIn, user: User) -> dict[str, Any]:
    acc = open_file(rn, user, what="allergy", write=True)
    row = lists.add_allergy(acc, body.kind, body.substance, body.reaction, body.severity)
    return {"id": row.id}


@bp.post("/files/<rn>/problems")
@endpoint(
    "Add a problem to the problem list",
    body=ProblemIn,
    response=CreatedOut,
    status=201,
    tags=TAGS,
    errors=(400, 401, 403, 404, 422),
)
def add_problem(rn: str, body: ProblemIn, user: User) -> dict[str, Any]:
    acc = open_file(rn, user, what="problem", write=True)
    row = lists.add_problem(acc, body.description, body.onset_on)
    return {"id": row.id}


@bp.post("/files/<rn>/prescriptions")
@endpoint(
    "Prepare a prescription (a draft until a doctor signs it)",
    body=PrescriptionIn,
    response=CreatedOut,
    status=201,
    tags=TAGS,
    errors=(400, 401, 403, 404, 422),
)
def add_prescription(rn: str, body: PrescriptionIn, user: User) -> dict[str, Any]:
    acc = open_file(rn, user, what="prescription", write=True)
    row = prescriptions.create(
        acc,
        medication=body.medication,
        dosage=body.dosage,
        instructions=body.instructions,
        times=body.times,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
    )
    return {"id": row.id}


@bp.post("/files/<rn>/prescriptions/<int:prescription_id>/sign")
@endpoint(
    "Sign a prescription (doctors only; nurses never)",
    response=CreatedOut,
    tags=TAGS,
    errors=(401, 403, 404, 409),
)
def sign_prescription(rn: str, prescription_id: int, user: User) -> dict[str, Any]:
    acc = open_file(rn, user, what="prescription", write=True)
    row = prescriptions.sign(acc, prescription_id)
    return {"id": row.id}


@bp.post("/files/<rn>/prescriptions/<int:prescription_id>/doses")
@endpoint(
    "Record a due dose: given, refused or missed (once)",
    body=DoseIn,
    response=CreatedOut,
    status=201,
    tags=TAGS,
    errors=(400, 401, 403, 404, 409, 422),
)
def record_dose(rn: str, prescription_id: int, body: DoseIn, user: User) -> dict[str, Any]:
    acc = open_file(rn, user, what="doses", write=True)
    row = prescriptions.record_dose(acc, prescription_id, body.due_at, body.outcome, body.note)
    return {"id": row.id}


@bp.post("/files/<rn>/consultations/<int:consultation_id>/sign")
@endpoint(
    "Sign a consultation (read-only afterwards)",
    response=CreatedOut,
    tags=TAGS,
    errors=(401, 403, 404, 409),
)
def sign_consultation(rn: str, consultation_id: int, user: User) -> dict[str, Any]:
    acc = open_file(rn, user, what="consultation", write=True)
    consultations.sign_consultation(acc, consultation_id)
    return {"id": consultation_id}


@bp.patch("/files/<rn>/consultations/<int:consultation_id>")
@endpoint(
    "Edit a draft consultation (its author; the fields given replace the recorded ones)",
    body=ConsultationPatch,
    response=ConsultationOut,
    tags=TAGS,
    errors=(400, 401, 403, 404, 409, 422),
    description="Only a draft: once signed it is read-only (409 `signed_read_only`; "
    "corrections are addenda). Every change is kept in the file's history.",
)
def edit_consultation(
    rn: str, consultation_id: int, body: ConsultationPatch, user: User
) -> dict[str, Any]:
    acc = open_file(rn, user, what="consultation", write=True)
    given = {k: getattr(body, k) for k in body.model_fields_set}
    if given.get("vitals") is not None:
        given["vitals"] = body.vitals.model_dump(exclude_none=True) if body.vitals else {}
    row = consultations.update_draft(acc, consultation_id, **given)
    return consultations.as_json(row)


@bp.patch("/files/<rn>/screenings/<int:screening_id>")
@endpoint(
    "Correct an arrival screening (care team; each change a dated line of the history)",
    body=ScreeningPatch,
    response=ScreeningOut,
    tags=TAGS,
    errors=(400, 401, 403, 404, 422),
)
def correct_screening(
    rn: str, screening_id: int, body: ScreeningPatch, user: User
) -> dict[str, Any]:
    acc = open_file(rn, user, what="screening", write=True)
    row = files.correct_screening(
        acc, screening_id, {k: getattr(body, k) for k in body.model_fields_set}
    )
    return files.screening_json(acc, row)


@bp.post("/files/<rn>/appointments")
@endpoint(
    "Book an appointment (telemedicine too)",
    body=AppointmentIn,
    response=CreatedOut,
    status=201,
    tags=TAGS,
    errors=(400, 401, 403, 404, 422),
)
def book_appointment(rn: str, body: AppointmentIn, user: User) -> dict[str, Any]:
    acc = open_file(rn, user, what="appointment", write=True)
    row = care.book(
        acc,
        starts_at=body.starts_at,
        purpose=body.purpose,
        unit_id=body.unit_id,
        telemedicine=body.telemedicine,
    )
    return {"id": row.id}


__all__ = ["bp", "services"]

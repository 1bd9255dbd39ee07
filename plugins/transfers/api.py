"""The transfers JSON API (interface.md): request, read, and every step of a transfer.

Steps a module vetoes answer 422 ``{"error": {"code": "blocked", "fields": {"blockers":
[{code, module, message, overridable}]}}}``; a step the transfer's status no longer allows
(a second ``complete``) is a 409 ``invalid_transition``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from flask import Blueprint, request
from pydantic import BaseModel, Field

from core.api.idempotency import idempotent
from core.api.toolkit import ApiModel, endpoint, page_payload, pagination
from core.detainees.services import get_detainee
from core.identity.models import User
from plugins.transfers import services
from plugins.transfers.models import Transfer

bp = Blueprint("transfers_api", __name__, url_prefix="/api/v1/transfers")

KINDS = Literal["transfer", "court", "hospital", "handover"]
REASONS = Literal[
    "security",
    "overcrowding",
    "closer_to_family",
    "medical",
    "court",
    "programme",
    "disciplinary",
    "detainee_request",
    "other",
]


class TransferIn(ApiModel):
    detainee: str = Field(max_length=20, description="the detainee's registration number")
    destination: str | None = Field(
        None,
        max_length=16,
        description="the destination establishment's code; a court or hospital trip without "
        "one returns to the origin (then `place` names the court or hospital)",
    )
    reason: REASONS
    reason_text: str = Field("", max_length=300, description="required with reason `other`")
    kind: KINDS = "transfer"
    place: str = Field("", max_length=200)
    note: str = Field("", max_length=500)
    planned_for: dt.date | None = None
    override_reason: str = Field(
        "", max_length=300, description="a director going ahead over overridable blockers"
    )


class ApproveIn(ApiModel):
    judicial_authorisation: str = Field(
        "", max_length=100, description="required for a pretrial detainee"
    )
    override_reason: str = Field(
        "", max_length=300, description="go ahead over the overridable blockers, saying why"
    )


class NoteIn(ApiModel):
    note: str = Field("", max_length=300)


class RefuseIn(ApiModel):
    reason: Literal["no_space", "more_information", "security"]
    note: str = Field("", max_length=300)


class ScheduleIn(ApiModel):
    date: dt.date
    escort: str = Field("", max_length=300)
    vehicle: str = Field("", max_length=60)


class ReasonIn(ApiModel):
    reason: str = Field(max_length=300)


class VideoIn(ApiModel):
    court: str = Field("", max_length=200)
    hearing_on: dt.date | None = None
    case_reference: str = Field("", max_length=60)
    escort_hours: int | None = Field(None, ge=0, le=72)


class CreatedOut(BaseModel):
    id: int
    status: str


class BlockerOut(BaseModel):
    code: str
    module: str
    message: str
    overridable: bool


class EventOut(BaseModel):
    at: str
    action: str
    from_status: str
    to_status: str
    actor: str
    note: str


class TransferOut(BaseModel):
    id: int
    detainee: str
    origin: str
    destination: str
    kind: str
    reason: str
    reason_text: str
    place: str
    status: str
    planned_for: str | None
    scheduled_for: str | None
    escort: str
    vehicle: str
    judicial_authorisation: str
    refusal_reason: str | None
    blockers: list[BlockerOut]
    overrides: list[dict[str, str]]
    timeline: list[EventOut]
    actions: list[str] = Field(description="the steps the caller may take now")


def transfer_json(t: Transfer, user: Any, *, with_blockers: bool = True) -> dict[str, Any]:
    found = services.blockers(t, user) if with_blockers else []
    return {
        "id": t.id,
        "detainee": t.detainee.registration_number,
        "origin": t.origin.code,
        "destination": t.destination.code,
        "kind": t.kind.value,
        "reason": t.reason.value,
        "reason_text": t.reason_text,
        "place": t.place,
        "status": t.status.value,
        "planned_for": t.planned_for.isoformat() if t.planned_for else None,
        "scheduled_for": t.scheduled_for.isoformat() if t.scheduled_for else None,
        "escort": t.escort,
        "vehicle": t.vehicle,
        "judicial_authorisation": t.judicial_authorisation,
        "refusal_reason": t.refusal_reason.value if t.refusal_reason else None,
        "blockers": [b.as_json() for b in services.standing(t, found)],
        "overrides": [
            {"module": o.module, "code": o.code, "reason": o.reason, "by": o.actor_username}
            for o in t.overrides
        ],
        "timeline": [
            {
                "at": e.at.isoformat(),
                "action": e.action,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "actor": e.actor_username,
                "note": e.note,
            }
            for e in t.events
        ],
        "actions": services.allowed_actions(user, t),
    }


def _created(t: Transfer) -> dict[str, Any]:
    return {"id": t.id, "status": t.status.value}


def _step(transfer_id: int, user: User, fn: Any, **kw: Any) -> dict[str, Any]:
    t = services.get_transfer(transfer_id, user)
    fn(t, user, **kw)
    return transfer_json(services.get_transfer(transfer_id, user), user)


STEP_ERRORS = (403, 404, 409, 422)


@bp.get("")
@endpoint(
    "Transfers of the caller's establishments, newest first",
    response=TransferOut,
    permission="transfers.view",
    tags=["transfers"],
    paginated=True,
    query={
        "status": "a status code, or `active`",
        "kind": "transfer, court, hospital or handover",
        "direction": "`out` (leaving), `in` (arriving)",
    },
    errors=(400, 403),
)
def list_transfers(user: User) -> dict[str, Any]:
    page, per_page = pagination()
    status = request.args.get("status", "")
    kind = request.args.get("kind", "")
    direction = request.args.get("direction", "")
    errors = {}
    if status and status not in (*services.machine.STATUSES, "active"):
        errors["status"] = "status"
    if kind and kind not in ("transfer", "court", "hospital", "handover"):
        errors["kind"] = "kind"
    if direction and direction not in ("in", "out"):
        errors["direction"] = "direction"
    if errors:
        from flask_babel import gettext as _

        from core.errors import Malformed

        raise Malformed(
            _("Unknown value."), code="bad_query", fields={k: _("Unknown value.") for k in errors}
        )
    rows, total = services.list_transfers(
        user, services.Filters(status=status, kind=kind, direction=direction), page, per_page
    )
    return page_payload(
        [transfer_json(t, user, with_blockers=False) for t in rows], total, page, per_page
    )


@bp.post("")
@endpoint(
    "Request a transfer (the transfers officer of the detainee's establishment)",
    body=TransferIn,
    response=CreatedOut,
    status=201,
    permission="transfers.request",
    tags=["transfers"],
    errors=STEP_ERRORS,
    description="422 `blocked` while a module vetoes (`fields.blockers`); 409 "
    "`transfer_active` when the detainee already has a transfer under way. Honours the "
    "`Idempotency-Key` header: the same key returns the first result and creates nothing.",
)
@idempotent
def create(body: TransferIn, user: User) -> dict[str, Any]:
    det = get_detainee(body.detainee, user)
    data = body.model_dump()
    override_reason = data.pop("override_reason")
    data.pop("detainee")
    t = services.request_transfer(det, data, user, override_reason=override_reason)
    return _created(t)


@bp.get("/<int:transfer_id>")
@endpoint(
    "A transfer: its status, blockers, timeline and the steps the caller may take",
    response=TransferOut,
    permission="transfers.view",
    tags=["transfers"],
    errors=(403, 404),
)
def read(transfer_id: int, user: User) -> dict[str, Any]:
    return transfer_json(services.get_transfer(transfer_id, user), user)


@bp.post("/<int:transfer_id>/approve")
@endpoint(
    "Approve (the director of the origin); a pretrial detainee needs the judicial "
    "authorisation's reference",
    body=ApproveIn,
    body_optional=True,
    response=TransferOut,
    permission="transfers.approve",
    tags=["transfers"],
    errors=STEP_ERRORS,
)
def approve(transfer_id: int, body: ApproveIn, user: User) -> dict[str, Any]:
    return _step(
        transfer_id,
        user,
        services.approve,
        judicial_authorisation=body.judicial_authorisation,
        override_reason=body.override_reason,
    )


@bp.post("/<int:transfer_id>/accept")
@endpoint(
    "Accept the detainee (director or transfers officer of the destination)",
    body=NoteIn,
    body_optional=True,
    response=TransferOut,
    permission="transfers.accept",
    tags=["transfers"],
    errors=STEP_ERRORS,
)
def accept(transfer_id: int, body: NoteIn, user: User) -> dict[str, Any]:
    return _step(transfer_id, user, services.accept, note=body.note)


@bp.post("/<int:transfer_id>/refuse")
@endpoint(
    "Refuse the detainee (director or transfers officer of the destination)",
    body=RefuseIn,
    response=TransferOut,
    permission="transfers.accept",
    tags=["transfers"],
    errors=STEP_ERRORS,
)
def refuse(transfer_id: int, body: RefuseIn, user: User) -> dict[str, Any]:
    return _step(transfer_id, user, services.refuse, reason=body.reason, note=body.note)


@bp.post("/<int:transfer_id>/schedule")
@endpoint(
    "Schedule the move: day, escort team, vehicle (transfers officer of the origin)",
    body=ScheduleIn,
    response=TransferOut,
    permission="transfers.schedule",
    tags=["transfers"],
    errors=STEP_ERRORS,
)
def schedule(transfer_id: int, body: ScheduleIn, user: User) -> dict[str, Any]:
    return _step(
        transfer_id,
        user,
        services.schedule,
        date=body.date,
        escort=body.escort,
        vehicle=body.vehicle,
    )


@bp.post("/<int:transfer_id>/depart")
@endpoint(
    "The detainee leaves (transfers officer of the origin); the modules are asked again",
    response=TransferOut,
    permission="transfers.execute",
    tags=["transfers"],
    errors=STEP_ERRORS,
)
def depart(transfer_id: int, user: User) -> dict[str, Any]:
    return _step(transfer_id, user, services.depart)


@bp.post("/<int:transfer_id>/complete")
@endpoint(
    "The detainee arrived (transfers officer of the destination or origin): moves the "
    "detainee atomically",
    response=TransferOut,
    permission="transfers.execute",
    tags=["transfers"],
    errors=STEP_ERRORS,
    description="In one transaction: the detainee's establishment, the placement history, "
    "the modules' reactions (visits, funds, health). A second `complete` is a 409.",
)
def complete(transfer_id: int, user: User) -> dict[str, Any]:
    return _step(transfer_id, user, services.complete)


@bp.post("/<int:transfer_id>/cancel")
@endpoint(
    "Cancel, saying why, at any step before completion (transfers officer or director)",
    body=ReasonIn,
    response=TransferOut,
    permission="transfers.cancel",
    tags=["transfers"],
    errors=STEP_ERRORS,
)
def cancel(transfer_id: int, body: ReasonIn, user: User) -> dict[str, Any]:
    return _step(transfer_id, user, services.cancel, reason=body.reason)


@bp.post("/<int:transfer_id>/override")
@endpoint(
    "Go ahead over the overridable blockers, saying why (director of the origin; audited)",
    body=ReasonIn,
    response=TransferOut,
    permission="transfers.override",
    tags=["transfers"],
    errors=STEP_ERRORS,
)
def override(transfer_id: int, body: ReasonIn, user: User) -> dict[str, Any]:
    return _step(transfer_id, user, services.override, reason=body.reason)


@bp.post("/<int:transfer_id>/video")
@endpoint(
    "A court appearance held by video link: the hearing is recorded, no move happens",
    body=VideoIn,
    body_optional=True,
    response=TransferOut,
    permission="transfers.hearings",
    tags=["transfers"],
    errors=STEP_ERRORS,
)
def video(transfer_id: int, body: VideoIn, user: User) -> dict[str, Any]:
    t = services.get_transfer(transfer_id, user)
    data = {k: v for k, v in body.model_dump().items() if v not in (None, "")}
    services.hold_by_video(t, user, data)
    return transfer_json(services.get_transfer(transfer_id, user), user)

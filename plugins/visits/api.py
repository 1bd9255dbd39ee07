"""The visits endpoints of the JSON API (``/api/v1``), declared with the core's toolkit."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from flask import Blueprint, request
from flask_babel import gettext as _
from pydantic import AwareDatetime, BaseModel, Field

from core.api.toolkit import API_PREFIX, ApiModel, endpoint, page_of, page_payload, pagination
from core.errors import Malformed, ValidationFailed
from core.identity.models import User
from core.query_args import query_date

from . import services
from .models import Booking, Relation, Slot
from .throttle import relation_throttle

bp = Blueprint("visits_api", __name__, url_prefix=API_PREFIX)
TAGS = ["visits"]


# --------------------------------------------------------------------------------------------
# Schemas
# --------------------------------------------------------------------------------------------


class RelationIn(ApiModel):
    detainee: str = Field(max_length=20, description="the detainee's registration number")
    relationship: str = Field(
        max_length=40,
        description="spouse, parent, child, sibling, grandparent, grandchild or other_relative "
        '(common words such as "mother" or "brother" are understood)',
    )
    detainee_birth_date: dt.date = Field(
        description="the detainee's birth date (YYYY-MM-DD); it must match the registration number"
    )


class RelationOut(BaseModel):
    id: int
    status: str
    detainee: str = Field(description="the registration number the family typed")
    relationship: str
    reason: str


class QueuedRelationOut(BaseModel):
    id: int
    status: str
    detainee: str = Field(description="the detainee's registration number")
    establishment: str
    relationship: str
    visitor: str = Field(description="the visitor's username")
    visitor_name: str
    visitor_national_id: str | None
    created_at: str
    rejected_requests: int = Field(description="how many of this account's requests were rejected")
    flagged: bool = Field(description="rejected_requests reached VISITS_REJECTED_FLAG_THRESHOLD")


class ReasonIn(ApiModel):
    reason: str = Field(max_length=300)


class SlotIn(ApiModel):
    establishment: str = Field(max_length=16)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    capacity: int
    kind: Literal["ordinary", "supervised"] = "ordinary"


class SlotOut(BaseModel):
    id: int
    establishment: str
    kind: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    booked: int
    available: int
    status: str


class CompanionIn(ApiModel):
    full_name: str = Field(max_length=200)
    national_id: str | None = Field(None, max_length=20)
    birth_date: dt.date


class BookingIn(ApiModel):
    slot_id: int
    detainee: str = Field(max_length=20)
    companions: list[CompanionIn] = Field(default_factory=list, max_length=20)


class CompanionOut(BaseModel):
    full_name: str
    national_id: str
    birth_date: dt.date | None
    adult: bool


class BookingOut(BaseModel):
    reference: str
    status: str
    qr_text: str
    establishment: str
    detainee: str
    detainee_name: str
    visitor_name: str
    slot: SlotOut
    adults: int
    children: int
    companions: list[CompanionOut]
    walk_in: bool
    reason: str
    created_at: dt.datetime
    checked_in_at: dt.datetime | None


class StatusOut(BaseModel):
    status: str


class OutcomeIn(ApiModel):
    outcome: Literal["completed", "visitor_refused", "detainee_refused", "ended_early"]
    reason: str = Field("", max_length=300)


class BanIn(ApiModel):
    visitor_national_id: str = Field(max_length=20)
    establishment: str = Field(max_length=16)
    reason: str = Field(max_length=300)
    ends_on: dt.date | None = None


class BanOut(BaseModel):
    id: int
    visitor: str
    national_id: str | None = Field(
        description="the banned national id: every account and companion with it is barred"
    )
    establishment: str
    reason: str
    ends_on: dt.date | None


# --------------------------------------------------------------------------------------------
# JSON shapes
# --------------------------------------------------------------------------------------------


def slot_json(slot: Slot) -> dict[str, Any]:
    return {
        "id": slot.id,
        "establishment": slot.establishment.code,
        "kind": slot.kind,
        "starts_at": slot.starts_at.isoformat(),
        "ends_at": slot.ends_at.isoformat(),
        "capacity": slot.capacity,
        "booked": slot.booked,
        "available": slot.available,
        "status": slot.status,
    }


def booking_json(b: Booking) -> dict[str, Any]:
    return {
        "reference": b.reference,
        "status": b.status,
        "qr_text": services.qr_text(b),
        "establishment": b.slot.establishment.code,
        "detainee": b.detainee.registration_number,
        "detainee_name": b.detainee.full_name,
        "visitor_name": b.visitor_name,
        "slot": slot_json(b.slot),
        "adults": b.adults,
        "children": b.children,
        "companions": [
            {
                "full_name": c.full_name,
                "national_id": c.national_id,
                "birth_date": c.birth_date.isoformat() if c.birth_date else None,
                "adult": c.is_adult,
            }
            for c in b.companions
        ],
        "walk_in": b.walk_in,
        "reason": services.reason_label(b.reason),
        "created_at": b.created_at.isoformat(),
        "checked_in_at": b.checked_in_at.isoformat() if b.checked_in_at else None,
    }


def relation_json(rel: Relation) -> dict[str, Any]:
    return {
        "id": rel.id,
        "status": rel.status,
        "detainee": rel.detainee.registration_number,
        "relationship": rel.relationship_kind,
        "reason": rel.reason,
    }


def _optional_reason() -> str:
    """Cancel/no-show bodies are optional: ``{"reason": "..."}`` or nothing."""
    if not request.get_data(cache=True):
        return ""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Malformed(_("The request body must be a JSON object."), code="malformed_json")
    reason = data.get("reason", "")
    if not isinstance(reason, str) or len(reason) > 300:
        raise ValidationFailed(
            _("Please correct the highlighted fields."), fields={"reason": _("Enter text.")}
        )
    return reason


def _moment(name: str, end_of_day: bool = False) -> dt.datetime | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        if len(raw) == 10:
            day = query_date(raw)
            if end_of_day:
                day += dt.timedelta(days=1)
            return services.local_moment(day, "00:00")
        moment = dt.datetime.fromisoformat(raw)
        if moment.tzinfo is None:
            raise ValueError
        query_date(moment.date().isoformat())  # the same calendar range as a day
        return moment
    except ValueError:
        raise Malformed(
            _("Please correct the highlighted fields."),
            code="bad_query",
            fields={name: _("Enter a date (YYYY-MM-DD) or a date and time with its offset.")},
        ) from None


# --------------------------------------------------------------------------------------------
# Visitors
# --------------------------------------------------------------------------------------------


@bp.post("/visitors/me/relations")
@endpoint(
    "Ask to be linked to a detainee (visitor)",
    body=RelationIn,
    response=RelationOut,
    status=201,
    permission="visits.book",
    tags=TAGS,
    errors=(409, 422, 429),
    description="The registration number and the detainee's birth date must both match. A "
    "wrong number, a wrong birth date and a released detainee all answer the same "
    "`422 no_match`. Limited per account and per address (429).",
)
@relation_throttle()
def request_relation(body: RelationIn, user: User) -> dict[str, Any]:
    rel = services.request_relation(
        user, body.detainee, body.relationship, body.detainee_birth_date
    )
    return relation_json(rel)


@bp.get("/visitors/me/relations")
@endpoint(
    "My links to detainees (visitor)",
    response=RelationOut,
    permission="visits.book",
    tags=TAGS,
    paginated=True,
)
def my_relations(user: User) -> dict[str, Any]:
    return page_of(services.visitor_relations(user), relation_json)


@bp.get("/visitors/me/bookings")
@endpoint(
    "My visits, newest first (visitor)",
    response=BookingOut,
    permission="visits.book",
    tags=TAGS,
    paginated=True,
    description="Every booking of the account, paged (`?page=&per_page=`); `total` counts "
    "them all.",
)
def my_bookings(user: User) -> dict[str, Any]:
    page, per_page = pagination()
    result = services.my_bookings(user, page=page, per_page=per_page)
    return page_payload([booking_json(b) for b in result.items], result.total, page, per_page)


# --------------------------------------------------------------------------------------------
# Visits office
# --------------------------------------------------------------------------------------------


@bp.get("/visits/relations")
@endpoint(
    "The pending link requests of the caller's establishments, paged and filtered",
    response=QueuedRelationOut,
    permission="visits.manage",
    tags=TAGS,
    paginated=True,
    query={
        "detainee": "registration number",
        "visitor": "visitor's name (part of it), national id or username",
        "from": "asked on or after this day (YYYY-MM-DD, local)",
        "to": "asked on or before this day (YYYY-MM-DD, local)",
        "flagged": "1: flagged accounts only; 0: the others",
        "order": "oldest (default) or newest",
    },
    errors=(400,),
)
def list_relations(user: User) -> dict[str, Any]:
    page, per_page = pagination()
    filters, errors = services.parse_filters(request.args)
    if errors:
        raise Malformed(
            _("Please correct the highlighted fields."), code="bad_query", fields=errors
        )
    queue = services.link_request_queue(user, filters, page=page, per_page=per_page)
    return page_payload(
        [
            {
                "id": row.relation.id,
                "status": row.relation.status,
                "detainee": row.relation.detainee.registration_number,
                "establishment": row.relation.detainee.establishment.code,
                "relationship": row.relation.relationship_kind,
                "visitor": row.relation.visitor.username,
                "visitor_name": row.relation.visitor.full_name,
                "visitor_national_id": row.relation.visitor.national_id,
                "created_at": row.relation.created_at.isoformat(),
                "rejected_requests": row.rejected,
                "flagged": row.flagged,
            }
            for row in queue.rows
        ],
        queue.total,
        queue.page,
        queue.per_page,
    )


@bp.post("/visits/relations/<int:relation_id>/approve")
@endpoint(
    "Approve a visitor's link to a detainee",
    response=StatusOut,
    permission="visits.manage",
    tags=TAGS,
    errors=(404, 409),
)
def approve_relation(relation_id: int, user: User) -> dict[str, Any]:
    rel = services.decide_relation(user, relation_id, True)
    return {"id": rel.id, "status": rel.status}


@bp.post("/visits/relations/<int:relation_id>/reject")
@endpoint(
    "Reject a visitor's link to a detainee, with a reason",
    body=ReasonIn,
    response=StatusOut,
    permission="visits.manage",
    tags=TAGS,
    errors=(404, 409, 422),
)
def reject_relation(relation_id: int, body: ReasonIn, user: User) -> dict[str, Any]:
    rel = services.decide_relation(user, relation_id, False, body.reason)
    return {"id": rel.id, "status": rel.status, "reason": rel.reason}


@bp.post("/visits/bans")
@endpoint(
    "Ban a visitor from an establishment (their future visits there are cancelled)",
    body=BanIn,
    response=BanOut,
    status=201,
    permission="visits.manage",
    tags=TAGS,
    errors=(404, 422),
)
def create_ban(body: BanIn, user: User) -> dict[str, Any]:
    est = services.establishment_by_code(body.establishment, user)
    visitor = services.find_visitor(body.visitor_national_id)
    ban = services.ban_visitor(user, visitor, est, body.reason, body.ends_on)
    return {
        "id": ban.id,
        "visitor": ban.visitor.username,
        "national_id": ban.national_id,
        "establishment": est.code,
        "reason": ban.reason,
        "ends_on": ban.ends_on.isoformat() if ban.ends_on else None,
    }


@bp.post("/visits/slots")
@endpoint(
    "Open a visiting slot",
    body=SlotIn,
    response=SlotOut,
    status=201,
    permission="visits.manage",
    tags=TAGS,
    errors=(404, 422),
)
def create_slot(body: SlotIn, user: User) -> dict[str, Any]:
    est = services.establishment_by_code(body.establishment, user)
    slot = services.create_slot(user, est, body.starts_at, body.ends_at, body.capacity, body.kind)
    return slot_json(slot)


@bp.get("/visits/slots")
@endpoint(
    "Visiting slots of an establishment between two dates",
    response=SlotOut,
    tags=TAGS,
    paginated=True,
    query={
        "establishment": "establishment code",
        "from": "date (YYYY-MM-DD, local) or timestamp with offset",
        "to": "date (inclusive) or timestamp with offset",
    },
    errors=(400, 404),
)
def list_slots(user: User) -> dict[str, Any]:
    code = (request.args.get("establishment") or "").strip()
    est_id = services.establishment_by_code(code).id if code else None
    start = _moment("from")
    end = _moment("to", end_of_day=True)
    return page_of(services.list_slots(est_id, start, end), slot_json)


# --------------------------------------------------------------------------------------------
# Bookings
# --------------------------------------------------------------------------------------------


@bp.post("/visits/bookings")
@endpoint(
    "Book a visit (visitor)",
    body=BookingIn,
    response=BookingOut,
    status=201,
    permission="visits.book",
    tags=TAGS,
    errors=(409, 422),
    description="409 `slot_full` when no place is left; 422 for a broken rule (`not_linked`, "
    "`visitor_banned`, `companion_banned`, `detainee_released`, `detainee_elsewhere`, "
    "`window_closed`, `window_not_open`, `quota_reached`, `visitor_share_reached`, "
    "`too_many_visitors`…). Each companion's birth date says whether they are an adult (age "
    "on the visit day); adults need a national id.",
)
def create_booking(body: BookingIn, user: User) -> dict[str, Any]:
    companions = [
        services.CompanionIn(
            full_name=c.full_name, national_id=c.national_id or "", birth_date=c.birth_date
        )
        for c in body.companions
    ]
    booking = services.book(user, body.slot_id, body.detainee, companions)
    return booking_json(booking)


@bp.get("/visits/bookings/<reference>")
@endpoint("A visit (its visitor; visits staff)", response=BookingOut, tags=TAGS, errors=(404,))
def get_booking(reference: str, user: User) -> dict[str, Any]:
    return booking_json(services.get_booking(user, reference))


@bp.post("/visits/bookings/<reference>/cancel")
@endpoint(
    "Cancel a visit (its visitor before the deadline; visits staff)",
    response=StatusOut,
    tags=TAGS,
    errors=(404, 409, 422),
    description='Optional body `{"reason": "..."}`.',
)
def cancel_booking(reference: str, user: User) -> dict[str, Any]:
    reason = _optional_reason()
    booking = services.get_booking(user, reference)
    services.cancel_booking(user, booking, reason)
    return {"reference": booking.reference, "status": booking.status}


@bp.post("/visits/bookings/<reference>/check-in")
@endpoint(
    "Check a visitor in at the gate (reference or the QR code's text)",
    response=StatusOut,
    permission="visits.gate",
    tags=TAGS,
    errors=(404, 409, 422),
)
def check_in(reference: str, user: User) -> dict[str, Any]:
    booking = services.check_in(user, reference)
    return {"reference": booking.reference, "status": booking.status}


@bp.post("/visits/bookings/<reference>/outcome")
@endpoint(
    "Record how a visit ended",
    body=OutcomeIn,
    response=StatusOut,
    permission="visits.gate",
    tags=TAGS,
    errors=(404, 409, 422),
)
def record_outcome(reference: str, body: OutcomeIn, user: User) -> dict[str, Any]:
    booking = services.get_booking(user, reference)
    services.record_outcome(user, booking, body.outcome, body.reason)
    return {"reference": booking.reference, "status": booking.status}


@bp.post("/visits/bookings/<reference>/no-show")
@endpoint(
    "Mark a visit as a no-show (after its session)",
    response=StatusOut,
    permission="visits.gate",
    tags=TAGS,
    errors=(404, 409, 422),
)
def no_show(reference: str, user: User) -> dict[str, Any]:
    booking = services.get_booking(user, reference)
    services.mark_no_show(user, booking)
    return {"reference": booking.reference, "status": booking.status}

"""The core's JSON endpoints: auth, establishments, users, visitors, detainees, OpenAPI."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _

from core.api.openapi import build_openapi
from core.api.schemas import (
    AuditEventOut,
    DetaineeIn,
    DetaineeOut,
    EstablishmentIn,
    EstablishmentOut,
    ReleaseIn,
    ReleaseOut,
    TokenIn,
    TokenOut,
    UserIn,
    UserOut,
    VisitorIn,
)
from core.api.toolkit import API_PREFIX, endpoint, page_of, page_payload, pagination
from core.audit.queries import (
    LATEST,
    EventFilters,
    EventRow,
    day_after,
    day_start,
    search_events,
    to_utc,
)
from core.db import session as db_session
from core.detainees import services as detainees
from core.detainees.models import Detainee
from core.errors import Malformed, NotFound, Unauthorized, ValidationFailed
from core.establishments import services as establishments
from core.establishments.models import Establishment
from core.i18n import current_language
from core.identity import services as identity
from core.identity import throttle, totp
from core.identity.models import User
from core.security import limiter

bp = Blueprint("core_api", __name__, url_prefix=API_PREFIX)


def establishment_json(est: Establishment, population: int) -> dict[str, Any]:
    return {
        "code": est.code,
        "name": est.name(current_language()),
        "name_ar": est.name_ar,
        "name_fr": est.name_fr,
        "kind": est.kind.value,
        "region": est.region,
        "capacity": est.capacity,
        "population": population,
    }


def detainee_json(det: Detainee) -> dict[str, Any]:
    return {
        "registration_number": det.registration_number,
        "first_name": det.first_name,
        "last_name": det.last_name,
        "first_name_ar": det.first_name_ar,
        "last_name_ar": det.last_name_ar,
        "birth_date": det.birth_date.isoformat(),
        "sex": det.sex.value,
        "national_id": det.national_id,
        "establishment": det.establishment.code,
        "legal_status": det.legal_status.value,
        "admitted_at": det.admitted_at.isoformat(),
    }


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "roles": sorted(user.roles),
        "establishments": [e.code for e in user.establishments],
    }


@bp.get("/openapi.json")
def openapi() -> Any:
    return jsonify(build_openapi(current_app))


@bp.post("/auth/token")
@endpoint(
    "Exchange a username and password for a bearer token",
    description="An account with a second factor also sends the code of its authenticator "
    "app as `otp`: without it the answer is 401 `otp_required`, with a wrong, expired or "
    "already used code 401 `invalid_otp`. Accounts without one send no `otp`.",
    body=TokenIn,
    response=TokenOut,
    auth="none",
    tags=["auth"],
    errors=(401, 429),
)
def issue_token(body: TokenIn) -> dict[str, Any]:
    # the username comes from the parsed body, whatever the Content-Type said
    attempt = throttle.begin(body.username)
    db_session().commit()
    try:
        user = identity.authenticate(body.username, body.password)
        totp.check_code(user, body.otp)  # only for accounts with a second factor
    except Unauthorized as exc:
        db_session().rollback()
        if exc.code == "otp_required":  # the password was right: not a failed guess
            throttle.succeeded(attempt)
        else:
            throttle.failed(attempt)
        db_session().commit()
        raise
    if totp.must_enrol(user):
        throttle.succeeded(attempt)
        db_session().commit()
        raise Unauthorized(
            _("Your role requires a second factor: set it up on the website first."),
            code="otp_enrolment_required",
        )
    throttle.succeeded(attempt)
    token, record = identity.issue_token(user)
    return {"token": token, "expires_at": record.expires_at.isoformat()}


@bp.post("/auth/revoke")
@endpoint("Revoke the bearer token of this request", tags=["auth"])
def revoke_token(user: User) -> dict[str, Any]:
    header = request.headers.get("Authorization", "")
    if not identity.revoke_token(header[7:].strip(), actor=user):
        raise Unauthorized(_("Sign in first: send a valid bearer token."))
    return {"revoked": True}


@bp.get("/establishments")
@endpoint(
    "List establishments with their occupancy",
    response=EstablishmentOut,
    permission="establishments.view",
    tags=["establishments"],
    paginated=True,
)
def list_establishments(user: User) -> dict[str, Any]:
    return page_of(
        establishments.list_establishments(user),
        lambda o: establishment_json(o.establishment, o.population),
    )


@bp.post("/establishments")
@endpoint(
    "Create an establishment",
    body=EstablishmentIn,
    response=EstablishmentOut,
    status=201,
    permission="establishments.manage",
    tags=["establishments"],
)
def create_establishment(body: EstablishmentIn, user: User) -> dict[str, Any]:
    est = establishments.create_establishment(
        code=body.code,
        name=body.name,
        name_ar=body.name_ar,
        kind=body.kind,
        capacity=body.capacity,
        region=body.region,
        city=body.city,
        city_ar=body.city_ar,
        actor=user,
    )
    return establishment_json(est, 0)


@bp.post("/users")
@endpoint(
    "Create a staff user",
    body=UserIn,
    response=UserOut,
    status=201,
    permission="users.manage",
    tags=["users"],
    errors=(403,),
)
def create_user(body: UserIn, user: User) -> dict[str, Any]:
    created = identity.create_user(
        username=body.username,
        password=body.password,
        full_name=body.full_name,
        roles=body.roles,
        establishments=body.establishments,
        actor=user,
    )
    return user_json(created)


@bp.post("/visitors/register")
@limiter.limit("20 per hour", key_func=lambda: f"register:{request.remote_addr}")
@endpoint(
    "A family member registers an account",
    body=VisitorIn,
    response=UserOut,
    status=201,
    auth="none",
    tags=["visitors"],
)
def register_visitor(body: VisitorIn) -> dict[str, Any]:
    user = identity.register_visitor(
        username=body.username,
        password=body.password,
        full_name=body.full_name,
        national_id=body.national_id,
        phone=body.phone,
        locale=current_language(),
    )
    return user_json(user)


@bp.post("/detainees")
@endpoint(
    "Admit a detainee",
    body=DetaineeIn,
    response=DetaineeOut,
    status=201,
    permission="detainees.admit",
    tags=["detainees"],
    errors=(409,),
)
def admit_detainee(body: DetaineeIn, user: User) -> dict[str, Any]:
    det = detainees.admit(body.model_dump(exclude_none=True), user)
    return detainee_json(det)


@bp.get("/detainees")
@endpoint(
    "Search detainees by name (either script), registration number or national id",
    response=DetaineeOut,
    permission="detainees.view",
    tags=["detainees"],
    paginated=True,
    query={"q": "search text", "establishment": "establishment code"},
)
def search_detainees(user: User) -> dict[str, Any]:
    page, per_page = pagination()
    result = detainees.search(
        user,
        request.args.get("q", ""),
        establishment=request.args.get("establishment") or None,
        page=page,
        per_page=per_page,
    )
    return page_payload([detainee_json(d) for d in result.items], result.total, page, per_page)


@bp.get("/detainees/<registration_number>")
@endpoint(
    "A detainee's record", response=DetaineeOut, permission="detainees.view", tags=["detainees"]
)
def get_detainee(registration_number: str, user: User) -> dict[str, Any]:
    return detainee_json(detainees.get_detainee(registration_number, user))


@bp.post("/detainees/<registration_number>/release")
@endpoint(
    "Release a detainee",
    response=ReleaseOut,
    permission="detainees.release",
    tags=["detainees"],
    body=ReleaseIn,
    body_optional=True,
    errors=(409, 422),
    description="The body is optional. 409 `already_released` when released before; 422 "
    "`blocked` with `fields.blockers` (`code`, `module`, `message`, `overridable`) when modules "
    "veto the release (money on hold, a transfer under way…); a director may send "
    '`{"override": true}` to go ahead over blockers that are all overridable (audited).',
)
def release_detainee(registration_number: str, user: User, body: ReleaseIn) -> dict[str, Any]:
    det = detainees.get_detainee(registration_number, user)
    detainees.release(det, user, note=body.note, override=body.override)
    data = detainee_json(det)
    data["status"] = det.legal_status.value
    data["released_at"] = det.released_at.isoformat() if det.released_at else None
    return data


# --------------------------------------------------------------------------------------------
# the audit trail, for auditors
# --------------------------------------------------------------------------------------------

# query parameter -> the longest value that can match (the columns' lengths)
AUDIT_FILTERS = {
    "action": 80,
    "object_type": 60,
    "object_id": 80,
    "establishment": 16,
    "actor": 80,
    "from": 40,
    "to": 40,
}


def audit_event_json(row: EventRow) -> dict[str, Any]:
    event = row.event
    return {
        "id": event.id,
        "occurred_at": event.occurred_at.isoformat(),
        "actor": event.actor_username or None,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "establishment": row.establishment,
        "summary": event.summary if isinstance(event.summary, dict) else {},
    }


def _audit_moment(name: str, raw: str) -> dt.datetime:
    """``from``/``to``: a local day or a timestamp with its offset, both ends inclusive; the
    result in UTC, ``to`` as the first moment after the range (clamped to years 1–9999)."""
    if len(raw) == 10:
        day = dt.date.fromisoformat(raw)
        return day_after(day) if name == "to" else day_start(day)
    moment = dt.datetime.fromisoformat(raw)
    if moment.tzinfo is None or len(raw) < 16:
        raise ValueError(raw)
    moment = to_utc(moment)
    if name == "to":
        try:
            moment += dt.timedelta(microseconds=1)
        except OverflowError:
            return LATEST
    return moment


def audit_filters() -> EventFilters:
    """The query string of ``GET /audit/events``, checked: 400 ``bad_query`` for what cannot be
    read (an unknown parameter, control characters, a date that is not one), 422
    ``validation_failed`` for a readable value that cannot be right (too long for the column,
    an unknown establishment, ``to`` before ``from``)."""
    unreadable: dict[str, str] = {}
    wrong: dict[str, str] = {}
    values: dict[str, str] = {}
    for name in request.args:
        if name not in AUDIT_FILTERS and name not in ("page", "per_page"):
            unreadable[name[:40]] = _("This parameter is not expected.")
    for name, longest in AUDIT_FILTERS.items():
        raw = request.args.get(name, "")
        if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in raw):
            unreadable[name] = _("This value contains characters that cannot be searched.")
            continue
        raw = raw.strip()
        if len(raw) > longest and name in ("from", "to"):
            unreadable[name] = _("Enter a date (YYYY-MM-DD) or a date and time with its offset.")
            continue
        if len(raw) > longest:
            wrong[name] = _("This text is too long.")
            continue
        values[name] = raw
    moments: dict[str, dt.datetime | None] = {"from": None, "to": None}
    for name in moments:
        if values.get(name):
            try:
                moments[name] = _audit_moment(name, values[name])
            except ValueError:
                unreadable[name] = _(
                    "Enter a date (YYYY-MM-DD) or a date and time with its offset."
                )
    if unreadable:
        raise Malformed(
            _("Please correct the highlighted fields."), code="bad_query", fields=unreadable
        )
    since, until = moments["from"], moments["to"]
    if since is not None and until is not None and until <= since:
        wrong["to"] = _("The end must come after the start.")
    if values.get("establishment") and "establishment" not in wrong:
        try:
            establishments.get_by_code(values["establishment"], check_scope=False)
        except NotFound:
            wrong["establishment"] = _("Unknown establishment.")
    if wrong:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=wrong)
    return EventFilters(
        action=values.get("action", ""),
        object_type=values.get("object_type", ""),
        object_id=values.get("object_id", ""),
        establishment=values.get("establishment", ""),
        actor=values.get("actor", ""),
        since=since,
        until=until,
    )


@bp.get("/audit/events")
@endpoint(
    "Search the audit trail (auditors, central administration)",
    response=AuditEventOut,
    permission="audit.view",
    tags=["audit"],
    paginated=True,
    query={
        "action": "an action (`detainee.admit`), or a family of actions ending with a dot "
        "(`detainee.`)",
        "object_type": "the record's type (`detainee`)",
        "object_id": "the record's identifier (a registration number…)",
        "establishment": "establishment code",
        "actor": "username (`system` for the platform's own work)",
        "from": "date (YYYY-MM-DD, local day) or timestamp with offset; inclusive",
        "to": "date (YYYY-MM-DD, local day) or timestamp with offset; inclusive",
    },
    errors=(422,),
    description="Events newest first, paged in the database. 400 `bad_query` for what cannot "
    "be read (an unknown parameter, control characters, a date that is not one, bad paging); "
    "422 `validation_failed` for an unknown establishment, a value longer than any stored one, "
    "or `to` not after `from`. An unknown actor or record matches nothing (an empty list): "
    "the trail keeps the names of users since removed. Dates beyond years 1–9999 in UTC are "
    "clamped. `occurred_at` is in UTC with its offset.",
)
def audit_events(user: User) -> dict[str, Any]:
    page, per_page = pagination(max_page=None)  # search_events answers any page number
    filters = audit_filters()
    rows, total = search_events(filters, page, per_page)
    return page_payload([audit_event_json(r) for r in rows], total, page, per_page)


# the family's own account (GET/PATCH /visitors/me, export, close) lives in its own module
from core.api import account_views as _account_views  # noqa: E402, F401

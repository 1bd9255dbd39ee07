"""The core's JSON endpoints: auth, establishments, users, visitors, detainees, OpenAPI."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _

from core.api.openapi import build_openapi
from core.api.schemas import (
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
from core.detainees import services as detainees
from core.detainees.models import Detainee
from core.errors import Unauthorized
from core.establishments import services as establishments
from core.establishments.models import Establishment
from core.i18n import current_language
from core.identity import services as identity
from core.identity.models import User
from core.security import limiter, login_throttle

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
@login_throttle()
@endpoint(
    "Exchange a username and password for a bearer token",
    body=TokenIn,
    response=TokenOut,
    auth="none",
    tags=["auth"],
    errors=(401,),
)
def issue_token(body: TokenIn) -> dict[str, Any]:
    user = identity.authenticate(body.username, body.password)
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

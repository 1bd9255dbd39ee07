"""A family's own account over the API: read and edit it, download its data, close it
(issue 10 point 3). The rules are in :mod:`core.identity.account`."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from core.api.schemas import CloseAccountIn, CloseAccountOut, MeIn, MeOut
from core.api.toolkit import endpoint
from core.api.views import bp
from core.errors import Forbidden
from core.identity import account
from core.identity.models import User


def _visitor(user: User) -> User:
    if not user.is_visitor or user.is_staff:
        raise Forbidden(_("You are not allowed to do this."))
    return user


def me_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "phone": user.phone,
        "email": user.email,
        "national_id": user.national_id,
        "roles": sorted(user.roles),
    }


@bp.get("/visitors/me")
@endpoint("The signed-in family member's account", response=MeOut, tags=["visitors"])
def get_me(user: User) -> dict[str, Any]:
    return me_json(_visitor(user))


@bp.patch("/visitors/me")
@endpoint(
    "Change one's full name or phone number (stored in E.164; Moroccan formats by default)",
    body=MeIn,
    response=MeOut,
    tags=["visitors"],
)
def patch_me(body: MeIn, user: User) -> dict[str, Any]:
    account.update_profile(_visitor(user), full_name=body.full_name, phone=body.phone)
    return me_json(user)


@bp.get("/visitors/me/export")
@endpoint("Everything the application holds about the signed-in family member", tags=["visitors"])
def export_me(user: User) -> dict[str, Any]:
    return account.export_json(_visitor(user))


@bp.post("/visitors/me/close")
@endpoint(
    "Close the signed-in family member's account (personal details erased; see security.md)",
    body=CloseAccountIn,
    response=CloseAccountOut,
    tags=["visitors"],
)
def close_me(body: CloseAccountIn, user: User) -> dict[str, Any]:
    account.close_account(_visitor(user), body.password)
    return {"closed": True}

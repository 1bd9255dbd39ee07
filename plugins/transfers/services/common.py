"""Shared helpers: local dates, who may see a transfer (origin or destination staff), finding
one, and the checks of text typed by people."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import or_, select

from core.config import TIMEZONE
from core.db import session as db_session
from core.db import utcnow
from core.errors import NotFound, ValidationFailed
from core.establishments.models import Establishment
from core.identity.services import has_permission, require
from core.principals import Principal
from core.scoping import can_see_establishment, establishment_ids
from core.validation import storable
from plugins.transfers.models import Transfer

LOCAL_TZ = ZoneInfo(TIMEZONE)


def today_local() -> dt.date:
    return utcnow().astimezone(LOCAL_TZ).date()


def local_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(), tzinfo=LOCAL_TZ)
    return start.astimezone(dt.UTC), (start + dt.timedelta(days=1)).astimezone(dt.UTC)


def visible(stmt: Any, user: Principal) -> Any:
    """Restrict a ``select(Transfer…)`` to transfers whose origin or destination the user
    works at (a transfer belongs to two establishments: the scoping mixin's one column does
    not fit, so the rule is here, used by every list)."""
    ids = establishment_ids(user)
    if ids is None:
        return stmt
    allowed = sorted(ids) or [-1]
    return stmt.where(or_(Transfer.origin_id.in_(allowed), Transfer.destination_id.in_(allowed)))


def on_side(user: Principal, transfer: Transfer, side: str) -> bool:
    """Does the user work at the transfer's ``side`` (origin, destination, either)?"""
    origin = can_see_establishment(user, transfer.origin_id)
    destination = can_see_establishment(user, transfer.destination_id)
    if side == "origin":
        return origin
    if side == "destination":
        return destination
    return origin or destination


def get_transfer(transfer_id: Any, user: Principal) -> Transfer:
    """The transfer, if the user may see it (404 otherwise: another establishment's transfers
    do not exist for them)."""
    require(user, "transfers.view")
    try:
        tid = int(transfer_id)
    except (TypeError, ValueError):
        tid = 0
    transfer = None
    if 0 < tid < 2**31:
        transfer = db_session().scalar(visible(select(Transfer).where(Transfer.id == tid), user))
    if transfer is None:
        raise NotFound(_("No such transfer."), code="transfer_not_found")
    return transfer


def can_view(user: Any) -> bool:
    return user is not None and has_permission(user, "transfers.view")


def establishment_by_code(code: Any, field: str = "destination") -> Establishment:
    value = str(code or "").strip().upper()
    est = (
        db_session().scalar(select(Establishment).where(Establishment.code == value))
        if value and len(value) <= 16
        else None
    )
    if est is None:
        raise ValidationFailed(
            _("Please correct the highlighted fields."),
            fields={field: _("No establishment with this code.")},
        )
    return est


def clean_text(
    value: Any, field: str, *, limit: int, required: bool = False, errors: dict[str, str]
) -> str:
    """Typed text: stripped, at most ``limit`` characters, storable (no NUL, no surrogate);
    a message on ``field`` in ``errors`` otherwise."""
    text = "" if value is None else str(value).strip()
    if not storable(text):
        errors[field] = _("This text contains characters that cannot be stored.")
    elif required and not text:
        errors[field] = _("This field is required.")
    elif len(text) > limit:
        errors[field] = ngettext("At most %(num)d character.", "At most %(num)d characters.", limit)
    return text


def raise_if(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)

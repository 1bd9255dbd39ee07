"""Helpers every part of the module uses: local time, input parsing, staff checks, lookups."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.db import session as db_session
from core.errors import NotFound, ValidationFailed
from core.establishments.models import Establishment
from core.i18n import local_zone
from core.identity.models import User
from core.identity.services import require
from core.principals import Principal
from core.scoping import ensure_in_scope, establishment_ids, scope
from core.validation import storable


def local_date(moment: dt.datetime) -> dt.date:
    """The day an instant falls on at the establishments (the zone of the app's configuration)."""
    return moment.astimezone(local_zone()).date()


def local_moment(day: dt.date, hhmm: str) -> dt.datetime:
    """A local day and "HH:MM" time (the configured zone) → the instant, in UTC."""
    hour, minute = (int(x) for x in hhmm.split(":"))
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=local_zone()).astimezone(dt.UTC)


def week_start(moment: dt.datetime) -> dt.date:
    day = local_date(moment)
    return day - dt.timedelta(days=day.weekday())


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _dialect() -> str:
    return db_session().get_bind().dialect.name


def insert_for(dialect: str) -> Any:
    """The dialect's ``INSERT`` construct (``ON CONFLICT`` is written differently)."""
    return pg_insert if dialect == "postgresql" else sqlite_insert


def _fail(message: Any, code: str, fields: Mapping[str, Any] | None = None) -> ValidationFailed:
    return ValidationFailed(message, code=code, fields=fields)


def _parse_date(value: Any, field: str, errors: dict[str, str]) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        errors[field] = _("Enter a date as YYYY-MM-DD.")
        return None


def _int(value: Any, field: str, errors: dict[str, str], lo: int, hi: int) -> int | None:
    try:
        number = int(value)
        if isinstance(value, bool) or str(value).strip() != str(number):
            raise ValueError
    except (TypeError, ValueError):
        errors[field] = _("Enter a whole number.")
        return None
    if not lo <= number <= hi:
        errors[field] = _("Enter a number from %(lo)d to %(hi)d.", lo=lo, hi=hi)
        return None
    return number


def _staff(actor: Principal, code: str, establishment_id: int) -> None:
    require(actor, code)
    ensure_in_scope(actor, establishment_id)


def establishment_by_code(code: str, actor: Principal | None = None) -> Establishment:
    """An establishment by its code. With an actor, one they may see (else 404, as if it did
    not exist); without, the public lookup of the families' pages — establishments and their
    visiting information are public."""
    code = (code or "").strip().upper()
    est = (
        db_session().scalar(select(Establishment).where(Establishment.code == code))
        if storable(code)  # a NUL cannot even be compared by PostgreSQL
        else None
    )
    if est is None or (actor is not None and not _sees(actor, est.id)):
        raise NotFound(_("No establishment with this code."), code="establishment_not_found")
    return est


def _sees(actor: User, establishment_id: int) -> bool:
    ids = establishment_ids(actor)
    return ids is None or establishment_id in ids


def staff_establishments(actor: User) -> list[Establishment]:
    stmt = scope(select(Establishment), Establishment.id, actor).order_by(Establishment.code)
    return list(db_session().scalars(stmt))

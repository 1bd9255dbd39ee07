"""Establishment rules: creation, editing, occupancy."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core.audit import services as audit
from core.db import session as db_session
from core.errors import NotFound, ValidationFailed
from core.establishments.models import Establishment, EstablishmentKind
from core.identity.models import User
from core.identity.services import require
from core.principals import Principal
from core.scoping import ensure_in_scope, scope

CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9\-]{1,15}$")
MAX_CAPACITY = 50_000


@dataclass(frozen=True)
class Occupancy:
    establishment: Establishment
    population: int

    @property
    def rate(self) -> float:
        cap = self.establishment.capacity
        return (self.population / cap) if cap else 0.0


def population_by_establishment(ids: list[int] | None = None) -> dict[int, int]:
    from core.detainees.models import Detainee, LegalStatus

    stmt = (
        select(Detainee.establishment_id, func.count())
        .where(Detainee.legal_status != LegalStatus.released)
        .group_by(Detainee.establishment_id)
    )
    if ids is not None:
        stmt = stmt.where(Detainee.establishment_id.in_(ids))
    return {int(k): int(v) for k, v in db_session().execute(stmt).all()}


def list_establishments(user: User | None, *, include_inactive: bool = True) -> list[Occupancy]:
    stmt = scope(select(Establishment), Establishment.id, user).order_by(Establishment.code)
    if not include_inactive:
        stmt = stmt.where(Establishment.active.is_(True))
    ests = list(db_session().scalars(stmt))
    pops = population_by_establishment([e.id for e in ests])
    return [Occupancy(e, pops.get(e.id, 0)) for e in ests]


def all_establishments() -> list[Establishment]:
    return list(db_session().scalars(select(Establishment).order_by(Establishment.code)))


def get_by_code(code: str, user: User | None = None, *, check_scope: bool = True) -> Establishment:
    code = (code or "").strip().upper() if isinstance(code, str) else ""
    est = (
        db_session().scalar(select(Establishment).where(Establishment.code == code))
        if CODE_RE.match(code)
        else None
    )
    if est is None:
        raise NotFound(_("Unknown establishment."), code="establishment_not_found")
    if check_scope and user is not None:
        ensure_in_scope(user, est.id)
    return est


def _has_control_chars(value: object) -> bool:
    return isinstance(value, str) and any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value)


def _check_place(**values: object) -> dict[str, str]:
    errors: dict[str, str] = {}
    for key, value in values.items():
        limit = 300 if key == "address" else 120
        if not isinstance(value, str) or _has_control_chars(value):
            errors[key] = _("Enter text.")
        elif len(value) > limit:
            errors[key] = ngettext(
                "At most %(num)d character.", "At most %(num)d characters.", limit
            )
    return errors


def _validate(code: str, name_fr: str, name_ar: str, kind: str, capacity: object) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not CODE_RE.match(code or ""):
        errors["code"] = _("Use 2 to 16 capital letters, digits or dashes.")
    if not (name_fr or "").strip():
        errors["name"] = _("This field is required.")
    if len(name_fr or "") > 200 or len(name_ar or "") > 200:
        errors["name"] = ngettext("At most %(num)d character.", "At most %(num)d characters.", 200)
    for key, value in (("name", name_fr), ("name_ar", name_ar)):
        if _has_control_chars(value):
            errors[key] = _("Enter text.")
    if kind not in EstablishmentKind.__members__:
        errors["kind"] = _("Choose a kind of establishment.")
    if (
        isinstance(capacity, bool)
        or not isinstance(capacity, int)
        or not 0 <= capacity <= MAX_CAPACITY
    ):
        errors["capacity"] = _("Enter a whole number between 0 and %(n)d.", n=MAX_CAPACITY)
    return errors


def create_establishment(
    *,
    code: str,
    name: str,
    kind: str,
    capacity: int,
    actor: Principal,
    name_ar: str = "",
    region: str = "",
    city: str = "",
    address: str = "",
    city_ar: str = "",
) -> Establishment:
    require(actor, "establishments.manage")
    code = (code or "").strip().upper()
    errors = _validate(code, name, name_ar, kind, capacity)
    errors.update(_check_place(region=region, city=city, city_ar=city_ar, address=address))
    if not errors and db_session().scalar(
        select(Establishment.id).where(Establishment.code == code)
    ):
        errors["code"] = _("This code is already used.")
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    est = Establishment(
        code=code,
        name_fr=name.strip(),
        name_ar=(name_ar or name).strip(),
        kind=EstablishmentKind(kind),
        capacity=capacity,
        region=region.strip(),
        city=city.strip(),
        city_ar=city_ar.strip(),
        address=address.strip(),
    )
    try:
        with db_session().begin_nested():  # a concurrent creation of the same code loses here
            db_session().add(est)
            db_session().flush()
    except IntegrityError as exc:
        raise ValidationFailed(
            _("Please correct the highlighted fields."),
            fields={"code": _("This code is already used.")},
        ) from exc
    audit.record(
        "establishment.create",
        "establishment",
        est.code,
        establishment_id=est.id,
        summary={"name": est.name_fr, "kind": kind, "capacity": capacity},
        actor=actor,
    )
    return est


def update_establishment(est: Establishment, actor: User, **changes: object) -> Establishment:
    require(actor, "establishments.manage")
    allowed = {
        "name_fr",
        "name_ar",
        "kind",
        "capacity",
        "region",
        "city",
        "city_ar",
        "address",
        "active",
    }
    before = {k: getattr(est, k) for k in allowed}
    merged = {**before, **{k: v for k, v in changes.items() if k in allowed}}
    errors = _validate(
        est.code,
        str(merged["name_fr"]),
        str(merged["name_ar"]),
        str(merged["kind"]),
        merged["capacity"],
    )
    errors.update(
        _check_place(
            region=merged["region"],
            city=merged["city"],
            city_ar=merged["city_ar"],
            address=merged["address"],
        )
    )
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    for key in allowed:
        value = merged[key]
        if key == "kind":
            value = EstablishmentKind(str(value))
        setattr(est, key, value)
    db_session().flush()
    diff = {
        k: [str(before[k]), str(getattr(est, k))] for k in allowed if before[k] != getattr(est, k)
    }
    if diff:
        audit.record(
            "establishment.update",
            "establishment",
            est.code,
            establishment_id=est.id,
            summary=diff,
            actor=actor,
        )
    return est

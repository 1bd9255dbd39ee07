"""The visit rules and public information of each establishment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import bindparam, select
from sqlalchemy.orm import lazyload

from core.audit import services as audit
from core.db import built_once
from core.db import session as db_session
from core.errors import NotFound, ValidationFailed
from core.establishments.models import Establishment
from core.principals import Principal

from ..models import SessionTemplate, VisitRules
from .common import _int, _staff, establishment_by_code

DEFAULT_RULES: dict[str, Any] = {
    "max_adults": 3,
    "max_children": 2,
    "adult_age": 18,
    "window_open_days": 14,
    "window_close_hours": 24,
    "cancel_deadline_hours": 12,
    "quota_pretrial": 2,
    "quota_convicted": 1,
    "max_weekly_per_visitor": None,
}
RULE_LIMITS: dict[str, tuple[int, int]] = {
    "max_adults": (1, 10),
    "max_children": (0, 10),
    "adult_age": (12, 21),
    "window_open_days": (1, 90),
    "window_close_hours": (0, 240),
    "cancel_deadline_hours": (0, 240),
    "quota_pretrial": (0, 14),
    "quota_convicted": (0, 14),
}
OPTIONAL_RULE_LIMITS: dict[str, tuple[int, int]] = {
    # one family account's share of a detainee's weekly quota; empty = no per-visitor limit
    "max_weekly_per_visitor": (1, 14),
}
INFO_FIELDS = (
    "address",
    "visiting_days_ar",
    "visiting_days_fr",
    "conditions_ar",
    "conditions_fr",
    "documents_ar",
    "documents_fr",
    "items_ar",
    "items_fr",
)


@built_once
def _rules_of() -> Any:
    return (
        select(VisitRules)
        .where(VisitRules.establishment_id == bindparam("establishment_id"))
        .options(lazyload(VisitRules.establishment))  # the caller's, in the session if read
    )


def get_rules(establishment_id: int) -> VisitRules:
    """The rules of an establishment (defaults, not yet saved, when none were set)."""
    rules = db_session().scalar(_rules_of(), {"establishment_id": establishment_id})
    if rules is None:
        rules = VisitRules(establishment_id=establishment_id, **DEFAULT_RULES)
        for name in INFO_FIELDS:
            setattr(rules, name, "")
    return rules


def update_rules(actor: Principal, establishment: Establishment, data: Mapping[str, Any]) -> Any:
    _staff(actor, "visits.manage", establishment.id)
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for name, (lo, hi) in RULE_LIMITS.items():
        if name in data:
            value = _int(data[name], name, errors, lo, hi)
            if value is not None:
                clean[name] = value
    for name, (lo, hi) in OPTIONAL_RULE_LIMITS.items():
        if name in data:
            raw = data[name]
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                clean[name] = None
            else:
                value = _int(raw.strip() if isinstance(raw, str) else raw, name, errors, lo, hi)
                if value is not None:
                    clean[name] = value
    for name in INFO_FIELDS:
        if name in data:
            value = str(data[name] or "").strip()
            limit = 300 if name == "address" else 4000
            if len(value) > limit:
                errors[name] = _("This text is too long.")
            clean[name] = value
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    rules = get_rules(establishment.id)
    if rules.id is None:
        db_session().add(rules)
    changes = {k: [getattr(rules, k), v] for k, v in clean.items() if getattr(rules, k) != v}
    for key, value in clean.items():
        setattr(rules, key, value)
    db_session().flush()
    audit.record(
        "visits.rules.update",
        "visits_rules",
        establishment.code,
        establishment_id=establishment.id,
        summary={k: v for k, v in changes.items() if k in RULE_LIMITS or k in OPTIONAL_RULE_LIMITS}
        | {"info_changed": sorted(k for k in changes if k in INFO_FIELDS)},
        actor=actor,
    )
    return rules


def public_info(code: str) -> tuple[Establishment, VisitRules, list[SessionTemplate]]:
    est = establishment_by_code(code)
    if not est.active:
        raise NotFound(_("No establishment with this code."), code="establishment_not_found")
    templates = list(
        db_session().scalars(
            select(SessionTemplate)
            .where(SessionTemplate.establishment_id == est.id, SessionTemplate.active.is_(True))
            .order_by(SessionTemplate.weekday, SessionTemplate.start_time)
        )
    )
    return est, get_rules(est.id), templates


def public_establishments() -> list[Establishment]:
    return list(
        db_session().scalars(
            select(Establishment).where(Establishment.active.is_(True)).order_by(Establishment.code)
        )
    )

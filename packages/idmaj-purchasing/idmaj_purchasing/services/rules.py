"""The rules of the shop: what a detainee may receive and how much a week.

- forbidden categories: the establishment's (set by its director or the central
  administration), the detainee's own (``purchasing_restrictions``, set by the director), and
  those other modules name through the published hook ``purchasing_forbidden_categories``
  (a doctor's diet restriction);
- a weekly value cap per detainee (the establishment's rules) and a weekly quantity cap per
  product: both over the last seven days, counting every order that is not cancelled,
  expired or refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import bindparam, func, select

from core.audit import services as audit
from core.db import built_once
from core.db import session as db_session
from core.detainees.models import Detainee
from core.errors import Conflict, NotFound, ValidationFailed
from core.identity.services import require
from core.plugins import collect
from core.scoping import ensure_in_scope, read_columns
from core.validation import storable
from idmaj_purchasing.models import (
    CATEGORIES,
    Order,
    OrderLine,
    OrderStatus,
    Restriction,
    ShopRules,
)
from idmaj_purchasing.services.common import (
    WEEK,
    forbidden_everywhere,
    money,
    now,
    parse_count,
    parse_money,
    rules_for,
)

COUNTED = (
    OrderStatus.awaiting_payment,
    OrderStatus.paid,
    OrderStatus.prepared,
    OrderStatus.delivered,
)


@dataclass
class Week:
    """What a detainee received (or has on the way) in the last seven days, and what is left."""

    cap: int
    spent: int
    per_product: dict[int, int] = field(default_factory=dict)

    @property
    def left(self) -> int:
        return max(0, self.cap - self.spent)


def forbidden_categories(
    detainee: Detainee,
    *,
    rules: ShopRules | None = None,
    restrictions: list[Restriction] | None = None,
) -> set[str]:
    """Every category this detainee may not receive, whoever decided it. A caller that has
    already read the establishment's ``rules`` or the detainee's ``restrictions``
    (:func:`restrictions_of`) passes them, and they are not read again."""
    found = forbidden_everywhere(rules or rules_for(detainee.establishment_id))
    if restrictions is None:
        found.update(read_columns(_restricted_categories(), {"detainee_id": detainee.id}).scalars())
    else:
        found.update(r.category for r in restrictions)
    found.update(str(c) for c in collect("purchasing_forbidden_categories", detainee=detainee) if c)
    return found & set(CATEGORIES)


@built_once
def _restricted_categories() -> Any:
    return select(Restriction.category).where(Restriction.detainee_id == bindparam("detainee_id"))


def _counted() -> tuple[Any, ...]:
    """The orders that count towards a detainee's week (parameters ``detainee_id``, ``since``)."""
    return (
        Order.detainee_id == bindparam("detainee_id"),
        Order.placed_at >= bindparam("since"),
        Order.status.in_(COUNTED),
    )


@built_once
def _spent_since() -> Any:
    return select(func.coalesce(func.sum(Order.total_centimes), 0)).where(*_counted())


@built_once
def _quantities_since() -> Any:
    return (
        select(OrderLine.product_id, func.sum(OrderLine.quantity))
        .join(Order, Order.id == OrderLine.order_id)
        .where(*_counted())
        .group_by(OrderLine.product_id)
    )


def week_of(
    detainee: Detainee,
    *,
    at: dt.datetime | None = None,
    rules: ShopRules | None = None,
    per_product: bool = True,
) -> Week:
    """The last seven days of orders for ``detainee`` (value, and quantity per product);
    ``rules``: the establishment's, when the caller has read them already;
    ``per_product=False``: the value only (what the profile panel shows), one statement less."""
    since = (at or now()) - WEEK
    params = {"detainee_id": detainee.id, "since": since}
    spent = read_columns(_spent_since(), params).scalar()
    quantities: dict[int, int] = {}
    if per_product:
        rows = read_columns(_quantities_since(), params)
        quantities = {int(pid): int(q) for pid, q in rows}
    return Week(
        cap=(rules or rules_for(detainee.establishment_id)).weekly_cap_centimes,
        spent=int(spent or 0),
        per_product=quantities,
    )


# --------------------------------------------------------------------------------------------
# Changing the rules (director, central administration)
# --------------------------------------------------------------------------------------------


def update_rules(establishment_id: int, data: Mapping[str, Any], actor: Any) -> ShopRules:
    require(actor, "purchasing.rules")
    ensure_in_scope(actor, establishment_id)
    errors: dict[str, str] = {}
    cap = parse_money(data.get("weekly_cap"), maximum=10_000_00)
    if cap is None:
        errors["weekly_cap"] = _("Enter an amount between 0.01 and 10000.00 MAD, like 500.00.")
    hours = parse_count(data.get("payment_hours"), minimum=1, maximum=240)
    if hours is None:
        errors["payment_hours"] = _("Enter a whole number from 1 to %(n)d.", n=240)
    categories = data.get("forbidden_categories") or []
    if isinstance(categories, str):
        categories = [categories]
    if not isinstance(categories, list | tuple) or any(c not in CATEGORIES for c in categories):
        errors["forbidden_categories"] = _("Choose one of the allowed values.")
        categories = []
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    sess = db_session()
    rules = sess.scalar(select(ShopRules).where(ShopRules.establishment_id == establishment_id))
    if rules is None:
        rules = rules_for(establishment_id)
        sess.add(rules)
    before = {
        "weekly_cap": money(rules.weekly_cap_centimes),
        "payment_hours": rules.payment_hours,
        "forbidden_categories": rules.forbidden_categories or "",
    }
    rules.weekly_cap_centimes = int(cap or 0)
    rules.payment_hours = int(hours or 0)
    rules.forbidden_categories = ",".join(c for c in CATEGORIES if c in categories)
    sess.flush()
    after = {
        "weekly_cap": money(rules.weekly_cap_centimes),
        "payment_hours": rules.payment_hours,
        "forbidden_categories": rules.forbidden_categories,
    }
    audit.record(
        "purchasing.rules.update",
        "purchasing_rules",
        establishment_id,
        establishment_id=establishment_id,
        summary={k: [before[k], after[k]] for k in after if before[k] != after[k]},
        actor=actor,
    )
    return rules


def restrictions_of(detainee: Detainee) -> list[Restriction]:
    return list(db_session().scalars(_restrictions_of(), {"detainee_id": detainee.id}))


@built_once
def _restrictions_of() -> Any:
    return (
        select(Restriction)
        .where(Restriction.detainee_id == bindparam("detainee_id"))
        .order_by(Restriction.category)
    )


def add_restriction(detainee: Detainee, category: Any, reason: Any, actor: Any) -> Restriction:
    """Forbid a category to one detainee (a disciplinary measure, the detainee's request…)."""
    require(actor, "purchasing.rules")
    ensure_in_scope(actor, detainee.establishment_id)
    errors: dict[str, str] = {}
    if category not in CATEGORIES:
        errors["category"] = _("Choose a category of the catalogue.")
    text = " ".join(reason.split()) if isinstance(reason, str) else ""
    if not text:
        errors["reason"] = _("Give a reason.")
    elif len(text) > 300 or not storable(text):
        errors["reason"] = ngettext(
            "At most %(num)d character.", "At most %(num)d characters.", 300
        )
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    sess = db_session()
    if sess.scalar(
        select(Restriction.id).where(
            Restriction.detainee_id == detainee.id, Restriction.category == category
        )
    ):
        message = _("This category is already forbidden to this detainee.")
        raise Conflict(message, code="restriction_exists", fields={"category": message})
    row = Restriction(
        detainee_id=detainee.id,
        category=str(category),
        reason=text,
        created_by_id=getattr(actor, "id", None),
    )
    sess.add(row)
    sess.flush()
    audit.record(
        "purchasing.restriction.add",
        "detainee",
        detainee.registration_number,
        establishment_id=detainee.establishment_id,
        summary={"category": category, "reason": text},
        actor=actor,
    )
    return row


def remove_restriction(detainee: Detainee, restriction_id: Any, actor: Any) -> None:
    require(actor, "purchasing.rules")
    ensure_in_scope(actor, detainee.establishment_id)
    rid = parse_count(restriction_id, maximum=2**31 - 1)
    row = db_session().get(Restriction, rid) if rid else None
    if row is None or row.detainee_id != detainee.id:
        raise NotFound(_("No such restriction."), code="restriction_not_found")
    db_session().delete(row)
    db_session().flush()
    audit.record(
        "purchasing.restriction.remove",
        "detainee",
        detainee.registration_number,
        establishment_id=detainee.establishment_id,
        summary={"category": row.category},
        actor=actor,
    )

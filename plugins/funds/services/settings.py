"""Per-establishment rules: savings share of wages, weekly spending limit, deposit ceiling."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from core.audit import services as audit
from core.db import session as db_session
from core.db import utcnow
from core.errors import ValidationFailed
from core.establishments.models import Establishment
from core.identity.models import User
from core.identity.services import require
from core.scoping import ensure_in_scope
from plugins.funds.models import Settings
from plugins.funds.services.money import AmountError, parse_amount

DEFAULT_CEILING = 500_000


def settings_for(establishment_id: int) -> Settings:
    sess = db_session()
    row = sess.get(Settings, establishment_id)
    if row is None:
        row = Settings(
            establishment_id=establishment_id,
            savings_share_pct=10,
            weekly_limit=None,
            deposit_ceiling=DEFAULT_CEILING,
        )
        sess.add(row)
        sess.flush()
    return row


def update_settings(
    est: Establishment,
    actor: User,
    *,
    savings_share_pct: Any,
    weekly_limit: Any,
    deposit_ceiling: Any,
) -> Settings:
    require(actor, "funds.write")
    ensure_in_scope(actor, est.id)
    errors: dict[str, str] = {}
    pct: int | None = None
    try:
        pct = int(savings_share_pct)
        if not 0 <= pct <= 100:
            raise ValueError
    except (TypeError, ValueError):
        errors["savings_share_pct"] = _("Enter a whole number from 0 to 100.")
    limit: int | None = None
    if weekly_limit not in (None, ""):
        try:
            limit = parse_amount(weekly_limit, allow_comma=True)
        except AmountError as exc:
            errors["weekly_limit"] = str(exc)
    ceiling: int | None = None
    try:
        ceiling = parse_amount(deposit_ceiling, allow_comma=True)
    except AmountError as exc:
        errors["deposit_ceiling"] = str(exc)
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    row = settings_for(est.id)
    before = {
        "savings_share_pct": row.savings_share_pct,
        "weekly_limit": row.weekly_limit,
        "deposit_ceiling": row.deposit_ceiling,
    }
    row.savings_share_pct = pct or 0
    row.weekly_limit = limit
    row.deposit_ceiling = ceiling or DEFAULT_CEILING
    row.updated_at = utcnow()
    db_session().flush()
    audit.record(
        "funds.settings",
        "establishment",
        est.code,
        establishment_id=est.id,
        summary={k: [before[k], getattr(row, k)] for k in before if before[k] != getattr(row, k)},
        actor=actor,
    )
    return row

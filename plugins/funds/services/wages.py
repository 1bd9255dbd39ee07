"""Wage runs: a workshop's wages paid to many detainees at once, split with savings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from core.detainees.models import Detainee
from core.detainees.services import get_detainee, next_counter
from core.errors import NotFound, ValidationFailed
from core.establishments.models import Establishment
from core.identity.services import require
from core.principals import Principal
from core.scoping import ensure_in_scope
from plugins.funds.models import LedgerKind, Transaction, TxType
from plugins.funds.services.accounts import account_of, detainee_ledgers, establishment_ledger
from plugins.funds.services.memo import _memo
from plugins.funds.services.money import AmountError, parse_amount
from plugins.funds.services.posting import (
    _book,
    _lock_accounts,
    _lock_establishment_ledgers,
    _writable_account,
)
from plugins.funds.services.settings import settings_for


@dataclass(frozen=True)
class WageLine:
    registration_number: str
    amount: Any


def wage_run(
    est: Establishment,
    actor: Principal,
    *,
    workshop: Any,
    lines: Iterable[WageLine],
    allow_comma: bool = False,
) -> list[Transaction]:
    """Pay a workshop's wages to many detainees at once: all or nothing. Each wage is split
    between available and savings by the establishment's savings share."""
    require(actor, "funds.write")
    ensure_in_scope(actor, est.id)
    workshop_name = _memo(workshop, "workshop", required=True)
    lines = list(lines)
    errors: dict[str, str] = {}
    parsed: list[tuple[Detainee, int]] = []
    seen: set[str] = set()
    if not lines:
        errors["lines"] = _("Enter at least one line.")
    for index, line in enumerate(lines, start=1):
        rn = (line.registration_number or "").strip()
        key = f"lines.{index}"
        if rn in seen:
            errors[key] = _("Line %(n)d: this detainee appears twice.", n=index)
            continue
        seen.add(rn)
        try:
            det = get_detainee(rn, actor)
        except NotFound:
            errors[key] = _("Line %(n)d: no detainee with this registration number.", n=index)
            continue
        if det.establishment_id != est.id or det.is_released:
            errors[key] = _("Line %(n)d: this detainee is not held at this establishment.", n=index)
            continue
        try:
            cents = parse_amount(line.amount, allow_comma=allow_comma)
        except AmountError as exc:
            errors[key] = _("Line %(n)d: %(error)s", n=index, error=str(exc))
            continue
        parsed.append((det, cents))
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    # accounts in id order, then the establishment's ledger rows: two wage runs (or a wage
    # run and a deposit) take them in the same order
    _lock_accounts([a.id for det, _c in parsed if (a := account_of(det)) is not None])
    _lock_establishment_ledgers(est.id)
    share = settings_for(est.id).savings_share_pct
    wages = establishment_ledger(est.id, LedgerKind.wages)
    batch = f"{est.code}-W{next_counter(f'funds-wage-run-{est.code}'):05d}"
    txs = []
    for det, cents in sorted(parsed, key=lambda p: p[0].id):
        account = _writable_account(det, actor)
        ledgers = detainee_ledgers(account)
        to_savings = cents * share // 100
        postings = [(wages, -cents), (ledgers[LedgerKind.available], cents - to_savings)]
        if to_savings:
            postings.append((ledgers[LedgerKind.savings], to_savings))
        postings = [p for p in postings if p[1] != 0]
        txs.append(
            _book(
                TxType.wage,
                est,
                postings,
                actor=actor,
                account=account,
                memo=workshop_name,
                batch=batch,
            )
        )
    return txs

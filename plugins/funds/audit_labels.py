"""How the audit page names the funds module's events (the ``audit_labels`` and
``audit_object_names`` hooks)."""

from __future__ import annotations

from sqlalchemy import select

from core.contributions import AuditLabels
from core.db import session
from core.i18n import current_language
from core.i18n import lazy_gettext as _l

from .forms import SOURCE_CHOICES
from .models import TxType
from .services.labels import RELEASE_PAYOUT_MEMO, TX_LABELS

MEMO_CODES = {RELEASE_PAYOUT_MEMO: _l("Paid out at release")}

FUNDS_AUDIT_LABELS = AuditLabels(
    actions={
        "funds.": _l("Funds movement"),
        **{f"funds.{t.value}": label for t, label in TX_LABELS.items() if t in TxType},
        "funds.account.open": _l("Account opened"),
        "funds.account.close": _l("Account closed"),
        "funds.cash_count": _l("Cash counted"),
        "funds.hold": _l("Amount put on hold"),
        "funds.settings": _l("Funds settings changed"),
        "funds_account.read": _l("Account consulted"),
    },
    object_types={
        "funds_account": _l("Detainee account"),
        "funds_transaction": _l("Funds transaction"),
    },
    fields={
        "amount": _l("Amount"),
        "held": _l("On hold"),
        "memo": _l("Note"),
        "paid_out": _l("Paid out"),
        "source": _l("Source"),
        "batch": _l("Wage run"),
        "what": _l("Consulted"),
        "weekly_limit": _l("Weekly spending limit"),
        "deposit_ceiling": _l("Ceiling on one deposit"),
    },
    values={"memo": MEMO_CODES, "source": dict(SOURCE_CHOICES)},
)


def account_names(registration_numbers: list[str]) -> dict[str, str]:
    """An account by its detainee's name and registration number, in one query."""
    from core.detainees.models import Detainee

    lang = current_language()
    found = session().scalars(
        select(Detainee).where(Detainee.registration_number.in_(registration_numbers))
    )
    return {
        d.registration_number: f"{d.display_name(lang)} · {d.registration_number}" for d in found
    }

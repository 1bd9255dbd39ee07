"""Funds forms. Amounts are text fields: the services parse them exactly (never floats)."""

from __future__ import annotations

from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from core.forms import IdmajForm, OnceForm
from core.i18n import count_message
from core.i18n import lazy_gettext as _l

REQUIRED = _l("This field is required.")
TOO_LONG = count_message("At most %(num)d character.", "At most %(num)d characters.", "max")
AMOUNT_HINT = _l("In dirhams, e.g. 125.50")

SOURCE_CHOICES = [
    ("family", _l("Family deposit")),
    ("cash", _l("Cash deposit at admission")),
    ("other", _l("Other deposit")),
]


def _amount(label: object = None, *, required: bool = True) -> StringField:
    return StringField(
        label or _l("Amount (MAD)"),
        validators=[
            DataRequired(REQUIRED) if required else Optional(),
            Length(max=20, message=TOO_LONG),
        ],
        description=AMOUNT_HINT,
        render_kw={"inputmode": "decimal", "autocomplete": "off", "dir": "ltr"},
    )


def _text(label: object, *, required: bool = False, max_len: int = 300) -> StringField:
    validators = [DataRequired(REQUIRED)] if required else [Optional()]
    validators.append(Length(max=max_len, message=TOO_LONG))
    return StringField(label, validators=validators, render_kw={"dir": "auto"})


class DepositForm(OnceForm):
    amount = _amount()
    source = RadioField(
        _l("Source"), choices=SOURCE_CHOICES, default="family", validators=[InputRequired(REQUIRED)]
    )
    depositor_name = _text(_l("Depositor's full name"), max_len=200)
    depositor_national_id = _text(_l("Depositor's national identity card (CIN)"), max_len=20)
    memo = _text(_l("Memo"))


class PurchaseForm(OnceForm):
    amount = _amount()
    memo = _text(_l("Items"))


class WithdrawalForm(OnceForm):
    amount = _amount()
    reason = _text(_l("Reason"), required=True)


class FeeForm(OnceForm):
    amount = _amount()
    memo = _text(_l("Reason"), required=True)


class HoldForm(OnceForm):
    amount = StringField(
        _l("Amount on hold (MAD)"),
        validators=[InputRequired(REQUIRED), Length(max=20, message=TOO_LONG)],
        description=_l("0 lifts the hold."),
        render_kw={"inputmode": "decimal", "dir": "ltr"},
    )
    memo = _text(_l("Reason"), required=True)


class ReversalForm(OnceForm):
    memo = _text(_l("Reason for the correction"), required=True)


class WageRunForm(OnceForm):
    workshop = _text(_l("Workshop"), required=True, max_len=120)
    lines = TextAreaField(
        _l("Wages"),
        validators=[DataRequired(REQUIRED), Length(max=20000, message=TOO_LONG)],
        description=_l(
            "One line per detainee: registration number, then the amount, e.g. 2025-000123 250.00"
        ),
        render_kw={"rows": 10, "dir": "ltr"},
    )


class CashCountForm(OnceForm):
    counted = _amount(_l("Cash counted (MAD)"))
    note = _text(_l("Note"))


class SettingsForm(IdmajForm):
    savings_share_pct = StringField(
        _l("Share of wages saved for release (%)"),
        validators=[InputRequired(REQUIRED), Length(max=3, message=TOO_LONG)],
        render_kw={"inputmode": "numeric", "dir": "ltr"},
    )
    weekly_limit = _amount(_l("Weekly spending limit (MAD)"), required=False)
    deposit_ceiling = _amount(_l("Ceiling on one deposit (MAD)"))

"""Remote purchasing's forms (the services check every rule again). Amounts and quantities
are text fields: the services read them exactly, Arabic-Indic digits included."""

from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import BooleanField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from core.forms import IdmajForm, OnceForm
from core.i18n import lazy_gettext as _l
from core.identity.forms import MultiCheckboxField

REQUIRED = _l("This field is required.")
NUMBER = {"inputmode": "numeric", "autocomplete": "off", "dir": "ltr"}
AMOUNT = {"inputmode": "decimal", "autocomplete": "off", "dir": "ltr"}


class ProductForm(IdmajForm):
    establishment = SelectField(_l("Establishment"), choices=[], validate_choice=False)
    name_fr = StringField(
        _l("Name in French"), validators=[Length(max=120)], render_kw={"dir": "ltr"}
    )
    name_ar = StringField(
        _l("Name in Arabic"), validators=[Length(max=120)], render_kw={"dir": "rtl", "lang": "ar"}
    )
    category = SelectField(_l("Category"), choices=[], validate_choice=False)
    unit = SelectField(_l("Unit"), choices=[], validate_choice=False)
    price = StringField(_l("Price (MAD)"), description=_l("For example 12.50"), render_kw=AMOUNT)
    stock = StringField(_l("Stock"), render_kw=NUMBER)
    max_per_week = StringField(_l("At most per detainee and week"), default="10", render_kw=NUMBER)


class ProductEditForm(IdmajForm):
    name_fr = StringField(_l("Name in French"), render_kw={"dir": "ltr"})
    name_ar = StringField(_l("Name in Arabic"), render_kw={"dir": "rtl", "lang": "ar"})
    category = SelectField(_l("Category"), choices=[], validate_choice=False)
    unit = SelectField(_l("Unit"), choices=[], validate_choice=False)
    price = StringField(_l("Price (MAD)"), render_kw=AMOUNT)
    max_per_week = StringField(_l("At most per detainee and week"), render_kw=NUMBER)
    add_stock = StringField(
        _l("Add a delivery to the stock"),
        description=_l("How many arrived; leave empty if none"),
        render_kw=NUMBER,
    )
    available = BooleanField(_l("On sale"))


class ConfirmOrderForm(OnceForm):
    payment = RadioField(_l("How to pay"), choices=[], validate_choice=False)


class PlainForm(IdmajForm):
    """A button only (prepare, cancel): CSRF protection and nothing else."""


class DeliverForm(IdmajForm):
    proof = RadioField(
        _l("Proof of delivery"),
        choices=[
            ("signature", _l("The detainee signed the slip")),
            ("pin", _l("The detainee gave the slip's PIN")),
        ],
        default="signature",
    )
    signed = BooleanField(_l("I saw the detainee sign the slip"))
    pin = StringField(_l("PIN"), validators=[Optional(), Length(max=8)], render_kw=NUMBER)


class RefuseForm(IdmajForm):
    reason = StringField(
        _l("Why was it refused?"),
        validators=[DataRequired(REQUIRED), Length(max=300)],
        render_kw={"dir": "auto"},
    )


class SettlementForm(IdmajForm):
    establishment = SelectField(_l("Establishment"), choices=[], validate_choice=False)
    file = FileField(_l("Settlement file (CSV)"))


class RulesForm(IdmajForm):
    weekly_cap = StringField(
        _l("Weekly limit per detainee (MAD)"), render_kw=AMOUNT, validators=[Length(max=15)]
    )
    payment_hours = StringField(
        _l("Hours a family has to pay at an agency"), render_kw=NUMBER, validators=[Length(max=5)]
    )
    forbidden_categories = MultiCheckboxField(
        _l("Categories nobody here may order"), choices=[], validate_choice=False
    )


class RestrictionForm(IdmajForm):
    category = SelectField(_l("Category"), choices=[], validate_choice=False)
    reason = StringField(
        _l("Reason"),
        validators=[DataRequired(REQUIRED), Length(max=300)],
        render_kw={"dir": "auto"},
    )

"""The form of the catalogue page (the rules are checked again by the service)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField

from core.i18n import lazy_gettext as _l


class ItemForm(FlaskForm):
    name = StringField(_l("Name"))
    price = StringField(_l("Price (MAD)"), description=_l("For example 12.50"))
    category = SelectField(_l("Category"), choices=[], validate_choice=False)
    submit = SubmitField(_l("Add to the catalogue"))


class SellForm(FlaskForm):
    item = SelectField(_l("Item"), choices=[], validate_choice=False)
    quantity = StringField(_l("Quantity"), default="1", render_kw={"inputmode": "numeric"})
    registration_number = StringField(
        _l("Registration number"), description=_l("Of the detainee who buys, e.g. 2025-000123")
    )
    submit = SubmitField(_l("Sell and debit the account"))

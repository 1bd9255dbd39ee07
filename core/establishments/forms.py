from __future__ import annotations

from wtforms import BooleanField, IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from core.forms import IdmajForm
from core.i18n import count_message
from core.i18n import lazy_gettext as _l

REQUIRED = _l("This field is required.")
TOO_LONG = count_message("At most %(num)d character.", "At most %(num)d characters.", "max")
BAD_CHOICE = _l("Choose one of the allowed values.")

KIND_CHOICES = [
    ("local_prison", _l("Local prison")),
    ("central_prison", _l("Central prison")),
    ("agricultural_prison", _l("Agricultural prison")),
    ("reform_centre", _l("Reform and education centre")),
]


class EstablishmentForm(IdmajForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(REQUIRED), Length(max=16, message=TOO_LONG)],
        description=_l("2 to 16 capital letters, digits or dashes, e.g. CAS-AS."),
    )
    name = StringField(
        _l("Name (French)"), validators=[DataRequired(REQUIRED), Length(max=200, message=TOO_LONG)]
    )
    name_ar = StringField(
        _l("Name (Arabic)"),
        validators=[Length(max=200, message=TOO_LONG)],
        render_kw={"dir": "rtl", "lang": "ar"},
    )
    kind = SelectField(_l("Kind"), choices=KIND_CHOICES, invalid_choice_message=BAD_CHOICE)
    region = StringField(_l("Region"), validators=[Length(max=120, message=TOO_LONG)])
    city = StringField(_l("City"), validators=[Length(max=120, message=TOO_LONG)])
    city_ar = StringField(
        _l("City (Arabic)"),
        validators=[Length(max=120, message=TOO_LONG)],
        render_kw={"dir": "rtl", "lang": "ar"},
    )
    capacity = IntegerField(
        _l("Capacity (beds)"),
        invalid_value_message=_l("Enter a whole number."),
        validators=[
            InputRequired(REQUIRED),
            NumberRange(
                min=0, max=50000, message=_l("Enter a whole number between 0 and %(max)s.")
            ),
        ],
    )
    active = BooleanField(_l("Open"), default=True)
    submit = SubmitField(_l("Save"))

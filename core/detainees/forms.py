"""Detainee forms. Every message a field can show is ours (localised in the core catalog), not
WTForms' built-in English text."""

from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from core.forms import IdmajForm, OnceForm
from core.i18n import count_message
from core.i18n import lazy_gettext as _l

REQUIRED = _l("This field is required.")
TOO_LONG = count_message("At most %(num)d character.", "At most %(num)d characters.", "max")
BAD_DATE = _l("Enter a date as YYYY-MM-DD.")
BAD_CHOICE = _l("Choose one of the allowed values.")

STATUS_CHOICES = [("pretrial", _l("Pretrial")), ("convicted", _l("Convicted"))]
SEX_CHOICES = [("M", _l("Male")), ("F", _l("Female"))]


def _name(label: str, *, required: bool, arabic: bool = False) -> StringField:
    validators = [DataRequired(REQUIRED)] if required else [Optional()]
    validators.append(Length(max=100, message=TOO_LONG))
    render_kw = {"dir": "rtl", "lang": "ar"} if arabic else {"dir": "auto"}
    return StringField(label, validators=validators, render_kw=render_kw)


class DetaineeForm(OnceForm):
    """Admission and edit; a double-clicked admission records once (``OnceForm``)."""

    first_name = _name(_l("First name (Latin script)"), required=True)
    last_name = _name(_l("Last name (Latin script)"), required=True)
    first_name_ar = _name(_l("First name (Arabic script)"), required=False, arabic=True)
    last_name_ar = _name(_l("Last name (Arabic script)"), required=False, arabic=True)
    birth_date = DateField(
        _l("Birth date"),
        validators=[InputRequired(REQUIRED)],
        invalid_value_message=BAD_DATE,
        render_kw={"placeholder": "YYYY-MM-DD"},
    )
    sex = RadioField(
        _l("Sex"),
        choices=SEX_CHOICES,
        validators=[InputRequired(REQUIRED)],
        invalid_choice_message=BAD_CHOICE,
    )
    national_id = StringField(
        _l("National identity card (CIN)"),
        validators=[Optional(), Length(max=20, message=TOO_LONG)],
        description=_l("For example BE123456."),
    )
    establishment = SelectField(_l("Establishment"), choices=[], invalid_choice_message=BAD_CHOICE)
    legal_status = SelectField(
        _l("Legal status"), choices=STATUS_CHOICES, invalid_choice_message=BAD_CHOICE
    )
    # shown once a namesake was found (same names and birth date held elsewhere)
    confirm_not_duplicate = BooleanField(_l("I checked: this is a different person. Admit them."))
    submit = SubmitField(_l("Save"))


class ReleaseForm(IdmajForm):
    note = TextAreaField(
        _l("Note"),
        validators=[Length(max=300, message=TOO_LONG)],
        description=_l("Optional: the court order or the reason of the release."),
    )
    override = BooleanField(
        _l("Release despite the blockers above (director's decision, recorded)"),
    )
    submit = SubmitField(_l("Release"))


class ImportForm(IdmajForm):
    file = FileField(_l("CSV file"))
    submit = SubmitField(_l("Import"))

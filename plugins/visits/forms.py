"""The visits module's web forms. Rules are checked by the services; the forms only read
values and show per-field messages."""

from __future__ import annotations

from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from core.forms import IdmajForm, OnceForm
from core.i18n import lazy_gettext as _l

REQUIRED = _l("This field is required.")
NUMBER = _l("Enter a whole number.")
DATE = _l("Enter a date as YYYY-MM-DD.")


class CsrfForm(IdmajForm):
    """Only the CSRF token: the small action buttons (approve, cancel, no-show…)."""


class RelationForm(IdmajForm):
    detainee = StringField(
        _l("Registration number of the detainee"),
        validators=[DataRequired(REQUIRED), Length(max=20)],
        description=_l("As written on the detention papers, e.g. 2024-000123."),
        render_kw={"autocomplete": "off", "dir": "ltr"},
    )
    detainee_birth_date = DateField(
        _l("Birth date of the detainee"),
        validators=[InputRequired(REQUIRED)],
        render_kw={"dir": "ltr"},
    )
    relationship = SelectField(_l("Your relationship"), validators=[DataRequired(REQUIRED)])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        from .services import RELATIONSHIPS

        self.relationship.choices = [("", _l("Choose…"))] + [
            (code, label) for code, label in RELATIONSHIPS.items()
        ]

    def validate(self, extra_validators=None):  # type: ignore[no-untyped-def]
        ok = super().validate(extra_validators)
        if self.detainee_birth_date.errors:
            self.detainee_birth_date.errors = [str(DATE)]
        return ok


class CompanionForm(Form):
    """One person coming with the visitor, as the API takes it: the service works out from the
    birth date (age on the visit day) whether they are an adult, who then needs a CIN."""

    full_name = StringField(_l("Full name"), validators=[Optional(), Length(max=200)])
    national_id = StringField(
        _l("National identity card number (adults)"),
        validators=[Optional(), Length(max=20)],
        render_kw={"dir": "ltr", "autocapitalize": "characters"},
    )
    birth_date = DateField(_l("Birth date"), validators=[Optional()], render_kw={"dir": "ltr"})

    def validate(self, extra_validators=None):  # type: ignore[no-untyped-def]
        ok = super().validate(extra_validators)
        if self.birth_date.errors:
            self.birth_date.errors = [str(DATE)]
        return ok


MAX_COMPANIONS = 20
"""As many as the API takes (``BookingIn.companions``); the rules allow fewer."""


class BookingForm(OnceForm):
    slot_id = RadioField(_l("Visiting time"), validators=[DataRequired(REQUIRED)], coerce=str)
    companions = FieldList(
        FormField(CompanionForm),
        label=_l("People coming with you"),
        max_entries=MAX_COMPANIONS,
    )


class RulesForm(IdmajForm):
    max_adults = IntegerField(_l("Adults per booking, at most"), validators=[InputRequired(NUMBER)])
    max_children = IntegerField(
        _l("Children per booking, at most"), validators=[InputRequired(NUMBER)]
    )
    adult_age = IntegerField(
        _l("Age from which a visitor is an adult"), validators=[InputRequired(NUMBER)]
    )
    window_open_days = IntegerField(
        _l("Booking opens (days before the visit)"), validators=[InputRequired(NUMBER)]
    )
    window_close_hours = IntegerField(
        _l("Booking closes (hours before the visit)"), validators=[InputRequired(NUMBER)]
    )
    cancel_deadline_hours = IntegerField(
        _l("Families may cancel until (hours before the visit)"), validators=[InputRequired(NUMBER)]
    )
    quota_pretrial = IntegerField(
        _l("Visits per week for a pretrial detainee"), validators=[InputRequired(NUMBER)]
    )
    quota_convicted = IntegerField(
        _l("Visits per week for a convicted detainee"), validators=[InputRequired(NUMBER)]
    )
    max_weekly_per_visitor = IntegerField(
        _l("Visits per week one family account may book for a detainee"),
        validators=[Optional()],
        description=_l("Leave empty for no limit other than the detainee's weekly visits."),
    )
    address = StringField(_l("Address"), validators=[Length(max=300)])
    visiting_days_ar = TextAreaField(
        _l("Visiting days (Arabic)"), render_kw={"dir": "rtl", "lang": "ar"}
    )
    visiting_days_fr = TextAreaField(
        _l("Visiting days (French)"), render_kw={"dir": "ltr", "lang": "fr"}
    )
    conditions_ar = TextAreaField(
        _l("Conditions of access (Arabic)"), render_kw={"dir": "rtl", "lang": "ar"}
    )
    conditions_fr = TextAreaField(
        _l("Conditions of access (French)"), render_kw={"dir": "ltr", "lang": "fr"}
    )
    documents_ar = TextAreaField(
        _l("Required documents (Arabic)"), render_kw={"dir": "rtl", "lang": "ar"}
    )
    documents_fr = TextAreaField(
        _l("Required documents (French)"), render_kw={"dir": "ltr", "lang": "fr"}
    )
    items_ar = TextAreaField(_l("Allowed items (Arabic)"), render_kw={"dir": "rtl", "lang": "ar"})
    items_fr = TextAreaField(_l("Allowed items (French)"), render_kw={"dir": "ltr", "lang": "fr"})


class TemplateForm(IdmajForm):
    weekday = SelectField(_l("Day"), coerce=str, validators=[DataRequired(REQUIRED)])
    start_time = StringField(
        _l("Start (HH:MM)"),
        validators=[DataRequired(REQUIRED)],
        render_kw={"dir": "ltr", "inputmode": "numeric"},
    )
    end_time = StringField(
        _l("End (HH:MM)"),
        validators=[DataRequired(REQUIRED)],
        render_kw={"dir": "ltr", "inputmode": "numeric"},
    )
    capacity = IntegerField(
        _l("Places for ordinary visits"), default=10, validators=[InputRequired(NUMBER)]
    )
    capacity_supervised = IntegerField(
        _l("Places for supervised (closed) visits"), default=0, validators=[InputRequired(NUMBER)]
    )
    valid_from = DateField(_l("Valid from"), validators=[Optional()])
    valid_to = DateField(_l("Valid until"), validators=[Optional()])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        from .services import WEEKDAYS

        self.weekday.choices = [(str(i), label) for i, label in enumerate(WEEKDAYS)]


class BlockDateForm(IdmajForm):
    day = DateField(_l("Date"), validators=[InputRequired(REQUIRED)])
    reason = StringField(_l("Reason"), validators=[DataRequired(REQUIRED), Length(max=300)])


class CancelSlotForm(IdmajForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(REQUIRED), Length(max=300)])


class GenerateForm(IdmajForm):
    days = IntegerField(_l("Days ahead"), default=14, validators=[InputRequired(NUMBER)])


class BanForm(IdmajForm):
    visitor = StringField(
        _l("Visitor's national identity card number"),
        validators=[DataRequired(REQUIRED), Length(max=80)],
        render_kw={"dir": "ltr"},
    )
    establishment = SelectField(_l("Establishment"), validators=[DataRequired(REQUIRED)])
    reason = StringField(_l("Reason"), validators=[DataRequired(REQUIRED), Length(max=300)])
    ends_on = DateField(_l("Until (included; empty = until lifted)"), validators=[Optional()])


class RejectForm(IdmajForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(REQUIRED), Length(max=300)])


class CheckInForm(IdmajForm):
    code = StringField(
        _l("Reference or QR code"),
        validators=[DataRequired(REQUIRED), Length(max=80)],
        render_kw={"autocomplete": "off", "autofocus": True, "dir": "ltr"},
    )


class OutcomeForm(IdmajForm):
    outcome = SelectField(_l("Outcome"), validators=[DataRequired(REQUIRED)])
    reason = StringField(_l("Reason"), validators=[Length(max=300)])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        from .services import OUTCOMES, status_label

        self.outcome.choices = [(o, status_label(o)) for o in OUTCOMES]


class WalkInForm(OnceForm):
    detainee = StringField(
        _l("Registration number of the detainee"),
        validators=[DataRequired(REQUIRED)],
        render_kw={"dir": "ltr"},
    )
    visitor_name = StringField(
        _l("Visitor's full name"), validators=[DataRequired(REQUIRED), Length(max=200)]
    )
    visitor_national_id = StringField(
        _l("Visitor's national identity card number"),
        validators=[DataRequired(REQUIRED), Length(max=20)],
        render_kw={"dir": "ltr"},
    )
    adults = IntegerField(_l("Adults"), default=1, validators=[InputRequired(NUMBER)])
    children = IntegerField(_l("Children"), default=0, validators=[InputRequired(NUMBER)])

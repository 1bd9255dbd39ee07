"""Health forms. Every creation form records once (``OnceForm``): a double click files one
consultation, not two. Services check every value again."""

from __future__ import annotations

from flask_babel import lazy_pgettext
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from core.forms import IdmajForm, OnceForm
from core.i18n import count_message
from core.i18n import lazy_gettext as _l

REQUIRED = _l("This field is required.")
TOO_LONG = count_message("At most %(num)d character.", "At most %(num)d characters.", "max")

TB_CHOICES = [
    ("not_tested", _l("Not tested yet")),
    ("negative", _l("Negative")),
    ("suspected", _l("Suspected")),
    ("positive", _l("Positive")),
]
LEVEL_CHOICES = [
    ("none", _l("None")),
    ("low", _l("Low")),
    ("medium", _l("Medium")),
    ("high", _l("High")),
]
SEVERITY_CHOICES = LEVEL_CHOICES[1:]
PREGNANCY_CHOICES = [
    ("not_applicable", _l("Not applicable")),
    ("no", _l("No")),
    ("yes", _l("Yes")),
    ("unknown", _l("Unknown")),
]
ALLERGY_CHOICES = [
    ("drug", _l("Drug")),
    ("food", lazy_pgettext("allergy type", "Food")),
    ("other", _l("Other")),
]
OUTCOME_CHOICES = [
    ("given", _l("Given")),
    ("refused", lazy_pgettext("dose outcome", "Refused")),
    ("missed", _l("Missed")),
]
UNIT_CHOICES = [
    ("general", _l("General practice")),
    ("dental", _l("Dental")),
    ("dialysis", _l("Dialysis")),
    ("tb_lab", _l("Tuberculosis laboratory")),
    ("psychiatry", _l("Psychiatry")),
    ("telemedicine", _l("Telemedicine")),
    ("other", _l("Other unit")),
]


def _line(
    label: object, *, required: bool = False, max_len: int = 200, **kw: object
) -> StringField:
    validators = [DataRequired(REQUIRED)] if required else [Optional()]
    validators.append(Length(max=max_len, message=TOO_LONG))
    return StringField(label, validators=validators, render_kw={"dir": "auto", **kw})


def _text(label: object, *, required: bool = False, max_len: int = 5000) -> TextAreaField:
    validators = [DataRequired(REQUIRED)] if required else [Optional()]
    validators.append(Length(max=max_len, message=TOO_LONG))
    return TextAreaField(label, validators=validators, render_kw={"dir": "auto", "rows": 4})


def _number(label: object) -> StringField:
    return StringField(
        label,
        validators=[Optional(), Length(max=10, message=TOO_LONG)],
        render_kw={"inputmode": "decimal", "dir": "ltr", "autocomplete": "off"},
    )


def _day(label: object, *, required: bool = False) -> DateField:
    return DateField(label, validators=[InputRequired(REQUIRED)] if required else [Optional()])


class ActionForm(IdmajForm):
    """A button that posts (CSRF only)."""


class ScreeningForm(OnceForm):
    tuberculosis = SelectField(_l("Tuberculosis"), choices=TB_CHOICES, default="not_tested")
    self_harm_risk = SelectField(_l("Self-harm risk"), choices=LEVEL_CHOICES, default="none")
    pregnancy = SelectField(_l("Pregnancy"), choices=PREGNANCY_CHOICES, default="not_applicable")
    chronic_conditions = _text(_l("Chronic conditions"), max_len=2000)
    addictions = _text(_l("Addictions"), max_len=2000)
    mental_health = _text(_l("Mental health"), max_len=2000)
    notes = _text(_l("Notes"))


class AllergyForm(OnceForm):
    kind = SelectField(_l("Kind"), choices=ALLERGY_CHOICES, default="drug")
    substance = _line(_l("Substance"), required=True)
    reaction = _text(_l("Reaction"), max_len=1000)
    severity = SelectField(_l("Severity"), choices=SEVERITY_CHOICES, default="medium")


class ProblemForm(OnceForm):
    description = _text(_l("Problem"), required=True, max_len=1000)
    onset_on = _day(_l("Since"))


class VaccinationForm(OnceForm):
    vaccine = _line(_l("Vaccine"), required=True)
    dose = _line(_l("Dose"), max_len=40)
    lot = _line(_l("Lot number"), max_len=40)
    given_on = _day(_l("Given on"), required=True)


class ConsultationForm(OnceForm):
    reason = _line(_l("Reason"), required=True, max_len=500)
    notes = _text(_l("Notes"), required=True)
    diagnosis = _text(_l("Diagnosis"), max_len=1000)
    temperature = _number(_l("Temperature (°C)"))
    pulse = _number(_l("Pulse (per minute)"))
    systolic = _number(_l("Blood pressure, systolic (mmHg)"))
    diastolic = _number(_l("Blood pressure, diastolic (mmHg)"))
    spo2 = _number(_l("Oxygen saturation (%)"))
    weight = _number(_l("Weight (kg)"))
    telemedicine = BooleanField(_l("Telemedicine consultation"))
    sign = BooleanField(_l("Sign now (read-only afterwards)"))

    VITALS = ("temperature", "pulse", "systolic", "diastolic", "spo2", "weight")


class ConsultationEditForm(IdmajForm):
    """A draft consultation edited by its author (saving twice changes nothing twice)."""

    reason = _line(_l("Reason"), required=True, max_len=500)
    notes = _text(_l("Notes"), required=True)
    diagnosis = _text(_l("Diagnosis"), max_len=1000)
    temperature = _number(_l("Temperature (°C)"))
    pulse = _number(_l("Pulse (per minute)"))
    systolic = _number(_l("Blood pressure, systolic (mmHg)"))
    diastolic = _number(_l("Blood pressure, diastolic (mmHg)"))
    spo2 = _number(_l("Oxygen saturation (%)"))
    weight = _number(_l("Weight (kg)"))
    sign = BooleanField(_l("Sign after saving (read-only afterwards)"))

    VITALS = ConsultationForm.VITALS


class ScreeningCorrectionForm(IdmajForm):
    """The arrival screening corrected: every change is a dated line of the history."""

    tuberculosis = SelectField(_l("Tuberculosis"), choices=TB_CHOICES)
    self_harm_risk = SelectField(_l("Self-harm risk"), choices=LEVEL_CHOICES)
    pregnancy = SelectField(_l("Pregnancy"), choices=PREGNANCY_CHOICES)
    chronic_conditions = _text(_l("Chronic conditions"), max_len=2000)
    addictions = _text(_l("Addictions"), max_len=2000)
    mental_health = _text(_l("Mental health"), max_len=2000)
    notes = _text(_l("Notes"))


class AddendumForm(OnceForm):
    text = _text(_l("Addendum"), required=True)


class PrescriptionForm(OnceForm):
    medication = _line(_l("Medication"), required=True)
    dosage = _line(_l("Dosage"), required=True)
    times = _line(_l("Times of day"), max_len=60, placeholder="08:00, 20:00", inputmode="numeric")
    instructions = _text(_l("Instructions"), max_len=1000)
    starts_on = _day(_l("From"))
    ends_on = _day(_l("Until"))


class DoseForm(IdmajForm):
    due_at = HiddenField(validators=[DataRequired(REQUIRED)])
    outcome = RadioField(_l("Dose"), choices=OUTCOME_CHOICES, validators=[InputRequired(REQUIRED)])
    note = _line(_l("Note"), max_len=500)


class FitnessForm(IdmajForm):
    fit = RadioField(
        _l("Fit to travel"),
        choices=[("yes", _l("Fit to travel")), ("no", _l("Unfit to travel"))],
        validators=[InputRequired(REQUIRED)],
    )
    needs = _line(_l("Needs for the journey (for the escort: never a diagnosis)"), max_len=500)
    until = _day(_l("Until"))


class ReferralForm(OnceForm):
    hospital = _line(_l("Hospital"), required=True)
    specialty = _line(_l("Specialty"), max_len=100)
    reason = _text(_l("Reason"), required=True, max_len=2000)
    urgent = BooleanField(_l("Urgent"))


class HospitalMoveForm(IdmajForm):
    destination = SelectField(_l("Hospital (establishment)"), choices=[])


class AppointmentForm(OnceForm):
    day = _day(_l("Day"), required=True)
    time = TimeField(_l("Time"), validators=[InputRequired(REQUIRED)])
    unit_id = SelectField(_l("Medical unit"), choices=[], coerce=str, default="")
    purpose = _line(_l("Purpose"), required=True, max_len=300)
    telemedicine = BooleanField(_l("Telemedicine"))


class EmergencyForm(IdmajForm):
    reason = _text(_l("Reason"), required=True, max_len=500)


class UnitForm(OnceForm):
    establishment = SelectField(_l("Establishment"), choices=[])
    kind = SelectField(_l("Kind"), choices=UNIT_CHOICES, default="general")
    name = _line(_l("Name"), required=True, max_len=120)
    name_ar = _line(_l("Name in Arabic"), max_len=120)
    schedule = _line(_l("Schedule"), max_len=300, placeholder=_l("Mon–Fri 08:30–16:30"))


class UnitEditForm(IdmajForm):
    schedule = _line(_l("Schedule"), max_len=300)
    active = BooleanField(lazy_pgettext("medical unit", "Open"))

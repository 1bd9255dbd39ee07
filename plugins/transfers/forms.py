"""Transfers forms (on ``core.forms``: NUL, surrogates, dates 1900-2999, integer range)."""

from __future__ import annotations

from flask_babel import lazy_pgettext as pgettext
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from core.forms import IdmajForm, OnceForm
from core.i18n import count_message
from core.i18n import lazy_gettext as _l
from plugins.transfers.services.labels import KIND, REASON, REFUSAL

REQUIRED = _l("This field is required.")
TOO_LONG = count_message("At most %(num)d character.", "At most %(num)d characters.", "max")


def _text(
    label: object, *, required: bool = False, max_len: int = 300, **kw: object
) -> StringField:
    validators = [DataRequired(REQUIRED)] if required else [Optional()]
    validators.append(Length(max=max_len, message=TOO_LONG))
    return StringField(label, validators=validators, render_kw={"dir": "auto"}, **kw)


def kind_choices() -> list[tuple[str, object]]:
    return list(KIND.items())


def reason_choices() -> list[tuple[str, object]]:
    return [("", _l("Choose a reason")), *REASON.items()]


class RequestForm(OnceForm):
    detainee = StringField(
        _l("Registration number"),
        validators=[DataRequired(REQUIRED), Length(max=20, message=TOO_LONG)],
        render_kw={"dir": "ltr", "autocomplete": "off", "inputmode": "numeric"},
    )
    kind = SelectField(_l("Kind of move"), choices=kind_choices, default="transfer")
    destination = SelectField(
        _l("Destination"),
        choices=[],
        validate_choice=False,
        description=_l("A court or hospital trip without a destination returns to the origin."),
    )
    place = _text(_l("Court, hospital or authority"), max_len=200)
    reason = SelectField(_l("Reason"), choices=reason_choices, validate_choice=False)
    reason_text = _text(_l("The reason in words (required for “other”)"))
    planned_for = DateField(_l("Planned day"), validators=[Optional()])
    note = TextAreaField(
        _l("Note"),
        validators=[Optional(), Length(max=500, message=TOO_LONG)],
        render_kw={"dir": "auto", "rows": 3},
    )


class ApproveForm(IdmajForm):
    judicial_authorisation = _text(
        _l("Judicial authorisation (reference)"),
        max_len=100,
        description=_l("Required for a pretrial detainee."),
    )
    override_reason = _text(
        _l("Go ahead over the blockers that allow it, because…"),
        description=_l("Only if something blocks the transfer and you decide to go ahead."),
    )


class AcceptForm(IdmajForm):
    note = _text(_l("Note"))


class RefuseForm(IdmajForm):
    reason = SelectField(
        _l("Refusal reason"), choices=lambda: list(REFUSAL.items()), validate_choice=False
    )
    note = _text(_l("Note"))


class ScheduleForm(IdmajForm):
    date = DateField(_l("Day of the move"), validators=[DataRequired(REQUIRED)])
    escort = _text(_l("Escort team"))
    vehicle = _text(_l("Vehicle"), max_len=60)


class EmptyForm(IdmajForm):
    """Depart and complete: a button (and its CSRF token)."""


class ReasonForm(IdmajForm):
    reason = _text(pgettext("form field", "Reason"), required=True)


class VideoForm(IdmajForm):
    court = _text(_l("Court"), max_len=200)
    hearing_on = DateField(_l("Day of the hearing"), validators=[Optional()])
    case_reference = _text(_l("Case reference"), max_len=60)
    escort_hours = IntegerField(
        _l("Escort hours saved"),
        validators=[Optional(), NumberRange(min=0, max=72, message=_l("A number from 0 to 72."))],
    )


class HearingForm(VideoForm):
    detainee = StringField(
        _l("Registration number"),
        validators=[DataRequired(REQUIRED), Length(max=20, message=TOO_LONG)],
        render_kw={"dir": "ltr", "autocomplete": "off"},
    )
    court = _text(_l("Court"), required=True, max_len=200)


class EscortForm(IdmajForm):
    risk_escape = BooleanField(_l("Escape risk"))
    risk_violence = BooleanField(_l("Violence risk"))
    risk_self_harm = BooleanField(_l("Self-harm risk"))
    hold_separately = BooleanField(_l("Hold separately"))
    bags = IntegerField(
        _l("Bags"),
        default=0,
        validators=[Optional(), NumberRange(min=0, max=99, message=_l("A number from 0 to 99."))],
    )
    seal_numbers = _text(_l("Seal numbers"), description=_l("Separated by commas."))
    notes = TextAreaField(
        _l("Notes for the escort"),
        validators=[Optional(), Length(max=500, message=TOO_LONG)],
        render_kw={"dir": "auto", "rows": 3},
    )


class BulkForm(OnceForm):
    origin = SelectField(pgettext("transfer", "From"), choices=[], validate_choice=False)
    destination = SelectField(pgettext("transfer", "To"), choices=[], validate_choice=False)
    reason = SelectField(_l("Reason"), choices=reason_choices, validate_choice=False)
    reason_text = _text(_l("The reason in words (required for “other”)"))
    numbers = TextAreaField(
        _l("Registration numbers"),
        validators=[DataRequired(REQUIRED), Length(max=120_000, message=TOO_LONG)],
        description=_l("One per line, or separated by commas or spaces."),
        render_kw={"dir": "ltr", "rows": 8},
    )


class BulkApproveForm(IdmajForm):
    judicial_authorisation = _text(
        _l("Judicial authorisation (reference)"),
        max_len=100,
        description=_l("Required for the pretrial detainees of the list."),
    )


ACTION_FORMS = {
    "approve": ApproveForm,
    "accept": AcceptForm,
    "refuse": RefuseForm,
    "schedule": ScheduleForm,
    "depart": EmptyForm,
    "complete": EmptyForm,
    "cancel": ReasonForm,
    "override": ReasonForm,
    "video": VideoForm,
}

"""Complaints forms (on core.forms.IdmajForm; filing records once: OnceForm)."""

from __future__ import annotations

from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from core.forms import IdmajForm, OnceForm
from core.i18n import count_message
from core.i18n import lazy_gettext as _l

from .services.labels import (
    CHANNEL_LABELS,
    INADMISSIBLE_REASONS,
    OUTCOME_LABELS,
)
from .services.text import BODY_MAX, SUBJECT_MAX

REQUIRED = _l("This field is required.")
TOO_LONG = count_message("At most %(num)d character.", "At most %(num)d characters.", "max")


def _body(label: object, *, max_len: int = BODY_MAX, required: bool = True) -> TextAreaField:
    return TextAreaField(
        label,
        validators=[
            DataRequired(REQUIRED) if required else Optional(),
            Length(max=max_len, message=TOO_LONG),
        ],
        render_kw={"dir": "auto", "rows": 6},
    )


class _ComplaintForm(OnceForm):
    category = SelectField(_l("What is it about?"), validators=[InputRequired(REQUIRED)])
    subject = StringField(
        _l("Subject"),
        validators=[DataRequired(REQUIRED), Length(max=SUBJECT_MAX, message=TOO_LONG)],
        render_kw={"dir": "auto", "autocomplete": "off"},
    )
    body = _body(
        _l("Your complaint"),
    )
    confidential = BooleanField(
        _l("Confidential: only the director of the establishment may read it"),
    )
    attachments = MultipleFileField(
        _l("Documents (optional)"),
        description=_l("Up to 3 files: PDF, JPEG or PNG, 2 MB each."),
        render_kw={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"},
    )


class FamilyComplaintForm(_ComplaintForm):
    detainee = SelectField(_l("Detainee concerned"), validators=[InputRequired(REQUIRED)])


class StaffComplaintForm(_ComplaintForm):
    detainee = StringField(
        _l("Registration number"),
        validators=[DataRequired(REQUIRED), Length(max=20, message=TOO_LONG)],
        render_kw={"dir": "ltr", "autocomplete": "off"},
    )
    channel = SelectField(
        _l("How the complaint was received"),
        choices=[(k.value, v) for k, v in CHANNEL_LABELS.items() if k.value != "online"],
        validators=[InputRequired(REQUIRED)],
    )


class ConfirmForm(IdmajForm):
    """A button: acknowledge, start the review."""


class AnswerForm(IdmajForm):
    body = _body(_l("Answer (the author reads it)"))
    outcome = SelectField(
        _l("Outcome"),
        choices=[("", _l("Decide when closing"))]
        + [(k.value, v) for k, v in OUTCOME_LABELS.items()],
        validators=[Optional()],
    )


class NoteForm(IdmajForm):
    body = _body(_l("Internal note (staff only)"), max_len=BODY_MAX)


class CloseForm(IdmajForm):
    outcome = SelectField(
        _l("Outcome"),
        choices=[("", _l("As answered"))] + [(k.value, v) for k, v in OUTCOME_LABELS.items()],
        validators=[Optional()],
    )


class InadmissibleForm(IdmajForm):
    reason = SelectField(
        _l("Reason"),
        choices=[(k, v) for k, v in INADMISSIBLE_REASONS.items()],
        validators=[InputRequired(REQUIRED)],
    )
    comment = _body(_l("Explanation for the author"), max_len=2000, required=False)


class WithdrawForm(IdmajForm):
    comment = _body(_l("Why (optional)"), max_len=1000, required=False)


class AppealForm(IdmajForm):
    reason = _body(_l("Why do you disagree with the answer?"), max_len=3000)


class ReferUpForm(IdmajForm):
    """A regional reviewer refers an appeal up to the central level."""

    comment = _body(_l("Why (staff only)"), max_len=1000)


class RerouteForm(IdmajForm):
    category = SelectField(_l("New category"), validators=[InputRequired(REQUIRED)])
    comment = _body(_l("Why"), max_len=1000)


class AssignForm(IdmajForm):
    user = SelectField(_l("Officer"), validators=[InputRequired(REQUIRED)])


class NameStaffForm(IdmajForm):
    users = SelectMultipleField(
        _l("Staff named in the complaint"), validators=[DataRequired(REQUIRED)]
    )


class ProposeYearForm(IdmajForm):
    year = IntegerField(
        _l("Year"),
        validators=[
            InputRequired(REQUIRED),
            NumberRange(min=2000, max=2100, message=_l("Choose a year from 2000 to 2100.")),
        ],
        render_kw={"inputmode": "numeric", "dir": "ltr"},
    )


class HolidayForm(IdmajForm):
    day = DateField(_l("Day"), validators=[InputRequired(REQUIRED)])
    name_ar = StringField(
        _l("Name in Arabic"),
        validators=[Optional(), Length(max=120, message=TOO_LONG)],
        render_kw={"dir": "rtl"},
    )
    name_fr = StringField(
        _l("Name in French"),
        validators=[Optional(), Length(max=120, message=TOO_LONG)],
        render_kw={"dir": "ltr"},
    )
    name_en = StringField(
        _l("Name in English"),
        validators=[Optional(), Length(max=120, message=TOO_LONG)],
        render_kw={"dir": "ltr"},
    )


class MoveHolidayForm(IdmajForm):
    day = DateField(_l("Correct date"), validators=[InputRequired(REQUIRED)])

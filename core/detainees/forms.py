from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

REQUIRED = _l("This field is required.")

STATUS_CHOICES = [("pretrial", _l("Pretrial")), ("convicted", _l("Convicted"))]
SEX_CHOICES = [("M", _l("Male")), ("F", _l("Female"))]


class DetaineeForm(FlaskForm):
    first_name = StringField(
        _l("First name (Latin script)"), validators=[DataRequired(REQUIRED), Length(max=100)]
    )
    last_name = StringField(
        _l("Last name (Latin script)"), validators=[DataRequired(REQUIRED), Length(max=100)]
    )
    first_name_ar = StringField(
        _l("First name (Arabic script)"),
        validators=[Length(max=100)],
        render_kw={"dir": "rtl", "lang": "ar"},
    )
    last_name_ar = StringField(
        _l("Last name (Arabic script)"),
        validators=[Length(max=100)],
        render_kw={"dir": "rtl", "lang": "ar"},
    )
    birth_date = DateField(
        _l("Birth date"),
        validators=[InputRequired(REQUIRED)],
        render_kw={"placeholder": "YYYY-MM-DD"},
    )
    sex = RadioField(_l("Sex"), choices=SEX_CHOICES, validators=[InputRequired(REQUIRED)])
    national_id = StringField(
        _l("National identity card (CIN)"), validators=[Optional(), Length(max=20)]
    )
    establishment = SelectField(_l("Establishment"), choices=[])
    legal_status = SelectField(_l("Legal status"), choices=STATUS_CHOICES)
    submit = SubmitField(_l("Save"))


class ReleaseForm(FlaskForm):
    note = TextAreaField(_l("Note"), validators=[Length(max=300)])
    submit = SubmitField(_l("Release"))


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file"))
    submit = SubmitField(_l("Import"))

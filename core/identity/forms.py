"""Sign-in, registration, password and user administration forms."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from core.forms import IdmajForm

REQUIRED = _l("This field is required.")
BAD_CHOICE = _l("Choose one of the allowed values.")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("invalid_choice_message", BAD_CHOICE)
        super().__init__(*args, **kwargs)


class LoginForm(IdmajForm):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(REQUIRED), Length(max=80)],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(REQUIRED), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Sign in"))


class RegisterForm(IdmajForm):
    full_name = StringField(
        _l("Full name"),
        validators=[DataRequired(REQUIRED), Length(max=200)],
        render_kw={"autocomplete": "name"},
    )
    national_id = StringField(
        _l("National identity card number"),
        validators=[DataRequired(REQUIRED), Length(max=20)],
        description=_l("As printed on your card, e.g. BE123456."),
    )
    phone = StringField(
        _l("Phone number"),
        validators=[DataRequired(REQUIRED), Length(max=40)],
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )
    username = StringField(
        _l("Username"),
        validators=[DataRequired(REQUIRED), Length(max=80)],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(REQUIRED), Length(max=200)],
        description=_l("At least 10 characters."),
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Create my account"))


class PasswordForm(IdmajForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(REQUIRED)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(REQUIRED)],
        description=_l("At least 10 characters."),
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Change password"))


class UserForm(IdmajForm):
    username = StringField(_l("Username"), validators=[DataRequired(REQUIRED), Length(max=80)])
    full_name = StringField(_l("Full name"), validators=[DataRequired(REQUIRED), Length(max=200)])
    password = PasswordField(
        _l("Password"),
        description=_l("At least 10 characters."),
        render_kw={"autocomplete": "new-password"},
    )
    roles = MultiCheckboxField(_l("Roles"), choices=[])
    establishments = MultiCheckboxField(_l("Establishments"), choices=[])
    is_active = BooleanField(
        _l("Active"),
        default=True,
        description=_l("Unticking this signs the user out everywhere and blocks sign-in."),
    )
    submit = SubmitField(_l("Save"))


class RolePermissionsForm(IdmajForm):
    permissions = MultiCheckboxField(_l("Permissions"), choices=[])
    submit = SubmitField(_l("Save"))

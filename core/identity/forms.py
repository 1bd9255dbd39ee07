"""Sign-in, registration, password and user administration forms."""

from __future__ import annotations

from typing import Any

from wtforms import BooleanField, PasswordField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from core.forms import IdmajForm
from core.i18n import count_message
from core.i18n import lazy_gettext as _l
from core.identity.passwords import MAX_PASSWORD_LENGTH

REQUIRED = _l("This field is required.")
BAD_CHOICE = _l("Choose one of the allowed values.")
PASSWORD_TOO_LONG = count_message(
    "The password must have at most %(num)d character.",
    "The password must have at most %(num)d characters.",
    "max",
)


def password_length() -> Length:
    """Every password field of every form: at most ``MAX_PASSWORD_LENGTH`` characters."""
    return Length(max=MAX_PASSWORD_LENGTH, message=PASSWORD_TOO_LONG)


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
        validators=[DataRequired(REQUIRED), password_length()],
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
        validators=[DataRequired(REQUIRED), password_length()],
        description=_l("At least 10 characters."),
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Create my account"))


class PasswordForm(IdmajForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(REQUIRED), password_length()],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(REQUIRED), password_length()],
        description=_l("At least 10 characters."),
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Change password"))


class UserForm(IdmajForm):
    username = StringField(_l("Username"), validators=[DataRequired(REQUIRED), Length(max=80)])
    full_name = StringField(_l("Full name"), validators=[DataRequired(REQUIRED), Length(max=200)])
    password = PasswordField(
        _l("Password"),
        validators=[password_length()],
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


class ProfileForm(IdmajForm):
    full_name = StringField(
        _l("Full name"),
        validators=[DataRequired(REQUIRED), Length(max=200)],
        render_kw={"autocomplete": "name"},
    )
    phone = StringField(
        _l("Phone number"),
        validators=[Length(max=40)],
        description=_l("A Moroccan number (0612345678) or an international one with its + code."),
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )
    submit = SubmitField(_l("Save"))


class CloseAccountForm(IdmajForm):
    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(REQUIRED), password_length()],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Close my account"))


class CodeForm(IdmajForm):
    """The six-digit code of an authenticator app (sign-in's second step, enrolment)."""

    otp = StringField(
        _l("Code from your authenticator app"),
        validators=[DataRequired(REQUIRED), Length(max=12)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    submit = SubmitField(_l("Continue"))


class StartSecondFactorForm(IdmajForm):
    submit = SubmitField(_l("Set up a second factor"))


class DisableSecondFactorForm(IdmajForm):
    password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(REQUIRED), password_length()],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Turn off the second factor"))


class SecondFactorRolesForm(IdmajForm):
    roles = MultiCheckboxField(_l("Roles that must sign in with a second factor"), choices=[])
    submit = SubmitField(_l("Save"))

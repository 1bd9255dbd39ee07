"""Personal data rules shared by the identity pages and API: phone numbers, and what the trail
keeps of a failed sign-in (issue 10 point 3)."""

from __future__ import annotations

import hashlib
import hmac

import phonenumbers
from flask import current_app, has_app_context
from flask_babel import gettext as _

from core.audit import services as audit
from core.errors import ValidationFailed

# a number typed without its country code is read as Moroccan
DEFAULT_PHONE_REGION = "MA"


def phone_error() -> str:
    return _("Enter a valid phone number, e.g. 0612345678 or +212612345678.")


def normalise_phone(value: str | None, *, field: str = "phone", required: bool = True) -> str:
    """The phone number in E.164 (``+212612345678``), read with Moroccan formats by default
    (``0612345678``, ``06 12 34 56 78``, ``+212 6 12 34 56 78``); a foreign number needs its
    ``+`` and country code. Raises :class:`ValidationFailed` tied to ``field`` for anything
    that is not a valid number. An empty value is ``""`` when not ``required``."""
    text = (value or "").strip() if isinstance(value, str) else ""
    if not text:
        if required:
            raise ValidationFailed(
                _("Please correct the highlighted fields."), fields={field: phone_error()}
            )
        return ""
    try:
        number = phonenumbers.parse(text[:40], DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationFailed(
            _("Please correct the highlighted fields."), fields={field: phone_error()}
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(value: str | None) -> str:
    """A stored number for reading: national format for a Moroccan one, else international."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        return value
    if phonenumbers.region_code_for_number(number) == DEFAULT_PHONE_REGION:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def typed_name_digest(typed: str) -> str:
    """A keyed hash (HMAC-SHA256 with the app's secret key, 16 hex digits) of what was typed
    in the username box: repeated attempts with one name can be grouped in the trail, but the
    text — perhaps a password typed in the wrong box — cannot be read back or guessed offline
    without the key."""
    key = current_app.config["SECRET_KEY"] if has_app_context() else ""
    normalised = (typed or "").strip().lower()[:200]
    mac = hmac.new(str(key).encode(), normalised.encode(), hashlib.sha256).hexdigest()
    return f"hmac:{mac[:16]}"


def record_failed_sign_in(typed_username: str) -> None:
    """Audit a failed sign-in without the typed username: the account's id when the name
    matches one (``object_id``), else only a keyed hash of what was typed."""
    from core.identity.services import find_user

    user = find_user(typed_username or "") if (typed_username or "").strip() else None
    if user is not None:
        audit.record("user.login.failed", "user", user.id, summary={"known_account": True})
    else:
        audit.record(
            "user.login.failed",
            "user",
            "",
            summary={"known_account": False, "typed": typed_name_digest(typed_username)},
        )

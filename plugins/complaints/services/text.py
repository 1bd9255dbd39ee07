"""Free text people type: subjects, bodies, answers, notes — Arabic, French and Latin-script
darija are taken as they are; only what cannot be stored or shown safely is refused."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext

from core.errors import ValidationFailed
from core.validation import storable

SUBJECT_MAX = 200
BODY_MAX = 5000


def clean_line(
    value: Any, field: str, errors: dict[str, str], *, max_len: int, required: bool = True
) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if value is not None and not isinstance(value, str):
        errors[field] = _("Write text here.")
    elif "\x00" in text or not storable(text):
        errors[field] = _("This text contains characters that cannot be stored.")
    elif "\r" in text or "\n" in text:
        errors[field] = _("Write this on one line.")
    elif required and not text:
        errors[field] = _("This field is required.")
    elif len(text) > max_len:
        errors[field] = ngettext(
            "Write at most %(num)d character.", "Write at most %(num)d characters.", max_len
        )
    return text


def clean_text(
    value: Any,
    field: str,
    errors: dict[str, str],
    *,
    max_len: int = BODY_MAX,
    required: bool = True,
) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if value is not None and not isinstance(value, str):
        errors[field] = _("Write text here.")
    elif "\x00" in text or not storable(text):
        errors[field] = _("This text contains characters that cannot be stored.")
    elif required and not text:
        errors[field] = _("This field is required.")
    elif len(text) > max_len:
        errors[field] = ngettext(
            "Write at most %(num)d character.", "Write at most %(num)d characters.", max_len
        )
    return text.replace("\r\n", "\n").replace("\r", "\n")


def raise_if(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationFailed(_("Check the highlighted fields."), fields=errors)


def one_text(value: Any, field: str, *, max_len: int = BODY_MAX) -> str:
    errors: dict[str, str] = {}
    text = clean_text(value, field, errors, max_len=max_len)
    raise_if(errors)
    return text

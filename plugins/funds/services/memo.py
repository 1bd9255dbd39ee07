"""The free text of a movement (memo, reason, workshop, note): cleaned and checked."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext

from core.errors import ValidationFailed


def _memo(value: Any, field_name: str = "memo", *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed(
            _("Please correct the highlighted fields."), fields={field_name: _("Enter text.")}
        )
    value = " ".join(value.split())
    if required and not value:
        raise ValidationFailed(
            _("Please correct the highlighted fields."),
            fields={field_name: _("This field is required.")},
        )
    if len(value) > 300:
        raise ValidationFailed(
            _("Please correct the highlighted fields."),
            fields={
                field_name: ngettext(
                    "At most %(num)d character.", "At most %(num)d characters.", 300
                )
            },
        )
    return value

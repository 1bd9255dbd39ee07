"""Helpers shared by the health services: text checks, state transitions, the change history
and the module's audit events (which never carry clinical text)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import update

from core.audit import services as audit
from core.db import session as db_session
from core.db import utcnow
from core.errors import Conflict, ValidationFailed
from core.query_args import date_in_range
from core.validation import storable
from plugins.health.models import Change

if TYPE_CHECKING:
    from plugins.health.services.access import FileAccess

MAX_TEXT = 5000
MAX_SHORT = 200


def invalid(**fields: Any) -> ValidationFailed:
    return ValidationFailed(_("Please correct the highlighted fields."), fields=fields)


def clean_text(
    value: Any, field: str, *, required: bool = False, max_len: int = MAX_TEXT, line: bool = False
) -> str:
    """Free text: stripped, storable, within its length; one line for short fields."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise invalid(**{field: _("Enter text.")})
    value = value.strip()
    if not storable(value):
        raise invalid(**{field: _("This text contains characters that cannot be stored.")})
    if line and ("\n" in value or "\r" in value):
        raise invalid(**{field: _("Enter one line.")})
    if required and not value:
        raise invalid(**{field: _("This field is required.")})
    if len(value) > max_len:
        raise invalid(
            **{
                field: ngettext(
                    "At most %(num)d character.", "At most %(num)d characters.", max_len
                )
            }
        )
    return value


def check_date(value: dt.date | None, field: str) -> dt.date | None:
    if value is not None and not date_in_range(value):
        from core.forms import date_range_message

        raise invalid(**{field: date_range_message()})
    return value


def choice(value: Any, enum_class: type, field: str) -> Any:
    try:
        return enum_class(value)
    except ValueError as exc:
        raise invalid(**{field: _("Choose one of the allowed values.")}) from exc


def transition(
    model: type, row: Any, machine: Mapping[Any, set[Any]], to: Any, **values: Any
) -> None:
    """Move ``row`` to status ``to`` if its state machine allows it, with a conditional
    ``UPDATE … WHERE status = :current`` (a concurrent change makes this one a 409)."""
    current = row.status
    if to not in machine.get(current, set()):
        raise Conflict(
            _("This cannot be done in the record's current state."), code="invalid_state"
        )
    result = db_session().execute(
        update(model)
        .where(model.id == row.id, model.status == current)
        .values(status=to, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict(_("Someone changed this record meanwhile."), code="changed_meanwhile")
    db_session().expire(row)


def track(
    acc: FileAccess,
    object_type: str,
    object_id: int,
    changes: Mapping[str, tuple[Any, Any]],
) -> None:
    """One history row per changed field (old and new values encrypted)."""
    sess = db_session()
    now = utcnow()
    for field, (old, new) in changes.items():
        if old == new:
            continue
        sess.add(
            Change(
                file_id=acc.file.id,
                object_type=object_type,
                object_id=object_id,
                field=field,
                old_value=None if old is None else str(old),
                new_value=None if new is None else str(new),
                actor_id=getattr(acc.user, "id", None),
                actor_username=getattr(acc.user, "username", "") or "",
                establishment_id=acc.actor_establishment_id,
                changed_at=now,
            )
        )


def record(acc: FileAccess, action: str, **summary: Any) -> None:
    """An audit event about the file: the object is the detainee's registration number, the
    summary names records and fields — never their clinical contents."""
    if acc.emergency is not None:
        summary["emergency"] = True
    audit.record(
        action,
        "health_file",
        acc.detainee.registration_number,
        establishment_id=acc.file.establishment_id,
        summary=summary,
        actor=acc.user,
    )


__all__ = ["check_date", "choice", "clean_text", "invalid", "record", "track", "transition"]

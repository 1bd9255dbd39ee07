"""The web forms' input layer, shared by the core and every module.

Every form derives from :class:`IdmajForm` (instead of ``flask_wtf.FlaskForm``). Beyond the
field validators it refuses, with a message on the field, what no field may carry:

- **characters a database cannot store**: NUL (``\\x00``) and lone surrogates. PostgreSQL
  refuses NUL in text (a 500 when it reaches the INSERT) and SQLite stores it silently; the API
  refuses them already (``core.api.toolkit.read_json_object``);
- **whole numbers beyond the database's integer** (an ``IntegerField`` past ±2³¹−1);
- **dates out of range**: a ``DateField``/``DateTimeField`` (any WTForms date or datetime
  field) must lie between :data:`core.query_args.EARLIEST_DATE` and
  :data:`core.query_args.LATEST_DATE` — ``9999-12-31`` would overflow the day after
  (``OverflowError``), ``0001-01-01`` the time-zone conversion, and PostgreSQL's range errors
  follow. The API's bodies get the same bounds (``core.api.toolkit``).

Forms that move money or book derive from :class:`OnceForm`: they carry a one-time token in a
hidden field, and :func:`claim` records it in ``core_form_submissions`` (a unique row per user
and token) *before* the work, in the request's transaction. Two submissions of one rendered
form — a double click, a resent request, two tabs racing — record once: the second waits on
the unique index for the first's transaction, then finds it and is sent to its result (the
receipt, the booking) with an "already submitted" message. A failed submission (an error
rolls the transaction back) frees the token, so the corrected form can be sent again. The API's
``Idempotency-Key`` is the same idea for JSON clients (``core/api/idempotency.py``).

Usage in a view::

    form = forms.DepositForm()              # class DepositForm(OnceForm)
    if form.validate_on_submit():
        replay = claim(form, current_user)  # a redirect when this form was already submitted
        if replay is not None:
            return replay
        tx = services.deposit(...)
        url = url_for("funds.receipt", tx_id=tx.id)
        complete(form, url)                 # where the second submission is sent
        db_session().commit()
        return redirect(url)
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterator
from typing import Any

from flask import Response, flash, redirect, request
from flask_wtf import FlaskForm
from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from wtforms import Field, FieldList, FormField, HiddenField, IntegerField
from wtforms.fields import DateField, DateTimeField, DateTimeLocalField, MonthField

from core.csrf_tokens import KeptTokenCSRF
from core.db import Base, BigId, UTCDateTime, utcnow
from core.db import session as db_session
from core.i18n import lazy_gettext as _l
from core.query_args import EARLIEST_DATE, LATEST_DATE, date_in_range
from core.validation import storable

UNSTORABLE = _l("This text contains characters that cannot be stored (such as NUL).")
DATE_RANGE = _l("Enter a date between %(first)s and %(last)s.")
TOO_LARGE = _l("This number is too large.")
INT_LIMIT = 2**31 - 1
"""The largest whole number a form may carry: PostgreSQL's ``integer`` (SQLite's is wider)."""
ALREADY_SUBMITTED = _l("This form was already submitted; here is its result.")
IN_PROGRESS = _l("This form is already being processed. Check the result before sending it again.")

_DATE_FIELDS = (DateField, DateTimeField, DateTimeLocalField, MonthField)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def date_range_message() -> str:
    """The message for a date out of range, with both bounds, in the reader's language."""
    return str(DATE_RANGE) % {
        "first": EARLIEST_DATE.isoformat(),
        "last": LATEST_DATE.isoformat(),
    }


def _leaf_fields(form: Any) -> Iterator[Field]:
    for field in form:
        if isinstance(field, FormField):
            yield from _leaf_fields(field.form)
        elif isinstance(field, FieldList):
            for entry in field.entries:
                if isinstance(entry, FormField):
                    yield from _leaf_fields(entry.form)
                else:
                    yield entry
        else:
            yield field


def input_errors(form: Any) -> list[str]:
    """Add the input layer's errors to ``form``'s fields; returns them (``"label: message"``)."""
    found: list[str] = []
    for field in _leaf_fields(form):
        raw = getattr(field, "raw_data", None) or []
        message = None
        data = getattr(field, "data", None)
        if any(isinstance(v, str) and not storable(v) for v in raw):
            message = str(UNSTORABLE)
        elif (
            isinstance(field, _DATE_FIELDS)
            and isinstance(data, dt.date)
            and not date_in_range(data)
        ):
            message = date_range_message()
        elif isinstance(field, IntegerField) and isinstance(data, int) and abs(data) > INT_LIMIT:
            message = str(TOO_LARGE)
        if message is not None:
            field.errors = [message]
            found.append(f"{field.label.text}: {message}")
    return found


class IdmajForm(FlaskForm):
    """The base of every web form: WTForms' validation plus the input layer above.

    After :meth:`validate`, ``input_errors`` lists the input layer's messages (a view that
    reports errors by flash rather than beside the fields can show them).
    """

    class Meta(FlaskForm.Meta):
        csrf_class = KeptTokenCSRF  # the page's kept CSRF token (core.csrf_tokens)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.input_errors: list[str] = []

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        self.input_errors = input_errors(self)
        return ok and not self.input_errors


def new_token() -> str:
    return secrets.token_urlsafe(24)


class OnceForm(IdmajForm):
    """A form that records once: its hidden ``form_token`` is claimed by :func:`claim`.

    A request without the field, or with a value that is not a token (a script posting by
    hand), gets a fresh token, so it runs once per request — as an API call without
    ``Idempotency-Key`` does.
    """

    form_token = HiddenField(default=new_token)

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        if not _TOKEN.fullmatch(str(self.form_token.data or "")):
            # missing or not one of ours: a token of its own, as if the field had been left out
            self.form_token.data = new_token()
        return ok


class FormSubmission(Base):
    """One submission of a :class:`OnceForm` (its one-time token), and where its result is.

    Inserted *before* the work, in the same transaction: the unique constraint makes a
    concurrent second submission wait for the first and then find it, never record twice.
    ``result_url`` is empty only while the first submission is still running.
    """

    __tablename__ = "core_form_submissions"
    __table_args__ = (UniqueConstraint("user_id", "token"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_users.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(300))  # the form's path: "/funds/accounts/…"
    result_url: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


def _find(user_id: int, token: str) -> FormSubmission | None:
    return db_session().scalar(
        select(FormSubmission)
        .where(FormSubmission.user_id == user_id, FormSubmission.token == token)
        .execution_options(populate_existing=True)
    )


def _replay(row: FormSubmission | None, fallback: str) -> Response:
    if row is not None and row.result_url and row.scope == request.path[:300]:
        flash(str(ALREADY_SUBMITTED), "warning")
        return redirect(row.result_url, 303)
    flash(str(IN_PROGRESS), "warning")
    return redirect(fallback, 303)


def claim(form: OnceForm, user: Any, *, fallback: str | None = None) -> Response | None:
    """Record ``form``'s token for ``user``; ``None`` when it is new (go ahead), else the answer
    to send: a redirect to the first submission's result with "already submitted".

    Call it after ``form.validate_on_submit()`` and before the work, in the request's
    transaction; then :func:`complete` with the result's address before committing.
    """
    token = str(form.form_token.data)
    scope = request.path[:300]
    sess = db_session()
    existing = _find(user.id, token)
    if existing is not None:
        return _replay(existing, fallback or request.path)
    row = FormSubmission(user_id=user.id, token=token, scope=scope)
    try:
        with sess.begin_nested():
            sess.add(row)
            sess.flush()
    except IntegrityError:
        # the same form committed while we waited on the unique index
        return _replay(_find(user.id, token), fallback or request.path)
    form._submission = row  # type: ignore[attr-defined]
    return None


def complete(form: OnceForm, result_url: str) -> None:
    """Remember where ``form``'s result is shown (sent to a second submission)."""
    row: FormSubmission | None = getattr(form, "_submission", None)
    if row is None:
        raise RuntimeError("complete() without a successful claim()")
    row.result_url = result_url[:500]
    db_session().flush()


__all__ = [
    "ALREADY_SUBMITTED",
    "FormSubmission",
    "IdmajForm",
    "OnceForm",
    "claim",
    "complete",
    "date_in_range",
    "input_errors",
    "storable",
]

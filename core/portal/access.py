"""Page guards shared by the core's and the plugins' views."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext
from flask_login import current_user
from wtforms import Form

from core.errors import DomainError
from core.identity.services import has_permission

F = TypeVar("F", bound=Callable[..., Any])


def permission_required(code: str) -> Callable[[F], F]:
    """Redirect anonymous users to sign in; answer 403 to users without ``code``."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return redirect(url_for("auth.login", next=request.full_path))
            if not has_permission(current_user, code):
                abort(403)
            return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def login_required_for(role: str) -> Callable[[F], F]:
    """Only signed-in users with ``role`` (e.g. the families' pages)."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return redirect(url_for("auth.login", next=request.full_path))
            if not current_user.has_role(role):
                abort(403)
            return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def apply_errors(form: Form, exc: DomainError) -> None:
    """Attach a service's per-field messages to the form's fields; flash what no field of the
    form can show, and the general message unless it only repeats a field's message or the
    summary's heading, so each error is said once, beside its field (the form's error summary
    names the fields and links there)."""
    unplaced = []
    placed: list[str] = []
    for name, message in exc.fields.items():
        field = getattr(form, name.split(".")[0], None)
        if field is not None and hasattr(field, "errors"):
            errors = list(field.errors) if not isinstance(field.errors, list) else field.errors
            errors.append(str(message))
            field.errors = errors
            placed.append(str(message))
        else:
            unplaced.append(str(message))
    general = str(exc.message)
    # the summary above the form already says "correct the highlighted fields"; a general
    # message that only repeats a field's is not said twice; one that explains more is
    said = set(placed) | set(unplaced)
    if placed:
        said.add(gettext("Please correct the highlighted fields."))
    if general not in said:
        flash(general, "error")
    for message in unplaced:
        flash(message, "error")

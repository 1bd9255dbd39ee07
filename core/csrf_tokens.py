"""The page's CSRF token, signed once a minute per session instead of on every page.

Every staff and families' page carries the session's CSRF token in its forms (the language
switch, sign out, the page's own forms). Flask-WTF signs the session's raw token again on each
request (``URLSafeTimedSerializer.dumps``: a serializer built, its key derived, JSON, base64
and HMAC, in Python): a twentieth of a detainee's profile page.

:func:`page_csrf_token`, the templates' ``csrf_token()``, answers from what it signed for the
same raw token (the same session), field name and secret key less than :data:`KEEP_SECONDS`
ago; otherwise it asks Flask-WTF and keeps the answer. Forms (:class:`core.forms.IdmajForm`)
ask it too (:class:`KeptTokenCSRF`), and Flask-WTF's own calls in the same request read it from
``g``, where it is put. A token is the same text Flask-WTF would have given at the time it
was signed: it is checked as any other, against the session's raw token and
``WTF_CSRF_TIME_LIMIT`` (8 hours), so a page served from a kept token accepts its form for at
least ``WTF_CSRF_TIME_LIMIT - KEEP_SECONDS``. Nothing is
kept for a session that has no raw token yet (Flask-WTF creates it) nor outside a request.
At most :data:`KEPT` tokens are kept per app (then emptied).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flask import current_app
from flask.globals import _cv_app, _cv_request
from flask_wtf.csrf import _FlaskFormCSRF, generate_csrf

#: a signed token is given again for this long (seconds)
KEEP_SECONDS = 60
#: signed tokens kept per app, at most (then emptied)
KEPT = 4096
EXTENSION_KEY = "idmaj.csrf_tokens"

_now: Callable[[], float] = time.time


def page_csrf_token() -> str:
    """The request's signed CSRF token (see the module's text)."""
    app_ctx = _cv_app.get(None)
    req_ctx = _cv_request.get(None)
    if app_ctx is None or req_ctx is None:
        return generate_csrf()  # type: ignore[no-any-return]
    app = app_ctx.app
    config = app.config
    field = config.get("WTF_CSRF_FIELD_NAME") or "csrf_token"
    signed = app_ctx.g.__dict__.get(field)
    if signed is not None:  # already asked in this request (by a form or the page)
        return signed  # type: ignore[no-any-return]
    raw = req_ctx.session.get(field)
    secret = config.get("WTF_CSRF_SECRET_KEY") or app.secret_key
    if not isinstance(raw, str) or not isinstance(secret, str | bytes):
        return generate_csrf()  # type: ignore[no-any-return]
    kept: dict[tuple[str, str | bytes, str], tuple[str, float]]
    kept = app.extensions.setdefault(EXTENSION_KEY, {})
    key = (raw, secret, field)
    now = _now()
    found = kept.get(key)
    if found is not None and 0 <= now - found[1] < KEEP_SECONDS:
        setattr(app_ctx.g, field, found[0])
        return found[0]
    signed = generate_csrf()
    if len(kept) >= KEPT:
        kept.clear()
    kept[key] = (signed, now)
    return signed  # type: ignore[no-any-return]


class KeptTokenCSRF(_FlaskFormCSRF):
    """Flask-WTF's form CSRF, its token from :func:`page_csrf_token` when the form signs with
    the app's key and field name (every form does unless its ``Meta`` says otherwise): the
    form's field and the page's other forms carry the same kept token."""

    def generate_csrf_token(self, csrf_token_field: Any) -> str:
        config = current_app.config
        secret = config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
        field = config.get("WTF_CSRF_FIELD_NAME") or "csrf_token"
        if self.meta.csrf_secret == secret and self.meta.csrf_field_name == field:
            return page_csrf_token()
        return super().generate_csrf_token(csrf_token_field)  # type: ignore[no-any-return]


def init_app(app: Any) -> None:
    """Templates' ``csrf_token()`` becomes :func:`page_csrf_token`. Flask-WTF's ``init_app``
    (which runs first) sets its ``generate_csrf`` as a template global and again through a
    context processor (which wins over a global, and is one more call per template rendered):
    the global is replaced and that processor removed (``csrf_meta_tag`` stays a global)."""
    app.jinja_env.globals["csrf_token"] = page_csrf_token
    processors = app.template_context_processors.get(None, [])
    processors[:] = [f for f in processors if not _flask_wtf_processor(f)]


def _flask_wtf_processor(func: Any) -> bool:
    """Flask-WTF's ``lambda: {"csrf_token": generate_csrf, "csrf_meta_tag": …}``."""
    return getattr(func, "__module__", None) == "flask_wtf.csrf" and func.__name__ == "<lambda>"


__all__ = ["KEEP_SECONDS", "KEPT", "KeptTokenCSRF", "init_app", "page_csrf_token"]

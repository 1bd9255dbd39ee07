"""The session cookie: Flask's signed cookie, a cookie already verified kept with what it
holds.

Flask checks the session cookie on every request: a serializer built anew (its keys, salt,
signer), the key derived again, the signature's HMAC, base64 and the tagged JSON decoded —
for the same cookie, request after request, until the session changes. :class:`SessionInterface`
keeps, per cookie text and signing keys, the timestamp and the values it held once verified
(at most :data:`KEPT` cookies, then emptied). A kept cookie is answered only while its
signature's age is within the session's lifetime (itsdangerous' own rule: ``0 ≤ now −
signed ≤ max_age``, in whole seconds); a cookie that fails is never kept. Only sessions whose
values are plain text, numbers, booleans or ``None`` are kept — a list (flashed messages) could
be changed in place by the request it is handed to; each request gets its own copy of the
values, as before. Writing the cookie is Flask's, unchanged.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature

KEPT = 4096
_PLAIN = (str, int, float, bool, type(None))


class SessionInterface(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._verified: dict[tuple[Any, ...], tuple[int, dict[str, Any]]] = {}

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie or not app.secret_key:
            return super().open_session(app, request)
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        max_age = int(app.permanent_session_lifetime.total_seconds())
        key = (cookie, keys)
        kept = self._verified.get(key)
        if kept is not None:
            signed_at, values = kept
            if 0 <= int(time.time()) - signed_at <= max_age:
                return self.session_class(values)
            del self._verified[key]
        serializer = self.get_signing_serializer(app)
        if serializer is None:  # pragma: no cover - a secret key is set (checked above)
            return None
        try:
            values, signed = serializer.loads(cookie, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        if isinstance(values, dict) and all(
            type(k) is str and type(v) in _PLAIN for k, v in values.items()
        ):
            if len(self._verified) >= KEPT:
                self._verified.clear()
            self._verified[key] = (int(signed.timestamp()), values)
        return self.session_class(values)

"""Security plumbing: login manager, CSRF, rate limits, proxy headers and response headers.

See ``docs/security.md`` for the threat model and what each piece defends against.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, has_app_context, request
from flask.globals import _cv_request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect
from limits.storage import Storage
from werkzeug.middleware.proxy_fix import ProxyFix

from core import csrf_tokens
from core.api.toolkit import API_PREFIX
from core.principals import request_user

EXTENSION_KEY = "idmaj.ratelimit"
F = TypeVar("F", bound=Callable[..., Any])

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'"
)
HSTS = "max-age=31536000; includeSubDomains"


class AppLimiter(Limiter):
    """A :class:`Limiter` whose storage and on/off switch belong to each app.

    Flask-Limiter keeps one storage per ``Limiter`` object, so the last app initialised would
    silently take over the counters (and the ``RATELIMIT_ENABLED`` switch) of every other app
    in the process. Views decorate with the one module-level ``limiter``; here each app keeps
    its own storage in ``app.extensions`` and the limiter reads the current app's.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._default_enabled = True
        self._all_storages: weakref.WeakSet[Storage] = weakref.WeakSet()
        super().__init__(*args, **kwargs)
        self._initial_storage_options = dict(self._storage_options)

    # ``enabled`` is assigned by Limiter.__init__ and init_app: keep it per app.
    @property  # type: ignore[override]
    def enabled(self) -> bool:
        if has_app_context():
            state = current_app.extensions.get(EXTENSION_KEY)
            if state is not None:
                return bool(state["enabled"])
        return self._default_enabled

    @enabled.setter
    def enabled(self, value: bool) -> None:
        self._default_enabled = bool(value)

    def init_app(self, app: Flask) -> None:
        self._storage = None
        self._limiter = None
        self._default_enabled = True
        # init_app adds the app's RATELIMIT_STORAGE_OPTIONS to these: start afresh for each app
        self._storage_options = dict(self._initial_storage_options)
        super().init_app(app)
        enabled = bool(app.config.get("RATELIMIT_ENABLED", True))
        app.extensions[EXTENSION_KEY] = {
            "enabled": enabled,
            "storage": self._storage if enabled else None,
            "limiter": self._limiter if enabled else None,
        }
        if enabled and self._storage is not None:
            self._all_storages.add(self._storage)

    def _check_request_limit(
        self, callable_name: str | None = None, in_middleware: bool = True
    ) -> None:
        """Flask-Limiter's check, run before every request (``in_middleware``) and by each
        decorated view. Before the request it can only apply the application-wide, default,
        blueprint and in-memory fallback limits (a decorated view's own limits are checked
        when the view runs): with none of them configured — Idmaj's case unless an operator
        sets ``RATELIMIT_DEFAULT`` or ``RATELIMIT_APPLICATION`` — it would work out an empty
        list on every request (3% of a profile page's instructions), so it is skipped."""
        if in_middleware and not self._limits_every_request():
            return
        super()._check_request_limit(callable_name=callable_name, in_middleware=in_middleware)

    def _limits_every_request(self) -> bool:
        manager = self.limit_manager
        return bool(
            manager._application_limits
            or manager._default_limits
            or manager._blueprint_limits
            or self._in_memory_fallback
        )

    def _state(self) -> dict[str, Any] | None:
        if has_app_context():
            return current_app.extensions.get(EXTENSION_KEY)
        return None

    @property
    def storage(self) -> Storage:
        state = self._state()
        if state is not None and state["storage"] is not None:
            return state["storage"]
        return super().storage

    @property
    def limiter(self) -> Any:
        state = self._state()
        if state is not None and state["limiter"] is not None:
            if self._storage_dead and self._in_memory_fallback_enabled:
                return self._fallback_limiter
            return state["limiter"]
        return super().limiter

    def reset(self) -> None:
        """Clear the counters of the current app, or outside an app of every app's storage."""
        state = self._state()
        storages = [state["storage"]] if state and state["storage"] else list(self._all_storages)
        for storage in storages:
            with contextlib.suppress(NotImplementedError):
                storage.reset()
        if state is not None and "idmaj.db" in current_app.extensions:
            # the sign-in counters live in the database (core.identity.throttle)
            from core.identity import throttle

            throttle.reset()
            from core.db import session as db_session

            db_session().commit()


csrf = CSRFProtect()
limiter = AppLimiter(key_func=get_remote_address, default_limits=[], headers_enabled=False)
login_manager = LoginManager()


def _load_user(session_id: str) -> Any:
    """Sessions carry ``"<user id>:<session version>"``: a bumped version ends them all.

    The version and the account's state are read from the database on every request; the
    rest of the principal comes from this process's snapshot while its stamps hold
    (:mod:`core.identity.principal_cache`)."""
    from core.identity.principal_cache import session_principal

    try:
        user_id, version = (int(p) for p in session_id.split(":", 1))
    except ValueError:
        return None
    return session_principal(user_id, version)


def _no_store(response: Response) -> bool:
    """Responses that must never be kept by a browser or proxy cache."""
    req = _cv_request.get().request  # not through the proxy: read on every response
    if req.path.startswith(API_PREFIX):
        return True
    if req.blueprint == "auth":
        return True
    endpoint = req.endpoint
    if endpoint == "static" or endpoint is None:
        return False
    user = request_user()
    return bool(user and user.is_authenticated)


SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", "camera=(self), microphone=(), geolocation=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)

_LOWER = {name: name.lower() for name, _value in SECURITY_HEADERS}


def _security_headers(response: Response) -> Response:
    """Every response's security headers, unless the view set its own (``setdefault``; the
    names already there are read once, not searched for each header)."""
    headers = response.headers
    present = {name.lower() for name in headers.keys()}  # noqa: SIM118 (Headers: a list)
    for name, value in SECURITY_HEADERS:
        if _LOWER[name] not in present:
            headers.add(name, value)
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    if _no_store(response):
        headers["Cache-Control"] = "no-store"
    return response


def _resolve_principal() -> None:
    """Load the signed-in user before any view code runs, so the query layer's scoping
    (:mod:`core.scoping`) knows the request's principal from its first query."""
    if request.endpoint != "static":
        _ = current_user.is_authenticated


def init_app(app: Flask) -> None:
    if app.config.get("PROXY_FIX"):
        # one trusted reverse proxy in front: take the client address, scheme and host from
        # its X-Forwarded-* headers (HSTS, Secure cookies and rate-limit keys depend on them)
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1
        )
    from core.identity import principal_cache

    principal_cache.init_app(app)
    login_manager.init_app(app)
    login_manager.user_loader(_load_user)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    csrf.init_app(app)
    csrf_tokens.init_app(app)
    app.config["RATELIMIT_STORAGE_URI"] = app.config.get("REDIS_URL") or "memory://"
    if app.config.get("REDIS_URL"):
        # the counters' keys are "<REDIS_KEY_PREFIX>:LIMITER/…", and reset() deletes only those
        app.config["RATELIMIT_STORAGE_OPTIONS"] = {
            "key_prefix": app.config.get("REDIS_KEY_PREFIX") or "idmaj",
            **app.config.get("RATELIMIT_STORAGE_OPTIONS", {}),
        }
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limiter.init_app(app)
    app.before_request(_resolve_principal)
    app.after_request(_security_headers)

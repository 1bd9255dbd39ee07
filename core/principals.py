"""Who is acting: a signed-in user, or the platform itself (``SYSTEM``).

Every service takes the acting principal and checks it; there is no "no user, so no checks".
Work that no person starts — ``idmaj`` commands, the worker, reactions to another module's
change — runs as :data:`SYSTEM`, a named principal that holds every permission, sees every
establishment, and appears as ``system`` in the audit trail. No request path can reach it: a
request's principal is the user its session cookie or bearer token names (or nobody), set by
the app for the request, and ``SYSTEM`` is only ever passed explicitly by code.

The query layer (:mod:`core.scoping`) restricts what the *current* principal can read: it is
the request's user, or what :func:`acting_as` sets for a block of code (the CLI, the worker,
tests).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Final, TypeAlias

from flask.globals import _cv_app, _cv_request

if TYPE_CHECKING:
    from core.identity.models import User


class SystemPrincipal:
    """The platform acting on its own behalf. Use the :data:`SYSTEM` instance."""

    __slots__ = ()

    id: Final = None
    username: Final = "system"
    full_name: Final = "System"
    locale: Final = None
    is_authenticated: Final = True
    is_active: Final = True
    is_anonymous: Final = False
    is_staff: Final = True
    is_visitor: Final = False
    establishment_links: Final = ()

    @property
    def roles(self) -> frozenset[str]:
        return frozenset()

    def has_role(self, *codes: str) -> bool:
        return False

    def __repr__(self) -> str:
        return "<SYSTEM>"


SYSTEM: Final = SystemPrincipal()

if TYPE_CHECKING:
    #: The type of the ``actor`` every service takes.
    Principal: TypeAlias = User | SystemPrincipal
else:
    Principal = Any


def is_system(principal: Any) -> bool:
    return principal is SYSTEM


_current: ContextVar[Any] = ContextVar("idmaj_principal", default=None)


@contextmanager
def acting_as(principal: User | SystemPrincipal) -> Iterator[None]:
    """Run a block of code with ``principal`` as the current principal (the CLI and the
    worker use ``acting_as(SYSTEM)``; tests use it to run services as a user)."""
    if principal is None:
        raise TypeError("acting_as() needs a principal: a User or SYSTEM")
    token = _current.set(principal)
    try:
        yield
    finally:
        _current.reset(token)


def request_user() -> Any:
    """The request's user as Flask-Login's ``current_user`` gives it (its anonymous user when
    nobody signed in), read from the request's ``g`` once loaded instead of through the proxy
    (three look-ups of the context per attribute read: the hooks that run on every request
    read it a score of times); ``None`` outside a request."""
    if _cv_request.get(None) is None:
        return None
    user = _cv_app.get().g.__dict__.get("_login_user")
    if user is None:  # not loaded yet: Flask-Login loads it
        from flask_login import current_user

        user = current_user._get_current_object()  # type: ignore[attr-defined]
    return user


def current_principal() -> Any:
    """The principal the current code runs for, or ``None`` (nobody signed in, or code outside
    a request that did not say who it acts for)."""
    principal = _current.get()
    if principal is not None:
        return principal
    if _cv_request.get(None) is not None:  # a request (its app context is there too)
        store = _cv_app.get().g  # not through ``flask.g``'s proxy: asked at every SELECT
        user = store.get("api_user") or store.get("_login_user")
        if user is not None and not getattr(user, "is_anonymous", True):
            return user
    return None


__all__ = [
    "SYSTEM",
    "Principal",
    "SystemPrincipal",
    "acting_as",
    "current_principal",
    "is_system",
    "request_user",
]

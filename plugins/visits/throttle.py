"""Rate limits of link requests (``POST /visits/relatives`` and the API's
``POST /visitors/me/relations``): per account and per client address, counters shared by the
page and the API, so a family account cannot try registration numbers and birth dates in bulk.

Limits come from ``VISITS_RELATION_RATE_LIMIT`` (per account, default ``10 per hour``) and
``VISITS_RELATION_ADDRESS_RATE_LIMIT`` (per address, default ``30 per hour``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, request
from flask_login import current_user

from core.api.toolkit import API_PREFIX, bearer_user
from core.security import limiter

F = TypeVar("F", bound=Callable[..., Any])


def _account_key() -> str:
    user = bearer_user() if request.path.startswith(API_PREFIX) else current_user
    user_id = getattr(user, "id", None) if user is not None else None
    return f"visits-relation-user:{user_id if user_id is not None else request.remote_addr}"


def _address_key() -> str:
    return f"visits-relation-addr:{request.remote_addr}"


def _account_limit() -> str:
    return str(current_app.config.get("VISITS_RELATION_RATE_LIMIT", "10 per hour"))


def _address_limit() -> str:
    return str(current_app.config.get("VISITS_RELATION_ADDRESS_RATE_LIMIT", "30 per hour"))


def relation_throttle() -> Callable[[F], F]:
    """Decorate the view (inside its sign-in check): every POST counts, matched or not."""

    def decorate(fn: F) -> F:
        fn = limiter.shared_limit(
            _address_limit,
            scope="visits-relation-address",
            key_func=_address_key,
            methods=["POST"],
        )(fn)
        fn = limiter.shared_limit(
            _account_limit,
            scope="visits-relation-account",
            key_func=_account_key,
            methods=["POST"],
        )(fn)
        return fn

    return decorate

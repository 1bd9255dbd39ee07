"""Establishment scoping, applied where data is queried.

Every service that lists or loads records of an establishment goes through :func:`scope` or
:func:`ensure_in_scope`, so a user of one establishment can neither see nor change another's
records, whichever page, endpoint or command asks.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, false

from core.errors import NotFound
from core.identity.models import ALL_ESTABLISHMENT_ROLES, User

S = TypeVar("S", bound=Select[Any])


def establishment_ids(user: User | None) -> frozenset[int] | None:
    """The establishments a user may see: ``None`` means all of them."""
    if user is None:
        return frozenset()
    if user.roles & ALL_ESTABLISHMENT_ROLES:
        return None
    return frozenset(link.establishment_id for link in user.establishment_links)


def scope(stmt: S, column: Any, user: User | None) -> S:
    """Restrict ``stmt`` to rows whose ``column`` (an establishment id) the user may see."""
    ids = establishment_ids(user)
    if ids is None:
        return stmt
    if not ids:
        return stmt.where(false())
    return stmt.where(column.in_(sorted(ids)))


def can_see_establishment(user: User | None, establishment_id: int | None) -> bool:
    ids = establishment_ids(user)
    return ids is None or (establishment_id is not None and establishment_id in ids)


def ensure_in_scope(user: User | None, establishment_id: int | None) -> None:
    """Raise :class:`NotFound` (not 403: do not reveal that the record exists elsewhere)."""
    if not can_see_establishment(user, establishment_id):
        raise NotFound("not found")

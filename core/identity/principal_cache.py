"""The signed-in principal, cached in each worker process and checked on every request.

A request used to load its user, the user's roles and establishments (three ``selectin``
queries), the permissions of those roles and whether a role requires a second factor: five or
six SQL statements before the page's own work. Now each process keeps a snapshot of the
principals it has served — the user's row, role links and establishment links, the permissions
they give, whether a role requires a second factor and whether it is on — and a request reads
ONE row to know whether its snapshot is still right:

- the session cookie's request reads ``core_users`` (``session_version``, ``is_active``,
  ``principal_stamp``) with the epoch stamp of ``core_principal_epoch`` as a sub-select;
- a bearer token's request reads its ``core_api_tokens`` row joined to the same columns.

Revocation is read from the database on every request, never from the cache: a bumped
``session_version`` (logout everywhere, password change, deactivation), ``is_active`` false, a
revoked or expired token refuse the request whatever any process holds. What the cache holds
is checked by two stamps that database triggers (migration ``0010_principal_stamps``) change
in the transaction of the change, whoever makes it — a service, a command, psql:

- ``core_users.principal_stamp``: any change of the user's row, roles (``core_user_roles``),
  establishments (``core_user_establishments``) or second factor (``core_second_factors``);
- ``core_principal_epoch.stamp``: any change of ``core_roles`` or ``core_role_permissions``
  (a role's permissions edited, the roles requiring a second factor).

What a set of roles gives (its permissions, whether one of them requires a second factor) is
kept beside the snapshots under the epoch alone, so a user seen for the first time by a process
costs one statement more than a hit (the user with its role and establishment links, joined),
not five: the thousands of families who each book once share one entry.

A snapshot is used only when both stamps equal the ones it was made under. Stamps are random
(not counters), so a value seen inside a transaction that was then rolled back never comes
back, and no snapshot made from uncommitted data can match later. Why this design, and not a
time-limited cache or Redis: docs/architecture.md ("The signed-in principal, cached").

The snapshot's ``User`` is detached and never changed; each request gets its own copy put into
the request's session (``core.row_loading.attach_copy``, as ``merge(load=False)``: no SQL), so
views and services keep using an ordinary ORM ``User`` (assigning it to relationships, changing
and flushing it, reading ``user.establishments``, which loads on first access).
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Flask, current_app, g
from flask.globals import _cv_app
from sqlalchemy import bindparam, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import joinedload, lazyload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from core.db import built_once, utcnow
from core.db import session as db_session
from core.driver_reads import send
from core.identity.models import ApiToken, PrincipalEpoch, User
from core.row_loading import attach_copy

EXTENSION_KEY = "idmaj.principals"
#: principals kept per process (least recently used ones are dropped first)
MAX_ENTRIES = 10_000
#: distinct sets of roles kept per process with what they give (a handful in practice)
MAX_ROLE_SETS = 1_000
#: the relationships of ``User`` a snapshot carries (``establishments`` loads on access)
SNAPSHOT_COLLECTIONS = ("role_links", "establishment_links")


@dataclass(frozen=True)
class Snapshot:
    """A principal as loaded under ``user_stamp`` and ``epoch``."""

    user_stamp: int
    epoch: int
    user: User  # detached: never added to a session, never changed
    permissions: frozenset[str]
    second_factor_required: bool
    # whether a second factor is on; only asked (``None`` otherwise) when a role requires one
    second_factor_on: bool | None
    # what :func:`principal_memo` derived from this snapshot (the navigation…): it goes with
    # the snapshot when a stamp changes
    memo: dict[Hashable, Any] = field(default_factory=dict, compare=False, repr=False)


class PrincipalCache:
    """One process's snapshots, by user id (thread-safe, bounded)."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[int, Snapshot] = OrderedDict()
        # (epoch, role codes) -> (permissions, a role requires a second factor)
        self._role_sets: dict[tuple[int, frozenset[str]], tuple[frozenset[str], bool]] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, user_id: int, user_stamp: int, epoch: int) -> Snapshot | None:
        with self._lock:
            snap = self._entries.get(user_id)
            if snap is None or snap.user_stamp != user_stamp or snap.epoch != epoch:
                self.misses += 1
                return None
            self._entries.move_to_end(user_id)
            self.hits += 1
            return snap

    def put(self, user_id: int, snap: Snapshot) -> None:
        with self._lock:
            self._entries[user_id] = snap
            self._entries.move_to_end(user_id)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def role_set(self, epoch: int, roles: frozenset[str]) -> tuple[frozenset[str], bool] | None:
        """What a set of roles gives under ``epoch``: its permissions, and whether one of the
        roles requires a second factor (both change only with the epoch)."""
        with self._lock:
            return self._role_sets.get((epoch, roles))

    def put_role_set(
        self, epoch: int, roles: frozenset[str], grants: tuple[frozenset[str], bool]
    ) -> None:
        with self._lock:
            if any(key[0] != epoch for key in self._role_sets) or len(self._role_sets) >= (
                MAX_ROLE_SETS
            ):
                self._role_sets.clear()  # another epoch: what was filed under the old is stale
            self._role_sets[(epoch, roles)] = grants

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._role_sets.clear()

    def __len__(self) -> int:
        return len(self._entries)


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = PrincipalCache(
        int(app.config.get("PRINCIPAL_CACHE_SIZE", MAX_ENTRIES))
    )


def cache_of(app: Flask | None = None) -> PrincipalCache:
    app = app or current_app
    cache = app.extensions.get(EXTENSION_KEY)
    if cache is None:  # an app built without init_app (never in create_app)
        cache = app.extensions[EXTENSION_KEY] = PrincipalCache()
    return cache


def _epoch() -> Any:
    return select(PrincipalEpoch.stamp).where(PrincipalEpoch.id == 1).scalar_subquery()


@built_once
def _session_read() -> Any:
    return select(
        User.session_version, User.is_active, User.principal_stamp, _epoch().label("epoch")
    ).where(User.id == bindparam("user_id"))


@built_once
def _token_read() -> Any:
    return (
        select(
            ApiToken.user_id,
            ApiToken.revoked_at,
            ApiToken.expires_at,
            User.is_active,
            User.principal_stamp,
            _epoch().label("epoch"),
        )
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == bindparam("token_hash"))
    )


def _identity_row(stmt: Any, params: dict[str, Any]) -> Any:
    """One row of a request's identity read, sent by Core on the session's connection (same
    transaction): the ORM's layer for a select of columns (its compile state, ``do_orm_execute``
    and row building) cost about as much again as the statement, on every request. Nothing is
    lost: the columns read are no establishment's (the query layer's scoping has nothing to
    add), and no object is built from them."""
    return send(db_session().connection(), stmt, params).one_or_none()


def session_principal(user_id: int, session_version: int) -> User | None:
    """The user of a session cookie ``"<id>:<version>"``, or ``None`` when the account is
    gone, deactivated or the version was bumped. One SQL statement when the snapshot holds."""
    row = _identity_row(_session_read(), {"user_id": user_id})
    if row is None or not row.is_active or row.session_version != session_version:
        return None
    return _principal(user_id, row.principal_stamp, row.epoch)


def token_principal(token_hash: str) -> User | None:
    """The user of a bearer token (by its SHA-256), or ``None`` when the token is unknown,
    revoked or expired or its user deactivated. One SQL statement when the snapshot holds."""
    row = _identity_row(_token_read(), {"token_hash": token_hash})
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        return None
    if not row.is_active:
        return None
    return _principal(row.user_id, row.principal_stamp, row.epoch)


def _principal(user_id: int, user_stamp: int | None, epoch: int | None) -> User | None:
    sess = db_session()
    existing = sess.identity_map.get(identity_key(User, user_id))
    if existing is not None:
        # already in this session (the code that signed in loaded it): its state is this
        # transaction's, newer than any snapshot
        return existing
    cacheable = user_stamp is not None and epoch is not None
    cache = cache_of()
    snap = cache.get(user_id, user_stamp, epoch) if cacheable else None  # type: ignore[arg-type]
    if snap is not None:
        user = attach_copy(sess, snap.user, SNAPSHOT_COLLECTIONS)
        _remember(user.id, snap.permissions, snap.second_factor_required, snap.second_factor_on)
        g._principal_snapshot = (user.id, snap)
        return user
    # a miss: load as before. Whatever is read now is at least as new as the stamps read
    # above; if it is newer, a change committed in between and those stamps are already
    # stale, so the snapshot filed under them can never be used.
    # one statement: the user with its role and establishment links joined
    user = sess.get(User, user_id, options=_snapshot_options())
    if user is None:
        return None
    from core.identity import totp
    from core.identity.services import permissions_of

    # what the user's roles give depends on the roles and the epoch only: families share one
    # entry, so a family's first request in this process does not read them again
    grants = cache.role_set(epoch, user.roles) if cacheable else None  # type: ignore[arg-type]
    if grants is None:
        grants = (permissions_of(user), totp.second_factor_required(user))
        if cacheable and user.is_active:  # an inactive user's permissions are none, not the roles'
            cache.put_role_set(epoch, user.roles, grants)  # type: ignore[arg-type]
    permissions, second_factor = grants
    second_factor_on = totp.has_second_factor(user) if second_factor else None
    if cacheable:
        snap = Snapshot(
            user_stamp=user_stamp,  # type: ignore[arg-type]
            epoch=epoch,  # type: ignore[arg-type]
            user=_detached_copy(user, SNAPSHOT_COLLECTIONS),
            permissions=permissions,
            second_factor_required=second_factor,
            second_factor_on=second_factor_on,
        )
        cache.put(user_id, snap)
        g._principal_snapshot = (user.id, snap)
    _remember(user.id, permissions, second_factor, second_factor_on)
    return user


@functools.cache
def _snapshot_options() -> tuple[Any, ...]:
    """The loader options of a snapshot's user, built once (building them on every miss cost
    a sixth of the load)."""
    return (
        lazyload(User.establishments),
        joinedload(User.role_links),
        joinedload(User.establishment_links),
    )


def _remember(
    user_id: int, permissions: frozenset[str], second_factor: bool, second_factor_on: bool | None
) -> None:
    """Seed the request's caches (``permissions_of``, ``totp.second_factor_required`` and
    ``totp.has_second_factor``)."""
    g.setdefault("_perm_cache", {})[user_id] = permissions
    g.setdefault("_second_factor_cache", {})[user_id] = second_factor
    if second_factor_on is not None:
        g.setdefault("_second_factor_on_cache", {})[user_id] = second_factor_on


#: ``g`` key of the last (user, permissions) ``permissions_of`` answered in the request
LAST_PERMISSIONS_KEY = "_perm_last"


def forget_request_principals() -> None:
    """After a change of roles, permissions or establishments in this request: later checks
    in the same request read the database again (other processes see the new stamps)."""
    from core.scoping import REQUEST_SCOPE_KEY

    g.pop("_perm_cache", None)
    g.pop(LAST_PERMISSIONS_KEY, None)
    g.pop("_principal_snapshot", None)
    g.pop(REQUEST_SCOPE_KEY, None)
    g.pop("_second_factor_cache", None)
    g.pop("_second_factor_on_cache", None)


_T = TypeVar("_T")
#: what :func:`principal_memo` keeps for visitors who are not signed in, per app
ANONYMOUS_MEMO_KEY = "idmaj.anonymous_memo"


def principal_memo(user: Any, key: Hashable, compute: Callable[[], _T]) -> _T:
    """``compute()``, kept with the signed-in principal's snapshot under ``key``: computed
    again only when the snapshot is (a stamp changed: the user, their roles, establishments or
    a role's permissions) — for what depends on nothing else, like the navigation. For a
    visitor who is not signed in (``user`` ``None`` or anonymous) it is kept per app. Outside
    a request, for a user this request's snapshot is not of (the one who just signed in, a
    principal whose roles changed in this request) it is computed each time."""
    ctx = _cv_app.get(None)
    if ctx is None:
        return compute()
    if user is None or getattr(user, "is_anonymous", False):
        memo: dict[Hashable, Any] = ctx.app.extensions.setdefault(ANONYMOUS_MEMO_KEY, {})
    else:
        kept = ctx.g.__dict__.get("_principal_snapshot")
        if kept is None or kept[0] != getattr(user, "id", None):
            return compute()
        memo = kept[1].memo
    try:
        return memo[key]  # type: ignore[no-any-return]
    except KeyError:
        value = memo[key] = compute()
        return value


def _detached_copy(obj: Any, collections: tuple[str, ...] = ()) -> Any:
    """A detached copy of a loaded instance: its loaded columns and, copied the same way, the
    given collections — as if freshly loaded, with no pending change, so that
    :func:`core.row_loading.attach_copy` can copy it into a session without SQL."""
    state = sa_inspect(obj)
    mapper = state.mapper
    loaded = state.dict
    copy = mapper.class_manager.new_instance()
    for prop in mapper.column_attrs:
        if prop.key in loaded:
            set_committed_value(copy, prop.key, loaded[prop.key])
    for name in collections:
        set_committed_value(copy, name, [_detached_copy(child) for child in getattr(obj, name)])
    make_transient_to_detached(copy)
    return copy


__all__ = [
    "PrincipalCache",
    "Snapshot",
    "cache_of",
    "forget_request_principals",
    "init_app",
    "principal_memo",
    "session_principal",
    "token_principal",
]

"""Establishment scoping, applied by the query layer so that no module can forget it.

A model tied to an establishment inherits :class:`EstablishmentScoped` (its
``establishment_id`` column names where the row belongs). Every ORM ``SELECT`` that the
session runs — from a service, a page, the API, a command or a hook — gets
``with_loader_criteria(EstablishmentScoped, establishment_id IN (...))`` for the current
principal (:func:`core.principals.current_principal`): a member of staff reads only the rows
of their establishments, whatever code asks. Nobody has to remember it.

Who is restricted, and to what:

- staff with establishments: those establishments only;
- ``central_admin``, ``auditor``, a plugin's role declared ``all_establishments=True`` and
  :data:`~core.principals.SYSTEM`: every establishment;
- a family member or an anonymous visitor: no establishment filter — what the public side may
  read is decided by ownership (a family's own bookings and links) in the services, and the
  public establishment pages show public information only;
- code outside a request that has not said who it acts for: no filter. The CLI and the worker
  run ``acting_as(SYSTEM)``.

The filter applies to the scoped models a query *asks for* (its top-level entities, and
``session.get``). Rows reached from a row one may see — a booking's detainee who has since
moved, eagerly joined or lazily loaded — are not filtered: scoping decides which records one
may *find*, not which history a visible record carries. A module whose rows belong to an
establishment only through another row (a link to a detainee) checks that row in its service,
as before.

The only way around the filter for a restricted principal is :func:`unscoped`, which names its
reason and writes it to the audit trail (health's emergency access, a national uniqueness
check).

:func:`ensure_in_scope` and :func:`scope` remain for checks on one known establishment id
(an action's target) and for Core-level ``select()`` statements over non-ORM columns.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from flask.globals import _cv_app, _cv_request
from sqlalchemy import Join, Select, event, false, inspect
from sqlalchemy.orm import Mapper, ORMExecuteState, Session, with_loader_criteria

from core.driver_reads import is_kept, keep, send
from core.errors import NotFound
from core.identity.models import ALL_ESTABLISHMENT_ROLES
from core.identity.roles import role_registry
from core.principals import SystemPrincipal, current_principal

S = TypeVar("S", bound=Select[Any])


class EstablishmentScoped:
    """Mixin of every model whose rows belong to one establishment (``establishment_id``).

    Inherit it and the query layer restricts every ORM query on the model to the current
    principal's establishments; nothing else is needed in the module's services.
    """

    __idmaj_scoped__ = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)  # declarative maps the class here
        _scoped_tables.cache_clear()


def establishment_ids(user: Any) -> frozenset[int] | None:
    """The establishments a principal may see: ``None`` means all of them, and a principal
    with none (``None``, a family member, anonymous) gets the empty set."""
    if user is None or getattr(user, "is_anonymous", False):
        return frozenset()
    if isinstance(user, SystemPrincipal):
        return None
    if user.roles & (ALL_ESTABLISHMENT_ROLES | role_registry().all_establishment_codes):
        return None
    return frozenset(link.establishment_id for link in user.establishment_links)


def query_scope(principal: Any) -> frozenset[int] | None:
    """What the query layer restricts ``principal`` to: ``None`` for no filter (the system,
    national roles, the public side), else the staff member's establishments."""
    if principal is None or not getattr(principal, "is_staff", False):
        return None
    return establishment_ids(principal)


def scope(stmt: S, column: Any, user: Any) -> S:
    """Restrict ``stmt`` to rows whose ``column`` (an establishment id) the user may see."""
    ids = establishment_ids(user)
    if ids is None:
        return stmt
    if not ids:
        return stmt.where(false())
    return stmt.where(column.in_(sorted(ids)))


def can_see_establishment(user: Any, establishment_id: int | None) -> bool:
    ids = establishment_ids(user)
    return ids is None or (establishment_id is not None and establishment_id in ids)


def ensure_in_scope(user: Any, establishment_id: int | None) -> None:
    """Raise :class:`NotFound` (not 403: do not reveal that the record exists elsewhere)."""
    if not can_see_establishment(user, establishment_id):
        raise NotFound("not found")


# ---------------------------------------------------------------------------------------------
# The query layer
# ---------------------------------------------------------------------------------------------

_bypass: ContextVar[str | None] = ContextVar("idmaj_unscoped", default=None)


@contextmanager
def unscoped(reason: str, *, establishment_id: int | None = None) -> Iterator[None]:
    """Read across every establishment for one block, for a stated reason.

    The bypass is written to the audit trail (``scope.bypass``, with the reason and the
    principal) in the caller's transaction, so it is kept exactly when the work it served is.

    :param reason: why the block needs rows outside the principal's establishments; required.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("unscoped() needs a reason")
    from core.audit import services as audit

    principal = current_principal()
    if query_scope(principal) is not None:  # only a real bypass is worth a line
        audit.record(
            "scope.bypass",
            "scope",
            getattr(principal, "username", ""),
            establishment_id=establishment_id,
            summary={"reason": reason},
            actor=principal,
        )
    token = _bypass.set(reason)
    try:
        yield
    finally:
        _bypass.reset(token)


#: the request's query scope, ``(principal, scope)``: computed at its first ORM ``SELECT``
#: (a page runs ten or more); forgotten with the request's permissions when roles or
#: establishments change (:func:`core.identity.principal_cache.forget_request_principals`)
REQUEST_SCOPE_KEY = "_query_scope"


def request_query_scope() -> frozenset[int] | None:
    """:func:`query_scope` of the current principal, computed once per request and principal
    (outside a request, each time)."""
    principal = current_principal()
    if principal is None:
        return None
    if _cv_request.get(None) is None:
        return query_scope(principal)
    store = _cv_app.get().g  # the request's ``g``, read as ``current_principal`` reads it
    memo = store.get(REQUEST_SCOPE_KEY)
    if memo is not None and memo[0] is principal:
        return memo[1]  # type: ignore[no-any-return]
    ids = query_scope(principal)
    setattr(store, REQUEST_SCOPE_KEY, (principal, ids))
    return ids


def _scope_select(state: ORMExecuteState) -> None:
    if not state.is_select or state.is_relationship_load or state.is_column_load:
        return
    if _bypass.get() is not None:
        return
    ids = request_query_scope()
    if ids is None:
        return
    state.statement = scoped_statement(state.statement, ids)


def scoped_statement(stmt: Any, ids: frozenset[int]) -> Any:
    """``stmt`` restricted to the establishments ``ids``: what the query layer does to every
    ORM ``SELECT`` of a restricted principal (:func:`_scope_select`) and to a read sent by
    Core through :func:`read_columns`."""
    entities, tables = _asked_for(stmt)
    allowed = sorted(ids) or [-1]  # an id no row has: nothing is visible
    for model in entities:
        stmt = stmt.options(
            with_loader_criteria(model, model.establishment_id.in_(allowed), include_aliases=True)
        )
    for table in tables:  # a Core statement on the table itself
        stmt = stmt.where(table.c.establishment_id.in_(allowed))
    return stmt


def _asked_for(stmt: Any) -> tuple[list[Any], list[Any]]:
    """The scoped models a SELECT asks for — its entities and columns, as
    ``ORMExecuteState.all_mappers`` finds them — and the scoped tables its FROM starts with
    (``select(func.count()).select_from(Model)``, or the bare table), not the ones it joins
    to."""
    entities: set[Any] = set()
    for described in getattr(stmt, "column_descriptions", ()):
        entity = described.get("entity")  # a Core statement's columns have none
        found = inspect(entity, raiseerr=False) if entity is not None else None
        mapper = getattr(found, "mapper", None)
        if mapper is not None and issubclass(mapper.class_, EstablishmentScoped):
            entities.add(mapper.class_)
    tables: set[Any] = set()
    froms = _leading_froms(stmt)
    if froms:
        by_table = _scoped_tables()
        for clause in froms:
            while isinstance(clause, Join):
                clause = clause.left
            if clause in by_table and by_table[clause] not in entities:
                tables.add(clause)
    return sorted(entities, key=lambda m: m.__name__), sorted(tables, key=lambda t: t.name)


def read_columns(stmt: Any, params: Mapping[str, Any] | None = None) -> Any:
    """Run a ``SELECT`` of columns (no entity: rows, not objects) that was built once
    (:func:`core.db.built_once`), scoped exactly as the query layer scopes it, but sent by
    Core on the session's connection (same transaction).

    The ORM's layer around such a statement (its execute state, ``do_orm_execute``, building
    each row through the loading machinery) costs more than sending it: a profile page's
    panels read nine such statements. The restriction is the same one, from the same code
    (:func:`scoped_statement`), kept per statement and set of establishments instead of being
    rebuilt on every execution. Pending changes are flushed first, as the session's autoflush
    does (not inside ``no_autoflush``). Rows are Core rows: read them by position or by column
    name.
    """
    _columns_only(stmt)
    if _bypass.get() is None:
        ids = request_query_scope()
        if ids is not None:
            stmt = _scoped_once(stmt, tuple(sorted(ids)))
    sess = db_session()
    if sess.autoflush:  # what the session does before a query: pending changes are read too
        sess.flush()
    return send(sess.connection(), stmt, params or {})


@functools.lru_cache(maxsize=1024)
def _columns_only(stmt: Any) -> None:
    """Refuse a statement that selects an entity (checked once per statement)."""
    if not isinstance(stmt, Select):
        raise TypeError("read_columns() runs a SELECT")
    described = stmt.column_descriptions
    if any(d.get("entity") is not None and d["expr"] is d["entity"] for d in described):
        raise TypeError("read_columns() reads columns: select the entity through the session")


@functools.lru_cache(maxsize=1024)
def _scoped_once(stmt: Any, ids: tuple[int, ...]) -> Any:
    scoped = scoped_statement(stmt, frozenset(ids))
    return keep(scoped) if is_kept(stmt) else scoped  # kept as long as its statement is


def _leading_froms(stmt: Any) -> list[Any]:
    """What a SELECT reads from before any join: its ``select_from()`` clauses and the tables
    of its columns. ``Select.get_final_froms()`` says the same but builds the ORM compile state
    to do it (7.5 ms for one ``select(Detainee)`` with its eager loads, on every query); these
    two attributes are what that state starts from."""
    if isinstance(stmt, Select):
        return [*stmt._from_obj, *stmt.columns_clause_froms]
    return list(getattr(stmt, "get_final_froms", list)())


def db_session() -> Session:
    return _db_module().session()


@functools.cache
def _db_module() -> Any:
    """``core.db``, imported on first use (it imports this module), then kept: an import
    statement in a function runs the import machinery on every call (a read asks twice)."""
    import core.db

    return core.db


def scoped_models() -> list[Any]:
    """Every mapped class that inherits :class:`EstablishmentScoped` (in any registry)."""
    found: list[Any] = []
    stack = list(EstablishmentScoped.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if inspect(cls, raiseerr=False) is not None and "__abstract__" not in cls.__dict__:
            found.append(cls)
    return found


@functools.cache
def _scoped_tables() -> dict[Any, Any]:
    """The table of each scoped model, and the model: what every scoped ``SELECT`` looks its
    FROM clauses up in (walking the subclasses cost a fifth of scoping a statement). Cleared
    when a scoped class is defined and whenever a mapper is configured."""
    return {model.__table__: model for model in scoped_models()}


@event.listens_for(Mapper, "mapper_configured")
def _mapping_changed(_mapper: Any, _cls: Any) -> None:
    _scoped_tables.cache_clear()


def install(session_class: type[Session] | Any) -> None:
    """Attach the scoping listener to a session class or sessionmaker (done by ``core.db``)."""
    if not event.contains(session_class, "do_orm_execute", _scope_select):
        event.listen(session_class, "do_orm_execute", _scope_select)


__all__ = [
    "EstablishmentScoped",
    "can_see_establishment",
    "ensure_in_scope",
    "establishment_ids",
    "install",
    "query_scope",
    "read_columns",
    "scope",
    "scoped_models",
    "scoped_statement",
    "unscoped",
]

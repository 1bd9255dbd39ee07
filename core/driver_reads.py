"""Kept reads sent to the driver: a statement built once (:func:`core.db.built_once`) is also
compiled once per database dialect, and each execution hands its SQL and parameters to the
driver's cursor on the session's connection.

Why: SQLAlchemy Core's execution of a compiled ``SELECT`` (the compiled-cache lookup, the
execution context, the parameters built again, the result's metadata) cost about as much
as psycopg's own work for the statement — 90 to 160 µs a statement on the profile page,
whose ten reads are ten such statements (``docs/performance.md``, "Kept reads sent to the
driver"). What stays the same:

- the SQL text and the parameters are SQLAlchemy's: compiled by the dialect, the bind
  processors applied, expanding ``IN`` lists that the statement carries (the scoping's
  establishment ids) expanded once;
- the transaction is the session's (the cursor belongs to ``Session.connection()``);
- the engine's ``before_cursor_execute`` / ``after_cursor_execute`` listeners see the
  statement, echo logs it, and a driver error is raised as SQLAlchemy raises it (wrapped,
  a lost connection invalidated; :func:`_sent`);
- rows are SQLAlchemy ``Row`` objects of a :class:`~sqlalchemy.engine.Result`, keyed by the
  same names and column objects, each value through the type's result processor.

Statement-level events (``before_execute``) do not fire for these reads. A statement that
cannot be sent this way — one whose ``IN`` list or other "post-compile" parameter the caller
supplies, one with execution options or a schema translation map, escaped parameter names —
is executed by SQLAlchemy as before (:func:`send` decides once per statement and dialect).
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Connection, Result
from sqlalchemy.engine.result import IteratorResult, SimpleResultMetaData

_KEPT: weakref.WeakSet[Any] = weakref.WeakSet()


def keep(stmt: Any) -> Any:
    """Mark ``stmt`` as kept for the process (never rebuilt): :func:`send` may compile it
    once and send it to the driver. Returns it."""
    _KEPT.add(stmt)
    return stmt


def is_kept(stmt: Any) -> bool:
    try:
        return stmt in _KEPT
    except TypeError:  # not weakly referenceable: never kept
        return False


class DriverRead:
    """One kept ``SELECT`` compiled for one dialect: its final SQL, the parameters it carries,
    what the caller's are turned into, and (after the first execution) its result metadata."""

    __slots__ = (
        "defaults",
        "fixed",
        "metadata",
        "positions",
        "processors",
        "result_columns",
        "sequence",
        "sql",
    )

    def __init__(self, compiled: Any, dialect: Any) -> None:
        values = compiled.construct_params({}, _check=False, escape_names=False)
        processors: dict[str, Callable[[Any], Any]] = dict(compiled._bind_processors)
        positions = compiled.positiontup if compiled.positional else None
        sql = compiled.string
        self.fixed: frozenset[str] = frozenset()
        if compiled.post_compile_params or compiled.literal_execute_params:
            expanded = compiled._process_parameters_for_postcompile(values)
            sql, values = expanded.statement, dict(expanded.parameters)
            processors.update(expanded.processors)
            positions = expanded.positiontup
            self.fixed = frozenset(
                b.key for b in (*compiled.post_compile_params, *compiled.literal_execute_params)
            )
        self.sql: str = sql
        self.defaults: dict[str, Any] = values
        self.processors = tuple(processors.items())
        self.positions: tuple[str, ...] | None = tuple(positions) if positions else None
        self.sequence = dialect.execute_sequence_format
        self.result_columns = compiled._result_columns
        self.metadata: SimpleResultMetaData | None = None

    def parameters(self, given: Mapping[str, Any]) -> Any:
        values = self.defaults.copy()
        values.update(given)
        for name, process in self.processors:
            if name in values:
                values[name] = process(values[name])
        if self.positions is None:
            return values
        return self.sequence([values[name] for name in self.positions])

    def result_metadata(self, description: Any, dialect: Any) -> SimpleResultMetaData:
        """The rows' keys (names and column objects, as a compiled statement's result has)
        and each column's result processor, for the type codes the driver described (the
        first execution's, kept)."""
        if self.metadata is not None:
            return self.metadata
        columns = self.result_columns
        if description is None or len(description) != len(columns):
            # not a statement whose columns SQLAlchemy knows: the driver's names, raw values
            names = [d[0] for d in description or ()]
            return SimpleResultMetaData(names)
        processors = [
            column.type._cached_result_processor(dialect, described[1])
            for column, described in zip(columns, description, strict=True)
        ]
        self.metadata = SimpleResultMetaData(
            [column.keyname for column in columns],
            extra=[column.objects for column in columns],
            _processors=processors if any(processors) else None,
        )
        return self.metadata


@functools.lru_cache(maxsize=4096)
def _plan(stmt: Any, dialect: Any) -> DriverRead | None:
    """How ``stmt`` is sent on ``dialect``, or ``None`` when SQLAlchemy must send it."""
    if not isinstance(stmt, Select) or stmt._execution_options:
        return None
    compiled: Any = stmt.compile(dialect=dialect)
    if (
        compiled.escaped_bind_names
        or compiled.schema_translate_map
        or compiled.has_out_parameters
        or compiled.insert_prefetch
        or compiled.update_prefetch
    ):
        return None
    for bind in (*compiled.post_compile_params, *compiled.literal_execute_params):
        if bind.required or bind.callable is not None or bind.value is None:
            return None  # the caller gives the list: expanded on each execution
    for bind, name in compiled.bind_names.items():
        if bind.key != name and (bind.required or bind.callable is not None):
            return None  # a caller's value that SQLAlchemy would rename
    return DriverRead(compiled, dialect)


def send(conn: Connection, stmt: Any, params: Mapping[str, Any]) -> Result[Any]:
    """Execute ``stmt`` with ``params`` on ``conn`` (the session's connection): through the
    driver when the statement is kept and can be, through SQLAlchemy otherwise."""
    plan = _plan(stmt, conn.dialect) if is_kept(stmt) else None
    if (
        plan is None
        or (plan.fixed and not plan.fixed.isdisjoint(params))
        or conn.dialect._has_events  # a dialect's do_execute listener: SQLAlchemy calls it
    ):
        return conn.execute(stmt, params)
    sql, parameters = plan.sql, plan.parameters(params)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        return _sent(conn, cursor, plan, sql, parameters)
    finally:
        cursor.close()


def _sent(conn: Any, cursor: Any, plan: DriverRead, sql: str, parameters: Any) -> Result[Any]:
    """What ``Connection`` does around a cursor's execution, in its order: the
    ``before_cursor_execute`` listeners (which may change the SQL), echo, the driver's
    execute, ``after_cursor_execute`` (rows not fetched yet), then the rows. A driver error,
    or an interruption, goes through ``Connection._handle_dbapi_exception`` (wrapped in
    SQLAlchemy's class, a lost connection invalidated); any other error is raised as is, as
    SQLAlchemy's own execution raises it."""
    listened = conn._has_events or conn.engine._has_events
    if listened:
        for fn in conn.dispatch.before_cursor_execute:
            sql, parameters = fn(conn, cursor, sql, parameters, None, False)
    if conn._echo:
        conn._log_info(sql)
        conn._log_parameters(parameters, "raw sql", ismulti=False)
    driver_error = conn.dialect.loaded_dbapi.Error
    try:
        conn.dialect.do_execute(cursor, sql, parameters, None)
        if listened:
            conn.dispatch.after_cursor_execute(conn, cursor, sql, parameters, None, False)
        rows = cursor.fetchall()
    except Exception as exc:
        if isinstance(exc, driver_error):
            conn._handle_dbapi_exception(exc, sql, parameters, cursor, None)
        raise
    except BaseException as exc:  # interrupted: the connection's state is unknown
        conn._handle_dbapi_exception(exc, sql, parameters, cursor, None)
        raise
    # psycopg builds ``cursor.description`` (an object a column) each time it is asked: only
    # the first execution reads it
    metadata = plan.metadata or plan.result_metadata(cursor.description, conn.dialect)
    return IteratorResult(metadata, iter(rows))


__all__ = ["DriverRead", "is_kept", "keep", "send"]

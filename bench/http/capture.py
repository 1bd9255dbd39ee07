"""SQL capture of one real request, and the replay rules the bare twin applies.

A :class:`Recorder` listens to an app's engine (``before_cursor_execute`` /
``after_cursor_execute``, ``commit``, ``rollback``, and the pool's ``checkout``, which is where
``pool_pre_ping`` sends its ``SELECT 1``) while a request runs through Flask's test client.
What it keeps, in order: every DBAPI statement exactly as the driver received it (text and
parameters, ``executemany`` or not) with the rows it returned, and the transaction boundaries.

Replaying a capture for another request (another detainee, slot, token…) maps values:

- *request variables* (the registration number in the URL, the slot in the body, the SHA-256 of
  the bearer token, the ``Idempotency-Key``): the captured value becomes the new request's;
- *identifiers read from the database*: a value that a captured statement returned in an
  ``id`` or ``…_id`` column becomes what the same statement returned in the replay, at the same
  row and column, wherever it is used later as a parameter;
- *values generated per request* (references, receipt numbers, timestamps): found by comparing
  two captures of the same path; the replay draws a fresh value of the same shape (same length
  and character classes; a timestamp moved by the time elapsed since the capture). The same
  comparison finds constants that merely equal a returned value: those are never mapped.

Everything else is sent as captured.
"""

from __future__ import annotations

import datetime as dt
import random
import string
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

# events: ("ping",) | ("sql", statement, parameters, executemany, id rows, id column indexes) |
# ("commit",) | ("rollback",)
Event = tuple[Any, ...]


@dataclass
class Capture:
    name: str
    events: list[Event]
    variables: dict[str, Any]
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    at: dt.datetime
    # (event index, parameter key) -> kind of fresh value ("str", "datetime")
    fresh: dict[tuple[int, Any], str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def statements(self) -> int:
        return sum(1 for e in self.events if e[0] == "sql")

    @property
    def transactions(self) -> int:
        return sum(1 for e in self.events if e[0] in ("commit", "rollback"))


class Recorder:
    """Records what one engine sends to the database while :meth:`recording` is active."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.engine = engine
        self.events: list[Event] | None = None
        self._pending: list[Any] = []
        pre_ping = bool(getattr(engine.pool, "_pre_ping", False))

        @event.listens_for(engine, "before_cursor_execute")
        def _before(conn: Any, cursor: Any, statement: str, params: Any, ctx: Any, many: bool):
            if self.events is not None:
                # an "insertmanyvalues" batch (INSERT … VALUES (…), (…) RETURNING) is flagged
                # executemany but sent as one statement with one set of parameters
                many = many and not isinstance(params, dict)
                self._pending.append((statement, _copy(params), many))

        @event.listens_for(engine, "after_cursor_execute")
        def _after(conn: Any, cursor: Any, statement: str, params: Any, ctx: Any, many: bool):
            if self.events is None or not self._pending:
                return
            stmt, p, m = self._pending.pop()
            rows, idx = None, ()
            description = getattr(cursor, "description", None)
            if not m and description is not None:
                idx = id_columns([d[0] for d in description])
                rows = _peek_rows(cursor, idx) if idx else None
            self.events.append(("sql", stmt, p, m, rows, idx))

        @event.listens_for(engine, "commit")
        def _commit(conn: Any) -> None:
            if self.events is not None:
                self.events.append(("commit",))

        @event.listens_for(engine, "rollback")
        def _rollback(conn: Any) -> None:
            if self.events is not None:
                self.events.append(("rollback",))

        if pre_ping:

            @event.listens_for(engine.pool, "checkout")
            def _checkout(dbapi_conn: Any, record: Any, proxy: Any) -> None:
                if self.events is not None:
                    self.events.append(("ping",))

    @contextmanager
    def recording(self) -> Iterator[list[Event]]:
        self.events = []
        self._pending = []
        try:
            yield self.events
        finally:
            self.events = None


def _copy(params: Any) -> Any:
    if isinstance(params, dict):
        return dict(params)
    if isinstance(params, (list, tuple)):
        return type(params)(_copy(p) if isinstance(p, (dict, list, tuple)) else p for p in params)
    return params


def id_columns(names: list[str]) -> tuple[int, ...]:
    """The columns whose values are mapped on replay: identifiers (``id``, ``…_id``) only, so
    that an amount or a count never stands for another value that happens to be equal."""
    return tuple(i for i, n in enumerate(names) if n == "id" or n.endswith("_id"))


def project(rows: list[Any], idx: tuple[int, ...]) -> list[tuple[Any, ...]]:
    return [tuple(r[i] for i in idx) for r in rows]


def _peek_rows(cursor: Any, idx: tuple[int, ...]) -> list[tuple[Any, ...]] | None:
    """The id columns of the rows of a client-side cursor, which is then rewound for SQLAlchemy
    (psycopg); ``None`` where the driver cannot rewind (SQLite: no rows recorded there)."""
    scroll = getattr(cursor, "scroll", None)
    if scroll is None or not hasattr(cursor, "pgresult"):
        return None
    try:
        rows = project(cursor.fetchall(), idx)
        scroll(0, mode="absolute")
    except Exception:  # a server-side cursor or a driver without rewinding
        return None
    return rows


# --------------------------------------------------------------------------------------------
# replay rules
# --------------------------------------------------------------------------------------------


def _hashable(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return False
    try:
        hash(value)
    except TypeError:
        return False
    return True


#: results longer than this are paired by position (see Mapper._pairs)
_PAIRED_ROWS = 16


class Mapper:
    """The value map of one replay: request variables, then what the database returned."""

    def __init__(self, captured_vars: dict[str, Any], new_vars: dict[str, Any]) -> None:
        self.map: dict[Any, Any] = {}
        for key, old in captured_vars.items():
            new = new_vars.get(key, old)
            if _hashable(old) and old != new:
                self.map[old] = new

    def value(self, v: Any) -> Any:
        if not self.map or not _hashable(v):
            return v
        return self.map.get(v, v)

    def params(self, params: Any, fresh: Callable[[Any, Any, Any], Any] | None = None) -> Any:
        if isinstance(params, dict):
            if fresh is None:
                return {k: self.value(v) for k, v in params.items()}
            return {k: fresh(k, v, self.value(v)) for k, v in params.items()}
        if isinstance(params, (list, tuple)):
            if params and isinstance(params[0], (dict, list, tuple)):  # executemany
                return [self.params(p) for p in params]
            if fresh is None:
                return type(params)(self.value(v) for v in params)
            return type(params)(fresh(i, v, self.value(v)) for i, v in enumerate(params))
        return params

    def learn(self, captured_rows: list[tuple[Any, ...]] | None, rows: list[Any] | None) -> None:
        if not captured_rows or not rows:
            return
        for old_row, new_row in self._pairs(captured_rows, rows):
            for old, new in zip(old_row, new_row, strict=False):
                if _hashable(old) and old != new:
                    self.map[old] = new

    def _pairs(self, captured_rows: list[Any], rows: list[Any]) -> list[tuple[Any, Any]]:
        """Which replayed row stands for which captured one. One row each: that one. Several:
        each captured row with the replayed row that agrees with it on the most columns
        (captured values mapped as known so far), the nearest position breaking ties — rows
        locked ``ORDER BY id`` come back in another order when the replay's own row (a
        detainee's account) has an id on the other side of a shared one (the establishment's
        ledger row): paired by position, the twin posted to the wrong account."""
        by_position = list(zip(captured_rows, rows, strict=False))
        if len(captured_rows) == 1 or len(captured_rows) != len(rows):
            return by_position
        # the usual case, cheap to see: each row where it was (a GET replayed exactly, a
        # write whose rows came back in the captured order); a long result is left by
        # position too (pairing is quadratic: the families' page reads 150 slots)
        if len(rows) > _PAIRED_ROWS or all(
            old[0] == new[0] or self.value(old[0]) == new[0] for old, new in by_position
        ):
            return by_position
        free = list(range(len(rows)))
        pairs = []
        for i, old_row in enumerate(captured_rows):
            mapped = [self.value(v) for v in old_row]

            def score(j: int, mapped: list[Any] = mapped, i: int = i) -> tuple[int, int]:
                same = sum(1 for a, b in zip(mapped, rows[j], strict=False) if a == b)
                return (same, -abs(j - i))

            best = max(free, key=score)
            free.remove(best)
            pairs.append((old_row, rows[best]))
        return pairs


_CLASSES = (string.digits, string.ascii_uppercase, string.ascii_lowercase)


def fresh_value(kind: str, captured: Any, at: dt.datetime, rng: random.Random) -> Any:
    if kind == "const":
        return captured
    if kind == "datetime" and isinstance(captured, dt.datetime):
        now = dt.datetime.now(captured.tzinfo or None)
        ref = at if captured.tzinfo else at.replace(tzinfo=None)
        return captured + (now - ref)
    if kind == "str" and isinstance(captured, str):
        out = []
        for ch in captured:
            pool = next((c for c in _CLASSES if ch in c), None)
            out.append(rng.choice(pool) if pool else ch)
        return "".join(out)
    return captured


def find_fresh(a: Capture, b: Capture) -> None:
    """Mark on ``a`` the parameters that neither request variables nor database values explain:
    replaying ``a`` with ``b``'s variables and ``b``'s rows must give ``b``'s parameters."""
    a_sql = [(i, e) for i, e in enumerate(a.events) if e[0] == "sql"]
    b_sql = [e for e in b.events if e[0] == "sql"]
    if [e[1] for _i, e in a_sql] != [e[1] for e in b_sql]:
        a.notes.append(
            f"two captures issued different statements ({len(a_sql)} and {len(b_sql)}); "
            "the first is replayed as it is"
        )
        return
    mapper = Mapper(a.variables, b.variables)
    for (i, ea), eb in zip(a_sql, b_sql, strict=True):
        _tag, _stmt, pa, many, rows_a, _idx = ea
        pb, rows_b = eb[2], eb[4]
        predicted = mapper.params(pa)
        if not many and isinstance(pa, dict) and isinstance(pb, dict):
            for k, v in pa.items():
                if predicted.get(k) != pb.get(k):
                    if v == pb.get(k):  # the same in both: a constant a result happened to hold
                        a.fresh[(i, k)] = "const"
                    elif isinstance(v, dt.datetime):
                        a.fresh[(i, k)] = "datetime"
                    elif isinstance(v, str):
                        a.fresh[(i, k)] = "str"
                    else:
                        a.notes.append(f"statement {i}: parameter {k} not explained")
        mapper.learn(rows_a, rows_b)

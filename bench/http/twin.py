"""The bare twins: plain Flask apps replaying the SQL the real path issued.

    BENCH_TWIN_CAPTURES=<pickle file> BENCH_TWIN_DSN=postgresql://…?application_name=…
    BENCH_TWIN_LAYER=psycopg|sqlalchemy gunicorn -w 2 'bench.http.twin:create()'

For every request the twin finds the capture of its path (GET: the exact URL captured; POST:
the path's one capture, its request variables taken from this request), sends the captured
statements in order — same text, parameters mapped by :class:`bench.http.capture.Mapper`,
fresh values where the capture found generated ones — fetches every row, commits or rolls back
where the real request did, sends a ``SELECT 1`` where the real request's pool pre-pinged, and
answers with the captured status, headers and body (request variables substituted in it).

What sends the statements is the *layer* (``BENCH_TWIN_LAYER``; :func:`replay` is the same
for both):

- ``psycopg`` (the default, the label ``twin``): ONE psycopg connection kept per worker
  process, a cursor per request, ``cursor.execute`` / ``executemany``. Nothing between Flask
  and the driver: the stricter ceiling.
- ``sqlalchemy`` (the label ``twin_sa``): the issue's twin, "a bare Flask + SQLAlchemy twin
  issuing the same SQL statements". One ``create_engine`` per worker process
  (``postgresql+psycopg``, the default QueuePool, no pre-ping), per request a connection
  checked out (``with engine.connect()``: pool checkout, check-in and its reset), every
  statement through ``Connection.exec_driver_sql`` (SQLAlchemy Core's execution context and
  result objects, rows turned to tuples), commits and rollbacks through the connection. No
  ORM, no SQL compilation (the text is the driver's, as captured).

Neither twin has sessions, authentication or permission logic beyond that SQL, or templates:
the body is a static one, the captured bytes ("a page of the same size"). Rendering a
constant template of that size instead would add a few tens of microseconds per request,
nothing that moves the ratios.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import random
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bench.http.capture import Capture, Mapper, fresh_value, project

LAYERS = ("psycopg", "sqlalchemy")
# POST paths: (name, path pattern) — the variables come from the request itself
WRITES: list[tuple[str, re.Pattern[str]]] = [
    ("booking", re.compile(r"^/api/v1/visits/bookings$")),
    ("deposit", re.compile(r"^/api/v1/funds/accounts/(?P<rn>[^/]+)/deposits$")),
]
SKIP_HEADERS = {"content-length", "date", "server", "connection", "transfer-encoding"}


def bearer_hash(auth: str) -> str | None:
    if not auth.lower().startswith("bearer "):
        return None
    return hashlib.sha256(auth[7:].strip().encode()).hexdigest()


def write_variables(name: str, match: re.Match[str], headers: Any, body: bytes) -> dict[str, Any]:
    """The request variables of a write, the same for the capture and the twin."""
    out: dict[str, Any] = {"token_hash": bearer_hash(headers.get("Authorization", ""))}
    data = json.loads(body or b"{}")
    if name == "booking":
        out["slot_id"] = int(data["slot_id"])
        out["rn"] = data["detainee"]
    elif name == "deposit":
        out["rn"] = match.group("rn")
        out["idempotency_key"] = headers.get("Idempotency-Key")
    return out


# --------------------------------------------------------------------------------------------
# layers: what sends one request's statements (a sync worker serves one request at a time)
# --------------------------------------------------------------------------------------------


class PsycopgLayer:
    """One psycopg connection kept per worker process, a cursor per request."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.conn: Any = None
        self.cur: Any = None

    @contextmanager
    def request(self) -> Iterator[PsycopgLayer]:
        import psycopg

        if self.conn is None or self.conn.closed:
            self.conn = psycopg.connect(self.dsn)
        self.cur = self.conn.cursor()
        try:
            yield self
        except Exception:
            self.conn.rollback()
            raise
        finally:
            self.cur.close()
            self.cur = None

    def execute(self, stmt: str, params: Any, many: bool) -> list[Any] | None:
        if many:
            self.cur.executemany(stmt, params)
            return None
        self.cur.execute(stmt, params)
        return self.cur.fetchall() if self.cur.description is not None else None

    def commit(self) -> None:
        self.conn.commit()

    def rollback(self) -> None:
        self.conn.rollback()

    def ping(self) -> None:
        self.cur.execute("SELECT 1")
        self.cur.fetchall()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def sqlalchemy_url(dsn: str) -> Any:
    """The twin's DSN (``postgresql://…``, its query kept: ``application_name``) for the
    psycopg 3 driver of SQLAlchemy."""
    from sqlalchemy.engine import make_url

    url = make_url(dsn)
    return url.set(drivername="postgresql+psycopg") if "+" not in url.drivername else url


class SQLAlchemyLayer:
    """One SQLAlchemy engine per worker process (default QueuePool, no pre-ping); per request
    a pooled connection, every statement through ``exec_driver_sql``."""

    def __init__(self, dsn: str) -> None:
        from sqlalchemy import create_engine

        self.engine = create_engine(sqlalchemy_url(dsn))
        self.conn: Any = None

    @contextmanager
    def request(self) -> Iterator[SQLAlchemyLayer]:
        with self.engine.connect() as conn:
            self.conn = conn
            try:
                yield self
            except Exception:
                conn.rollback()
                raise
            finally:
                self.conn = None

    def execute(self, stmt: str, params: Any, many: bool) -> list[Any] | None:
        if params is None:  # as psycopg's cursor.execute(stmt, None): no placeholders parsed
            result = self.conn.exec_driver_sql(stmt, execution_options={"no_parameters": True})
        elif not many and isinstance(params, list):  # positional, one row (a list is many)
            result = self.conn.exec_driver_sql(stmt, tuple(params))
        else:
            result = self.conn.exec_driver_sql(stmt, params)
        if not result.returns_rows:
            return None
        rows = [tuple(r) for r in result.fetchall()]
        return None if many else rows

    def commit(self) -> None:
        self.conn.commit()

    def rollback(self) -> None:
        self.conn.rollback()

    def ping(self) -> None:
        self.conn.exec_driver_sql("SELECT 1").fetchall()

    def close(self) -> None:
        self.engine.dispose()


def make_layer(name: str, dsn: str) -> PsycopgLayer | SQLAlchemyLayer:
    if name == "psycopg":
        return PsycopgLayer(dsn)
    if name == "sqlalchemy":
        return SQLAlchemyLayer(dsn)
    raise ValueError(f"BENCH_TWIN_LAYER={name!r}: one of {', '.join(LAYERS)}")


# --------------------------------------------------------------------------------------------
# the replay and the answer, the same for both layers
# --------------------------------------------------------------------------------------------


def replay(
    layer: PsycopgLayer | SQLAlchemyLayer,
    cap: Capture,
    variables: dict[str, Any],
    rng: random.Random,
) -> None:
    """Send ``cap``'s statements for a request whose variables are ``variables``."""
    mapper = Mapper(cap.variables, variables)
    with layer.request() as db:
        for i, ev in enumerate(cap.events):
            tag = ev[0]
            if tag == "sql":
                _t, stmt, params, many, rows, idx = ev
                fresh = None
                if cap.fresh:

                    def fresh(key: Any, raw: Any, mapped: Any, i: int = i) -> Any:
                        kind = cap.fresh.get((i, key))
                        return fresh_value(kind, raw, cap.at, rng) if kind else mapped

                got = db.execute(stmt, mapper.params(params, fresh), many)
                if got is not None and rows:
                    mapper.learn(rows, project(got, idx))
            elif tag == "commit":
                db.commit()
            elif tag == "rollback":
                db.rollback()
            elif tag == "ping":
                db.ping()


def answer_parts(cap: Capture, variables: dict[str, Any]) -> tuple[bytes, list[tuple[str, str]]]:
    """The body (request variables substituted) and the headers the twin answers with."""
    body = cap.body
    for key, old in cap.variables.items():
        new = variables.get(key)
        if isinstance(old, str) and isinstance(new, str) and old != new and key != "q":
            body = body.replace(old.encode(), new.encode())
    return body, [(k, v) for k, v in cap.headers if k.lower() not in SKIP_HEADERS]


def create() -> Any:
    from flask import Flask, Response, request

    with open(os.environ["BENCH_TWIN_CAPTURES"], "rb") as fh:
        captures: dict[str, Capture] = pickle.load(fh)
    layer_name = os.environ.get("BENCH_TWIN_LAYER", "psycopg")
    layer = make_layer(layer_name, os.environ["BENCH_TWIN_DSN"])
    rng = random.Random()
    app = Flask(f"idmaj-twin-{layer_name}")

    def answer(cap: Capture, variables: dict[str, Any]) -> Response:
        body, headers = answer_parts(cap, variables)
        resp = Response(body, status=cap.status)
        resp.headers.clear()
        for k, v in headers:
            resp.headers.add(k, v)
        return resp

    @app.route("/", defaults={"path": ""}, methods=["GET", "POST"])
    @app.route("/<path:path>", methods=["GET", "POST"])
    def any_path(path: str) -> Any:
        if request.method == "GET":
            cap = captures.get("GET " + request.full_path.rstrip("?"))
            if cap is None:
                return Response("not captured\n", status=404)
            replay(layer, cap, cap.variables, rng)
            return answer(cap, cap.variables)
        for name, pattern in WRITES:
            match = pattern.match(request.path)
            if match and name in captures:
                cap = captures[name]
                variables = write_variables(name, match, request.headers, request.get_data())
                replay(layer, cap, variables, rng)
                return answer(cap, variables)
        return Response("not captured\n", status=404)

    return app

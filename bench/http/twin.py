"""The bare twin: plain Flask + psycopg, replaying the SQL the real path issued.

    gunicorn -w 2 'bench.http.twin:create()'   (BENCH_TWIN_CAPTURES=<pickle file>)

For every request it finds the capture of its path (GET: the exact URL captured; POST: the
path's one capture, its request variables taken from this request), then on ONE psycopg
connection per worker process sends the captured statements in order — same text, parameters
mapped by :class:`bench.http.capture.Mapper`, fresh values where the capture found generated
ones — fetches every row, commits or rolls back where the real request did, and answers with
the captured status, headers and body (request variables substituted in the body). No ORM, no
templates, no sessions: what is left is the database work and HTTP, the ceiling of the path.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import random
import re
from typing import Any

from bench.http.capture import Capture, Mapper, fresh_value, project

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


def create() -> Any:
    import psycopg
    from flask import Flask, Response, request

    with open(os.environ["BENCH_TWIN_CAPTURES"], "rb") as fh:
        captures: dict[str, Capture] = pickle.load(fh)
    dsn = os.environ["BENCH_TWIN_DSN"]
    rng = random.Random()
    state: dict[str, Any] = {"conn": None}
    app = Flask("idmaj-twin")

    def connection() -> Any:
        conn = state["conn"]
        if conn is None or conn.closed:
            conn = state["conn"] = psycopg.connect(dsn)
        return conn

    def replay(cap: Capture, variables: dict[str, Any]) -> None:
        conn = connection()
        mapper = Mapper(cap.variables, variables)
        cur = conn.cursor()
        try:
            for i, ev in enumerate(cap.events):
                tag = ev[0]
                if tag == "sql":
                    _t, stmt, params, many, rows, idx = ev
                    fresh = None
                    if cap.fresh:

                        def fresh(key: Any, raw: Any, mapped: Any, i: int = i) -> Any:
                            kind = cap.fresh.get((i, key))
                            return fresh_value(kind, raw, cap.at, rng) if kind else mapped

                    new = mapper.params(params, fresh)
                    if many:
                        cur.executemany(stmt, new)
                    else:
                        cur.execute(stmt, new)
                        if cur.description is not None:
                            got = cur.fetchall()
                            if rows:
                                mapper.learn(rows, project(got, idx))
                elif tag == "commit":
                    conn.commit()
                elif tag == "rollback":
                    conn.rollback()
                elif tag == "ping":
                    cur.execute("SELECT 1")
                    cur.fetchall()
        except Exception:
            conn.rollback()
            raise
        finally:
            cur.close()

    def answer(cap: Capture, variables: dict[str, Any]) -> Response:
        body = cap.body
        for key, old in cap.variables.items():
            new = variables.get(key)
            if isinstance(old, str) and isinstance(new, str) and old != new and key != "q":
                body = body.replace(old.encode(), new.encode())
        resp = Response(body, status=cap.status)
        resp.headers.clear()
        for k, v in cap.headers:
            if k.lower() not in SKIP_HEADERS:
                resp.headers.add(k, v)
        return resp

    @app.route("/", defaults={"path": ""}, methods=["GET", "POST"])
    @app.route("/<path:path>", methods=["GET", "POST"])
    def any_path(path: str) -> Any:
        if request.method == "GET":
            cap = captures.get("GET " + request.full_path.rstrip("?"))
            if cap is None:
                return Response("not captured\n", status=404)
            replay(cap, cap.variables)
            return answer(cap, cap.variables)
        for name, pattern in WRITES:
            match = pattern.match(request.path)
            if match and name in captures:
                cap = captures[name]
                variables = write_variables(name, match, request.headers, request.get_data())
                replay(cap, variables)
                return answer(cap, variables)
        return Response("not captured\n", status=404)

    return app

"""``Idempotency-Key`` support for API writes: a retried request replays the first result.

Put :func:`idempotent` *under* :func:`core.api.toolkit.endpoint` (so it runs inside the
request's single transaction, after authentication)::

    @bp.post("/funds/accounts/<rn>/deposits")
    @endpoint("Deposit money", body=DepositIn, status=201, permission="funds.write")
    @idempotent
    def deposit(rn: str, body: DepositIn, user: User): ...

Semantics, per user and per ``METHOD path``:

- no header: the endpoint runs as usual;
- a new key: the key row is inserted *first*, then the endpoint runs, then its response
  (status and JSON body) is stored on the row; all of it commits together (``@endpoint``
  commits once), so an error rolls the key back as well and the client may retry;
- the same key and the same body again: the stored response is returned (same status, same
  body, header ``Idempotent-Replayed: true``) and the endpoint does not run — no money moves;
- the same key with a different body: 409 ``idempotency_key_reused``;
- concurrent retries of one key: the unique constraint ``(user_id, scope, key)`` makes the
  second insert (``ON CONFLICT DO NOTHING``) wait for the first transaction; once it commits,
  the second request writes nothing and replays its response (if it rolled back, the second
  runs). Should the stored key be missing after all, the answer is 409
  ``idempotency_in_progress`` (retry later) — never a 500, never a second execution.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, request
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from core.api.models import IdempotencyKey
from core.db import insert_loaded
from core.db import session as db_session
from core.errors import Conflict, Malformed

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200


def request_fingerprint() -> str:
    """SHA-256 of the request body, canonical when it is JSON (key order and spacing ignored)."""
    raw = request.get_data(cache=True)
    try:
        canonical = json.dumps(
            json.loads(raw), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = raw
    return hashlib.sha256(canonical).hexdigest()


def _header_key() -> str | None:
    if HEADER not in request.headers:
        return None
    key = request.headers.get(HEADER, "").strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
        raise Malformed(
            ngettext(
                "The Idempotency-Key header must be 1 to %(num)d printable character.",
                "The Idempotency-Key header must be 1 to %(num)d printable characters.",
                MAX_KEY_LENGTH,
            ),
            code="bad_idempotency_key",
            fields={HEADER: _("This value has the wrong format.")},
        )
    return key


def _status_of_endpoint() -> int:
    view = current_app.view_functions.get(request.endpoint or "")
    spec = getattr(view, "api_spec", None)
    return int(getattr(spec, "status", 200))


def _replay(row: IdempotencyKey, fingerprint: str) -> Response:
    if row.request_hash != fingerprint:
        raise Conflict(
            _("This Idempotency-Key was already used for a different request."),
            code="idempotency_key_reused",
            fields={HEADER: _("Use a new key for a new request.")},
        )
    if row.response_status is None:
        raise Conflict(
            _("A request with this Idempotency-Key is still being processed; retry later."),
            code="idempotency_in_progress",
        )
    resp = current_app.json.response(row.response_body)
    resp.status_code = row.response_status
    resp.headers["Idempotent-Replayed"] = "true"
    return resp


def _find(user_id: int, scope: str, key: str) -> IdempotencyKey | None:
    return db_session().scalar(
        select(IdempotencyKey)
        .where(
            IdempotencyKey.user_id == user_id,
            IdempotencyKey.scope == scope,
            IdempotencyKey.key == key,
        )
        .execution_options(populate_existing=True)
    )


def run_idempotent(user: Any, produce: Callable[[], Any], *, status: int | None = None) -> Any:
    """Run ``produce()`` under the request's ``Idempotency-Key`` (if any) for ``user``.

    ``produce`` returns a dict/list (sent with ``status``, default: the endpoint's declared
    status) or a :class:`flask.Response` with a JSON body. Returns what ``@endpoint`` accepts.
    """
    key = _header_key()
    if key is None or user is None:
        return produce()
    scope = f"{request.method} {request.path}"[:300]
    fingerprint = request_fingerprint()
    sess = db_session()
    row = IdempotencyKey(key=key, user_id=user.id, scope=scope, request_hash=fingerprint)
    # one INSERT … ON CONFLICT DO NOTHING (not a read, a savepoint and a flush): a key already
    # stored writes nothing; a key another request is writing makes this insert wait on the
    # unique index until that transaction ends — then nothing is written if it committed
    if not insert_loaded(sess, row, unless_duplicate=True):
        existing = _find(user.id, scope, key)
        if existing is None:  # stored when the insert looked, gone now (purged): retry
            raise Conflict(
                _("A request with this Idempotency-Key is still being processed; retry later."),
                code="idempotency_in_progress",
            )
        return _replay(existing, fingerprint)
    result = produce()
    if isinstance(result, Response):
        resp = result
    else:
        resp = current_app.json.response(result)
        resp.status_code = status or _status_of_endpoint()
    row.response_status = resp.status_code
    row.response_body = resp.get_json(silent=True)
    sess.flush()
    return resp


def idempotent(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator form of :func:`run_idempotent` for an ``@endpoint`` handler (placed under it)."""

    @functools.wraps(fn)
    def wrapper(**kwargs: Any) -> Any:
        return run_idempotent(kwargs.get("user"), lambda: fn(**kwargs))

    wrapper.idempotent = True  # type: ignore[attr-defined]
    return wrapper


__all__ = ["HEADER", "IdempotencyKey", "idempotent", "request_fingerprint", "run_idempotent"]

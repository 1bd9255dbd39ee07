"""The sign-in throttle: counters in the database, shared by every worker and every host.

Three things are counted, each in fixed windows (``core_sign_in_counters``):

* ``pair/<limit>:<account>|<address>`` — **failed** guesses of one account from one client address:
  ``LOGIN_RATE_LIMIT`` (10 a minute, 50 an hour) then a hard 429 until the window ends;
* ``addr/<limit>:<address>`` — **every** attempt from one address, whatever the account:
  ``LOGIN_ADDRESS_RATE_LIMIT`` (100 a minute, 1000 an hour; password spraying);
* ``acct:<account>`` — failed guesses of one account from **any** address. Past
  ``LOGIN_ACCOUNT_DELAY_AFTER`` of them (in ``LOGIN_ACCOUNT_WINDOW_SECONDS``) each further
  failure makes the account wait: 1 second, then 2, 4, 8… up to ``LOGIN_ACCOUNT_MAX_DELAY``
  seconds. A stranger can slow an account down, never lock it for good; a successful sign-in
  clears it.

A guess is *reserved* before the password is checked (one conditional ``UPDATE``: the count
goes up only while it is under the limit, so two workers racing cannot both take the last
one) and given back when the password was right. The sign-in page, ``POST /api/v1/auth/token``
and the current password of ``/account/password`` share the counters. Views call
:func:`begin`, commit, check the password, then :func:`failed` or :func:`succeeded` and commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
from dataclasses import dataclass, field

from flask import current_app, request
from flask_babel import gettext as _
from limits import parse_many
from sqlalchemy import case, delete, literal, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from core.db import UTCDateTime, utcnow
from core.db import session as db_session
from core.errors import TooManyRequests
from core.identity.models import SignInCounter

ACCOUNT_KEY_LENGTH = 80
ADDRESS_KEY_LENGTH = 64


def _now() -> dt.datetime:
    """The clock of the throttle (tests move it forward)."""
    return utcnow()


def enabled() -> bool:
    from core.security import limiter

    return bool(limiter.enabled)


def account_key(username: str) -> str:
    """What an account is counted under: a keyed hash of the name as :func:`find_user` reads
    it, never the name itself — a password typed in the username box must not be stored."""
    name = (username or "").strip().lower()[:ACCOUNT_KEY_LENGTH]
    secret = str(current_app.config.get("SECRET_KEY") or "").encode()
    return hmac.new(secret, b"sign-in:" + name.encode(), hashlib.sha256).hexdigest()


def client_address() -> str:
    return (request.remote_addr or "unknown")[:ADDRESS_KEY_LENGTH]


def _windows(setting: str) -> list[tuple[int, int]]:
    """``"10 per minute; 50 per hour"`` → ``[(60, 10), (3600, 50)]``."""
    return [
        (item.get_expiry(), item.amount) for item in parse_many(str(current_app.config[setting]))
    ]


def _too_many(retry_after: float) -> TooManyRequests:
    return TooManyRequests(
        _("Too many attempts. Please wait a moment and try again."),
        retry_after=math.ceil(retry_after),
    )


@dataclass
class Attempt:
    """The guesses :func:`begin` reserved, to give back after a right password."""

    account: str
    address: str
    reserved: list[tuple[str, int]] = field(default_factory=list)
    active: bool = True


def _insert(sess: Session) -> type:
    return pg_insert if sess.get_bind().dialect.name == "postgresql" else sqlite_insert  # type: ignore[return-value]


def _add(sess: Session, key: str, window: int, limit: int | None, now: dt.datetime) -> bool:
    """Count one more in ``(key, window)`` unless it already holds ``limit``; a window past
    its end starts again at 1. One conditional statement: safe between workers."""
    table = SignInCounter
    ended = table.expires_at <= now
    new_end = literal(now + dt.timedelta(seconds=window), UTCDateTime())
    room = true() if limit is None else or_(ended, table.count < limit)
    stmt = (
        update(table)
        .where(table.key == key, table.window_seconds == window, room)
        .values(
            count=case((ended, 1), else_=table.count + 1),
            expires_at=case((ended, new_end), else_=table.expires_at),
            blocked_until=case((ended, None), else_=table.blocked_until),
        )
        .execution_options(synchronize_session=False)
    )
    for _attempt in range(2):
        if sess.execute(stmt).rowcount:  # type: ignore[attr-defined]
            return True
        inserted = sess.execute(
            _insert(sess)(table)
            .values(
                key=key,
                window_seconds=window,
                count=1,
                expires_at=now + dt.timedelta(seconds=window),
            )
            .on_conflict_do_nothing()
            .returning(table.key)
        )
        if inserted.first() is not None:  # (rowcount is not reliable here on PostgreSQL)
            return True
    return False


def _give_back(sess: Session, key: str, window: int, now: dt.datetime) -> None:
    table = SignInCounter
    sess.execute(
        update(table)
        .where(
            table.key == key,
            table.window_seconds == window,
            table.count > 0,
            table.expires_at > now,
        )
        .values(count=table.count - 1)
        .execution_options(synchronize_session=False)
    )


def _seconds_left(sess: Session, key: str, window: int, now: dt.datetime) -> float:
    end = sess.scalar(
        select(SignInCounter.expires_at).where(
            SignInCounter.key == key, SignInCounter.window_seconds == window
        )
    )
    return max(1.0, (end - now).total_seconds()) if end else 1.0


def _account_window() -> int:
    return int(current_app.config["LOGIN_ACCOUNT_WINDOW_SECONDS"])


def begin(username: str, address: str | None = None) -> Attempt:
    """Reserve one guess of ``username`` from ``address`` (the request's client address), or
    raise :class:`TooManyRequests` (429, with the seconds to wait)."""
    account = account_key(username)
    address = address if address is not None else client_address()
    attempt = Attempt(account=account, address=address, active=enabled())
    if not attempt.active:
        return attempt
    sess = db_session()
    now = _now()
    blocked = sess.scalar(
        select(SignInCounter.blocked_until).where(
            SignInCounter.key == f"acct:{account}",
            SignInCounter.window_seconds == _account_window(),
            SignInCounter.expires_at > now,
        )
    )
    if blocked is not None and blocked > now:
        raise _too_many((blocked - now).total_seconds())
    # the limit is part of the key: a changed setting starts counters of its own
    wanted = [(f"pair/{n}:{account}|{address}", w, n) for w, n in _windows("LOGIN_RATE_LIMIT")]
    wanted += [(f"addr/{n}:{address}", w, n) for w, n in _windows("LOGIN_ADDRESS_RATE_LIMIT")]
    for key, window, limit in wanted:
        if not _add(sess, key, window, limit, now):
            wait = _seconds_left(sess, key, window, now)
            for done_key, done_window in attempt.reserved:
                _give_back(sess, done_key, done_window, now)
            raise _too_many(wait)
        attempt.reserved.append((key, window))
    # every attempt from an address counts; only failures count against an account
    attempt.reserved = [(k, w) for k, w in attempt.reserved if k.startswith("pair/")]
    if now.second == 0 and now.microsecond < 20000:  # now and then, forget finished windows
        sess.execute(delete(SignInCounter).where(SignInCounter.expires_at < now))
    return attempt


def failed(attempt: Attempt) -> None:
    """The password was wrong: the reserved guesses stay spent, and the account's own count
    goes up — past ``LOGIN_ACCOUNT_DELAY_AFTER`` it now waits (doubling each time)."""
    if not attempt.active:
        return
    sess = db_session()
    now = _now()
    key, window = f"acct:{attempt.account}", _account_window()
    _add(sess, key, window, None, now)
    count = sess.scalar(
        select(SignInCounter.count).where(
            SignInCounter.key == key, SignInCounter.window_seconds == window
        )
    )
    after = int(current_app.config["LOGIN_ACCOUNT_DELAY_AFTER"])
    if count is not None and count >= after:
        delay = min(2 ** min(count - after, 30), int(current_app.config["LOGIN_ACCOUNT_MAX_DELAY"]))
        sess.execute(
            update(SignInCounter)
            .where(SignInCounter.key == key, SignInCounter.window_seconds == window)
            .values(blocked_until=now + dt.timedelta(seconds=delay))
            .execution_options(synchronize_session=False)
        )


def succeeded(attempt: Attempt) -> None:
    """The password was right: give the reserved guesses back and clear the account's delay."""
    if not attempt.active:
        return
    sess = db_session()
    now = _now()
    for key, window in attempt.reserved:
        _give_back(sess, key, window, now)
    sess.execute(delete(SignInCounter).where(SignInCounter.key == f"acct:{attempt.account}"))


def reset() -> None:
    """Forget every sign-in counter of this app's database (tests, ``limiter.reset()``)."""
    db_session().execute(delete(SignInCounter))

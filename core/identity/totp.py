"""A second factor for staff: time-based one-time codes (TOTP, RFC 6238, with ``pyotp``).

A staff member enrols on ``/account/two-factor``: a new secret is shown (as text, as an
``otpauth://`` URI and as a QR code drawn on the server), and the enrolment counts once the
first code from the authenticator app is given back. From then on signing in asks for a code
after the password (the page in a second step; the API as ``otp`` in
``POST /api/v1/auth/token``). Central administration can require a second factor for chosen
roles (:func:`set_required_roles`); holders of such a role who have none are sent to enrol.

Codes are six digits, 30-second steps, one step of clock drift either side; a code (a time
step) already accepted is refused (``last_step``, moved forward by a conditional ``UPDATE``, so
two requests racing with one code cannot both pass). The secret is sealed in the database with
a key derived from ``SECRET_KEY`` (HMAC-SHA256 as a stream cipher with a random nonce, and a
tag): a copy of the database alone does not give the secrets. Changing ``SECRET_KEY`` therefore
voids every enrolment (the staff enrol again).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from collections.abc import Iterable

import pyotp
from flask import current_app, g, has_app_context
from flask_babel import gettext as _
from sqlalchemy import or_, select, update

from core.audit import services as audit
from core.db import session as db_session
from core.db import utcnow
from core.errors import Forbidden, NotFound, Unauthorized, ValidationFailed
from core.identity.models import Role, SecondFactor, User
from core.identity.passwords import verify_password
from core.identity.roles import role_registry
from core.principals import Principal, is_system

ISSUER = "Idmaj"
STEP_SECONDS = 30
DRIFT_STEPS = 1
CODE_MAX_LENGTH = 12


# --------------------------------------------------------------------------------------------
# sealing the secret
# --------------------------------------------------------------------------------------------


def _key(purpose: bytes) -> bytes:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, b"idmaj-totp-" + purpose, hashlib.sha256).digest()


def _stream(nonce: bytes, length: int) -> bytes:
    key, out, counter = _key(b"enc"), b"", 0
    while len(out) < length:
        out += hmac.new(key, nonce + counter.to_bytes(4, "big"), hashlib.sha256).digest()
        counter += 1
    return out[:length]


def seal(secret: str) -> str:
    nonce = os.urandom(16)
    data = secret.encode()
    body = nonce + bytes(a ^ b for a, b in zip(data, _stream(nonce, len(data)), strict=True))
    tag = hmac.new(_key(b"tag"), body, hashlib.sha256).digest()[:16]
    return "v1:" + base64.urlsafe_b64encode(body + tag).decode()


def unseal(sealed: str) -> str | None:
    """The secret, or ``None`` when it was sealed under another ``SECRET_KEY`` (or altered)."""
    try:
        raw = base64.urlsafe_b64decode(sealed.removeprefix("v1:").encode())
    except ValueError:
        return None
    body, tag = raw[:-16], raw[-16:]
    if not hmac.compare_digest(tag, hmac.new(_key(b"tag"), body, hashlib.sha256).digest()[:16]):
        return None
    nonce, data = body[:16], body[16:]
    return bytes(a ^ b for a, b in zip(data, _stream(nonce, len(data)), strict=True)).decode()


# --------------------------------------------------------------------------------------------
# state
# --------------------------------------------------------------------------------------------


def _forget_principals() -> None:
    """This request's principal caches are stale (other processes see the new stamps)."""
    from core.identity.principal_cache import forget_request_principals

    if has_app_context():
        forget_request_principals()


def _record(user: User) -> SecondFactor | None:
    return db_session().get(SecondFactor, user.id)


def has_second_factor(user: User) -> bool:
    """Whether the user signs in with a code (an enrolment confirmed by a first code).

    The request's principal brings the answer from its snapshot when a role requires one
    (:mod:`core.identity.principal_cache`)."""
    known = g.get("_second_factor_on_cache") if has_app_context() else None
    if known is not None and user.id in known:
        return bool(known[user.id])
    record = _record(user)
    return record is not None and record.confirmed_at is not None


def required_roles() -> set[str]:
    return set(db_session().scalars(select(Role.code).where(Role.requires_second_factor)))


def second_factor_required(user: User) -> bool:
    """Whether one of the user's roles requires a second factor (central administration).

    The request's principal brings the answer from its snapshot
    (:mod:`core.identity.principal_cache`); others are asked of the database."""
    known = g.get("_second_factor_cache") if has_app_context() else None
    if known is not None and user.id in known:
        return bool(known[user.id])
    roles = sorted(user.roles)
    if not roles:
        return False
    return (
        db_session().scalar(
            select(Role.code).where(Role.code.in_(roles), Role.requires_second_factor).limit(1)
        )
        is not None
    )


def must_enrol(user: User) -> bool:
    return second_factor_required(user) and not has_second_factor(user)


def _require_staff(user: User) -> None:
    if not user.is_staff:
        raise Forbidden(_("You are not allowed to do this."))


def _clean(code: str | None) -> str:
    return "".join((code or "").split())[:CODE_MAX_LENGTH]


def _step_of(secret: str, code: str, after: int | None) -> int | None:
    """The time step (within the drift allowed) whose code is ``code`` and comes after
    ``after``; ``None`` if there is none."""
    if not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    now = int(_clock() // STEP_SECONDS)
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if (after is None or step > after) and hmac.compare_digest(
            totp.at(step * STEP_SECONDS), code
        ):
            return step
    return None


def _clock() -> float:
    """The clock codes are checked against (tests move it)."""
    return time.time()


# --------------------------------------------------------------------------------------------
# enrolment
# --------------------------------------------------------------------------------------------


def start_enrolment(user: User) -> str:
    """A new secret for the user, waiting for its first code; an existing confirmed second
    factor must be turned off first."""
    _require_staff(user)
    record = _record(user)
    if record is not None and record.confirmed_at is not None:
        raise ValidationFailed(
            _("A second factor is already on. Turn it off first."), code="otp_already_on"
        )
    secret = pyotp.random_base32()
    if record is None:
        db_session().add(SecondFactor(user_id=user.id, secret=seal(secret)))
    else:
        record.secret, record.created_at, record.last_step = seal(secret), utcnow(), None
    db_session().flush()
    _forget_principals()
    return secret


def pending_secret(user: User) -> str | None:
    """The secret of an enrolment waiting for its first code (to show it again)."""
    record = _record(user)
    if record is None or record.confirmed_at is not None:
        return None
    return unseal(record.secret)


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(
        name=user.username, issuer_name=ISSUER
    )


def confirm_enrolment(user: User, code: str) -> None:
    """The first code from the authenticator app: the second factor is on."""
    _require_staff(user)
    record = _record(user)
    secret = unseal(record.secret) if record is not None else None
    if record is None or record.confirmed_at is not None or secret is None:
        raise NotFound(_("Start the set-up again."))
    step = _step_of(secret, _clean(code), None)
    if step is None:
        raise ValidationFailed(
            _("Please correct the highlighted fields."),
            fields={"otp": _("This code is wrong or has expired.")},
            code="invalid_otp",
        )
    record.confirmed_at, record.last_step = utcnow(), step
    db_session().flush()
    _forget_principals()
    audit.record("user.second_factor.enable", "user", user.id, actor=user)


def disable(user: User, password: str) -> None:
    """Turn the second factor off: the password is asked again."""
    record = _record(user)
    if record is None:
        raise NotFound(_("Not found."))
    if not verify_password(user.password_hash, password):
        raise ValidationFailed(
            _("Please correct the highlighted fields."),
            fields={"password": _("The current password is wrong.")},
            code="wrong_current_password",
        )
    confirmed = record.confirmed_at is not None
    db_session().delete(record)
    db_session().flush()
    _forget_principals()
    if confirmed:
        audit.record("user.second_factor.disable", "user", user.id, actor=user)


# --------------------------------------------------------------------------------------------
# sign-in
# --------------------------------------------------------------------------------------------


def check_code(user: User, code: str | None) -> None:
    """Accept the code of a user with a second factor, once: raise :class:`Unauthorized`
    ``otp_required`` without a code, ``invalid_otp`` for a wrong, expired or reused one."""
    record = _record(user)
    if record is None or record.confirmed_at is None:
        return
    code = _clean(code)
    if not code:
        raise Unauthorized(_("Enter the code from your authenticator app."), code="otp_required")
    secret = unseal(record.secret)
    step = _step_of(secret, code, record.last_step) if secret else None
    if step is not None:
        moved = db_session().execute(
            update(SecondFactor)
            .where(
                SecondFactor.user_id == user.id,
                or_(SecondFactor.last_step.is_(None), SecondFactor.last_step < step),
            )
            .values(last_step=step)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount == 1:  # type: ignore[attr-defined]
            db_session().expire(record)
            return
    raise Unauthorized(_("This code is wrong or has expired."), code="invalid_otp")


# --------------------------------------------------------------------------------------------
# central administration's setting
# --------------------------------------------------------------------------------------------


def set_required_roles(roles: Iterable[str], actor: Principal) -> None:
    """Choose the roles whose holders must sign in with a second factor (central
    administration only; audited)."""
    if not is_system(actor) and "central_admin" not in getattr(actor, "roles", ()):
        raise Forbidden(_("You are not allowed to do this."))
    wanted = set(roles)
    registry = role_registry()
    unknown = sorted(r for r in wanted if r not in registry or not registry.is_staff(r))
    if unknown:
        raise ValidationFailed(
            _("Please correct the highlighted fields."),
            fields={"roles": _("Unknown role: %(roles)s", roles=", ".join(unknown))},
        )
    from core.identity.services import ensure_role_rows

    ensure_role_rows(wanted)
    before = required_roles()
    sess = db_session()
    sess.execute(update(Role).values(requires_second_factor=Role.code.in_(sorted(wanted))))
    sess.flush()
    _forget_principals()
    audit.record(
        "role.second_factor.require",
        "role",
        "*",
        summary={"added": sorted(wanted - before), "removed": sorted(before - wanted)},
        actor=actor,
    )

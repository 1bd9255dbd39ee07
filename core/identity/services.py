"""Identity and access rules: users, roles, permissions, sign-in and API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from flask import current_app
from flask.globals import _cv_app
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.audit import services as audit
from core.contributions import Permission
from core.db import session as db_session
from core.db import utcnow
from core.errors import Forbidden, NotFound, Unauthorized, ValidationFailed
from core.establishments.models import Establishment
from core.identity.models import (
    ALL_ESTABLISHMENT_ROLES,
    STAFF_ROLES,
    ApiToken,
    PermissionRecord,
    Role,
    RolePermission,
    User,
    UserEstablishment,
    UserRole,
)
from core.identity.passwords import hash_password, password_problem, verify_password
from core.identity.principal_cache import LAST_PERMISSIONS_KEY, forget_request_principals
from core.identity.privacy import normalise_phone
from core.identity.roles import role_registry
from core.plugins import collect
from core.principals import Principal, is_system
from core.validation import ascii_digits

# the core's roles only central administration may give, take away or manage (see
# protected_roles() for those of an app, plugins' public roles included)
PROTECTED_ROLES: frozenset[str] = ALL_ESTABLISHMENT_ROLES | {"director", "visitor"}


def protected_roles() -> frozenset[str]:
    """The roles of this app only central administration may give, take away or manage: the
    core's protected roles and every public (non-staff) role a plugin adds."""
    registry = role_registry()
    return PROTECTED_ROLES | registry.all_establishment_codes | registry.public_codes


def needs_establishment(roles: Iterable[str]) -> bool:
    """Whether a user with these roles must be given at least one establishment: any staff
    role that does not see every establishment."""
    registry = role_registry()
    return any(registry.is_staff(r) and r not in registry.all_establishment_codes for r in roles)


def ensure_role_rows(codes: Iterable[str], sess: Session | None = None) -> list[str]:
    """Insert the ``core_roles`` rows of ``codes`` not in the database yet (a plugin's roles,
    before the first ``idmaj db upgrade`` after it was installed); returns those added."""
    sess = sess or db_session()
    wanted = sorted(set(codes))
    known = set(sess.scalars(select(Role.code).where(Role.code.in_(wanted)))) if wanted else set()
    added = [code for code in wanted if code not in known]
    for code in added:
        sess.add(Role(code=code))
    if added:
        sess.flush()
    return added


def grant_staff_baseline(roles: Iterable[str], sess: Session | None = None) -> None:
    """Give staff roles new to the database (a plugin's) the staff baseline: the known
    permissions every core staff role holds by default (open the dashboard, see establishments
    and detainee records), so that a user holding only such a role can work at once."""
    sess = sess or db_session()
    registry = role_registry()
    staff = sorted({r for r in roles if registry.is_staff(r)})
    if not staff:
        return
    known = set(sess.scalars(select(PermissionRecord.code)))
    baseline = [
        p.code
        for p in declared_permissions()
        if p.code in known and set(STAFF_ROLES) <= set(p.default_roles)
    ]
    held = {
        (role, code)
        for role, code in sess.execute(
            select(RolePermission.role_code, RolePermission.permission_code).where(
                RolePermission.role_code.in_(staff)
            )
        )
    }
    for role in staff:
        for code in baseline:
            if (role, code) not in held:
                sess.add(RolePermission(role_code=role, permission_code=code))
    sess.flush()


USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{3,80}$")
NATIONAL_ID_RE = re.compile(r"^[A-Za-z]{1,2}[0-9]{1,8}$")


# --------------------------------------------------------------------------------------------
# Permissions
# --------------------------------------------------------------------------------------------


def declared_permissions() -> list[Permission]:
    """Every permission the core and the loaded plugins declare."""
    return collect("plugin_permissions")


def sync_permissions(sess: Session | None = None) -> int:
    """Make sure every role of the app (the core's and the plugins') and every declared
    permission exists in the database.

    A permission seen for the first time is granted to its default roles; permissions already
    known keep the grants an administrator gave them. A staff role seen for the first time (a
    plugin's) also starts with the staff baseline: the permissions every core staff role holds
    by default (open the dashboard, see establishments and detainee records). Returns the
    number of new permissions.
    """
    sess = sess or db_session()
    registry = role_registry()
    new_roles = ensure_role_rows(registry.codes, sess)
    known = set(sess.scalars(select(PermissionRecord.code)))
    added = 0
    for perm in declared_permissions():
        if perm.code in known:
            continue
        known.add(perm.code)
        sess.add(PermissionRecord(code=perm.code))
        sess.flush()
        for role in dict.fromkeys(perm.default_roles):
            if role in registry:
                sess.add(RolePermission(role_code=role, permission_code=perm.code))
        added += 1
    sess.flush()
    grant_staff_baseline(new_roles, sess)
    return added


def role_permissions(sess: Session | None = None) -> dict[str, set[str]]:
    sess = sess or db_session()
    grants: dict[str, set[str]] = {code: set() for code in role_registry().codes}
    for role, perm in sess.execute(
        select(RolePermission.role_code, RolePermission.permission_code)
    ):
        grants.setdefault(role, set()).add(perm)
    return grants


def _unproxied(user: Any) -> Any:
    """The object behind ``current_user``: every attribute read through Werkzeug's proxy
    looks the user up again (a page asks for permissions dozens of times)."""
    unwrap = getattr(user, "_get_current_object", None)
    return unwrap() if unwrap is not None else user


def permissions_of(user: Any) -> frozenset[str]:
    """The permissions a user holds through their roles (cached for the request);
    :data:`~core.principals.SYSTEM` holds every permission.

    A page asks a score of times for the same user (each panel, each ``can()``): the last
    answer is kept with the very object it was for (and its ``is_active``), and given again
    without the look-ups below."""
    ctx = _cv_app.get(None)  # the context itself, not ``g``'s proxy: asked a score of times
    if ctx is not None:
        last = ctx.g.__dict__.get(LAST_PERMISSIONS_KEY)
        if last is not None and last[0] is user and user.is_active:
            return last[1]  # type: ignore[no-any-return]
    user = _unproxied(user)
    if is_system(user):
        return frozenset(db_session().scalars(select(PermissionRecord.code)))
    if user is None or getattr(user, "is_anonymous", True) or not user.is_active:
        return frozenset()
    cache: dict[int, frozenset[str]] | None = (
        ctx.g.setdefault("_perm_cache", {}) if ctx is not None else None
    )
    if cache is not None and user.id in cache:
        perms = cache[user.id]
    else:
        roles = sorted(user.roles)
        if not roles:
            perms = frozenset()
        else:
            perms = frozenset(
                db_session().scalars(
                    select(RolePermission.permission_code).where(
                        RolePermission.role_code.in_(roles)
                    )
                )
            )
        if cache is not None:
            cache[user.id] = perms
    if ctx is not None:
        setattr(ctx.g, LAST_PERMISSIONS_KEY, (user, perms))
    return perms


def has_permission(user: Any, code: str) -> bool:
    if is_system(user):
        return True
    return code in permissions_of(user)


def require(user: Any, code: str) -> None:
    """Raise :class:`Forbidden` unless the principal holds ``code`` (nobody holds anything:
    ``None`` is refused; system work passes :data:`~core.principals.SYSTEM`)."""
    if not has_permission(user, code):
        raise Forbidden(_("You are not allowed to do this."))


def set_role_permissions(role: str, codes: Iterable[str], actor: User) -> None:
    """Replace the permissions a role holds (administrator's choice, audited)."""
    require(actor, "roles.manage")
    if role not in role_registry():
        raise NotFound(_("Unknown role."))
    sess = db_session()
    valid = set(sess.scalars(select(PermissionRecord.code)))
    wanted = set(codes)
    unknown = wanted - valid
    if unknown:
        raise ValidationFailed(_("Unknown permission."), fields={"permissions": sorted(unknown)})
    before = set(
        sess.scalars(select(RolePermission.permission_code).where(RolePermission.role_code == role))
    )
    sess.execute(delete(RolePermission).where(RolePermission.role_code == role))
    for code in sorted(wanted):
        sess.add(RolePermission(role_code=role, permission_code=code))
    sess.flush()
    forget_request_principals()
    audit.record(
        "role.permissions.update",
        "role",
        role,
        summary={"added": sorted(wanted - before), "removed": sorted(before - wanted)},
        actor=actor,
    )


# --------------------------------------------------------------------------------------------
# Users
# --------------------------------------------------------------------------------------------


def get_user(user_id: int) -> User | None:
    return db_session().get(User, user_id)


def find_user(username: str) -> User | None:
    return db_session().scalar(select(User).where(User.username == username.strip().lower()))


def _check_password_strength(
    password: str, field: str = "password", user_inputs: Iterable[str | None] = ()
) -> None:
    problem = password_problem(password, [v for v in user_inputs if v])
    if problem:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields={field: problem})


def _establishments_by_code(codes: Sequence[str]) -> list[Establishment]:
    if not codes:
        return []
    found = list(
        db_session().scalars(select(Establishment).where(Establishment.code.in_(list(codes))))
    )
    missing = sorted(set(codes) - {e.code for e in found})
    if missing:
        raise ValidationFailed(
            _("Please correct the highlighted fields."),
            fields={
                "establishments": _("Unknown establishment: %(codes)s", codes=", ".join(missing))
            },
        )
    return found


def create_user(
    *,
    username: str,
    password: str,
    full_name: str,
    roles: Sequence[str],
    establishments: Sequence[str] = (),
    actor: Principal,
    email: str | None = None,
    phone: str | None = None,
    national_id: str | None = None,
    locale: str | None = None,
) -> User:
    """Create a user: ``actor`` holds ``users.manage`` (the command line acts as
    :data:`~core.principals.SYSTEM`). A director may create users only for their own
    establishments and never an all-establishment role. Families register themselves through
    :func:`register_visitor`.
    """
    return _create_user(
        username=username,
        password=password,
        full_name=full_name,
        roles=roles,
        establishments=establishments,
        actor=actor,
        email=email,
        phone=phone,
        national_id=national_id,
        locale=locale,
    )


def _create_user(
    *,
    username: str,
    password: str,
    full_name: str,
    roles: Sequence[str],
    establishments: Sequence[str],
    actor: Principal | None,
    email: str | None,
    phone: str | None,
    national_id: str | None,
    locale: str | None,
) -> User:
    """Validate and insert a user. ``actor=None`` only for a family's self-registration
    (:func:`register_visitor`, roles ``["visitor"]``, nothing else): every other caller goes
    through :func:`create_user`, which requires an actor."""
    sess = db_session()
    username = (username or "").strip().lower()
    errors: dict[str, str] = {}
    if not USERNAME_RE.match(username):
        errors["username"] = _("Use 3 to 80 letters, digits, dots, dashes or underscores.")
    if not (full_name or "").strip():
        errors["full_name"] = _("This field is required.")
    if not roles:
        errors["roles"] = _("Choose at least one role.")
    registry = role_registry()
    bad_roles = [r for r in roles if r not in registry]
    if bad_roles:
        errors["roles"] = _("Unknown role: %(roles)s", roles=", ".join(bad_roles))
    problem = password_problem(
        password or "", [v for v in (username, full_name, national_id, phone, email) if v]
    )
    if problem:
        errors["password"] = problem
    if needs_establishment(roles) and not establishments:
        errors["establishments"] = _("A staff member needs at least one establishment.")
    try:
        phone = normalise_phone(phone, required=False) or None
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    ests = _establishments_by_code(establishments)

    if actor is None:
        if list(roles) != ["visitor"] or establishments:
            raise Forbidden(_("You are not allowed to do this."))
    elif not has_permission(actor, "users.manage"):
        raise Forbidden(_("You are not allowed to do this."))
    elif not is_system(actor) and "central_admin" not in actor.roles:
        own = {link.establishment_id for link in actor.establishment_links}
        if set(roles) & protected_roles() or not ests or any(e.id not in own for e in ests):
            raise Forbidden(_("You may only create users for your own establishment."))

    if sess.scalar(select(User.id).where(User.username == username)) is not None:
        raise ValidationFailed(
            _("Please correct the highlighted fields."),
            fields={"username": _("This username is already taken.")},
            code="username_taken",
        )
    # one visitor account per national identity card (issue 10 point 4): checked here for a
    # clear message, and by the unique column for two registrations racing
    family_id = ((national_id or "").strip().upper() or None) if "visitor" in roles else None
    if family_id is not None and (
        sess.scalar(select(User.id).where(User.visitor_national_id == family_id)) is not None
    ):
        raise _national_id_taken()
    user = User(
        username=username,
        password_hash=hash_password(password),
        full_name=full_name.strip(),
        email=email,
        phone=phone,
        national_id=(national_id or None),
        visitor_national_id=family_id,
        locale=locale,
    )
    grant_staff_baseline(ensure_role_rows(roles, sess), sess)
    user.role_links = [UserRole(role_code=r) for r in sorted(set(roles))]
    user.establishment_links = [UserEstablishment(establishment_id=e.id) for e in ests]
    try:
        with sess.begin_nested():
            sess.add(user)
            sess.flush()
    except IntegrityError as exc:
        # PostgreSQL names the constraint, SQLite the column
        if "visitor_national_id" not in str(exc.orig):
            raise
        raise _national_id_taken() from exc
    audit.record(
        "user.create",
        "user",
        user.id,
        establishment_id=ests[0].id if len(ests) == 1 else None,
        summary={
            "username": username,
            "roles": sorted(set(roles)),
            "establishments": [e.code for e in ests],
        },
        actor=actor,
    )
    return user


def _national_id_taken() -> ValidationFailed:
    """The same answer whoever holds the number: it names no account (docs/security.md)."""
    message = _(
        "This national identity card number already has a family account. Sign in to it (or "
        "reset its password); if it is not yours, contact the visits office."
    )
    return ValidationFailed(
        _("Please correct the highlighted fields."),
        fields={"national_id": message},
        code="national_id_taken",
    )


def register_visitor(
    *,
    username: str,
    password: str,
    full_name: str,
    national_id: str,
    phone: str,
    locale: str | None = None,
) -> User:
    """A family member registers themselves."""
    errors: dict[str, str] = {}
    national_id = ascii_digits(national_id or "").strip().upper()
    phone = ascii_digits(phone or "").strip()
    if not NATIONAL_ID_RE.match(national_id):
        errors["national_id"] = _("Enter the national identity card number, e.g. BE123456.")
    try:
        phone = normalise_phone(phone if isinstance(phone, str) else "")
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    return _create_user(
        username=username,
        password=password,
        full_name=full_name,
        roles=["visitor"],
        establishments=(),
        actor=None,  # the family member themselves, not yet a user
        email=None,
        national_id=national_id,
        phone=phone,
        locale=locale,
    )


def can_manage(actor: User | None, user: User) -> bool:
    """Whether ``actor`` may see and change ``user`` on the administration pages.

    Central administration manages everyone; a director manages the staff of their own
    establishments only: not visitors (no establishment), not other directors (nor
    themselves), not the all-establishment roles.
    """
    if actor is None or not has_permission(actor, "users.manage"):
        return False
    if "central_admin" in actor.roles:
        return True
    own = {link.establishment_id for link in actor.establishment_links}
    theirs = {link.establishment_id for link in user.establishment_links}
    return bool(theirs) and theirs <= own and not user.roles & protected_roles()


def update_user(
    user: User,
    actor: User,
    *,
    full_name: str | None = None,
    roles: Sequence[str] | None = None,
    establishments: Sequence[str] | None = None,
    is_active: bool | None = None,
) -> User:
    require(actor, "users.manage")
    before = {
        "full_name": user.full_name,
        "roles": sorted(user.roles),
        "establishments": [e.code for e in user.establishments],
        "is_active": user.is_active,
    }
    if not can_manage(actor, user):
        raise NotFound(_("Not found."))
    if user.id == actor.id and is_active is False:
        raise ValidationFailed(
            _("Please correct the highlighted fields."),
            fields={"is_active": _("You cannot deactivate your own account.")},
        )
    if full_name is not None:
        if not full_name.strip():
            raise ValidationFailed(
                _("Please correct the highlighted fields."),
                fields={"full_name": _("This field is required.")},
            )
        user.full_name = full_name.strip()
    if roles is not None:
        bad = [r for r in roles if r not in role_registry()]
        if bad or not roles:
            raise ValidationFailed(
                _("Please correct the highlighted fields."),
                fields={"roles": _("Choose at least one role.")},
            )
        if "central_admin" not in actor.roles and set(roles) & protected_roles():
            raise Forbidden(_("You are not allowed to do this."))
        grant_staff_baseline(ensure_role_rows(roles))
        user.role_links = [UserRole(role_code=r) for r in sorted(set(roles))]
    if establishments is not None:
        ests = _establishments_by_code(establishments)
        if "central_admin" not in actor.roles:
            own = {link.establishment_id for link in actor.establishment_links}
            if not ests or any(e.id not in own for e in ests):
                raise Forbidden(_("You may only create users for your own establishment."))
        user.establishment_links = [UserEstablishment(establishment_id=e.id) for e in ests]
    final_roles = set(roles) if roles is not None else set(user.roles)
    if needs_establishment(final_roles) and not user.establishment_links:
        raise ValidationFailed(
            _("Please correct the highlighted fields."),
            fields={"establishments": _("A staff member needs at least one establishment.")},
        )
    if is_active is not None and is_active != user.is_active:
        user.is_active = is_active
        if not is_active:
            revoke_all_sessions(user)
    db_session().flush()
    db_session().expire(user, ["establishments"])
    after = {
        "full_name": user.full_name,
        "roles": sorted(user.roles),
        "establishments": [e.code for e in user.establishments],
        "is_active": user.is_active,
    }
    audit.record(
        "user.update",
        "user",
        user.id,
        summary={k: [before[k], after[k]] for k in before if before[k] != after[k]},
        actor=actor,
    )
    forget_request_principals()
    return user


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not verify_password(user.password_hash, current_password):
        raise ValidationFailed(
            _("Please correct the highlighted fields."),
            fields={"current_password": _("The current password is wrong.")},
            code="wrong_current_password",
        )
    _check_password_strength(
        new_password,
        "new_password",
        (user.username, user.full_name, user.national_id, user.phone, user.email),
    )
    user.password_hash = hash_password(new_password)
    revoke_all_sessions(user)
    audit.record("user.password.change", "user", user.id, actor=user)


def end_portal_sessions(user: User) -> None:
    """End every portal session of the user (sign-out): each cookie carries the old version."""
    user.session_version += 1
    db_session().flush()


def revoke_all_sessions(user: User) -> None:
    """End every portal session and API token of the user (password change, deactivation)."""
    user.session_version += 1
    now = utcnow()
    for token in db_session().scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ):
        token.revoked_at = now
    db_session().flush()


def authenticate(username: str, password: str) -> User:
    """Check credentials; raise :class:`Unauthorized` with one message for every failure."""
    user = find_user(username or "")
    ok = verify_password(user.password_hash if user else None, password or "")
    if not ok or user is None or not user.is_active:
        raise Unauthorized(_("Wrong username or password."), code="invalid_credentials")
    if ok and user is not None:
        from core.identity.passwords import needs_rehash

        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


# --------------------------------------------------------------------------------------------
# API tokens
# --------------------------------------------------------------------------------------------


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User) -> tuple[str, ApiToken]:
    token = secrets.token_urlsafe(32)
    lifetime = current_app.config["API_TOKEN_LIFETIME_SECONDS"]
    record = ApiToken(
        user_id=user.id,
        token_hash=_token_digest(token),
        expires_at=utcnow() + dt.timedelta(seconds=lifetime),
    )
    db_session().add(record)
    db_session().flush()
    audit.record("api_token.issue", "user", user.id, summary={"token_id": record.id}, actor=user)
    return token, record


def user_for_token(token: str) -> User | None:
    """The user of a valid bearer token: unknown, revoked and expired tokens and deactivated
    users give ``None`` (read on every request: :mod:`core.identity.principal_cache`)."""
    from core.identity.principal_cache import token_principal

    return token_principal(_token_digest(token))


def revoke_token(token: str, actor: User | None = None) -> bool:
    record = db_session().scalar(
        select(ApiToken).where(ApiToken.token_hash == _token_digest(token))
    )
    if record is None or record.revoked_at is not None:
        return False
    record.revoked_at = utcnow()
    audit.record(
        "api_token.revoke", "user", record.user_id, summary={"token_id": record.id}, actor=actor
    )
    return True

"""Users, roles, permissions, establishment scopes and API tokens."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime, utcnow
from core.establishments.models import Establishment

# The core's role codes (interface.md). ``ALL_ESTABLISHMENT_ROLES`` see every establishment.
# Plugins add roles of their own (``plugin_roles``): code that lists or validates the roles of
# an app asks ``core.identity.roles.role_registry()``.
ROLES: tuple[str, ...] = (
    "central_admin",
    "director",
    "registry_clerk",
    "visits_officer",
    "doctor",
    "nurse",
    "accountant",
    "transfers_officer",
    "complaints_officer",
    "auditor",
    "visitor",
)
STAFF_ROLES: tuple[str, ...] = tuple(r for r in ROLES if r != "visitor")
ALL_ESTABLISHMENT_ROLES: frozenset[str] = frozenset({"central_admin", "auditor"})


def new_stamp() -> int:
    """A fresh principal stamp (random: a value a rolled-back transaction saw never returns)."""
    return secrets.randbits(62)


class PrincipalEpoch(Base):
    """One row (``id`` 1): its ``stamp`` changes whenever any role or role's permissions change
    (database triggers), which makes every worker reload the principals it has cached."""

    __tablename__ = "core_principal_epoch"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    stamp: Mapped[int] = mapped_column(BigInteger())


class Role(Base):
    __tablename__ = "core_roles"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    # central administration's choice: holders of this role must sign in with a second factor
    requires_second_factor: Mapped[bool] = mapped_column(default=False, server_default=false())


class PermissionRecord(Base):
    """A permission known to this database (so an administrator's removals are kept)."""

    __tablename__ = "core_permissions"

    code: Mapped[str] = mapped_column(String(80), primary_key=True)
    first_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RolePermission(Base):
    __tablename__ = "core_role_permissions"

    role_code: Mapped[str] = mapped_column(
        ForeignKey("core_roles.code", ondelete="CASCADE"), primary_key=True
    )
    permission_code: Mapped[str] = mapped_column(
        ForeignKey("core_permissions.code", ondelete="CASCADE"), primary_key=True
    )


class UserRole(Base):
    __tablename__ = "core_user_roles"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("core_users.id", ondelete="CASCADE"), primary_key=True
    )
    role_code: Mapped[str] = mapped_column(ForeignKey("core_roles.code"), primary_key=True)


class UserEstablishment(Base):
    __tablename__ = "core_user_establishments"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("core_users.id", ondelete="CASCADE"), primary_key=True
    )
    establishment_id: Mapped[int] = mapped_column(
        ForeignKey("core_establishments.id"), primary_key=True, index=True
    )


class User(Base):
    __tablename__ = "core_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200), default=None)
    phone: Mapped[str | None] = mapped_column(String(40), default=None)
    national_id: Mapped[str | None] = mapped_column(String(20), default=None, index=True)
    # a family account's national id again, unique: one visitor account per identity card
    # (issue 10 point 4); empty for staff accounts and for accounts that predate the rule and
    # shared a number with an older one
    visitor_national_id: Mapped[str | None] = mapped_column(String(20), default=None, unique=True)
    locale: Mapped[str | None] = mapped_column(String(8), default=None)
    is_active: Mapped[bool] = mapped_column(default=True)
    # bumped on logout and password change: every session cookie carrying an older value dies
    session_version: Mapped[int] = mapped_column(default=1)
    # a new random value whenever this row, the user's roles, establishments or second factor
    # change (database triggers, migration 0010): a worker's cached principal is used only
    # while it matches (core/identity/principal_cache.py)
    principal_stamp: Mapped[int | None] = mapped_column(BigInteger(), default=new_stamp)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)

    role_links: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    establishment_links: Mapped[list[UserEstablishment]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    establishments: Mapped[list[Establishment]] = relationship(
        secondary="core_user_establishments",
        viewonly=True,
        lazy="selectin",
        order_by="Establishment.code",
    )

    # --- Flask-Login protocol ------------------------------------------------------------
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    # --- roles --------------------------------------------------------------------------
    @property
    def roles(self) -> frozenset[str]:
        return frozenset(link.role_code for link in self.role_links)

    def has_role(self, *codes: str) -> bool:
        return bool(self.roles.intersection(codes))

    @property
    def is_staff(self) -> bool:
        """Holds a staff role: any but ``visitor`` and the public roles plugins add."""
        from core.identity.roles import role_registry

        registry = role_registry()
        return any(registry.is_staff(code) for code in self.roles)

    @property
    def is_visitor(self) -> bool:
        return "visitor" in self.roles

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class ApiToken(Base):
    """A bearer token: only its SHA-256 is stored; it expires and can be revoked."""

    __tablename__ = "core_api_tokens"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("core_users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)

    user: Mapped[User] = relationship(lazy="joined")


class SignInCounter(Base):
    """One fixed-window counter of the sign-in throttle (:mod:`core.identity.throttle`).

    Kept in the database so that every worker process (and every host) counts together.
    ``key`` names what is counted (``pair/10:<account>|<address>``, ``addr/100:<address>``,
    ``acct:<account>``), ``window_seconds`` the window's length; ``blocked_until`` is the end of
    an account's progressive delay.
    """

    __tablename__ = "core_sign_in_counters"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_seconds: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    blocked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)


class SecondFactor(Base):
    """A staff member's TOTP second factor (:mod:`core.identity.totp`).

    ``secret`` is sealed with the app's secret key; ``confirmed_at`` is empty while the
    enrolment waits for its first code; ``last_step`` is the last 30-second time step whose code
    was accepted — a code is never accepted twice.
    """

    __tablename__ = "core_second_factors"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("core_users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    secret: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_step: Mapped[int | None] = mapped_column(BigInteger(), default=None)

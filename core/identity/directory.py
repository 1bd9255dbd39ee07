"""The users page's list: staff accounts and family accounts apart, searchable, paged in SQL.

A central administrator sees every account; a director sees the staff of their own
establishments that they may manage (:func:`core.identity.services.can_manage`, written here as
SQL so that paging counts the right rows): accounts linked only to the director's
establishments and holding no protected role. Family accounts have no establishment: only the
central administration lists them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Select, and_, exists, func, not_, or_, select

from core.db import session as db_session
from core.identity.models import User, UserEstablishment, UserRole
from core.identity.roles import role_registry
from core.identity.services import protected_roles, require

Kind = Literal["staff", "family"]
MAX_QUERY = 100


@dataclass(frozen=True)
class UserPage:
    items: list[User]
    total: int
    page: int
    per_page: int
    staff_total: int
    family_total: int


def clean_query(raw: str | None) -> str:
    """A search box's text: no control characters, trimmed, at most :data:`MAX_QUERY`."""
    text = "".join(ch for ch in (raw or "") if unicodedata.category(ch) not in ("Cc", "Cs"))
    return " ".join(text.split())[:MAX_QUERY]


def _has_role(codes: frozenset[str] | tuple[str, ...]) -> object:
    return exists().where(UserRole.user_id == User.id, UserRole.role_code.in_(sorted(codes)))


def _visible(actor: User) -> Select[tuple[User]]:
    stmt = select(User)
    if "central_admin" in actor.roles:
        return stmt
    own = sorted({link.establishment_id for link in actor.establishment_links})
    linked_here = exists().where(
        UserEstablishment.user_id == User.id, UserEstablishment.establishment_id.in_(own)
    )
    linked_elsewhere = exists().where(
        UserEstablishment.user_id == User.id, UserEstablishment.establishment_id.not_in(own)
    )
    return stmt.where(
        linked_here, not_(linked_elsewhere), not_(_has_role(tuple(protected_roles())))
    )


def _matching(stmt: Select[tuple[User]], q: str) -> Select[tuple[User]]:
    for word in q.split():
        like = f"%{word.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(User.username).like(like),
                func.lower(User.full_name).like(like),
                func.lower(func.coalesce(User.national_id, "")).like(like),
                func.lower(func.coalesce(User.phone, "")).like(like),
            )
        )
    return stmt


def _count(stmt: Select[tuple[User]]) -> int:
    return int(db_session().scalar(select(func.count()).select_from(stmt.subquery())) or 0)


def list_users(actor: User, kind: Kind, q: str = "", page: int = 1, per_page: int = 50) -> UserPage:
    """One page of the accounts ``actor`` may manage, of one kind, matching every word of ``q``
    (username, name, national id or phone), by username."""
    require(actor, "users.manage")
    staff = _has_role(role_registry().staff_codes)
    family = and_(_has_role(tuple(role_registry().public_codes)), not_(staff))
    base = _matching(_visible(actor), clean_query(q))
    staff_stmt, family_stmt = base.where(staff), base.where(family)
    chosen = staff_stmt if kind == "staff" else family_stmt
    items = db_session().scalars(
        chosen.order_by(User.username).limit(per_page).offset((page - 1) * per_page)
    )
    staff_total, family_total = _count(staff_stmt), _count(family_stmt)
    return UserPage(
        items=list(items),
        total=staff_total if kind == "staff" else family_total,
        page=page,
        per_page=per_page,
        staff_total=staff_total,
        family_total=family_total,
    )

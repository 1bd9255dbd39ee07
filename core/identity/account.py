"""A user's own account: edit their name and phone, download what is held about them, and —
for a family account — close it (issue 10 point 3; Moroccan law 09-08 on personal data).

What is erased and what is kept on closing is described in ``docs/security.md``
("Families own their data"). Modules take part through two hooks: ``user_data_export``
(their sections of the download) and ``user_account_closing`` (they anonymise what they hold).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import delete, or_, select

from core.audit import services as audit
from core.audit.models import AuditEvent
from core.contributions import DataSection
from core.db import session as db_session
from core.db import utcnow
from core.errors import Forbidden, ValidationFailed
from core.identity.models import ApiToken, User
from core.identity.passwords import verify_password
from core.identity.privacy import normalise_phone
from core.identity.roles import role_label
from core.notifications.models import OutboxMessage
from core.plugins import collect, hook

# the username a closed account keeps: "~" is refused in usernames, so nobody can take it
TOMBSTONE_PREFIX = "~closed-"
# a password hash no password matches (argon2 refuses it as a hash)
CLOSED_PASSWORD_HASH = "!closed"
# how many of the most recent audit events about the user the download lists
ACTIVITY_LIMIT = 1000


def tombstone(user: User) -> str:
    return f"{TOMBSTONE_PREFIX}{user.id}"


def is_closed(user: User) -> bool:
    return user.username.startswith(TOMBSTONE_PREFIX)


def can_close(user: User) -> bool:
    """Only a family account closes itself; staff accounts are ended by the administration
    (deactivation), whose records of their work must stay attributable."""
    return user.is_visitor and not user.is_staff and not is_closed(user)


# --------------------------------------------------------------------------------------------
# Editing one's name and phone
# --------------------------------------------------------------------------------------------


def update_profile(user: User, *, full_name: str | None = None, phone: str | None = None) -> User:
    """The user changes their own full name and phone number (stored in E.164). A family
    account must keep a phone number (the office's way to reach them); a staff member may
    leave it empty. Audited as ``user.profile.update`` with the names of the fields changed,
    never their values (the trail cannot be erased later)."""
    if is_closed(user) or not user.is_active:
        raise Forbidden(_("You are not allowed to do this."))
    errors: dict[str, str] = {}
    new_name = user.full_name
    if full_name is not None:
        new_name = " ".join(full_name.split())
        if not new_name:
            errors["full_name"] = _("This field is required.")
        elif len(new_name) > 200:
            errors["full_name"] = ngettext(
                "At most %(num)d character.", "At most %(num)d characters.", 200
            )
    new_phone = user.phone
    if phone is not None:
        try:
            new_phone = normalise_phone(phone, required=user.is_visitor) or None
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    changed = [
        name
        for name, old, new in (
            ("full_name", user.full_name, new_name),
            ("phone", user.phone, new_phone),
        )
        if old != new
    ]
    user.full_name = new_name
    user.phone = new_phone
    db_session().flush()
    if changed:
        audit.record(
            "user.profile.update", "user", user.id, summary={"fields": changed}, actor=user
        )
    return user


# --------------------------------------------------------------------------------------------
# Downloading what is held
# --------------------------------------------------------------------------------------------


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _actor_label(event: AuditEvent, user: User) -> str:
    """Who acted, as the user may learn it: themselves, a member of staff (not named), or the
    platform."""
    if event.actor_id == user.id:
        return _("You")
    return _("Staff") if event.actor_id is not None else _("System")


def _core_sections(user: User) -> list[DataSection]:
    sess = db_session()
    profile = DataSection(
        key="account.profile",
        title=_("Your account"),
        columns=(
            ("username", _("Username")),
            ("full_name", _("Full name")),
            ("phone", _("Phone number")),
            ("email", _("Email")),
            ("national_id", _("National identity card number")),
            ("language", _("Language")),
            ("roles", _("Roles")),
            ("establishments", _("Establishments")),
            ("active", _("Active")),
            ("created_at", _("Created")),
            ("last_login_at", _("Last sign-in")),
        ),
        rows=(
            {
                "username": user.username,
                "full_name": user.full_name,
                "phone": user.phone or "",
                "email": user.email or "",
                "national_id": user.national_id or "",
                "language": user.locale or "",
                "roles": ", ".join(sorted(role_label(r) for r in user.roles)),
                "establishments": ", ".join(e.code for e in user.establishments),
                "active": user.is_active,
                "created_at": _iso(user.created_at),
                "last_login_at": _iso(user.last_login_at),
            },
        ),
        note=_("Your password is stored only as an argon2id hash, which nobody can read back."),
        order=0,
    )
    tokens = DataSection(
        key="account.api_tokens",
        title=_("Application sign-ins (API tokens)"),
        columns=(
            ("created_at", _("Created")),
            ("expires_at", _("Expires")),
            ("revoked_at", _("Revoked")),
            ("last_used_at", _("Last used")),
        ),
        rows=tuple(
            {
                "created_at": _iso(t.created_at),
                "expires_at": _iso(t.expires_at),
                "revoked_at": _iso(t.revoked_at),
                "last_used_at": _iso(t.last_used_at),
            }
            for t in sess.scalars(
                select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
            )
        ),
        note=_("Only a fingerprint of each token is stored; the token itself cannot be shown."),
        order=10,
    )
    messages = DataSection(
        key="account.messages",
        title=_("Messages sent to you"),
        columns=(
            ("created_at", _("Created")),
            ("channel", _("Channel")),
            ("recipient", _("Sent to")),
            ("subject", _("Subject")),
            ("body", _("Message")),
            ("sent_at", _("Sent")),
        ),
        rows=tuple(
            {
                "created_at": _iso(m.created_at),
                "channel": m.channel,
                "recipient": m.recipient,
                "subject": m.subject,
                "body": m.body,
                "sent_at": _iso(m.sent_at),
            }
            for m in sess.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.user_id == user.id)
                .order_by(OutboxMessage.id)
            )
        ),
        order=20,
    )
    events = list(
        sess.scalars(
            select(AuditEvent)
            .where(
                or_(
                    AuditEvent.actor_id == user.id,
                    (AuditEvent.object_type == "user") & (AuditEvent.object_id == str(user.id)),
                )
            )
            .order_by(AuditEvent.id.desc())
            .limit(ACTIVITY_LIMIT)
        )
    )
    activity = DataSection(
        key="account.activity",
        title=_("Activity on your account"),
        columns=(
            ("occurred_at", _("When")),
            ("action", _("Action")),
            ("by", _("By")),
            ("object", _("Record")),
            ("ip", _("Address")),
        ),
        rows=tuple(
            {
                "occurred_at": _iso(e.occurred_at),
                "action": e.action,
                "by": _actor_label(e, user),
                "object": f"{e.object_type}:{e.object_id}" if e.object_id else e.object_type,
                # an address is shown only for what the user did themselves
                "ip": e.ip if e.actor_id == user.id else "",
            }
            for e in events
        ),
        note=ngettext(
            "The most recent event. Staff members who acted on your account are not named; "
            "the office can tell you who, on request.",
            "The most recent %(num)d events. Staff members who acted on your account are not "
            "named; the office can tell you who, on request.",
            ACTIVITY_LIMIT,
        ),
        order=90,
    )
    return [profile, tokens, messages, activity]


def export_sections(user: User) -> list[DataSection]:
    """Every section of what the application holds about ``user``: the core's and each
    module's (``user_data_export``), in order. Audited as ``user.data.export``."""
    sections = _core_sections(user) + collect("user_data_export", user=user)
    sections.sort(key=lambda s: (s.order, s.key))
    audit.record(
        "user.data.export",
        "user",
        user.id,
        summary={"sections": [s.key for s in sections]},
        actor=user,
    )
    return sections


def export_json(user: User) -> dict[str, Any]:
    """The download as JSON: ``{"generated_at", "user_id", "sections": {key: [rows]}}``."""
    sections = export_sections(user)
    return {
        "generated_at": utcnow().isoformat(),
        "user_id": user.id,
        "sections": {s.key: [dict(row) for row in s.rows] for s in sections},
        "notes": {s.key: s.note for s in sections if s.note},
    }


# --------------------------------------------------------------------------------------------
# Closing a family account
# --------------------------------------------------------------------------------------------


def close_account(user: User, password: str) -> None:
    """Close a family account after checking its password.

    In one transaction: every module anonymises what it holds (``user_account_closing``);
    the messages addressed to the user are deleted; the user's name, username, phone, email,
    national identity number and language are erased (the username becomes a tombstone
    nobody can register), the password can no longer match, the account is deactivated and
    every session and API token ends. The audit trail is append-only and kept: its earlier
    events still carry the former username. Audited as ``user.account.close``.
    """
    from core.identity.services import revoke_all_sessions

    if not can_close(user):
        raise Forbidden(
            _(
                "Only a family account can be closed here; staff accounts are closed by "
                "the administration."
            )
        )
    if not verify_password(user.password_hash, password or ""):
        raise ValidationFailed(
            _("Please correct the highlighted fields."),
            fields={"password": _("The password is wrong.")},
        )
    sess = db_session()
    hook().user_account_closing(user=user)
    sess.execute(delete(OutboxMessage).where(OutboxMessage.user_id == user.id))
    user.username = tombstone(user)
    user.full_name = tombstone(user)
    user.phone = None
    user.email = None
    user.national_id = None
    user.visitor_national_id = None  # the card may register a new family account
    user.locale = None
    user.password_hash = CLOSED_PASSWORD_HASH
    user.is_active = False
    revoke_all_sessions(user)
    sess.flush()
    audit.record("user.account.close", "user", user.id, actor=user)


__all__ = [
    "TOMBSTONE_PREFIX",
    "can_close",
    "close_account",
    "export_json",
    "export_sections",
    "is_closed",
    "tombstone",
    "update_profile",
]

"""The small frozen values that plugins hand to the core through hooks.

Hooks never return ad-hoc dicts: each kind of contribution is one of these dataclasses, so a
typo is an error at start-up rather than a silently missing menu entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

Area = Literal["staff", "public"]


@dataclass(frozen=True)
class Permission:
    """A permission a plugin declares, with the roles that hold it on a fresh install.

    ``code`` is ``"<plugin>.<action>"``; ``label`` is a lazy gettext string.
    An administrator may later change which roles hold it (``core_role_permissions``).
    """

    code: str
    label: Any
    default_roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class NavItem:
    """One entry of the portal's navigation.

    ``permission``: shown only to users holding it (``None``: any signed-in user of the area).
    ``area``: ``"staff"`` for the portal, ``"public"`` for the families' side.
    """

    endpoint: str
    label: Any
    order: int = 100
    permission: str | None = None
    area: Area = "staff"
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Widget:
    """A dashboard card: ``template`` is rendered with the keys of ``context`` as variables
    (and ``w``, the widget itself); ``title`` heads the card."""

    key: str
    title: Any
    template: str
    context: Mapping[str, Any] = field(default_factory=dict)
    order: int = 100


@dataclass(frozen=True)
class Panel:
    """A section of a detainee's profile page: ``template`` is included with the page's
    context, where ``det`` is the detainee and ``panel`` this panel (data in
    ``panel.context``)."""

    key: str
    title: Any
    template: str
    context: Mapping[str, Any] = field(default_factory=dict)
    order: int = 100


@dataclass(frozen=True)
class TranslationDomain:
    """A gettext domain: ``directory`` holds ``<locale>/LC_MESSAGES/<domain>.po``."""

    directory: str
    domain: str


@dataclass(frozen=True)
class MigrationBranch:
    """An Alembic script folder owned by one plugin.

    Its versions live in ``alembic_version_<name>``; autogenerate sees only tables whose name
    starts with ``table_prefix``.
    """

    name: str
    directory: str
    table_prefix: str


@dataclass(frozen=True)
class NotificationChannel:
    """A way to deliver an outbox message (log, SMS, e-mail…).

    ``send(message)`` receives a :class:`core.notifications.models.OutboxMessage` and raises on
    failure; the dispatcher records the error and retries later.
    """

    name: str
    send: Callable[[Any], None]
    order: int = 100


@dataclass(frozen=True)
class PeriodicTask:
    """Work the ``idmaj worker`` runs on a schedule (``plugin_periodic_tasks``).

    ``name`` is unique across plugins (``"<plugin>.<what>"``). ``every`` is a
    :class:`datetime.timedelta` of whole minutes (``timedelta(minutes=5)``; runs when the
    minutes since the epoch are a multiple of it) or a cron-like string of five fields, UTC
    (``"30 2 * * *"``: 02:30 every day). ``run()`` takes no argument; it runs inside an app
    context as :data:`core.principals.SYSTEM`, and the worker commits its session afterwards
    (rolls back if it raises).
    """

    name: str
    every: timedelta | str
    run: Callable[[], Any]


@dataclass(frozen=True)
class ServicePort:
    """A service one plugin offers the others (``plugin_services``), looked up by ``key`` with
    :func:`core.ports.port`.

    ``protocol`` is a ``typing.Protocol`` marked ``@runtime_checkable`` that the caller imports
    (from the core, e.g. :mod:`core.ports.funds`, or from the provider's published interface);
    ``implementation`` is the object whose methods run, in the caller's transaction.
    """

    key: str
    protocol: type
    implementation: Any


@dataclass(frozen=True)
class Role:
    """A role a plugin adds to the core's (``plugin_roles``).

    ``code`` is stored on users (lower case, digits and ``_``, at most 40 characters);
    ``labels`` names it in every language of the portal (``{"ar": …, "fr": …, "en": …}``: plain
    strings, not gettext). ``staff=False`` makes a public-side role, like the core's ``visitor``.
    ``all_establishments`` must stay ``False`` for now: only the core's ``central_admin`` and
    ``auditor`` see every establishment.
    """

    code: str
    labels: Mapping[str, str]
    staff: bool = True
    all_establishments: bool = False


@dataclass(frozen=True)
class DataSection:
    """Part of what the application holds about one user (``user_data_export``).

    ``key`` names the section in the JSON download (``"visits.bookings"``: the module's name
    first); ``title`` heads it on the readable page (localised); ``columns`` are ``(field,
    localised heading)`` pairs in the order to show; ``rows`` are the records, one dict each,
    with JSON-ready values (text, numbers, booleans, ISO dates) under those fields; ``note``
    says, if need be, why something is kept or not shown. ``order`` sorts the sections.
    """

    key: str
    title: str
    columns: tuple[tuple[str, str], ...]
    rows: tuple[Mapping[str, Any], ...] = ()
    note: str = ""
    order: int = 100


@dataclass(frozen=True)
class AuditLabels:
    """How the audit page names a module's events, in the reader's language (lazy gettext).

    ``actions``: action code → label (``"visits.ban.create"`` → "Visitor banned"); a code
    ending with a dot names every action starting with it that has no label of its own.
    ``object_types``: object type → label (``"visits_booking"`` → "Visit booking").
    ``fields``: summary key → label (``"capacity"`` → "Capacity"); keys without one are shown
    as they are.
    ``values``: summary key → {stored code → label} (``{"legal_status": {"convicted":
    "Convicted"}}``), for the codes a summary holds; other values are shown as they are.
    """

    actions: Mapping[str, Any] = field(default_factory=dict)
    object_types: Mapping[str, Any] = field(default_factory=dict)
    fields: Mapping[str, Any] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoContext:
    """What ``demo_seed`` implementations receive: the core's demo data already flushed."""

    session: Any
    rng: Any
    establishments: list[Any]
    detainees: list[Any]
    users: Mapping[str, Any]
    logins: list[tuple[str, str, str]]


__all__ = [
    "AuditLabels",
    "DataSection",
    "DemoContext",
    "MigrationBranch",
    "NavItem",
    "NotificationChannel",
    "Panel",
    "PeriodicTask",
    "Permission",
    "Role",
    "ServicePort",
    "TranslationDomain",
    "Widget",
]


@dataclass(frozen=True)
class EscortHealth:
    """What the escort of a move may know about a detainee's health (the transfers module's
    ``transfers_escort_health`` hook, answered by the health module): fit to travel or not, and
    the needs for the journey in plain words — never a diagnosis.

    ``fit_to_travel`` is ``None`` when no clinician has decided; ``needs`` is free text written
    for the escort ("insulin at noon, seat near the door"); ``until`` is the last day the
    decision holds (``None``: until changed); ``decided_by`` names the clinician (display name);
    ``decided_on`` is the day of the decision.
    """

    fit_to_travel: bool | None
    needs: str = ""
    until: Any = None  # datetime.date | None
    decided_by: str = ""
    decided_on: Any = None  # datetime.date | None
    module: str = ""


@dataclass(frozen=True)
class ComplaintCategory:
    """One kind of complaint (the complaints module's ``complaints_categories`` hook): every
    module adds its own (visits, health, funds, transfers…) without complaints knowing them.

    ``code`` is stored on complaints (``visits.booking``: the module's name first; core-wide
    categories have no dot); ``label`` is localised (lazy gettext); ``module`` is the plugin
    that answers for it; ``office`` is the role whose officers handle it at the detainee's
    establishment (``complaints_officer`` by default; ``visits_officer``, ``accountant``,
    ``doctor``…); ``order`` sorts the list shown to the author.
    """

    code: str
    label: Any
    module: str = ""
    office: str = "complaints_officer"
    order: int = 100

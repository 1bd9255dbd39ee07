"""Every hook a plugin may implement, each documented with when it is called and what it returns.

Implement a hook with ``@core.plugins.hookimpl`` on a function of your plugin module (or on a
method of your plugin object). A hook implementation whose name is not listed here (nor
published by a plugin through ``plugin_hookspecs``) stops the application at start-up, naming
the plugin. ``docs/plugins.md`` has one section per hook and a
worked example package; ``tests/test_hooks.py`` proves each hook changes what the app does, and
``tests/test_docs_hooks.py`` fails when a hook lacks a docstring, a section or a test.
``IDMAJ_TRACE_HOOKS=1`` prints every hook call to standard error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click
    from flask import Blueprint, Flask

    from core.contributions import (
        AuditLabels,
        DataSection,
        DemoContext,
        MigrationBranch,
        NavItem,
        NotificationChannel,
        Panel,
        PeriodicTask,
        Permission,
        Role,
        ServicePort,
        TranslationDomain,
        Widget,
    )
    from core.detainees.models import Detainee
    from core.establishments.models import Establishment
    from core.identity.models import User
    from core.principals import Principal
    from core.vetoes import Blocker, MoveContext, ReleaseContext

hookspec = pluggy.HookspecMarker("idmaj")


# ---------------------------------------------------------------------------------------------
# Start-up: what a plugin brings to the application
# ---------------------------------------------------------------------------------------------


@hookspec
def plugin_models() -> list[type]:
    """Called at start-up, before migrations and ``create_all``.

    :returns: the plugin's SQLAlchemy model classes (importing them registers their tables in
        the shared metadata). Table names must start with the plugin's prefix (``visits_``…).
    """


@hookspec
def plugin_blueprints() -> list[Blueprint]:
    """Called once by ``create_app()`` to register the plugin's pages and API.

    :returns: Flask blueprints. A blueprint whose ``url_prefix`` starts with ``/api/v1`` is an
        API blueprint: it is exempt from CSRF (bearer tokens), its errors are JSON and its
        routes declared with :func:`core.api.toolkit.endpoint` appear in the OpenAPI document.
    """


@hookspec
def plugin_permissions() -> list[Permission]:
    """Called at start-up and by ``idmaj db upgrade`` to know every permission.

    :returns: :class:`core.contributions.Permission` values with their default role grants.
        New permissions are granted to their default roles once; an administrator's later
        changes to a role are never overwritten.
    """


@hookspec
def plugin_translations() -> list[TranslationDomain]:
    """Called by ``create_app()`` to configure Flask-Babel.

    :returns: the plugin's gettext domains (usually one, named like the plugin). Ship every
        locale (ar, fr, en) in every catalog.
    """


@hookspec
def plugin_migrations() -> list[MigrationBranch]:
    """Called by ``idmaj db upgrade`` (after the core's own branch) and by the test harness.

    :returns: the plugin's Alembic branches; each has its own version table.
    """


@hookspec
def plugin_cli_commands() -> list[click.Command]:
    """Called when the ``idmaj`` command line is built.

    :returns: click commands or groups added under ``idmaj`` (``idmaj funds reconcile``…).
    """


@hookspec
def plugin_notification_channels() -> list[NotificationChannel]:
    """Called by the outbox dispatcher to know where messages can be delivered.

    :returns: channels; a message whose ``channel`` names none of them stays pending.
    """


@hookspec
def plugin_periodic_tasks() -> list[PeriodicTask]:
    """Called once when the app's task queue is built (``idmaj worker``, ``core.tasks``).

    :returns: :class:`core.contributions.PeriodicTask` values (``name``, ``every`` — a
        ``timedelta`` of whole minutes or a five-field cron string, UTC — and ``run()``). The
        worker runs each when due, in an app context, as ``SYSTEM``, and commits afterwards.
        Two tasks with one name stop the worker (when the queue is built), naming the plugin.
    """


@hookspec
def plugin_roles() -> list[Role]:
    """Called once by ``create_app()`` to know the roles the plugin adds to the core's.

    :returns: :class:`core.contributions.Role` values, each with a label in every language
        (ar, fr, en). Their codes may be given to users (the user pages, ``POST
        /api/v1/users``, ``idmaj users create --role``) and named in any permission's
        ``default_roles``. A code the core or another plugin already has stops start-up.
    """


@hookspec
def plugin_setup_app(app: Flask) -> None:
    """Called at the end of ``create_app()`` with the finished app (template filters,
    context processors, ``before_request`` handlers the plugin needs). Returns nothing."""


# ---------------------------------------------------------------------------------------------
# The contract between modules: hooks a plugin publishes, services one offers the others
# ---------------------------------------------------------------------------------------------


@hookspec
def plugin_hookspecs() -> list[object]:
    """Called once while the plugins are loaded, before hook implementations are checked.

    :returns: modules or classes holding the plugin's own hook specifications (functions
        marked with ``core.plugins.hookspec``). Their names must start with the plugin's name
        and an underscore (``complaints_categories``); other plugins implement them with
        ``@hookimpl(optionalhook=True)``, ignored while the publisher is absent.
    """


@hookspec
def plugin_services() -> list[ServicePort]:
    """Called once by ``create_app()`` to register the services the plugin offers the others.

    :returns: :class:`core.contributions.ServicePort` values; each ``implementation`` must
        satisfy its ``protocol`` (a runtime-checkable ``typing.Protocol``). Callers look them
        up with ``core.ports.port(key, Protocol)`` and run them in their own transaction. Two
        providers of one key stop start-up.
    """


# ---------------------------------------------------------------------------------------------
# The portal: what a signed-in user sees
# ---------------------------------------------------------------------------------------------


@hookspec
def portal_nav_items(user: User | None) -> list[NavItem]:
    """Called to build the navigation, once per signed-in principal and worker process (the
    list is kept with the principal's snapshot: built again when the user, their roles or
    establishments, or a role's permissions change, or a plugin is registered), and once per
    process for visitors who are not signed in. Return what depends on who the user is only.

    :param user: the signed-in user, or ``None`` on the public side.
    :returns: navigation entries; the core keeps those whose ``permission`` the user holds
        and orders them by ``order``.
    """


@hookspec
def portal_dashboard_widgets(user: User) -> list[Widget]:
    """Called when a staff member opens the dashboard.

    :param user: the signed-in staff user; return only widgets they may see, scoped to their
        establishments (:func:`core.scoping.establishment_ids`).
    :returns: dashboard cards, ordered by ``order``.
    """


@hookspec
def detainee_profile_panels(detainee: Detainee, user: User) -> list[Panel]:
    """Called when a detainee's profile page is rendered.

    :param detainee: the record being shown (the user may see it).
    :param user: the viewer; return nothing they are not allowed to see.
    :returns: profile sections, ordered by ``order``.
    """


# ---------------------------------------------------------------------------------------------
# The audit trail page: events named in the reader's language
# ---------------------------------------------------------------------------------------------


@hookspec
def audit_labels() -> AuditLabels:
    """Called when the audit page (``/audit/``) shows events or filters them by action.

    :returns: one :class:`core.contributions.AuditLabels` naming the module's audit actions,
        object types and summary fields (lazy gettext, so each reader sees their language).
        The action filter matches these labels: typing "banned" finds ``visits.ban.create``.
        The API (``GET /api/v1/audit/events``) keeps the codes.
    """


@hookspec
def audit_object_names(object_type: str, object_ids: list[str]) -> dict[str, str]:
    """Called once per audit page and object type with the ids of that type on the page (one
    query per type, never one per row).

    :param object_type: the events' ``object_type`` (``"detainee"``, ``"visits_booking"``…).
    :param object_ids: their ``object_id`` values.
    :returns: ``{object_id: name}`` for the ids this module can name (the detainee's name and
        registration number…), in the reader's language; ``{}`` for other types. Ids not
        named are shown as they are.
    """


# ---------------------------------------------------------------------------------------------
# Demo data
# ---------------------------------------------------------------------------------------------


@hookspec
def demo_seed(context: DemoContext) -> None:
    """Called by ``idmaj demo seed`` after the core's demo data is flushed, inside the same
    transaction. Add the plugin's demo rows to ``context.session``; append any demo logins to
    ``context.logins`` as ``(username, password, description)``. Returns nothing."""


# ---------------------------------------------------------------------------------------------
# Detainee lifecycle: events (inside the transaction of the change) and vetoes
# ---------------------------------------------------------------------------------------------


@hookspec
def on_detainee_admitted(detainee: Detainee, actor: Principal) -> None:
    """Called inside the admission's transaction, after the detainee is flushed. A plugin's
    reaction (opening an account…) commits or rolls back with the admission. Returns nothing."""


@hookspec
def release_blockers(detainee: Detainee, context: ReleaseContext) -> list[Blocker]:
    """Asked before a detainee is released, after the detainee's lock is taken.

    :param detainee: the record about to be released.
    :param context: :class:`core.vetoes.ReleaseContext` — the actor, the date, the note.
    :returns: :class:`core.vetoes.Blocker` values (``code``, ``module``, localised
        ``message``, ``overridable``); any blocker stops the release unless a director
        overrides blockers that are all overridable. Every module is asked, and all blockers
        are shown together. Return an empty list when nothing blocks.
    """


@hookspec
def on_detainee_released(detainee: Detainee, actor: Principal) -> None:
    """Called inside the release's transaction, after the legal status is ``released``.
    Returns nothing; raise to abort the release."""


@hookspec
def transfer_blockers(
    detainee: Detainee, destination: Establishment, context: MoveContext
) -> list[Blocker]:
    """Asked before a detainee is moved to another establishment (by ``move()``, and by the
    transfers module when a transfer is requested, approved and before departure), after the
    detainee's lock is taken.

    :param context: :class:`core.vetoes.MoveContext` — origin, destination, ``kind``
        (``transfer``, ``court``, ``hospital``, ``handover``), ``reason`` code, planned
        ``date`` and ``actor``.
    :returns: :class:`core.vetoes.Blocker` values; any blocker stops the move unless a
        director overrides blockers that are all overridable.
    """


@hookspec
def on_detainee_transferred(
    detainee: Detainee, source: Establishment, destination: Establishment, actor: Principal
) -> None:
    """Called inside the move's transaction, after the detainee's establishment changed.
    Returns nothing; raise to abort the move."""


# ---------------------------------------------------------------------------------------------
# A user's own data: what is held about them, and closing their account (issue 10 point 3)
# ---------------------------------------------------------------------------------------------


@hookspec
def user_data_export(user: User) -> list[DataSection]:
    """Called when a user downloads what the application holds about them (the JSON file and
    the readable page of ``/account/data``, ``GET /api/v1/visitors/me/export``).

    :param user: the signed-in user asking for their own data (never someone else's).
    :returns: :class:`core.contributions.DataSection` values: every record of the module that
        is about this user (their bookings, link requests, companions they named…), with
        JSON-ready values. Leave out what would reveal a third party's data the user may not
        see, and internal notes about them only when the law allows (say so in ``note``).
    """


@hookspec
def user_account_closing(user: User) -> None:
    """Called inside the transaction that closes a family account, **before** the core erases
    the user's name, phone, national identity number and username (so the module can still
    match them). Erase or anonymise what the module holds about the person that it has no
    lawful reason to keep (companions' names, pending requests, future bookings…); keep the
    records the law requires, tied to the user's id only. Audit what changes. Returns nothing;
    raise a :class:`core.errors.DomainError` to refuse the closing (nothing is changed)."""


def all_hook_names() -> list[str]:
    """The names of every hook specification in this module."""
    return sorted(
        name
        for name, value in globals().items()
        if callable(value) and hasattr(value, "idmaj_spec")
    )

"""The application factory."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from flask import Flask, Response, g, render_template, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from core import builtin, db, i18n, security, tasks, templating
from core.api.toolkit import API_PREFIX, domain_error_response, error_response
from core.application import App
from core.config import PROJECT_ROOT, load_config
from core.errors import DomainError
from core.plugins import build_plugin_manager, disabled_plugins
from core.sessions import SessionInterface

log = logging.getLogger("idmaj")


def create_app(config: dict[str, Any] | None = None, plugins: Sequence[Any] | None = None) -> Flask:
    """Build an Idmaj app.

    :param config: settings overriding the environment (tests pass ``DATABASE_URL``…).
    :param plugins: plugin objects to register instead of reading the ``idmaj.plugins`` entry
        points (tests use it to build apps with different plugin sets side by side).
    """
    settings = load_config(config)
    app = App(  # Flask, with the URLs it builds kept (core.application)
        "idmaj",
        root_path=str(PROJECT_ROOT),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=settings["INSTANCE_PATH"],
        instance_relative_config=False,
    )
    app.config.update(settings)
    app.jinja_environment = templating.Environment  # translations compiled in (core.templating)
    app.session_interface = SessionInterface()  # a verified cookie kept (core.sessions)

    pm = build_plugin_manager(plugins, disabled=disabled_plugins(app.config["DISABLED_PLUGINS"]))
    pm.register_plugin(builtin, "core", version=builtin.__version__, distribution="idmaj")
    app.extensions["idmaj.plugins"] = pm
    pm.collect("plugin_models")
    _register_contract(app, pm)

    db.init_app(app)
    tasks.init_app(app)
    i18n.init_app(app, pm.collect("plugin_translations"))
    security.init_app(app)

    from core.api.views import bp as core_api
    from core.audit.views import bp as audit_pages
    from core.detainees.import_views import bp as detainee_import
    from core.detainees.views import bp as detainee_pages
    from core.establishments.views import bp as establishment_pages
    from core.identity.account_views import bp as account_pages
    from core.identity.second_factor_views import bp as second_factor_pages
    from core.identity.views import auth_bp, users_bp
    from core.notifications.views import bp as notification_pages
    from core.portal.views import bp as portal_pages

    for blueprint in (
        portal_pages,
        auth_bp,
        account_pages,
        second_factor_pages,
        users_bp,
        establishment_pages,
        detainee_pages,
        detainee_import,
        audit_pages,
        notification_pages,
        core_api,
    ):
        app.register_blueprint(blueprint)
    for blueprint in pm.collect("plugin_blueprints"):
        app.register_blueprint(blueprint)
        if (blueprint.url_prefix or "").startswith(API_PREFIX):
            security.csrf.exempt(blueprint)
    security.csrf.exempt(core_api)

    _register_error_handlers(app)
    _register_template_helpers(app)

    from core.notifications.services import deliver_soon

    @app.teardown_request
    def _deliver_outbox(_exc: BaseException | None) -> None:
        if g.pop("_outbox_pending", False) and _exc is None and not app.config.get("OUTBOX_MANUAL"):
            deliver_soon(app)

    pm.hook.plugin_setup_app(app=app)
    return app


def _register_contract(app: Flask, pm: Any) -> None:
    """What plugins offer each other and the core: roles (``app.extensions["idmaj.roles"]``,
    default grants checked against them) and service ports (``app.extensions["idmaj.ports"]``).
    Raises :class:`core.plugins.PluginError` naming the plugin at fault."""
    from core import ports
    from core.identity import roles

    roles.init_app(app, pm)
    ports.init_app(app, pm)


def _wants_json() -> bool:
    return request.path.startswith(API_PREFIX)


def _register_error_handlers(app: Flask) -> None:
    from core.db import session

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError) -> Any:
        session().rollback()
        if _wants_json():
            resp = domain_error_response(exc)
        else:
            resp = app.make_response(
                (render_template("error.html", status=exc.status, message=exc.message), exc.status)
            )
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:
            resp.headers["Retry-After"] = str(retry_after)
        return resp

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        from flask_babel import gettext as _

        messages = {
            400: _("The request could not be understood."),
            401: _("Sign in first."),
            403: _("You are not allowed to do this."),
            404: _("This page does not exist."),
            405: _("This method is not allowed here."),
            413: _("The file is too large."),
            429: _("Too many attempts. Please wait a moment and try again."),
        }
        status = exc.code or 500
        message = messages.get(status, exc.description or "")
        codes = {
            400: "malformed_request",
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            413: "too_large",
            429: "too_many_requests",
        }
        if _wants_json():
            return error_response(status, codes.get(status, "http_error"), message)
        if status == 400 and "CSRF" in str(exc.description):
            message = _("The form expired. Please try again.")
        return render_template("error.html", status=status, message=message), status

    @app.errorhandler(DBAPIError)
    def _database_busy(exc: DBAPIError) -> Any:
        """A deadlock or serialisation failure (PostgreSQL) or a lock wait that timed out
        (SQLite) is not the user's fault and nothing was written: ask them to retry (503)."""
        from flask_babel import gettext as _

        session().rollback()
        if not is_transient(exc):
            return _unexpected(exc)
        log.warning("transient database conflict on %s %s: %s", request.method, request.path, exc)
        message = _("The system is busy. Nothing was saved; please try again.")
        if _wants_json():
            resp = error_response(503, "busy_retry", message)
        else:
            resp = app.make_response(
                (render_template("error.html", status=503, message=message), 503)
            )
        resp.headers["Retry-After"] = "1"
        return resp

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        from flask_babel import gettext as _

        log.exception("unexpected error on %s %s", request.method, request.path)
        session().rollback()
        if app.config.get("TESTING") and app.config.get("PROPAGATE_UNEXPECTED", True):
            raise exc
        message = _("Something went wrong on our side. The error was logged.")
        if _wants_json():
            return error_response(500, "internal_error", message)
        return render_template("error.html", status=500, message=message), 500


TRANSIENT_SQLSTATES = frozenset({"40P01", "40001", "55P03"})  # deadlock, serialisation, lock


def is_transient(exc: DBAPIError) -> bool:
    """True for database errors that a retry of the same request would not meet again."""
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) in TRANSIENT_SQLSTATES:
        return True
    return "database is locked" in str(orig or "")


def _register_template_helpers(app: Flask) -> None:
    from flask_login import current_user

    from core.detainees.labels import legal_status_label, placement_reason_label
    from core.identity.roles import role_label
    from core.identity.services import permissions_of
    from core.portal.navigation import navigation_bar
    from core.ports import has_port

    @app.context_processor
    def _portal_context() -> dict[str, Any]:
        # the object behind the proxy, once: every read through ``current_user`` looks the
        # user up again, and a page asks ``can()`` a score of times
        user = current_user._get_current_object()  # type: ignore[attr-defined]
        if user is None or user.is_anonymous:
            user = None
        # the permissions once: ``can()`` is asked a score of times a page
        held = permissions_of(user)
        return {
            "can": held.__contains__,
            "navigation_bar": lambda area="staff": navigation_bar(user, area),
        }

    # the same functions on every page: globals, not handed over again at each render
    app.jinja_env.globals.update(
        legal_status_label=legal_status_label,
        placement_reason_label=placement_reason_label,
        role_label=role_label,
        has_port=has_port,
    )

    @app.template_filter("rn")
    def _rn(value: str | None) -> Any:
        """A registration number as pages show it: one unbreakable left-to-right piece
        ("2026-000083" never wraps to "2026-/000083", nor turns around in Arabic text)."""
        from markupsafe import Markup

        if not value:
            return ""
        return Markup('<bdi dir="ltr" class="rn">{}</bdi>').format(value)

    @app.template_filter("rn_in_text")
    def _rn_in_text(text: Any) -> Any:
        """A sentence (a hint, a message) with the registration numbers in it kept whole:
        the text is escaped, then each number is shown as the ``rn`` filter shows it."""
        import re

        from markupsafe import Markup, escape

        if text is None:
            return ""
        return Markup(
            re.sub(
                r"\d{4}-\d{6}",
                lambda m: f'<bdi dir="ltr" class="rn">{m.group(0)}</bdi>',
                str(escape(str(text))),
            )
        )

    @app.template_filter("actor")
    def _actor(username: str | None) -> Any:
        """Who acted, as pages show it: the platform's own work is "System" in the reader's
        language; a username is an identifier, kept left-to-right in any page."""
        from flask_babel import gettext
        from markupsafe import Markup

        from core.principals import SYSTEM

        if not username or username == SYSTEM.username:
            return gettext("System")
        return Markup('<bdi dir="ltr">{}</bdi>').format(username)

    @app.after_request
    def _vary_language(resp: Response) -> Response:
        resp.headers.add("Vary", "Accept-Language")
        return resp

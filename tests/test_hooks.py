"""Every hook of ``core/hookspecs.py``: a throwaway plugin implementing it changes what the app
does. ``tests/test_docs_hooks.py`` fails when a hook has no test here (a test function whose
name contains the hook's name).

Apps are built with ``create_app(config, plugins=[...])`` on the shared, migrated test
database and bound to one connection whose transaction is rolled back at the end of the test
(as the ``app`` fixture of ``core/testing.py`` does); hooks that need their own tables
(``plugin_models``, ``plugin_migrations``, ``demo_seed``) get a database of their own.
"""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import click
import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from flask import Blueprint, Flask, request
from flask_babel import gettext
from flask_login import current_user
from pydantic import Field
from sqlalchemy import func, inspect, select, text

from core import demo, migrate, testing
from core.api.toolkit import ApiModel, endpoint
from core.audit.models import AuditEvent
from core.cli import cli
from core.contributions import (
    AuditLabels,
    DemoContext,
    MigrationBranch,
    NavItem,
    NotificationChannel,
    Panel,
    PeriodicTask,
    Permission,
    TranslationDomain,
    Widget,
)
from core.db import metadata
from core.db import session as db_session
from core.detainees import services as detainee_services
from core.detainees.models import Detainee, LegalStatus
from core.errors import Blocked
from core.identity.models import PermissionRecord, RolePermission
from core.identity.services import has_permission, sync_permissions
from core.notifications.models import OutboxMessage
from core.notifications.services import dispatch_pending, enqueue
from core.plugins import PluginError, hookimpl
from core.principals import SYSTEM
from core.testing import TEST_PASSWORD, Factories
from core.vetoes import Blocker, MoveContext, ReleaseContext

# --------------------------------------------------------------------------------------------
# harness
# --------------------------------------------------------------------------------------------


@contextmanager
def rolled_back(app: Flask, connection: Any = None) -> Iterator[Flask]:
    """Bind the app's sessions to one connection whose transaction is rolled back at the end
    (commits inside only release savepoints), like the ``app`` fixture. Apps of the same test
    share the connection: SQLite lets one writer in at a time."""
    from core.security import limiter

    database = app.extensions["idmaj.db"]
    own = connection is None
    if own:
        connection = database.engine.connect()
        outer = connection.begin()
    database.sessionmaker.configure(bind=connection, join_transaction_mode="create_savepoint")
    limiter.reset()
    try:
        yield app
    finally:
        database.sessionmaker.configure(
            bind=database.engine, join_transaction_mode="conservative_savepoint"
        )
        if own:
            if outer.is_active:
                outer.rollback()
            connection.close()


@pytest.fixture
def build(make_app: Callable[..., Any], _session_app: Any) -> Iterator[Callable[..., Flask]]:
    """``build(plugin, ..., **config)``: an app with exactly these plugins (plus the core) on
    the migrated shared database, rolled back at the end of the test; permissions synced.
    Every app of one test shares one connection (and so sees the others' writes)."""
    stack = ExitStack()
    shared: list[Any] = []

    def factory(*plugins: Any, **config: Any) -> Flask:
        app = make_app(plugins=list(plugins), **config)
        if not shared:
            connection = app.extensions["idmaj.db"].engine.connect()
            stack.callback(connection.close)
            outer = connection.begin()
            stack.callback(lambda: outer.rollback() if outer.is_active else None)
            shared.append(connection)
        stack.enter_context(rolled_back(app, shared[0]))
        with app.app_context():
            sync_permissions(db_session())
            db_session().commit()
        return app

    with stack:
        yield factory


@pytest.fixture
def own_database(tmp_path: Path) -> Iterator[testing.TestDatabase]:
    database = testing.TestDatabase(tmp_path)
    try:
        yield database
    finally:
        database.drop()


def sign_in(app: Flask, role: str, establishments: tuple[str, ...] = ("EST-A",)) -> Any:
    """A new user with ``role`` and a test client signed in as them."""
    with app.app_context():
        user = Factories(app).user(role, establishments)
    client = app.test_client()
    resp = client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    return client, user


def bearer(client: Any, user: Any) -> dict[str, str]:
    resp = client.post(
        "/api/v1/auth/token", json={"username": user.username, "password": TEST_PASSWORD}
    )
    assert resp.status_code == 200, resp.json
    return {"Authorization": f"Bearer {resp.json['token']}"}


def admit(app: Flask, establishment: str = "EST-A", **kw: Any) -> str:
    with app.app_context():
        return Factories(app).detainee(establishment, **kw).registration_number


def templates(tmp_path: Path, name: str, files: dict[str, str]) -> Blueprint:
    """A blueprint without routes whose folder holds ``files`` (for widgets and panels)."""
    folder = tmp_path / f"{name}_templates"
    for rel, body in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
    return Blueprint(name, __name__, template_folder=str(folder))


def count(app: Flask, stmt: Any) -> int:
    with app.app_context():
        return int(db_session().scalar(stmt) or 0)


def branch_folder(root: Path, versions: dict[str, str]) -> Path:
    """An Alembic script folder using the shared env (what a plugin's migrations/ holds)."""
    from core.config import PROJECT_ROOT

    root.mkdir(parents=True)
    (root / "env.py").write_text("from core.migration_env import run\n\nrun()\n")
    mako = PROJECT_ROOT / "core" / "migrations" / "script.py.mako"
    (root / "script.py.mako").write_text(mako.read_text(encoding="utf-8"), encoding="utf-8")
    (root / "versions").mkdir()
    for filename, body in versions.items():
        (root / "versions" / filename).write_text(textwrap.dedent(body), encoding="utf-8")
    return root


# --------------------------------------------------------------------------------------------
# start-up hooks
# --------------------------------------------------------------------------------------------


def test_plugin_models_registers_tables_seen_by_migrations_and_sessions(
    tmp_path: Path, own_database: testing.TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.app import create_app

    prefix = f"tpm{uuid.uuid4().hex[:6]}_"
    module = f"{prefix}models"
    (tmp_path / f"{module}.py").write_text(
        textwrap.dedent(
            f"""
            from sqlalchemy import String
            from sqlalchemy.orm import Mapped, mapped_column
            from core.db import Base

            class Note(Base):
                __tablename__ = "{prefix}notes"
                id: Mapped[int] = mapped_column(primary_key=True)
                text: Mapped[str] = mapped_column(String(80))
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    branch = branch_folder(tmp_path / "migrations", {})

    class Models:
        PLUGIN_NAME = "tpm"

        @hookimpl
        def plugin_models(self) -> list[type]:
            import importlib

            return [importlib.import_module(module).Note]

        @hookimpl
        def plugin_migrations(self) -> list[MigrationBranch]:
            return [MigrationBranch("tpm", str(branch), prefix)]

    table = f"{prefix}notes"
    assert table not in metadata.tables
    app = create_app(testing.test_config(own_database.url, tmp_path), plugins=[Models()])
    try:
        assert table in metadata.tables  # create_app collected the models
        migrate.upgrade(app)
        drift = migrate.check(app)
        assert len(drift) == 1 and drift[0].startswith("tpm:") and table in drift[0]
        metadata.create_all(app.extensions["idmaj.db"].engine, tables=[metadata.tables[table]])
        assert migrate.check(app) == []
        with app.app_context():
            models = app.extensions["idmaj.plugins"].collect("plugin_models")
            (note_cls,) = [m for m in models if m.__tablename__ == table]
            db_session().add(note_cls(text="hello"))
            db_session().commit()
            assert db_session().scalar(select(note_cls.text)) == "hello"
    finally:
        app.extensions["idmaj.db"].dispose()
        metadata.remove(metadata.tables[table])


def test_plugin_blueprints_page_and_csrf_exempt_api_in_openapi(
    build: Callable[..., Flask],
) -> None:
    pages = Blueprint("tpbp", __name__, url_prefix="/tpbp")

    @pages.route("/", methods=["GET", "POST"])
    def index() -> str:
        return f"tpbp page {request.method}"

    api = Blueprint("tpbp_api", __name__, url_prefix="/api/v1/tpbp")

    class EchoIn(ApiModel):
        text: str = Field(min_length=1, max_length=20)

    @api.post("/echo")
    @endpoint("Echo a text back", body=EchoIn, auth="none", tags=["tpbp"], status=201)
    def echo(body: EchoIn) -> dict[str, str]:
        return {"echo": body.text}

    class Blueprints:
        PLUGIN_NAME = "tpbp"

        @hookimpl
        def plugin_blueprints(self) -> list[Blueprint]:
            return [pages, api]

    app = build(Blueprints(), WTF_CSRF_ENABLED=True)
    client = app.test_client()
    assert client.get("/tpbp/").get_data(as_text=True) == "tpbp page GET"
    # a page blueprint keeps CSRF protection; the API blueprint is exempt (bearer tokens)
    assert client.post("/tpbp/").status_code == 400
    resp = client.post("/api/v1/tpbp/echo", json={"text": "salam"})
    assert resp.status_code == 201, resp.json
    assert resp.json == {"echo": "salam"}
    # errors of an API blueprint are the API's JSON errors
    bad = client.post("/api/v1/tpbp/echo", json={"text": ""})
    assert bad.status_code == 422
    assert "text" in bad.json["error"]["fields"]
    spec = client.get("/api/v1/openapi.json").json
    assert spec["paths"]["/tpbp/echo"]["post"]["summary"] == "Echo a text back"
    # the same app without the plugin has none of this
    bare = build(WTF_CSRF_ENABLED=True)
    assert bare.test_client().get("/tpbp/").status_code == 404
    assert "/tpbp/echo" not in bare.test_client().get("/api/v1/openapi.json").json["paths"]


def test_plugin_permissions_are_granted_to_default_roles_once(build: Callable[..., Flask]) -> None:
    class Perms:
        PLUGIN_NAME = "tpperm"

        @hookimpl
        def plugin_permissions(self) -> list[Permission]:
            return [Permission("tpperm.approve", "Approve throwaway things", ("director",))]

    app = build(Perms())
    with app.app_context():
        factories = Factories(app)
        director = factories.user("director", ("EST-A",))
        clerk = factories.user("registry_clerk", ("EST-A",))
        assert db_session().get(PermissionRecord, "tpperm.approve") is not None
        assert has_permission(director, "tpperm.approve")
        assert not has_permission(clerk, "tpperm.approve")
        # an administrator withdraws it: a later sync does not grant it again
        db_session().execute(
            RolePermission.__table__.delete().where(
                RolePermission.permission_code == "tpperm.approve"
            )
        )
        assert sync_permissions(db_session()) == 0
        grants = db_session().scalar(
            select(func.count())
            .select_from(RolePermission)
            .where(RolePermission.permission_code == "tpperm.approve")
        )
        assert grants == 0
        db_session().rollback()


def _compile(folder: Path, domain: str, translations: dict[str, str]) -> None:
    for lang, string in translations.items():
        catalog = Catalog(locale=lang, domain=domain)
        catalog.add("Throwaway greeting", string)
        target = folder / lang / "LC_MESSAGES"
        target.mkdir(parents=True, exist_ok=True)
        with (target / f"{domain}.mo").open("wb") as fh:
            write_mo(fh, catalog)


def test_plugin_translations_domain_translates_its_strings(
    build: Callable[..., Flask], tmp_path: Path
) -> None:
    folder = tmp_path / "translations"
    _compile(
        folder,
        "tptrans",
        {"ar": "تحية عابرة", "fr": "Salutation jetable", "en": "Throwaway greeting"},
    )

    class Translations:
        PLUGIN_NAME = "tptrans"

        @hookimpl
        def plugin_translations(self) -> list[TranslationDomain]:
            return [TranslationDomain(str(folder), "tptrans")]

    app = build(Translations())
    for lang, expected in (
        ("fr", "Salutation jetable"),
        ("ar", "تحية عابرة"),
        ("en", "Throwaway greeting"),
    ):
        with app.test_request_context(f"/?lang={lang}"):
            assert gettext("Throwaway greeting") == expected
            assert gettext("Sign in") != ""  # the core's catalog still answers
    bare = build()
    with bare.test_request_context("/?lang=fr"):
        assert gettext("Throwaway greeting") == "Throwaway greeting"


def test_plugin_migrations_branch_with_its_own_version_table(
    tmp_path: Path, own_database: testing.TestDatabase
) -> None:
    from core.app import create_app

    folder = branch_folder(
        tmp_path / "tpmig_migrations",
        {
            "0001_tpmig_items.py": '''
            """tpmig items"""
            import sqlalchemy as sa
            from alembic import op

            revision = "tpmig0001"
            down_revision = None
            branch_labels = None
            depends_on = None


            def upgrade():
                op.create_table(
                    "tpmig_items",
                    sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column(
                        "detainee_id",
                        sa.Integer(),
                        sa.ForeignKey("core_detainees.id", name="fk_tpmig_items_detainee_id"),
                    ),
                )


            def downgrade():
                op.drop_table("tpmig_items")
            ''',
        },
    )

    class Migrations:
        PLUGIN_NAME = "tpmig"

        @hookimpl
        def plugin_migrations(self) -> list[MigrationBranch]:
            return [MigrationBranch("tpmig", str(folder), "tpmig_")]

    app = create_app(testing.test_config(own_database.url, tmp_path), plugins=[Migrations()])
    engine = app.extensions["idmaj.db"].engine
    try:
        assert [b.name for b in migrate.branches(app)] == ["core", "tpmig"]
        migrate.upgrade(app)  # the core first: the plugin's table refers to core_detainees
        tables = set(inspect(engine).get_table_names())
        assert {"tpmig_items", "alembic_version_tpmig", "alembic_version_core"} <= tables
        with engine.connect() as conn:
            version = conn.execute(text("SELECT version_num FROM alembic_version_tpmig"))
            assert version.scalar_one() == "tpmig0001"
        assert migrate.current(app)["tpmig"] == "tpmig0001"
        migrate.downgrade(app)
        assert "tpmig_items" not in inspect(engine).get_table_names()
    finally:
        app.extensions["idmaj.db"].dispose()


def test_plugin_cli_commands_available_under_idmaj(build: Callable[..., Flask]) -> None:
    @click.command("tp-hello")
    @click.option("--name", default="world")
    def tp_hello(name: str) -> None:
        """Say hello from a throwaway plugin."""
        click.echo(f"hello {name} from tpcli")

    class Commands:
        PLUGIN_NAME = "tpcli"

        @hookimpl
        def plugin_cli_commands(self) -> list[click.Command]:
            return [tp_hello]

    app = build(Commands())
    result = app.test_cli_runner().invoke(cli, ["tp-hello", "--name", "Rabat"])
    assert result.exit_code == 0, result.output
    assert result.output == "hello Rabat from tpcli\n"
    listing = app.test_cli_runner().invoke(cli, ["--help"])
    assert "tp-hello" in listing.output
    # an app without the plugin does not know the command
    bare = build()
    missing = bare.test_cli_runner().invoke(cli, ["tp-hello"])
    assert missing.exit_code != 0
    assert "No such command" in missing.output


def test_plugin_notification_channels_deliver_or_keep_pending(
    build: Callable[..., Flask],
) -> None:
    delivered: list[str] = []

    def send_ok(message: Any) -> None:
        delivered.append(message.subject)

    def send_broken(message: Any) -> None:
        raise ConnectionError("SMS gateway unreachable")

    class Channels:
        PLUGIN_NAME = "tpchan"

        @hookimpl
        def plugin_notification_channels(self) -> list[NotificationChannel]:
            return [
                NotificationChannel("tp-sms", send_ok),
                NotificationChannel("tp-down", send_broken),
            ]

    app = build(Channels())
    with app.app_context():
        ok = enqueue(kind="tp.test", subject="Visit confirmed", channel="tp-sms")
        broken = enqueue(kind="tp.test", subject="Visit moved", channel="tp-down")
        db_session().commit()
        ok_id, broken_id = ok.id, broken.id
    with app.app_context():
        assert dispatch_pending() >= 1
    assert delivered == ["Visit confirmed"]
    with app.app_context():
        sent = db_session().get(OutboxMessage, ok_id)
        pending = db_session().get(OutboxMessage, broken_id)
        assert sent.sent_at is not None
        assert pending.sent_at is None
        assert pending.attempts == 1
        assert pending.last_error == "ConnectionError: SMS gateway unreachable"
    # without the plugin the channel is unknown: the message waits, untouched
    bare = build()
    with bare.app_context():
        msg = enqueue(kind="tp.test", subject="Nobody delivers me", channel="tp-sms")
        db_session().commit()
        msg_id = msg.id
        dispatch_pending()
    with bare.app_context():
        waiting = db_session().get(OutboxMessage, msg_id)
        assert waiting.sent_at is None and waiting.attempts == 0


def test_plugin_periodic_tasks_run_by_the_worker_as_system_and_committed(
    build: Callable[..., Flask],
) -> None:
    import datetime as dt

    from core.principals import current_principal
    from core.tasks import get_queue

    seen: list[Any] = []

    def tick() -> None:
        seen.append(current_principal())
        enqueue(kind="tp.tick", subject="tick")  # committed by the worker, not by the task

    def broken() -> None:
        enqueue(kind="tp.broken", subject="never kept")
        raise RuntimeError("boom")

    class Ticks:
        PLUGIN_NAME = "tptick"

        @hookimpl
        def plugin_periodic_tasks(self) -> list[PeriodicTask]:
            return [
                PeriodicTask("tptick.tick", dt.timedelta(minutes=10), tick),
                PeriodicTask("tptick.broken", "0 3 * * *", broken),
            ]

    app = build(Ticks(), TASKS_IMMEDIATE=True)
    queue = get_queue(app)
    assert {"tptick.tick", "tptick.broken", "core.notifications"} <= set(queue.periodic)
    # the scheduler's view: due every 10 minutes, and at 03:00 for the cron one
    assert "tptick.tick" in queue.due(dt.datetime(2026, 5, 1, 10, 20))
    assert "tptick.tick" not in queue.due(dt.datetime(2026, 5, 1, 10, 21))
    assert "tptick.broken" in queue.due(dt.datetime(2026, 5, 1, 3, 0))
    assert "tptick.broken" not in queue.due(dt.datetime(2026, 5, 1, 4, 0))
    # what the consumer does each minute: read the due periodic tasks and execute them
    due = queue.huey.read_periodic(dt.datetime(2026, 5, 1, 10, 20))
    assert [t.name for t in due if "tptick" in t.name] == [
        next(t.name for t in due if "tptick.tick" in t.name)
    ]
    for task in due:
        queue.huey.execute(task)
    assert seen == [SYSTEM]
    with app.app_context():
        kinds = db_session().scalars(select(OutboxMessage.kind)).all()
    assert "tp.tick" in kinds
    # a task that raises rolls back what it wrote
    with pytest.raises(RuntimeError):
        queue.run_now("tptick.broken")
    with app.app_context():
        assert "tp.broken" not in db_session().scalars(select(OutboxMessage.kind)).all()
    # without the plugin, no such task
    assert "tptick.tick" not in get_queue(build()).periodic

    class Twice:
        PLUGIN_NAME = "tptwice"

        @hookimpl
        def plugin_periodic_tasks(self) -> list[PeriodicTask]:
            return [PeriodicTask("tptick.tick", dt.timedelta(minutes=5), tick)]

    with pytest.raises(PluginError, match=r"tptick\.tick"):
        get_queue(build(Ticks(), Twice())).huey  # noqa: B018


def test_plugin_setup_app_receives_the_finished_app(build: Callable[..., Flask]) -> None:
    seen: list[Flask] = []

    class Setup:
        PLUGIN_NAME = "tpsetup"

        @hookimpl
        def plugin_setup_app(self, app: Flask) -> None:
            seen.append(app)
            assert "portal.dashboard" in app.view_functions  # blueprints are registered

            @app.after_request
            def _mark(resp: Any) -> Any:
                resp.headers["X-Tp-Setup"] = "1"
                return resp

    app = build(Setup())
    assert seen == [app]
    assert app.test_client().get("/login").headers.get("X-Tp-Setup") == "1"
    assert "X-Tp-Setup" not in build().test_client().get("/login").headers


def test_plugin_roles_listed_in_three_languages_and_accepted_everywhere(
    build: Callable[..., Flask],
) -> None:
    from core.contributions import Role
    from core.identity.services import find_user

    labels = {"ar": "رئيس الأطباء", "fr": "Médecin-chef", "en": "Head doctor"}

    class Health:
        PLUGIN_NAME = "tphealth"

        @hookimpl
        def plugin_roles(self) -> list[Role]:
            return [Role("head_doctor", labels=labels)]

        @hookimpl
        def plugin_permissions(self) -> list[Permission]:
            return [Permission("tphealth.records", "Read medical records", ("head_doctor",))]

    app = build(Health())
    admin, admin_user = sign_in(app, "central_admin", ())
    for lang, label in labels.items():
        page = admin.get(f"/admin/roles?lang={lang}").get_data(as_text=True)
        assert f'<a href="/admin/roles/head_doctor">{label}</a>' in page, lang
    assert admin.get("/admin/roles/head_doctor?lang=fr").status_code == 200
    assert 'value="head_doctor"' in admin.get("/admin/users/new").get_data(as_text=True)
    with app.app_context():
        Factories(app).establishment("EST-A")
    command = ["users", "create", "drhead", "--role", "head_doctor", "--establishment", "EST-A"]
    result = app.test_cli_runner().invoke(
        cli, [*command, "--password-stdin"], input=f"{TEST_PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "created drhead (head_doctor)" in result.output
    body = {
        "username": "drhead2",
        "password": TEST_PASSWORD,
        "full_name": "Dr Head",
        "roles": ["head_doctor"],
        "establishments": ["EST-A"],
    }
    made = admin.post("/api/v1/users", json=body, headers=bearer(admin, admin_user))
    assert made.status_code == 201, made.json
    assert made.json["roles"] == ["head_doctor"]
    with app.app_context():
        head = find_user("drhead")
        assert head is not None and head.is_staff
        assert has_permission(head, "tphealth.records")  # its plugin's default grant
        assert has_permission(head, "portal.dashboard")  # the staff baseline
        assert has_permission(head, "detainees.view")
    client = app.test_client()
    signed = client.post("/login", data={"username": "drhead", "password": TEST_PASSWORD})
    assert signed.headers["Location"].endswith("/dashboard")
    assert client.get("/dashboard").status_code == 200

    # without the plugin, the role does not exist
    bare = build()
    refused = bare.test_cli_runner().invoke(
        cli, [*command[:2], "drhead3", *command[3:], "--password-stdin"], input="x" * 12 + "\n"
    )
    assert refused.exit_code == 1
    assert "roles: " in refused.output and "head_doctor" in refused.output  # in Arabic
    bare_admin, bare_user = sign_in(bare, "central_admin", ())
    api = bare_admin.post(
        "/api/v1/users", json={**body, "username": "drhead4"}, headers=bearer(bare_admin, bare_user)
    )
    assert api.status_code == 422 and "roles" in api.json["error"]["fields"]
    assert "head_doctor" not in bare_admin.get("/admin/roles").get_data(as_text=True)


def test_plugin_hookspecs_published_hook_reaches_implementers_while_installed(
    build: Callable[..., Flask],
) -> None:
    from core.plugins import collect, hookspec

    class GreetingSpecs:
        @hookspec
        def tppub_greetings(self, name: str) -> list[str]:
            """Asked by the tppub page: greetings for ``name``."""

    pages = Blueprint("tppub", __name__, url_prefix="/tppub")

    @pages.get("/")
    def greet() -> str:
        return " | ".join(collect("tppub_greetings", name=request.args["name"]))

    class Publisher:
        PLUGIN_NAME = "tppub"

        @hookimpl
        def plugin_hookspecs(self) -> list[object]:
            return [GreetingSpecs]

        @hookimpl
        def plugin_blueprints(self) -> list[Blueprint]:
            return [pages]

    class Implementer:
        PLUGIN_NAME = "tpimpl"

        @hookimpl(optionalhook=True)
        def tppub_greetings(self, name: str) -> list[str]:
            return [f"salam {name}"]

    both = build(Publisher(), Implementer())
    assert both.test_client().get("/tppub/?name=Amina").get_data(as_text=True) == "salam Amina"
    assert both.extensions["idmaj.plugins"].published == {"tppub_greetings": "tppub"}
    alone = build(Publisher())
    assert alone.test_client().get("/tppub/?name=Amina").get_data(as_text=True) == ""
    # the publisher absent: the implementation waits, unused, and the app starts
    waiting = build(Implementer())
    hook = waiting.extensions["idmaj.plugins"].hook.tppub_greetings
    assert not hook.has_spec()
    assert waiting.test_client().get("/tppub/?name=Amina").status_code == 404


def test_plugin_services_port_runs_in_the_callers_transaction(build: Callable[..., Flask]) -> None:
    from typing import Protocol, runtime_checkable

    from core.contributions import ServicePort
    from core.errors import Conflict
    from core.establishments.models import Establishment
    from core.establishments.services import create_establishment
    from core.ports import has_port, port

    @runtime_checkable
    class Openings(Protocol):
        def open_establishment(self, actor: Any, code: str) -> int: ...

    class OpeningsImpl:
        def open_establishment(self, actor: Any, code: str) -> int:
            est = create_establishment(
                code=code, name=f"Prison {code}", kind="local_prison", capacity=10, actor=actor
            )
            return est.id

    class Provider:
        PLUGIN_NAME = "tpprov"

        @hookimpl
        def plugin_services(self) -> list[ServicePort]:
            return [ServicePort("tpprov.openings", Openings, OpeningsImpl())]

    pages = Blueprint("tpcons", __name__, url_prefix="/tpcons")

    @pages.get("/")
    def index() -> str:
        return "offered" if has_port("tpprov.openings") else "hidden"

    @pages.post("/<code>")
    def open_one(code: str) -> str:
        est_id = port("tpprov.openings", Openings).open_establishment(current_user, code)
        if request.args.get("fail"):
            raise Conflict("the consumer fails after the port call")
        db_session().commit()
        return str(est_id)

    class Consumer:
        PLUGIN_NAME = "tpcons"

        @hookimpl
        def plugin_blueprints(self) -> list[Blueprint]:
            return [pages]

    def exists(app: Flask, code: str) -> bool:
        return bool(count(app, select(func.count()).where(Establishment.code == code)))

    app = build(Provider(), Consumer())
    client, _admin = sign_in(app, "central_admin")
    assert client.get("/tpcons/").get_data(as_text=True) == "offered"
    assert client.post("/tpcons/TPS-1?fail=1").status_code == 409
    assert not exists(app, "TPS-1")  # the port's write rolled back with the caller
    assert client.post("/tpcons/TPS-2").status_code == 200
    assert exists(app, "TPS-2")
    # no provider: the feature is hidden, and calling the port anyway is a clear 503
    bare = build(Consumer())
    bare_client, _admin = sign_in(bare, "central_admin")
    assert bare_client.get("/tpcons/").get_data(as_text=True) == "hidden"
    missing = bare_client.post("/tpcons/TPS-3")
    assert missing.status_code == 503
    assert "tpprov.openings" in missing.get_data(as_text=True)
    assert not exists(bare, "TPS-3")


# --------------------------------------------------------------------------------------------
# portal hooks
# --------------------------------------------------------------------------------------------


def test_portal_nav_items_shown_only_to_holders_of_the_permission(
    build: Callable[..., Flask],
) -> None:
    pages = Blueprint("tpnav", __name__, url_prefix="/tpnav")

    @pages.get("/")
    def index() -> str:
        return "tpnav"

    users_seen: list[int | None] = []

    class Nav:
        PLUGIN_NAME = "tpnav"

        @hookimpl
        def plugin_blueprints(self) -> list[Blueprint]:
            return [pages]

        @hookimpl
        def plugin_permissions(self) -> list[Permission]:
            return [Permission("tpnav.view", "See the throwaway page", ("director",))]

        @hookimpl
        def portal_nav_items(self, user: Any) -> list[NavItem]:
            users_seen.append(user.id if user is not None else None)
            return [
                NavItem("tpnav.index", "Throwaway staff entry", order=5, permission="tpnav.view"),
                NavItem("tpnav.index", "Throwaway public entry", area="public"),
            ]

    app = build(Nav())
    director, director_user = sign_in(app, "director")
    clerk, _clerk_user = sign_in(app, "registry_clerk")
    page = director.get("/dashboard").get_data(as_text=True)
    assert "Throwaway staff entry" in page
    assert "Throwaway public entry" not in page
    # ordered by `order`: before the core's Detainees entry (10), after the Dashboard (0)
    assert page.index("Throwaway staff entry") < page.index('href="/detainees/"')
    assert director_user.id in users_seen
    assert "Throwaway staff entry" not in clerk.get("/dashboard").get_data(as_text=True)
    public = app.test_client().get("/").get_data(as_text=True)
    assert "Throwaway public entry" in public
    assert "Throwaway staff entry" not in public


def test_portal_dashboard_widgets_rendered_on_the_dashboard(
    build: Callable[..., Flask], tmp_path: Path
) -> None:
    folder = templates(
        tmp_path, "tpwidget", {"tpwidget/card.html": "<p>tp widget for {{ viewer }}</p>"}
    )

    class Widgets:
        PLUGIN_NAME = "tpwidget"

        @hookimpl
        def plugin_blueprints(self) -> list[Blueprint]:
            return [folder]

        @hookimpl
        def portal_dashboard_widgets(self, user: Any) -> list[Widget]:
            if not user.has_role("director"):
                return []
            return [
                Widget(
                    "tp-card",
                    "Throwaway card",
                    "tpwidget/card.html",
                    context={"viewer": user.username},
                )
            ]

    app = build(Widgets())
    director, user = sign_in(app, "director")
    body = director.get("/dashboard").get_data(as_text=True)
    assert 'aria-labelledby="w-tp-card"' in body
    assert f"<p>tp widget for {user.username}</p>" in body
    clerk, _ = sign_in(app, "registry_clerk")
    assert "Throwaway card" not in clerk.get("/dashboard").get_data(as_text=True)


def test_detainee_profile_panels_rendered_on_the_profile(
    build: Callable[..., Flask], tmp_path: Path
) -> None:
    folder = templates(
        tmp_path,
        "tppanel",
        {
            "tppanel/panel.html": (
                "<p>tp panel of {{ panel.context.rn }} for {{ panel.context.viewer }}</p>"
            )
        },
    )

    class Panels:
        PLUGIN_NAME = "tppanel"

        @hookimpl
        def plugin_blueprints(self) -> list[Blueprint]:
            return [folder]

        @hookimpl
        def detainee_profile_panels(self, detainee: Any, user: Any) -> list[Panel]:
            return [
                Panel(
                    "tp-panel",
                    "Throwaway panel",
                    "tppanel/panel.html",
                    context={"rn": detainee.registration_number, "viewer": user.username},
                )
            ]

    app = build(Panels())
    client, user = sign_in(app, "registry_clerk")
    rn = admit(app)
    body = client.get(f"/detainees/{rn}").get_data(as_text=True)
    assert "Throwaway panel" in body
    assert f"<p>tp panel of {rn} for {user.username}</p>" in body
    bare = build()
    bare_client, _ = sign_in(bare, "registry_clerk")
    assert "Throwaway panel" not in bare_client.get(f"/detainees/{rn}").get_data(as_text=True)


# --------------------------------------------------------------------------------------------
# demo data
# --------------------------------------------------------------------------------------------


def test_demo_seed_adds_plugin_rows_and_logins(
    tmp_path: Path, own_database: testing.TestDatabase
) -> None:
    contexts: list[DemoContext] = []

    class Demo:
        PLUGIN_NAME = "tpdemo"

        @hookimpl
        def demo_seed(self, context: DemoContext) -> None:
            contexts.append(context)
            context.session.add(
                OutboxMessage(kind="tpdemo.seeded", subject=f"{len(context.detainees)} detainees")
            )
            context.logins.append(("tp.demo", "not-a-real-password", "Throwaway demo login"))

    app = testing.build_migrated_app(own_database.url, tmp_path, plugins=[Demo()])
    try:
        with app.app_context():
            result = demo.seed(detainees=5, seed_value=7)
            db_session().commit()
        assert len(contexts) == 1
        ctx = contexts[0]
        assert len(ctx.detainees) == 5 and ctx.establishments and "clerk" in ctx.users
        assert ("tp.demo", "not-a-real-password", "Throwaway demo login") in result.logins
        seeded = select(OutboxMessage.subject).where(OutboxMessage.kind == "tpdemo.seeded")
        with app.app_context():
            assert db_session().scalars(seeded).all() == ["5 detainees"]
    finally:
        app.extensions["idmaj.db"].dispose()


# --------------------------------------------------------------------------------------------
# detainee lifecycle: events inside the transaction, vetoes before it
# --------------------------------------------------------------------------------------------


class Lifecycle:
    """Records every event, writes an outbox row in the same session, and raises on the
    event named by ``fail``."""

    PLUGIN_NAME = "tplife"

    def __init__(self, fail: str = "") -> None:
        self.fail = fail
        self.events: list[tuple[Any, ...]] = []

    def _react(self, name: str, detainee: Any, *extra: Any) -> None:
        self.events.append((name, detainee.registration_number, *extra))
        enqueue(kind=f"tplife.{name}", subject=detainee.registration_number)
        if self.fail == name:
            raise RuntimeError(f"tplife refuses {name}")

    @hookimpl
    def on_detainee_admitted(self, detainee: Any, actor: Any) -> None:
        self._react("admitted", detainee, actor.username if actor else None)

    @hookimpl
    def on_detainee_released(self, detainee: Any, actor: Any) -> None:
        assert detainee.legal_status == LegalStatus.released
        self._react("released", detainee, actor.username if actor else None)

    @hookimpl
    def on_detainee_transferred(
        self, detainee: Any, source: Any, destination: Any, actor: Any
    ) -> None:
        assert detainee.establishment_id == destination.id
        self._react("transferred", detainee, source.code, destination.code)


def _outbox(app: Flask, kind: str, rn: str) -> int:
    """Outbox rows the plugin wrote for this detainee (the apps of a test share the data)."""
    stmt = select(func.count()).where(OutboxMessage.kind == kind, OutboxMessage.subject == rn)
    return count(app, stmt)


def _audit(app: Flask, action: str) -> int:
    return count(
        app, select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    )


ADMISSION = {
    "first_name": "Yassine",
    "last_name": "Tahiri",
    "first_name_ar": "ياسين",
    "last_name_ar": "الطاهري",
    "birth_date": "1988-01-09",
    "sex": "M",
    "establishment": "EST-A",
    "legal_status": "pretrial",
}


def test_on_detainee_admitted_commits_with_the_admission(build: Callable[..., Flask]) -> None:
    plugin = Lifecycle()
    app = build(plugin)
    client, clerk = sign_in(app, "registry_clerk")
    resp = client.post("/detainees/new", data=ADMISSION)
    assert resp.status_code == 302
    rn = resp.headers["Location"].rsplit("/", 1)[-1]
    assert plugin.events == [("admitted", rn, clerk.username)]
    assert _outbox(app, "tplife.admitted", rn) == 1


def test_on_detainee_admitted_failure_rolls_the_admission_back(
    build: Callable[..., Flask],
) -> None:
    plugin = Lifecycle(fail="admitted")
    app = build(plugin, PROPAGATE_UNEXPECTED=False)
    client, _ = sign_in(app, "registry_clerk")
    audits = _audit(app, "detainee.admit")
    resp = client.post("/detainees/new", data=ADMISSION)
    assert resp.status_code == 500
    assert len(plugin.events) == 1  # it was called, then raised
    assert count(app, select(func.count()).where(Detainee.last_name == "Tahiri")) == 0
    assert _outbox(app, "tplife.admitted", plugin.events[0][1]) == 0
    assert _audit(app, "detainee.admit") == audits


def test_on_detainee_released_commits_or_rolls_back_with_the_release(
    build: Callable[..., Flask],
) -> None:
    plugin = Lifecycle()
    app = build(plugin)
    client, clerk = sign_in(app, "registry_clerk")
    headers = bearer(client, clerk)
    rn = admit(app)
    resp = client.post(f"/api/v1/detainees/{rn}/release", headers=headers)
    assert resp.status_code == 200, resp.json
    assert plugin.events[-1] == ("released", rn, clerk.username)
    assert _outbox(app, "tplife.released", rn) == 1

    failing = Lifecycle(fail="released")
    app2 = build(failing, PROPAGATE_UNEXPECTED=False)
    client2, clerk2 = sign_in(app2, "registry_clerk")
    headers2 = bearer(client2, clerk2)
    rn2 = admit(app2)
    audits = _audit(app2, "detainee.release")
    resp = client2.post(f"/api/v1/detainees/{rn2}/release", headers=headers2)
    assert resp.status_code == 500
    assert resp.json["error"]["code"] == "internal_error"
    assert failing.events[-1][:2] == ("released", rn2)
    with app2.app_context():
        det = db_session().scalar(select(Detainee).where(Detainee.registration_number == rn2))
        assert det.legal_status != LegalStatus.released and det.released_at is None
        assert [p.reason for p in det.placements] == ["admission"]
    assert _outbox(app2, "tplife.released", rn2) == 0
    assert _audit(app2, "detainee.release") == audits


def test_on_detainee_transferred_commits_or_rolls_back_with_the_move(
    build: Callable[..., Flask],
) -> None:
    plugin = Lifecycle()
    app = build(plugin)
    rn = admit(app, "EST-A")
    with app.app_context():
        factories = Factories(app)
        destination = factories.establishment("EST-B")
        det = detainee_services.get_detainee(rn, SYSTEM)
        detainee_services.move(det, destination, SYSTEM)
        db_session().commit()
    assert plugin.events[-1] == ("transferred", rn, "EST-A", "EST-B")
    assert _outbox(app, "tplife.transferred", rn) == 1

    failing = Lifecycle(fail="transferred")
    app2 = build(failing)
    rn2 = admit(app2, "EST-A")
    with app2.app_context():
        destination = Factories(app2).establishment("EST-B")
        det = detainee_services.get_detainee(rn2, SYSTEM)
        with pytest.raises(RuntimeError, match="tplife refuses transferred"):
            detainee_services.move(det, destination, SYSTEM)
        db_session().rollback()
    with app2.app_context():
        det = detainee_services.get_detainee(rn2, SYSTEM)
        assert det.establishment.code == "EST-A"
        assert [p.reason for p in det.placements] == ["admission"]
    assert _outbox(app2, "tplife.transferred", rn2) == 0


class Blockers:
    PLUGIN_NAME = "tpblock"

    def __init__(self, overridable: bool = False) -> None:
        self.asked: list[tuple[Any, ...]] = []
        self.overridable = overridable

    @hookimpl
    def release_blockers(self, detainee: Any, context: ReleaseContext) -> list[Blocker]:
        self.asked.append(("release", detainee.registration_number, context.note))
        return [
            Blocker(
                "canteen_debt",
                "tpblock",
                "an unpaid canteen debt (tpblock)",
                overridable=self.overridable,
            )
        ]

    @hookimpl
    def transfer_blockers(
        self, detainee: Any, destination: Any, context: MoveContext
    ) -> list[Blocker]:
        self.asked.append(
            (
                "transfer",
                detainee.registration_number,
                destination.code,
                context.origin.code,
                context.kind,
                context.reason,
                getattr(context.actor, "username", ""),
            )
        )
        # the module's name is filled in by the core when left empty
        return [Blocker("visit_tomorrow", "", "a visit is booked tomorrow (tpblock)")]


def test_release_blockers_stop_the_release_on_api_and_page(build: Callable[..., Flask]) -> None:
    plugin = Blockers()
    app = build(plugin)
    client, clerk = sign_in(app, "registry_clerk")
    rn = admit(app)
    resp = client.post(f"/api/v1/detainees/{rn}/release", headers=bearer(client, clerk))
    assert resp.status_code == 422
    error = resp.json["error"]
    assert error["code"] == "blocked"
    assert error["fields"]["blockers"] == [
        {
            "code": "canteen_debt",
            "module": "tpblock",
            "message": "an unpaid canteen debt (tpblock)",
            "overridable": False,
        }
    ]
    page = client.post(f"/detainees/{rn}/release", data={"note": "court order 12/2025"})
    assert page.status_code == 422
    body = page.get_data(as_text=True)
    assert 'class="flash flash-error"' in body
    assert "an unpaid canteen debt (tpblock)" in body
    assert 'data-code="tpblock.canteen_debt"' in body
    assert ("release", rn, "court order 12/2025") in plugin.asked
    with app.app_context():
        assert not detainee_services.get_detainee(rn, SYSTEM).is_released
    assert _audit(app, "detainee.release") == 0


def test_release_blockers_a_director_may_override_when_all_are_overridable(
    build: Callable[..., Flask],
) -> None:
    plugin = Blockers(overridable=True)
    app = build(plugin)
    clerk_client, clerk = sign_in(app, "registry_clerk")
    director_client, director = sign_in(app, "director")
    with app.app_context():
        grant = db_session().get(RolePermission, ("director", "detainees.release"))
        if grant is None:
            db_session().add(
                RolePermission(role_code="director", permission_code="detainees.release")
            )
            db_session().commit()
    rn = admit(app)
    # the clerk may not override: still blocked, and the page offers no override box
    page = clerk_client.get(f"/detainees/{rn}/release?lang=en").get_data(as_text=True)
    assert "a director may override" in page and 'name="override"' not in page
    refused = clerk_client.post(
        f"/api/v1/detainees/{rn}/release",
        json={"override": True},
        headers=bearer(clerk_client, clerk),
    )
    assert refused.status_code == 422 and refused.json["error"]["code"] == "blocked"
    # the director sees the box and goes ahead; the override is audited
    assert 'name="override"' in director_client.get(f"/detainees/{rn}/release").get_data(
        as_text=True
    )
    resp = director_client.post(
        f"/api/v1/detainees/{rn}/release",
        json={"override": True, "note": "court order"},
        headers=bearer(director_client, director),
    )
    assert resp.status_code == 200, resp.json
    with app.app_context():
        event = (
            db_session()
            .scalars(select(AuditEvent).where(AuditEvent.action == "detainee.release"))
            .one()
        )
        assert event.summary["overridden"] == ["tpblock.canteen_debt"]


def test_release_blockers_an_unoverridable_blocker_holds_even_for_a_director(
    build: Callable[..., Flask],
) -> None:
    app = build(Blockers(overridable=False))
    rn = admit(app)
    with app.app_context():
        db_session().add(RolePermission(role_code="director", permission_code="detainees.release"))
        director = Factories(app).user("director", ("EST-A",))
        det = detainee_services.get_detainee(rn, SYSTEM)
        with pytest.raises(Blocked):
            detainee_services.release(det, director, override=True)


def test_release_blockers_must_be_blocker_values(build: Callable[..., Flask]) -> None:
    class Sloppy:
        PLUGIN_NAME = "tpsloppy"

        @hookimpl
        def release_blockers(self, detainee: Any) -> list[str]:
            return ["a bare string"]

    app = build(Sloppy())
    rn = admit(app)
    with app.app_context():
        det = detainee_services.get_detainee(rn, SYSTEM)
        with pytest.raises(PluginError, match="tpsloppy"):
            detainee_services.release(det, SYSTEM)


def test_transfer_blockers_stop_the_move(build: Callable[..., Flask]) -> None:
    plugin = Blockers()
    app = build(plugin)
    rn = admit(app, "EST-A")
    with app.app_context():
        destination = Factories(app).establishment("EST-B")
        officer = Factories(app).user("transfers_officer", ("EST-A",))
        officer_name = officer.username
        det = detainee_services.get_detainee(rn, SYSTEM)
        with pytest.raises(Blocked) as info:
            detainee_services.move(det, destination, officer, reason="court", kind="court")
        assert info.value.status == 422
        assert info.value.code == "blocked"
        assert info.value.reasons == ["a visit is booked tomorrow (tpblock)"]
        assert [b.module for b in info.value.blockers] == ["tpblock"]
        db_session().rollback()
    assert plugin.asked == [("transfer", rn, "EST-B", "EST-A", "court", "court", officer_name)]
    with app.app_context():
        assert detainee_services.get_detainee(rn, SYSTEM).establishment.code == "EST-A"


# --------------------------------------------------------------------------------------------
# a user's own data (issue 10 point 3)
# --------------------------------------------------------------------------------------------


class OwnData:
    PLUGIN_NAME = "tpown"

    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse
        self.closing: list[tuple[str, str | None]] = []

    @hookimpl
    def user_data_export(self, user: Any) -> list[Any]:
        from core.contributions import DataSection

        return [
            DataSection(
                "tpown.cards",
                "Loyalty cards",
                (("number", "Card number"),),
                ({"number": f"CARD-{user.id}"},),
                note="kept for a year",
            )
        ]

    @hookimpl
    def user_account_closing(self, user: Any) -> None:
        from core.errors import Conflict

        # called before the core erases the person's details: they are still readable
        self.closing.append((user.username, user.national_id))
        if self.refuse:
            raise Conflict("A loyalty card is still in use.", code="card_in_use")


def test_user_data_export_sections_appear_on_the_page_and_in_the_json(
    build: Callable[..., Flask],
) -> None:
    app = build(OwnData())
    client, visitor = sign_in(app, "visitor", ())
    page = client.get("/account/data")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Loyalty cards" in html and f"CARD-{visitor.id}" in html and "kept for a year" in html
    data = client.get("/account/data.json").get_json(force=True)
    assert data["sections"]["tpown.cards"] == [{"number": f"CARD-{visitor.id}"}]
    assert data["notes"]["tpown.cards"] == "kept for a year"
    api = client.get("/api/v1/visitors/me/export", headers=bearer(client, visitor))
    assert api.json["sections"]["tpown.cards"] == [{"number": f"CARD-{visitor.id}"}]


def test_user_account_closing_sees_the_details_and_may_refuse(
    build: Callable[..., Flask],
) -> None:
    from core.identity.models import User

    plugin = OwnData(refuse=True)
    app = build(plugin)
    client, visitor = sign_in(app, "visitor", ())
    with app.app_context():
        national_id = db_session().get(User, visitor.id).national_id
    resp = client.post("/account/close", data={"password": TEST_PASSWORD})
    assert resp.status_code == 409
    assert plugin.closing == [(visitor.username, national_id)]
    with app.app_context():
        kept = db_session().get(User, visitor.id)
        assert kept.is_active and kept.username == visitor.username
    assert _audit(app, "user.account.close") == 0

    agreeing = OwnData()
    app2 = build(agreeing)
    client2, visitor2 = sign_in(app2, "visitor", ())
    resp = client2.post("/account/close", data={"password": TEST_PASSWORD})
    assert resp.status_code == 302
    assert [name for name, _ in agreeing.closing] == [visitor2.username]
    with app2.app_context():
        closed = db_session().get(User, visitor2.id)
        assert not closed.is_active and closed.username.startswith("~closed-")


# ---------------------------------------------------------------------------------------------
# the audit page: audit_labels, audit_object_names
# ---------------------------------------------------------------------------------------------


def _audit_some(app: Flask, action: str, object_type: str, ids: list[str]) -> None:
    from core.audit import services as audit

    with app.app_context():
        for object_id in ids:
            audit.record(action, object_type, object_id, summary={"tp_field": ["a", "b"]})
        db_session().commit()


def test_audit_labels_name_actions_types_and_fields_on_the_page_and_in_its_filter(
    build: Callable[..., Flask],
) -> None:
    class Labels:
        PLUGIN_NAME = "tplabels"

        @hookimpl
        def audit_labels(self) -> AuditLabels:
            return AuditLabels(
                actions={"tplabels.thing.polish": "Throwaway thing polished"},
                object_types={"tplabels_thing": "Throwaway thing"},
                fields={"tp_field": "Throwaway field"},
            )

    app = build(Labels())
    _audit_some(app, "tplabels.thing.polish", "tplabels_thing", ["T-1"])
    auditor, _ = sign_in(app, "auditor", ())
    page = auditor.get("/audit/").get_data(as_text=True)
    assert "Throwaway thing polished" in page
    assert "Throwaway thing: <bdi>T-1</bdi>" in page
    assert "Throwaway field: <bdi>a → b</bdi>" in page
    found = auditor.get("/audit/", query_string={"action": "POLISHED"}).get_data(as_text=True)
    assert "T-1" in found.split("<tbody>")[1]
    other = auditor.get("/audit/", query_string={"action": "signed in"}).get_data(as_text=True)
    assert "T-1" not in other.split("<tbody>")[1]


def test_audit_object_names_asked_once_per_type_for_the_whole_page(
    build: Callable[..., Flask],
) -> None:
    calls: list[tuple[str, list[str]]] = []

    class Names:
        PLUGIN_NAME = "tpnames"

        @hookimpl
        def audit_object_names(self, object_type: str, object_ids: list[str]) -> dict[str, str]:
            calls.append((object_type, object_ids))
            if object_type != "tpnames_thing":
                return {}
            return {i: f"Throwaway name of {i}" for i in object_ids}

    app = build(Names())
    _audit_some(app, "tpnames.touch", "tpnames_thing", ["N-1", "N-2", "N-3"])
    auditor, _ = sign_in(app, "auditor", ())
    page = auditor.get("/audit/").get_data(as_text=True)
    assert "Throwaway name of N-1" in page and "Throwaway name of N-3" in page
    asked = [ids for kind, ids in calls if kind == "tpnames_thing"]
    assert asked == [["N-1", "N-2", "N-3"]]  # one call for the three rows

"""The Idmaj pytest plugin: fixtures shared by the core's tests and every plugin's tests.

Registered through the ``pytest11`` entry point, so an external plugin package gets them by
installing ``idmaj``. Fixtures, by kind:

- **apps**: ``app`` (migrated database; each test inside a transaction rolled back at the end),
  ``fresh_app`` (a new database of its own, committed for real: concurrency tests),
  ``demo_app`` (a database seeded with the demo data once per session, read only),
  ``make_app`` (build another app, e.g. with another plugin set, on the test database;
  ``rolled_back=True`` shares the ``app`` fixture's transaction),
  ``idmaj_plugins`` (override to choose the plugin objects; ``None`` = entry points).
- **clients**: ``client``, ``login_as(role, establishment=...)``, ``api_headers(user)``.
- **data**: ``factories`` (establishments, users, detainees), ``db_url``.

The backend is SQLite unless ``IDMAJ_TEST_BACKEND=postgresql``; then each run creates its own
database on ``IDMAJ_TEST_DATABASE_URL`` and drops it at the end.

Markers, by backend: ``concurrency`` (several real connections racing; SQLite's ``BEGIN
IMMEDIATE`` would serialise them, so they prove nothing there) and ``postgresql`` (what only
PostgreSQL has, e.g. its triggers) are PostgreSQL tests: on SQLite they are *deselected*
(reported as such, never skipped) and ``make test-postgres`` runs them. ``fresh_app`` is for
``concurrency`` tests only.

Inside ``app``, code that calls services must run in ``with app.app_context():`` and commit
what requests should see (a commit there only releases a savepoint). Requests must not run
inside that block, so each request gets its own session and sign-in, as in production.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from core.principals import SYSTEM

TEST_PASSWORD = "test-password-123"
FAST_HASH = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
POSTGRESQL_ONLY_MARKERS = ("concurrency", "postgresql")
SQLITE_ONLY_MARKERS = ("sqlite",)
_DESELECTED_FOR_POSTGRESQL = pytest.StashKey[int]()


def backend() -> str:
    return os.environ.get("IDMAJ_TEST_BACKEND", "sqlite")


# --------------------------------------------------------------------------------------------
# markers: what only PostgreSQL can prove
# --------------------------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "concurrency: several real connections at once; PostgreSQL only (deselected on SQLite,"
        " whose BEGIN IMMEDIATE serialises them)",
    )
    config.addinivalue_line(
        "markers", "postgresql: checks what only PostgreSQL has (deselected on SQLite)"
    )
    config.addinivalue_line(
        "markers", "sqlite: checks what only SQLite has (deselected on PostgreSQL)"
    )


@pytest.hookimpl(trylast=True)  # after ``-m``: count only what it left
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On SQLite, deselect the PostgreSQL tests: they would pass whatever the code does, or
    test what SQLite has not. Deselected, not skipped: ``make test-postgres`` runs them. On
    PostgreSQL, deselect the few tests of what only SQLite has (``sqlite``)."""
    other = SQLITE_ONLY_MARKERS if backend() == "postgresql" else POSTGRESQL_ONLY_MARKERS
    kept, deselected = [], []
    for item in items:
        if any(item.get_closest_marker(m) for m in other):
            deselected.append(item)
        else:
            kept.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept
        config.stash[_DESELECTED_FOR_POSTGRESQL] = len(deselected)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    count = config.stash.get(_DESELECTED_FOR_POSTGRESQL, 0)
    if count and backend() == "postgresql":
        terminalreporter.write_line(f"idmaj: {count} SQLite-only test(s) deselected")
    elif count:
        terminalreporter.write_line(
            f"idmaj: {count} PostgreSQL test(s) ({' / '.join(POSTGRESQL_ONLY_MARKERS)}) "
            "deselected on SQLite; run them with make test-postgres"
        )


def _pg_admin_url() -> str:
    return os.environ.get(
        "IDMAJ_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )


class TestDatabase:
    """A database made for this test run (a temp SQLite file or a new PostgreSQL database)."""

    __test__ = False  # not a test class, whatever pytest thinks of its name

    def __init__(self, tmpdir: Path) -> None:
        self.kind = backend()
        self.tmpdir = tmpdir
        if self.kind == "postgresql":
            admin = make_url(_pg_admin_url())
            self.name = f"idmaj_test_{uuid.uuid4().hex[:12]}"
            self._admin = create_engine(admin, isolation_level="AUTOCOMMIT")
            with self._admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.name}"'))
            self.url = admin.set(database=self.name).render_as_string(hide_password=False)
        else:
            self.name = f"idmaj-{uuid.uuid4().hex[:8]}.db"
            self.url = f"sqlite:///{tmpdir / self.name}"

    def drop(self) -> None:
        if self.kind == "postgresql":
            with self._admin.connect() as conn:
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                    ),
                    {"n": self.name},
                )
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}"'))
            self._admin.dispose()


def test_config(db_url: str, instance: Path, **extra: Any) -> dict[str, Any]:
    config = {
        "TESTING": True,
        "DATABASE_URL": db_url,
        "SECRET_KEY": "test-secret-key",
        "INSTANCE_PATH": str(instance),
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASH_PARAMS": FAST_HASH,
        "SERVER_NAME": "localhost",
    }
    config.update(extra)
    return config


test_config.__test__ = False  # type: ignore[attr-defined]


def build_migrated_app(db_url: str, instance: Path, plugins: Any = None, **extra: Any) -> Any:
    from core import migrate
    from core.app import create_app
    from core.db import session
    from core.identity.services import sync_permissions

    app = create_app(test_config(db_url, instance, **extra), plugins=plugins)
    migrate.upgrade(app)
    with app.app_context():
        sync_permissions(session())
        session().commit()
    return app


# --------------------------------------------------------------------------------------------
# apps
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def idmaj_plugins() -> Any:
    """The plugin objects of the test apps; ``None`` loads the installed entry points."""
    return None


@pytest.fixture(scope="session")
def _idmaj_tmp() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="idmaj-test-") as tmp:
        yield Path(tmp)


@pytest.fixture(scope="session")
def _idmaj_database(_idmaj_tmp: Path) -> Iterator[TestDatabase]:
    database = TestDatabase(_idmaj_tmp)
    yield database
    database.drop()


@pytest.fixture(scope="session")
def db_url(_idmaj_database: TestDatabase) -> str:
    return _idmaj_database.url


@pytest.fixture(scope="session")
def _session_app(
    _idmaj_database: TestDatabase, _idmaj_tmp: Path, idmaj_plugins: Any
) -> Iterator[Any]:
    app = build_migrated_app(_idmaj_database.url, _idmaj_tmp, plugins=idmaj_plugins)
    yield app
    app.extensions["idmaj.db"].dispose()


@pytest.fixture
def app(_session_app: Any) -> Iterator[Any]:
    """The test app; everything a test writes is rolled back at its end."""
    from core.security import limiter

    database = _session_app.extensions["idmaj.db"]
    connection = database.engine.connect()
    outer = connection.begin()
    database.sessionmaker.configure(bind=connection, join_transaction_mode="create_savepoint")
    with _session_app.app_context():
        limiter.reset()  # this app's counters only (never another app's Redis keys)
    try:
        yield _session_app
    finally:
        database.sessionmaker.configure(
            bind=database.engine, join_transaction_mode="conditional_savepoint"
        )
        if outer.is_active:
            outer.rollback()
        connection.close()


@pytest.fixture
def make_app(
    db_url: str, _idmaj_tmp: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Any]]:
    """Build another app on the test database (already migrated), e.g. with other plugins.

    ``make_app(plugins, rolled_back=True)`` binds the new app's sessions to the transaction of
    the ``app`` fixture (and syncs its roles and permissions there): what it writes is seen by
    ``app`` and rolled back at the end of the test.
    """
    made: list[Any] = []

    def factory(plugins: Any = None, *, rolled_back: bool = False, **config: Any) -> Any:
        from core.app import create_app

        built = create_app(test_config(db_url, _idmaj_tmp, **config), plugins=plugins)
        made.append(built)
        if rolled_back:
            from core.db import session
            from core.identity.services import sync_permissions

            main = request.getfixturevalue("app")
            connection = main.extensions["idmaj.db"].sessionmaker.kw["bind"]
            built.extensions["idmaj.db"].sessionmaker.configure(
                bind=connection, join_transaction_mode="create_savepoint"
            )
            with built.app_context():
                sync_permissions(session())
                session().commit()
        return built

    yield factory
    for built in made:
        built.extensions["idmaj.db"].dispose()


@pytest.fixture
def fresh_app(
    request: pytest.FixtureRequest, _idmaj_tmp: Path, idmaj_plugins: Any
) -> Iterator[Any]:
    """An app on a database of its own, with real commits, for ``concurrency`` tests (which
    run on PostgreSQL only: a test racing threads must say so, or SQLite would run it)."""
    if request.node.get_closest_marker("concurrency") is None:
        pytest.fail(
            "fresh_app is for tests of simultaneous connections: mark the test "
            "@pytest.mark.concurrency (it then runs on PostgreSQL, in make test-postgres)",
            pytrace=False,
        )
    database = TestDatabase(_idmaj_tmp)
    built = build_migrated_app(database.url, _idmaj_tmp, plugins=idmaj_plugins)
    try:
        yield built
    finally:
        built.extensions["idmaj.db"].dispose()
        database.drop()


@pytest.fixture(scope="session")
def demo_app(_idmaj_tmp: Path, idmaj_plugins: Any) -> Iterator[Any]:
    """An app on a database of its own seeded once with the demo data (``core.demo.seed``,
    every plugin's ``demo_seed`` included) and committed: the demo logins' portal, as
    ``make run`` shows it. Shared by the whole session: read it, never write to it."""
    from core import demo
    from core.db import session

    database = TestDatabase(_idmaj_tmp)
    built = build_migrated_app(database.url, _idmaj_tmp, plugins=idmaj_plugins)
    with built.app_context():
        # the bulk-loaded population (tens of thousands of rows) is left out to keep suites
        # short; tests/test_demo.py checks it on small establishments
        demo.seed(detainees=60, population=False)
        session().commit()
    try:
        yield built
    finally:
        built.extensions["idmaj.db"].dispose()
        database.drop()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


# --------------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------------


class Factories:
    """Create records through the services (so they are valid and audited). Call inside
    ``with app.app_context():``; every method commits (a savepoint in ``app``)."""

    _seq = itertools.count(1)

    def __init__(self, app: Any) -> None:
        self.app = app

    def _n(self) -> int:
        return next(self._seq)

    def establishment(self, code: str | None = None, **kw: Any) -> Any:
        from core.db import session
        from core.establishments.models import Establishment
        from core.establishments.services import create_establishment

        code = code or f"T{self._n():03d}"
        existing = session().query(Establishment).filter_by(code=code).one_or_none()
        if existing is not None:
            return existing
        est = create_establishment(
            code=code,
            name=kw.pop("name", f"Prison locale {code}"),
            name_ar=kw.pop("name_ar", f"السجن المحلي {code}"),
            kind=kw.pop("kind", "local_prison"),
            capacity=kw.pop("capacity", 1000),
            actor=SYSTEM,
            **kw,
        )
        session().commit()
        return est

    def user(
        self,
        role: str = "registry_clerk",
        establishments: Any = ("EST-A",),
        *,
        username: str | None = None,
        password: str = TEST_PASSWORD,
        **kw: Any,
    ) -> Any:
        from core.db import session
        from core.identity.models import ALL_ESTABLISHMENT_ROLES
        from core.identity.services import create_user

        roles = [role] if isinstance(role, str) else list(role)
        if set(roles) <= ALL_ESTABLISHMENT_ROLES | {"visitor"}:
            establishments = () if establishments == ("EST-A",) else establishments
        for code in establishments:
            self.establishment(code)
        user = create_user(
            username=username or f"{roles[0].replace('_', '')}{self._n()}",
            password=password,
            full_name=kw.pop("full_name", f"Test {roles[0]}"),
            roles=roles,
            establishments=list(establishments),
            actor=SYSTEM,
            national_id=kw.pop("national_id", None),
            phone=kw.pop("phone", None),
            **kw,
        )
        session().commit()
        return user

    def visitor(self, **kw: Any) -> Any:
        kw.setdefault("national_id", f"BE{100000 + self._n()}")
        kw.setdefault("phone", "0612345678")
        return self.user("visitor", (), **kw)

    def detainee(self, establishment: str = "EST-A", **kw: Any) -> Any:
        from core.db import session
        from core.detainees.services import admit

        self.establishment(establishment)
        data = {
            "first_name": "Mohamed",
            "last_name": "El Idrissi",
            "first_name_ar": "محمد",
            "last_name_ar": "الإدريسي",
            "birth_date": "1990-05-17",
            "sex": "M",
            "legal_status": "pretrial",
            "establishment": establishment,
        }
        admitted_at = kw.pop("admitted_at", None)
        data.update(kw)
        det = admit(data, SYSTEM, admitted_at=admitted_at)
        session().commit()
        return det


@pytest.fixture
def factories(app: Any) -> Factories:
    return Factories(app)


@pytest.fixture
def login_as(app: Any, client: Any, factories: Factories) -> Callable[..., Any]:
    """Sign the ``client`` in as a new user with ``role`` at ``establishment`` (a code, or a
    list of codes); returns the user."""

    def login(role: str, establishment: Any = "EST-A", **kw: Any) -> Any:
        codes = [establishment] if isinstance(establishment, str) else list(establishment or [])
        with app.app_context():
            user = factories.user(role, tuple(codes), **kw)
        resp = client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
        assert resp.status_code == 302, resp.data[:500]
        return user

    return login


@pytest.fixture
def api_headers(app: Any, client: Any) -> Callable[..., dict[str, str]]:
    """Bearer headers for a user (through ``POST /api/v1/auth/token``)."""

    def headers(user: Any, password: str = TEST_PASSWORD) -> dict[str, str]:
        resp = client.post(
            "/api/v1/auth/token", json={"username": user.username, "password": password}
        )
        assert resp.status_code == 200, resp.json
        return {"Authorization": f"Bearer {resp.json['token']}"}

    return headers


def demo_client(app: Any, username: str, lang: str = "ar") -> Any:
    """A test client signed in as the demo login ``username`` (see ``demo_app``)."""
    from core import demo

    client = app.test_client()
    resp = client.post(
        "/login",
        data={"username": username, "password": demo.DEMO_PASSWORD},
        headers={"Accept-Language": lang},
    )
    assert resp.status_code == 302, f"{username} cannot sign in ({resp.status_code})"
    return client


def sql_statements(app: Any, fn: Callable[[], Any]) -> tuple[Any, list[str]]:
    """Run ``fn`` and return its result with every SQL statement the app's engine sent
    meanwhile (whitespace folded): for tests that count or inspect a path's queries."""
    from sqlalchemy import event as sa_event

    engine = app.extensions["idmaj.db"].engine
    seen: list[str] = []

    def listen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(" ".join(statement.split()))

    sa_event.listen(engine, "before_cursor_execute", listen)
    try:
        result = fn()
    finally:
        sa_event.remove(engine, "before_cursor_execute", listen)
    return result, seen


def days_ago(days: int) -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(days=days)

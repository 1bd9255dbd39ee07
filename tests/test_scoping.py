"""Scoping is the query layer's job: a throwaway plugin's model that inherits
``EstablishmentScoped`` is restricted to the principal's establishments with no code in the
plugin's service, page or API; ``SYSTEM`` and national roles see everything; the only bypass,
``unscoped(reason)``, is audited."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Blueprint, Flask, abort
from flask_login import login_required
from sqlalchemy import ForeignKey, Integer, MetaData, String, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, joinedload, mapped_column, relationship

from core.api.toolkit import endpoint
from core.audit.models import AuditEvent
from core.db import session as db_session
from core.detainees.models import Detainee
from core.driver_reads import keep
from core.establishments.models import Establishment
from core.plugins import hookimpl
from core.principals import SYSTEM, acting_as, current_principal
from core.scoping import (
    EstablishmentScoped,
    establishment_ids,
    read_columns,
    scoped_models,
    unscoped,
)
from core.testing import TEST_PASSWORD, Factories
from tests.test_hooks import build  # noqa: F401  (the fixture)


class _ThrowawayBase(DeclarativeBase):
    metadata = MetaData()


class Thing(EstablishmentScoped, _ThrowawayBase):
    """A row of a module nobody wrote scoping code for."""

    __tablename__ = "tscope_things"
    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(Integer, index=True)
    label: Mapped[str] = mapped_column(String(40))


class ThingNote(_ThrowawayBase):
    """Not scoped itself; reaches a thing through a foreign key."""

    __tablename__ = "tscope_notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    thing_id: Mapped[int] = mapped_column(ForeignKey("tscope_things.id"))
    thing: Mapped[Thing] = relationship()


pages = Blueprint("tscope", __name__, url_prefix="/tscope")


@pages.get("/things")
@login_required
def list_things() -> dict[str, Any]:
    # the module's "service": no establishment filter anywhere
    sess = db_session()
    labels = list(sess.scalars(select(Thing.label).order_by(Thing.label)))
    objects = [t.label for t in sess.scalars(select(Thing).order_by(Thing.label))]
    total = sess.scalar(select(func.count()).select_from(Thing))
    return {"labels": labels, "objects": objects, "total": total}


@pages.get("/things/<int:thing_id>")
@login_required
def show_thing(thing_id: int) -> dict[str, Any]:
    thing = db_session().get(Thing, thing_id)
    if thing is None:
        abort(404)
    return {"label": thing.label}


api = Blueprint("tscope_api", __name__, url_prefix="/api/v1/tscope")


@api.get("/things")
@endpoint("List things", tags=["tscope"])
def api_things(user: Any) -> dict[str, Any]:
    return {"items": [t.label for t in db_session().scalars(select(Thing).order_by(Thing.id))]}


class ScopedPlugin:
    PLUGIN_NAME = "tscope"

    @hookimpl
    def plugin_blueprints(self) -> list[Blueprint]:
        return [pages, api]


@pytest.fixture
def world(build: Callable[..., Flask]) -> Iterator[tuple[Flask, dict[str, int], Factories]]:  # noqa: F811
    app = build(ScopedPlugin())
    factories = Factories(app)
    with app.app_context():
        sess = db_session()
        _ThrowawayBase.metadata.create_all(sess.connection())
        ids = {code: factories.establishment(code).id for code in ("EST-A", "EST-B")}
        sess.add_all(
            [
                Thing(establishment_id=ids["EST-A"], label="a-1"),
                Thing(establishment_id=ids["EST-A"], label="a-2"),
                Thing(establishment_id=ids["EST-B"], label="b-1"),
            ]
        )
        sess.commit()
    yield app, ids, factories


def _login(app: Flask, factories: Factories, role: str, codes: tuple[str, ...]) -> Any:
    with app.app_context():
        user = factories.user(role, codes)
    client = app.test_client()
    resp = client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
    assert resp.status_code == 302
    return client


@pytest.mark.parametrize(
    ("role", "codes", "expected"),
    [
        ("registry_clerk", ("EST-A",), ["a-1", "a-2"]),
        ("visits_officer", ("EST-B",), ["b-1"]),
        ("director", ("EST-A", "EST-B"), ["a-1", "a-2", "b-1"]),
        ("central_admin", (), ["a-1", "a-2", "b-1"]),
        ("auditor", (), ["a-1", "a-2", "b-1"]),
    ],
)
def test_a_throwaway_plugins_model_is_scoped_with_no_code_in_its_service(
    world: Any, role: str, codes: tuple[str, ...], expected: list[str]
) -> None:
    app, _ids, factories = world
    client = _login(app, factories, role, codes)
    body = client.get("/tscope/things").json
    assert body == {"labels": expected, "objects": expected, "total": len(expected)}


def test_loading_one_row_of_another_establishment_finds_nothing(world: Any) -> None:
    app, ids, factories = world
    with app.app_context():
        b_id = db_session().scalar(select(Thing.id).where(Thing.establishment_id == ids["EST-B"]))
        a_id = db_session().scalar(
            select(Thing.id).where(Thing.establishment_id == ids["EST-A"]).limit(1)
        )
    client = _login(app, factories, "registry_clerk", ("EST-A",))
    assert client.get(f"/tscope/things/{a_id}").status_code == 200
    assert client.get(f"/tscope/things/{b_id}").status_code == 404


def test_the_api_is_scoped_the_same_way(world: Any) -> None:
    app, _ids, factories = world
    with app.app_context():
        user = factories.user("accountant", ("EST-B",))
    client = app.test_client()
    token = client.post(
        "/api/v1/auth/token", json={"username": user.username, "password": TEST_PASSWORD}
    ).json["token"]
    resp = client.get("/api/v1/tscope/things", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200 and resp.json == {"items": ["b-1"]}


def test_code_outside_a_request_is_scoped_to_whom_it_acts_for(world: Any) -> None:
    app, _ids, factories = world
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-B",))
        labels = lambda: list(db_session().scalars(select(Thing.label).order_by(Thing.label)))  # noqa: E731
        with acting_as(clerk):
            assert labels() == ["b-1"]
            with acting_as(SYSTEM):  # the CLI and the worker
                assert labels() == ["a-1", "a-2", "b-1"]
            assert labels() == ["b-1"]
            # a Core statement on the bare table is restricted too
            table = Thing.__table__
            assert db_session().scalar(select(func.count()).select_from(table)) == 1
            assert db_session().execute(select(table.c.label)).scalars().all() == ["b-1"]


def test_unscoped_needs_a_reason_and_is_audited(world: Any) -> None:
    app, _ids, factories = world
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
        sess = db_session()
        with acting_as(clerk):
            with pytest.raises(ValueError), unscoped("  "):
                pass
            with unscoped("national uniqueness check"):
                assert len(list(sess.scalars(select(Thing)))) == 3
            assert len(list(sess.scalars(select(Thing)))) == 2
            sess.commit()
        event = sess.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "scope.bypass")
            .order_by(AuditEvent.id.desc())
        ).first()
        assert event is not None
        assert event.actor_username == clerk.username
        assert event.summary == {"reason": "national uniqueness check"}


def test_a_bypass_rolled_back_leaves_no_audit_line(world: Any) -> None:
    app, _ids, factories = world
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
        sess = db_session()
        before = sess.scalar(select(func.count()).select_from(AuditEvent))
        with acting_as(clerk), unscoped("looked, then cancelled"):
            list(sess.scalars(select(Thing)))
        sess.rollback()
        assert sess.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_rows_reached_from_a_visible_row_are_not_filtered(world: Any) -> None:
    """A note of one's own establishment keeps its link even to a thing one cannot list."""
    app, ids, factories = world
    with app.app_context():
        sess = db_session()
        b_thing = sess.scalars(select(Thing).where(Thing.establishment_id == ids["EST-B"])).one()
        sess.add(ThingNote(thing_id=b_thing.id))
        sess.commit()
        clerk = factories.user("registry_clerk", ("EST-A",))
        sess.expunge_all()
        with acting_as(clerk):
            note = sess.scalars(select(ThingNote)).one()
            assert note.thing.label == "b-1"  # lazy load
            sess.expunge_all()
            note = sess.scalars(select(ThingNote).options(joinedload(ThingNote.thing))).one()
            assert note.thing.label == "b-1"  # eager join
            sess.expunge_all()
            # but the thing itself cannot be found
            assert list(sess.scalars(select(Thing.label).where(Thing.id == b_thing.id))) == []
            assert sess.get(Thing, b_thing.id) is None


def test_core_models_tied_to_an_establishment_are_scoped() -> None:
    assert Detainee in scoped_models() and Thing in scoped_models()
    assert Establishment not in scoped_models()  # the list of establishments is not secret


def test_a_scoped_model_defined_later_is_scoped_at_once() -> None:
    """The scoped tables are kept between statements, and forgotten when a scoped class is
    defined: a module loaded after the first queries is restricted from its first read."""
    from core.scoping import _scoped_tables, scoped_statement

    assert Detainee.__table__ in _scoped_tables()  # computed and kept

    class LateBase(DeclarativeBase):
        metadata = MetaData()

    class LateThing(EstablishmentScoped, LateBase):
        __tablename__ = "tp_late_things"
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        establishment_id: Mapped[int] = mapped_column(Integer)

    assert _scoped_tables()[LateThing.__table__] is LateThing
    stmt = scoped_statement(select(func.count()).select_from(LateThing), frozenset({7}))
    sql = str(stmt.compile(compile_kwargs={"literal_binds": True}))
    assert "tp_late_things.establishment_id IN (7)" in sql, sql


def test_a_plugin_role_may_see_every_establishment(build: Callable[..., Flask]) -> None:  # noqa: F811
    from core.contributions import Role

    class Inspection:
        PLUGIN_NAME = "tpinspect"

        @hookimpl
        def plugin_roles(self) -> list[Role]:
            labels = {"ar": "مفتش صحي", "fr": "Inspecteur sanitaire", "en": "Health inspector"}
            return [Role("health_inspector", labels, all_establishments=True)]

        @hookimpl
        def plugin_blueprints(self) -> list[Blueprint]:
            return [pages]

    app = build(Inspection())
    factories = Factories(app)
    with app.app_context():
        sess = db_session()
        _ThrowawayBase.metadata.create_all(sess.connection())
        a, b = (factories.establishment(code).id for code in ("EST-A", "EST-B"))
        sess.add_all(
            [Thing(establishment_id=a, label="a-1"), Thing(establishment_id=b, label="b-1")]
        )
        sess.commit()
        inspector = factories.user("health_inspector", ("EST-A",))
        assert establishment_ids(inspector) is None
    client = app.test_client()
    client.post("/login", data={"username": inspector.username, "password": TEST_PASSWORD})
    assert client.get("/tscope/things").json["labels"] == ["a-1", "b-1"]


def test_no_page_or_endpoint_module_can_act_as_system() -> None:
    """SYSTEM is for commands, the worker and demo data: no views, api or forms module of the
    core, of a plugin or of the example names it."""
    import ast

    from core.config import PROJECT_ROOT

    roots = [PROJECT_ROOT / "core", PROJECT_ROOT / "plugins", PROJECT_ROOT / "examples"]
    offenders = []
    for root in roots:
        for path in root.rglob("*.py"):
            if path.stem not in ("views", "api", "forms", "import_views") or "tests" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
            names |= {
                a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names
            }
            if {"SYSTEM", "acting_as"} & names:
                offenders.append(str(path.relative_to(PROJECT_ROOT)))
    assert offenders == []


def test_nobody_holds_any_permission(app: Flask) -> None:
    from core.errors import Forbidden
    from core.identity.services import has_permission, require

    with app.test_request_context("/"):
        assert current_principal() is None  # nobody signed in
        assert not has_permission(None, "detainees.view")
        with pytest.raises(Forbidden):
            require(None, "detainees.view")
        assert has_permission(SYSTEM, "detainees.view")


def test_a_request_works_its_scope_out_once_and_again_after_its_establishments_change(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scope of a request's principal is worked out at its first ORM SELECT and kept for
    the others (a page runs ten or more); a change of the user's establishments in the same
    request (``update_user``) makes the next SELECT work it out again from the new ones."""
    from flask_login import login_user

    import core.scoping as scoping
    from core.identity.services import update_user

    app, _ids, factories = world
    with app.app_context():
        clerk_id = factories.user("registry_clerk", ("EST-B",)).id
        admin_id = factories.user("central_admin", ()).id
    computed: list[Any] = []
    real = scoping.query_scope
    monkeypatch.setattr(scoping, "query_scope", lambda p: computed.append(p) or real(p))
    labels = lambda: list(db_session().scalars(select(Thing.label).order_by(Thing.label)))  # noqa: E731
    with app.test_request_context("/tscope/things"):
        from core.identity.models import User

        clerk = db_session().get(User, clerk_id)
        login_user(clerk)
        assert labels() == ["b-1"]
        assert labels() == ["b-1"]
        assert len(computed) == 1
        update_user(clerk, db_session().get(User, admin_id), establishments=["EST-A"])
        assert labels() == ["a-1", "a-2"]
        assert len(computed) == 2
        with acting_as(SYSTEM):  # another principal: its own scope
            assert labels() == ["a-1", "a-2", "b-1"]
        assert labels() == ["a-1", "a-2"]


# a read sent by Core (``read_columns``): the same restriction as the session's, same rows
_THING_LABELS = select(Thing.label).order_by(Thing.label)
_THING_COUNT = select(func.count()).select_from(Thing.__table__)
_NOTE_THING_LABELS = select(Thing.label, ThingNote.id).join(ThingNote.thing).order_by(Thing.label)
# the same statements kept (``built_once``): compiled once, sent to the driver
_KEPT = {
    "labels": keep(select(Thing.label).order_by(Thing.label)),
    "count": keep(select(func.count()).select_from(Thing.__table__)),
    "notes": keep(select(Thing.label, ThingNote.id).join(ThingNote.thing).order_by(Thing.label)),
}
_PLAIN = {"labels": _THING_LABELS, "count": _THING_COUNT, "notes": _NOTE_THING_LABELS}


@pytest.mark.parametrize("statements", [_PLAIN, _KEPT], ids=["built-per-call", "kept"])
def test_a_read_sent_by_core_is_scoped_as_the_session_scopes_it(
    world: Any, statements: dict[str, Any]
) -> None:
    app, _ids, factories = world
    with app.app_context():
        sess = db_session()
        for thing in sess.scalars(select(Thing)):
            sess.add(ThingNote(thing_id=thing.id))
        sess.commit()
        clerk_b = factories.user("registry_clerk", ("EST-B",))
        clerk_ab = factories.user("registry_clerk", ("EST-A", "EST-B"))
        admin = factories.user("central_admin", ())
        cases = [(clerk_b, ["b-1"]), (clerk_ab, ["a-1", "a-2", "b-1"])]
        cases.append((admin, ["a-1", "a-2", "b-1"]))
        for who, expected in cases:
            with acting_as(who):
                for stmt in (statements["labels"], statements["notes"]):
                    by_core = [row[0] for row in read_columns(stmt)]
                    by_session = [row[0] for row in sess.execute(stmt)]
                    assert by_core == by_session == expected, who.roles
                assert read_columns(statements["count"]).scalar() == len(expected)
        with acting_as(clerk_b):
            with unscoped("national uniqueness check"):
                assert read_columns(statements["labels"]).scalars().all() == ["a-1", "a-2", "b-1"]
            assert read_columns(statements["labels"]).scalars().all() == ["b-1"]
            # the restriction is a parameter of the statement kept, not the first caller's
            with acting_as(factories.user("registry_clerk", ("EST-A",))):
                assert read_columns(statements["labels"]).scalars().all() == ["a-1", "a-2"]
        sess.rollback()


def test_a_read_sent_by_core_is_sent_in_the_sessions_transaction(world: Any) -> None:
    app, ids, _factories = world
    with app.app_context():
        sess = db_session()
        sess.add(Thing(establishment_id=ids["EST-A"], label="a-0 not committed"))
        with acting_as(SYSTEM):
            with sess.no_autoflush:  # as the session: nothing flushed, nothing seen
                assert read_columns(_THING_LABELS).scalars().first() == "a-1"
            # flushed first (the session's autoflush), read in the same transaction
            assert read_columns(_THING_LABELS).scalars().first() == "a-0 not committed"
        sess.rollback()


def test_a_read_sent_by_core_refuses_entities(world: Any) -> None:
    app, _ids, _factories = world
    with app.app_context(), acting_as(SYSTEM):
        with pytest.raises(TypeError):
            read_columns(select(Thing))
        with pytest.raises(TypeError):
            read_columns(Thing.__table__.delete())

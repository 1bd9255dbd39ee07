"""The name keys carry their detainee's establishment (issue 16 point 4): a search scoped to an
establishment reads that establishment's postings of a name only. The copy is held by the
database (a two-column foreign key ``ON UPDATE CASCADE``), so a transfer, or an ``UPDATE``
written by hand, carries the keys along; the migration fills it for keys already stored."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import IntegrityError

from core.db import session
from core.detainees.models import Detainee, DetaineeNameKey
from core.detainees.search import search
from core.detainees.services import move, release
from core.establishments.models import Establishment
from core.principals import SYSTEM


def _key_establishments(det_id: int) -> set[int]:
    return set(
        session().scalars(
            select(DetaineeNameKey.establishment_id).where(DetaineeNameKey.detainee_id == det_id)
        )
    )


def _found(user: Any, q: str, **kw: Any) -> set[str]:
    return {d.registration_number for d in search(user, q, per_page=100, **kw).items}


def test_a_transfer_carries_the_keys_and_the_clerks_search_follows(app, factories):
    with app.app_context():
        det = factories.detainee("EST-A", first_name="Othmane", last_name="Berrada")
        clerk_a = factories.user("registry_clerk", ("EST-A",))
        clerk_b = factories.user("registry_clerk", ("EST-B",))
        est_a = session().scalar(select(Establishment).where(Establishment.code == "EST-A"))
        est_b = session().scalar(select(Establishment).where(Establishment.code == "EST-B"))
        assert _key_establishments(det.id) == {est_a.id}
        assert det.registration_number in _found(clerk_a, "Osman Berrada")
        assert det.registration_number not in _found(clerk_b, "Osman Berrada")

        move(session().get(Detainee, det.id), est_b, SYSTEM)
        session().commit()
        assert _key_establishments(det.id) == {est_b.id}
        assert det.registration_number in _found(clerk_b, "عثمان برادة")
        assert det.registration_number in _found(clerk_b, "Berrada")  # one word: the count too
        assert det.registration_number not in _found(clerk_a, "Osman Berrada")
        assert search(clerk_a, "Berrada").total == 0


def test_an_update_written_by_hand_carries_the_keys_too(app, factories):
    """Whoever writes the detainee's establishment (a command, psql): the database cascades."""
    with app.app_context():
        det = factories.detainee("EST-A", first_name="Yassine", last_name="Tazi")
        est_b = factories.establishment("EST-B")
        session().execute(
            text("UPDATE core_detainees SET establishment_id = :e WHERE id = :d"),
            {"e": est_b.id, "d": det.id},
        )
        session().commit()
        assert _key_establishments(det.id) == {est_b.id}


def test_a_key_naming_another_establishment_is_refused(app, factories):
    with app.app_context():
        det = factories.detainee("EST-A", first_name="Yassine", last_name="Tazi")
        other = factories.establishment("EST-B")
        with pytest.raises(IntegrityError), session().begin_nested():
            session().execute(
                text(
                    "INSERT INTO core_detainee_name_keys (detainee_id, key, establishment_id,"
                    " weight) VALUES (:d, 'zzz', :e, 1)"
                ),
                {"d": det.id, "e": other.id},
            )


def test_a_scoped_search_reads_the_keys_own_establishment(app, factories):
    """No join with the detainees table for a clerk's search (the index range (key,
    establishment) is read alone); the join comes back only to leave out the released."""
    with app.app_context():
        here = factories.detainee("EST-A", first_name="Khadija", last_name="Sebti")
        gone = factories.detainee("EST-A", first_name="Khadija", last_name="Sebti")
        factories.detainee("EST-B", first_name="Khadija", last_name="Sebti")
        release(session().get(Detainee, gone.id), SYSTEM)
        session().commit()
        clerk = factories.user("registry_clerk", ("EST-A",))
        statements: list[str] = []

        def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if "core_detainee_name_keys" in statement:
                statements.append(statement)

        engine = session().get_bind()
        event.listen(engine, "before_cursor_execute", seen)
        try:
            everyone = _found(clerk, "Khadija Sebti")
            held = _found(clerk, "Khadija Sebti", include_released=False)
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        assert everyone == {here.registration_number, gone.registration_number}
        assert held == {here.registration_number}
        assert len(statements) == 2
        assert "k.establishment_id IN" in statements[0]
        assert "core_detainees" not in statements[0]
        assert "core_detainees d" in statements[1]


@pytest.fixture
def app_before_the_copy(tmp_path: Any) -> Any:
    """An app on a database of its own, its core migrated to 0011 (keys without establishment)
    with detainees admitted before (their keys kept by the downgrade)."""

    from core import migrate
    from core.db import get_database
    from core.testing import Factories, TestDatabase, build_migrated_app

    database = TestDatabase(tmp_path)
    built = build_migrated_app(database.url, tmp_path)
    try:
        with built.app_context():
            factories = Factories(built)
            for code, first in (("EST-A", "Said"), ("EST-B", "Amine"), ("EST-B", "Nadia")):
                factories.detainee(code, first_name=first, last_name="Alami")
        migrate.downgrade_branch(built, "core", "0011_detainee_est_id_index")
        yield built
    finally:
        get_database(built).dispose()
        database.drop()


def test_the_upgrade_copies_every_keys_establishment(app_before_the_copy, monkeypatch):
    """…and on PostgreSQL the rebuilt table is vacuumed after the upgrade (its pages marked
    all-visible, so that index-only probes stay index-only)."""
    from core import migrate
    from core.db import get_database
    from core.testing import Factories

    built = app_before_the_copy
    monkeypatch.setattr(migrate, "UNVACUUMED_PAGES", 1)  # the test's table is small
    with get_database(built).engine.connect() as conn:
        columns = {c["name"] for c in conn.dialect.get_columns(conn, "core_detainee_name_keys")}
        assert "establishment_id" not in columns
        stored = conn.execute(text("SELECT count(*) FROM core_detainee_name_keys")).scalar()
    assert stored > 0
    migrate.upgrade(built)
    with built.app_context():
        rows = (
            session()
            .execute(
                text(
                    "SELECT count(*), sum(CASE WHEN k.establishment_id = d.establishment_id"
                    " THEN 1 ELSE 0 END) FROM core_detainee_name_keys k"
                    " JOIN core_detainees d ON d.id = k.detainee_id"
                )
            )
            .one()
        )
        assert rows[0] == rows[1] == stored
        if session().get_bind().dialect.name == "postgresql":
            visible = text("SELECT relallvisible FROM pg_class WHERE relname = :t")
            assert session().scalar(visible, {"t": "core_detainee_name_keys"}) > 0
        clerk = Factories(built).user("registry_clerk", ("EST-B",))
        assert {d.first_name for d in search(clerk, "Alami", per_page=100).items} == {
            "Amine",
            "Nadia",
        }


@pytest.mark.postgresql
def test_a_large_table_never_vacuumed_is_vacuumed_and_only_it(_session_app):
    # not the ``app`` fixture: its outer transaction, once it has written anything (the
    # limiter's reset deletes sign-in counters another test committed), holds a transaction
    # id older than the scratch table's rows, and VACUUM cannot mark them visible to all
    app = _session_app
    from core import migrate
    from core.db import get_database

    engine = get_database(app).engine
    with engine.connect() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS scratch_rebuilt")
        conn.exec_driver_sql(
            "CREATE TABLE scratch_rebuilt AS SELECT g AS id, repeat('x', 200) AS pad"
            " FROM generate_series(1, 5000) AS g"
        )
        conn.exec_driver_sql("ANALYZE scratch_rebuilt")
        conn.commit()
    try:
        pages = text("SELECT relpages, relallvisible FROM pg_class WHERE relname = :t")
        with engine.connect() as conn:
            before = conn.execute(pages, {"t": "scratch_rebuilt"}).one()
        assert before.relallvisible == 0 and before.relpages > 10
        assert migrate.vacuum_rebuilt_tables(app, min_pages=before.relpages + 1) == []
        assert "scratch_rebuilt" in migrate.vacuum_rebuilt_tables(app, min_pages=10)
        with engine.connect() as conn:
            after = conn.execute(pages, {"t": "scratch_rebuilt"}).one()
        assert after.relallvisible == after.relpages
        assert "scratch_rebuilt" not in migrate.vacuum_rebuilt_tables(app, min_pages=10)
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql("DROP TABLE scratch_rebuilt")
            conn.commit()


@pytest.mark.sqlite
def test_sqlite_has_nothing_to_vacuum(app):
    from core import migrate

    assert migrate.vacuum_rebuilt_tables(app, min_pages=0) == []

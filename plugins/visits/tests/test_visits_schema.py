"""What the database itself guarantees about the visits tables, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import func, insert, inspect, literal_column, select, text
from sqlalchemy.exc import IntegrityError

from core import migrate
from core.db import get_database, session
from core.principals import SYSTEM
from core.testing import TestDatabase, build_migrated_app
from plugins.visits import services
from plugins.visits.models import Booking, Companion, Relation, Slot

from .conftest import link, make_slot
from .test_visits_services import _user

STATUS_TABLES = {"visits_slots": Slot, "visits_relations": Relation, "visits_bookings": Booking}


def _row_ids(world: Any) -> dict[str, int]:
    booking = services.book(_user(world.visitor), world.slot_id, world.rn)
    relation = session().scalar(select(Relation.id).where(Relation.visitor_id == world.visitor.id))
    assert relation is not None
    return {
        "visits_slots": world.slot_id,
        "visits_relations": relation,
        "visits_bookings": booking.id,
    }


@pytest.mark.parametrize("table", sorted(STATUS_TABLES))
def test_the_database_refuses_a_status_outside_its_enum(app, world, table):
    """Inserting a copy of a valid row with an unknown status (written as a literal, so the
    ORM's own check is not what refuses it) fails on the CHECK constraint."""
    model = STATUS_TABLES[table]
    columns = model.__table__.c
    with app.app_context():
        row_id = _row_ids(world)[table]
        row = dict(
            session().execute(select(model.__table__).where(columns.id == row_id)).one()._mapping
        )
        del row["id"]
        if table == "visits_bookings":
            row["reference"] = "ZZZZZZZZ"
        row["status"] = literal_column("'lost'")
        with pytest.raises(IntegrityError) as err, session().begin_nested():
            session().execute(insert(model.__table__).values(**row))
        assert f"ck_{table}_status" in str(err.value.orig)
        with pytest.raises(IntegrityError), session().begin_nested():
            session().execute(
                text(f"UPDATE {table} SET status = 'lost' WHERE id = :id"), {"id": row_id}
            )


def test_the_status_checks_carry_the_convention_names(app):
    with app.app_context():
        for table in STATUS_TABLES:
            assert f"ck_{table}_status" in _check_names(table), table


@pytest.fixture
def app_before_the_checks(tmp_path: Path) -> Iterator[Any]:
    """An app on a database of its own, migrated up to visits 0001 (no status checks yet)."""
    database = TestDatabase(tmp_path)
    built = build_migrated_app(database.url, tmp_path)
    try:
        with get_database(built).engine.connect() as conn:
            command.downgrade(migrate.alembic_config(built, _visits(built), conn), "0001_visits")
            conn.commit()
        yield built
    finally:
        get_database(built).dispose()
        database.drop()


def _visits(built: Any) -> Any:
    return next(b for b in migrate.branches(built) if b.name == "visits")


def _check_names(table: str) -> set[str]:
    return {c["name"] for c in inspect(session().connection()).get_check_constraints(table)}


def test_adding_the_status_checks_keeps_every_row(app_before_the_checks):
    """SQLite adds a CHECK constraint by rebuilding the table: the bookings, their companions
    (ON DELETE CASCADE from bookings) and the other constraints must all survive."""
    built = app_before_the_checks
    with built.app_context():
        _seed_one_booking()
        session().commit()
    migrate.upgrade(built)
    assert migrate.current(built)["visits"] == migrate.head(built, _visits(built))
    with built.app_context():
        for model in (Slot, Relation, Booking, Companion):
            assert session().scalar(select(func.count()).select_from(model)) == 1, model
        assert {"ck_visits_slots_not_overbooked", "ck_visits_slots_status"} <= _check_names(
            "visits_slots"
        )
    assert migrate.check(built) == []


@pytest.mark.sqlite  # PostgreSQL never stores a dangling key
def test_an_upgrade_that_leaves_a_dangling_key_is_rolled_back(app_before_the_checks):
    """SQLite migrations run with foreign keys off (so a rebuild cannot cascade); they are
    checked before the commit instead, and a failure undoes the branch's upgrade."""
    built = app_before_the_checks
    with get_database(built).engine.connect() as conn:
        driver = conn.connection.driver_connection
        driver.execute("PRAGMA foreign_keys=OFF")
        conn.exec_driver_sql(
            "INSERT INTO visits_companions (booking_id, full_name, national_id, is_adult) "
            "VALUES (999, 'Nobody', '', 1)"
        )
        conn.commit()
        driver.execute("PRAGMA foreign_keys=ON")
    with pytest.raises(RuntimeError, match="broken foreign keys"):
        migrate.upgrade(built)
    assert migrate.current(built)["visits"] == "0001_visits"
    with built.app_context():
        assert "ck_visits_slots_status" not in _check_names("visits_slots")
        assert session().connection().exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def _seed_one_booking() -> None:
    from core.detainees.services import admit
    from core.establishments.services import create_establishment
    from core.identity.services import create_user

    est = create_establishment(
        code="EST-M", name="Prison locale M", kind="local_prison", capacity=100, actor=SYSTEM
    )
    detainee = {
        "first_name": "Mohamed",
        "last_name": "El Idrissi",
        "first_name_ar": "محمد",
        "last_name_ar": "الإدريسي",
        "birth_date": "1990-05-17",
        "sex": "M",
        "legal_status": "pretrial",
        "establishment": "EST-M",
    }
    det = admit(detainee, SYSTEM)
    visitor = create_user(
        username="familym",
        password="test-password-123",
        full_name="Fatima Benali",
        roles=["visitor"],
        establishments=[],
        actor=SYSTEM,
        national_id="BE100001",
        phone="0612345678",
    )
    link(visitor.id, det.id)
    slot = make_slot(est)
    companion = services.CompanionIn("Ahmed Benali", "BE100002", dt.date(1980, 1, 1), True)
    # through _create_booking with the default rules: book() reads visits_rules, whose later
    # columns (0006's max_weekly_per_visitor…) this old schema does not have yet
    from plugins.visits.models import VisitRules
    from plugins.visits.services.rules import DEFAULT_RULES

    services._create_booking(
        slot=slot,
        detainee=det,
        visitor=visitor,
        visitor_name=visitor.full_name,
        visitor_national_id=visitor.national_id or "",
        party=services.Party(2, 0, [companion]),
        rules=VisitRules(**DEFAULT_RULES),
        status="confirmed",
        actor=visitor,
    )


@pytest.fixture
def app_at_0006(tmp_path: Path) -> Iterator[Any]:
    """An app on a database of its own, at visits 0006 (walk-ins outside the live index)."""
    database = TestDatabase(tmp_path)
    built = build_migrated_app(database.url, tmp_path)
    try:
        with get_database(built).engine.connect() as conn:
            command.downgrade(
                migrate.alembic_config(built, _visits(built), conn), "0006_visits_visitor_share"
            )
            conn.commit()
        yield built
    finally:
        get_database(built).dispose()
        database.drop()


def _double_with_a_walk_in() -> None:
    """A confirmed booking and a walk-in of the same detainee in the same slot (0006 allows it)."""
    _seed_one_booking()
    row = dict(session().execute(select(Booking.__table__)).one()._mapping)
    del row["id"]
    row.update(reference="WALKIN22", walk_in=True, status="checked_in")
    session().execute(insert(Booking.__table__).values(**row))


def test_walk_ins_join_the_live_index(app_at_0006):
    """0007: a walk-in for a detainee already booked into that slot is refused by the
    database; the upgrade stops on existing doubles and names them, changing nothing."""
    built = app_at_0006
    with built.app_context():
        _double_with_a_walk_in()
        session().commit()
    with pytest.raises(RuntimeError, match="more than one live booking"):
        migrate.upgrade(built)
    assert migrate.current(built)["visits"] == "0006_visits_visitor_share"
    with built.app_context():
        session().execute(text("UPDATE visits_bookings SET status = 'completed' WHERE walk_in"))
        session().commit()
    migrate.upgrade(built)
    assert migrate.current(built)["visits"] == migrate.head(built, _visits(built))
    with built.app_context():
        row = dict(
            session().execute(select(Booking.__table__).where(Booking.walk_in)).one()._mapping
        )
        del row["id"]
        row.update(reference="WALKIN33", status="checked_in")
        with pytest.raises(IntegrityError), session().begin_nested():
            session().execute(insert(Booking.__table__).values(**row))
    assert migrate.check(built) == []

"""Instances made from rows read by Core (core.row_loading), as the profile reads its detainee
(core.detainees.profile_read): the same objects the ORM would have given."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, inspect, select

from core.db import session as db_session
from core.detainees.models import Detainee, Placement
from core.detainees.profile_read import with_placements_read
from core.detainees.services import get_detainee
from core.establishments.models import Establishment
from core.principals import SYSTEM
from core.row_loading import RowEntity
from core.testing import sql_statements


@pytest.fixture
def held(app: Any, factories: Any) -> str:
    with app.app_context():
        det = factories.detainee("EST-A", first_name="Rachid", last_name="Amrani")
        return str(det.registration_number)


def test_the_detainee_is_persistent_loaded_and_unchanged(app, held):
    with app.app_context():
        db_session().expunge_all()  # nothing of it held: made from the row
        det, seen = sql_statements(app, lambda: with_placements_read(held))
        # one statement: the detainee, establishment and placements (a test's SAVEPOINT aside)
        assert len([s for s in seen if s.startswith("SELECT")]) == 1
        state = inspect(det)
        assert state.persistent and not state.modified
        assert det in db_session() and not db_session().dirty
        assert db_session().get(Detainee, det.id) is det  # in the identity map
        # every column loaded, the relationships set: reading them sends nothing
        (names, placements, where), seen = sql_statements(
            app,
            lambda: (
                (det.first_name, det.legal_status, det.admitted_at),
                list(det.placements),
                det.establishment.code,
            ),
        )
        assert [s for s in seen if not s.startswith(("SAVEPOINT", "RELEASE"))] == []
        assert names[0] == "Rachid"
        assert where == "EST-A"
        assert [p.reason for p in placements] == ["admission"]
        assert placements[0].detainee is det
        assert placements[0].establishment is det.establishment  # one object per identity
        assert not inspect(placements[0]).modified


def test_the_same_values_as_the_orm(app, held):
    with app.app_context():
        db_session().expunge_all()
        det = with_placements_read(held)
        columns = [c.key for c in inspect(Detainee).column_attrs]
        made = {k: getattr(det, k) for k in columns}
        first_placement = {
            k: getattr(det.placements[0], k)
            for k in [c.key for c in inspect(Placement).column_attrs]
        }
        db_session().expunge_all()
        loaded = (
            db_session().scalars(select(Detainee).where(Detainee.registration_number == held)).one()
        )
        assert made == {k: getattr(loaded, k) for k in columns}
        assert first_placement == {k: getattr(loaded.placements[0], k) for k in first_placement}
        assert det.admitted_at.tzinfo is not None  # the column types' processing applied


def test_a_change_is_flushed_as_for_a_loaded_object(app, held):
    with app.app_context():
        db_session().expunge_all()
        det = with_placements_read(held)
        det.last_name = "Amrani-Berrada"
        assert det in db_session().dirty
        _, seen = sql_statements(app, db_session().flush)
        assert any(s.startswith("UPDATE core_detainees SET last_name") for s in seen)
        db_session().commit()
        db_session().expunge_all()
        assert get_detainee(held, SYSTEM).last_name == "Amrani-Berrada"


def test_a_deletion_and_an_expunge_work_as_for_a_loaded_object(app, held):
    with app.app_context():
        db_session().expunge_all()
        det = with_placements_read(held)
        placement = det.placements[0]
        db_session().delete(placement)
        _, seen = sql_statements(app, db_session().flush)
        assert any(s.startswith("DELETE FROM core_placements") for s in seen)
        db_session().expunge(det)
        assert inspect(det).detached
        db_session().rollback()


def test_an_unset_relationship_loads_lazily(app, held):
    with app.app_context():
        db_session().expunge_all()
        det = with_placements_read(held)
        placement = det.placements[0]
        db_session().expire(placement, ["detainee"])
        assert placement.detainee is det


def test_objects_the_session_holds_are_the_ones_used(app, held):
    with app.app_context():
        db_session().expunge_all()
        establishment = (
            db_session().scalars(select(Establishment).where(Establishment.code == "EST-A")).one()
        )
        establishment.name_fr = "Changed, not flushed"  # a row never overwrites it
        det = with_placements_read(held)
        assert det.establishment is establishment
        assert det.establishment.name_fr == "Changed, not flushed"
        db_session().rollback()

        db_session().expunge_all()
        loaded = (
            db_session().scalars(select(Detainee).where(Detainee.registration_number == held)).one()
        )
        loaded.first_name = "Pending"
        again = with_placements_read(held)
        assert again is loaded and again.first_name == "Pending"
        db_session().rollback()


def test_a_detainee_without_placements_gets_an_empty_history(app, held):
    with app.app_context():
        det_id = (
            db_session()
            .scalars(select(Detainee.id).where(Detainee.registration_number == held))
            .one()
        )
        db_session().execute(delete(Placement).where(Placement.detainee_id == det_id))
        db_session().commit()
        db_session().expunge_all()
        det = with_placements_read(held)
        assert det is not None and det.placements == []
        assert with_placements_read("2020-999999") is None


def test_only_classes_mapped_to_one_table():
    class NotMapped:
        pass

    with pytest.raises(Exception):  # noqa: B017 (SQLAlchemy's NoInspectionAvailable)
        RowEntity(NotMapped)
    entity = RowEntity(Detainee)
    assert entity.width == len(entity.columns) == len(inspect(Detainee).column_attrs)


def test_a_detached_user_is_copied_into_the_session_with_its_links(app, factories):
    from core.identity.models import User
    from core.identity.principal_cache import SNAPSHOT_COLLECTIONS, _detached_copy
    from core.row_loading import attach_copy

    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
        db_session().expunge_all()
        loaded = db_session().get(User, clerk.id)
        snapshot = _detached_copy(loaded, SNAPSHOT_COLLECTIONS)
        db_session().expunge_all()
        copy, seen = sql_statements(
            app, lambda: attach_copy(db_session(), snapshot, SNAPSHOT_COLLECTIONS)
        )
        assert seen == []
        assert copy is not snapshot and inspect(copy).persistent and not inspect(copy).modified
        assert inspect(snapshot).detached  # the snapshot itself is never in a session
        (roles, links), seen = sql_statements(
            app, lambda: (copy.roles, [link.establishment_id for link in copy.establishment_links])
        )
        assert [s for s in seen if not s.startswith(("SAVEPOINT", "RELEASE"))] == []
        assert roles == {"registry_clerk"} and len(links) == 1
        assert all(inspect(link).persistent for link in copy.role_links)
        # the session's own object is the one used
        assert attach_copy(db_session(), snapshot, SNAPSHOT_COLLECTIONS) is copy
        copy.full_name = "Changed"
        _, seen = sql_statements(app, db_session().flush)
        assert any(s.startswith("UPDATE core_users SET") for s in seen)
        db_session().rollback()

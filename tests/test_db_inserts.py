"""``core.db.insert_plain`` and ``insert_loaded``: hot writes without the unit of work."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from core.db import insert_loaded, insert_plain, session
from core.detainees.models import Counter
from core.notifications.models import OutboxMessage


def test_insert_plain_writes_every_instance_in_one_statement_and_gives_their_ids(app):
    with app.app_context():
        messages = [OutboxMessage(kind="t.plain", subject=s, body="", channel="log") for s in "ab"]
        insert_plain(session(), messages)
        ids = [m.id for m in messages]
        assert all(ids) and len(set(ids)) == 2
        assert all(inspect(m).transient for m in messages)  # outside the session
        session().commit()
        stored = session().scalars(
            select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)
        )
        assert [(m.subject, m.attempts) for m in stored] == [("a", 0), ("b", 0)]  # defaults


def test_insert_loaded_puts_the_row_in_the_session_as_read(app):
    with app.app_context():
        counter = Counter(name="t-loaded")
        assert insert_loaded(session(), counter) is True
        assert inspect(counter).persistent and counter.value == 0  # the column default
        assert not session().new and not session().dirty
        counter.value = 5
        session().commit()
        assert (
            session().scalar(text("SELECT value FROM core_counters WHERE name = 't-loaded'")) == 5
        )


def test_insert_loaded_unless_duplicate_leaves_the_transaction_usable(app):
    with app.app_context():
        insert_loaded(session(), Counter(name="t-dup", value=1))
        assert (
            insert_loaded(session(), Counter(name="t-dup", value=2), unless_duplicate=True) is False
        )
        assert session().scalar(text("SELECT value FROM core_counters WHERE name = 't-dup'")) == 1
        with pytest.raises(IntegrityError):
            insert_loaded(session(), Counter(name="t-dup", value=3))
        session().rollback()

"""The operator's page of failed notifications: listed with their last error, paged, sent
again on request (audited), for the central administration only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.audit.models import AuditEvent
from core.db import session as db_session
from core.db import utcnow
from core.notifications.models import OutboxMessage


def _message(app: Any, *, failed: bool, error: str = "ConnectionError: gateway down") -> int:
    with app.app_context():
        msg = OutboxMessage(
            kind="visits.booking.confirmed",
            subject="Visit confirmed",
            channel="sms",
            recipient="+212612345678",
            attempts=5 if failed else 0,
            last_error=error if failed else "",
            failed_at=utcnow() if failed else None,
        )
        db_session().add(msg)
        db_session().commit()
        return msg.id


def test_failed_notifications_are_listed_and_sent_again(
    app: Any, client: Any, login_as: Any
) -> None:
    failed = _message(app, failed=True, error="ConnectionError: SMS gateway unreachable")
    pending = _message(app, failed=False)
    admin = login_as("central_admin", None)

    page = client.get("/admin/notifications/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'value="{failed}"' in html and f'value="{pending}"' not in html
    assert "ConnectionError: SMS gateway unreachable" in html and "+212612345678" in html

    resp = client.post("/admin/notifications/retry", data={"message": [str(failed), str(pending)]})
    assert resp.status_code == 302
    with app.app_context():
        msg = db_session().get(OutboxMessage, failed)
        assert msg.failed_at is None and msg.attempts == 0
        other = db_session().get(OutboxMessage, pending)
        assert other.attempts == 0 and other.failed_at is None  # untouched: it had not failed
        events = (
            db_session()
            .scalars(select(AuditEvent).where(AuditEvent.action == "notification.retry"))
            .all()
        )
        assert [(e.object_id, e.actor_id) for e in events] == [(str(failed), admin.id)]
    assert f'value="{failed}"' not in client.get("/admin/notifications/").get_data(as_text=True)


def test_retry_with_nothing_or_nonsense_chosen_changes_nothing(
    app: Any, client: Any, login_as: Any
) -> None:
    failed = _message(app, failed=True)
    login_as("central_admin", None)
    for data in ({}, {"message": ["abc", "99999999999999999999999", "\x00", "-3"]}):
        resp = client.post("/admin/notifications/retry", data=data)
        assert resp.status_code == 302
    with app.app_context():
        assert db_session().get(OutboxMessage, failed).failed_at is not None


def test_the_page_is_paged_and_counts_what_waits(app: Any, client: Any, login_as: Any) -> None:
    ids = [_message(app, failed=True) for _ in range(55)]
    _message(app, failed=False)
    login_as("central_admin", None)
    first = client.get("/admin/notifications/").get_data(as_text=True)
    second = client.get("/admin/notifications/?page=2").get_data(as_text=True)
    shown_first = [i for i in ids if f'value="{i}"' in first]
    shown_second = [i for i in ids if f'value="{i}"' in second]
    assert len(shown_first) == 50 and len(shown_second) == 5
    assert not set(shown_first) & set(shown_second)
    huge = client.get("/admin/notifications/?page=99999999999999999999999")
    assert huge.status_code == 200

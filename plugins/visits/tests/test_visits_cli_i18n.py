"""The ``idmaj visits`` commands and the module's catalogs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from babel.messages.pofile import read_po
from sqlalchemy import select

from core.db import session, utcnow
from core.notifications.models import OutboxMessage
from core.principals import SYSTEM
from plugins.visits import services
from plugins.visits.cli import visits_group
from plugins.visits.models import Slot

from .test_visits_services import _user

TRANSLATIONS = Path(__file__).resolve().parents[1] / "translations"


def test_remind_command_queues_tomorrows_reminders_once(app, world):
    with app.app_context():
        services.book(_user(world.visitor), world.slot_id, world.rn)
        slot = session().get(Slot, world.slot_id)
        tomorrow = services.local_date(utcnow()) + dt.timedelta(days=1)
        slot.starts_at = services.local_moment(tomorrow, "10:00")
        slot.ends_at = services.local_moment(tomorrow, "11:00")
        session().commit()
    runner = app.test_cli_runner()
    first = runner.invoke(visits_group, ["remind"])
    assert first.exit_code == 0 and "reminders queued: 1" in first.output
    second = runner.invoke(visits_group, ["remind"])
    assert "reminders queued: 0" in second.output
    with app.app_context():
        kinds = session().scalars(select(OutboxMessage.kind)).all()
        assert kinds.count("visits.reminder") == 1


def test_commands_are_contributed_to_idmaj(app):
    from core.plugins import get_plugin_manager

    names = [c.name for c in get_plugin_manager(app).collect("plugin_cli_commands")]
    assert "visits" in names
    assert {"remind", "generate"} <= set(visits_group.commands)


def test_generate_command(app, world):
    with app.app_context():
        from core.establishments.models import Establishment

        est = session().get(Establishment, world.est_id)
        services.add_template(
            SYSTEM, est, {"weekday": 3, "start_time": "09:00", "end_time": "10:00", "capacity": 4}
        )
        session().commit()
    result = app.test_cli_runner().invoke(visits_group, ["generate", "--days", "7"])
    assert result.exit_code == 0 and "slots created: 1" in result.output


def test_every_message_is_translated_in_arabic_and_french():
    with open(TRANSLATIONS / "visits.pot", "rb") as fh:
        ids = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    assert len(ids) > 200
    for lang in ("ar", "fr", "en"):
        with open(TRANSLATIONS / lang / "LC_MESSAGES" / "visits.po", "rb") as fh:
            catalog = read_po(fh, locale=lang)
        done = {
            m.id if isinstance(m.id, str) else m.id[0]
            for m in catalog
            if m.id
            and m.string
            and all(m.string if isinstance(m.string, tuple) else [m.string])
            and not m.fuzzy
        }
        assert ids <= done, (lang, sorted(ids - done)[:10])


def test_booking_errors_are_localised(client, world, api_headers):
    resp = client.post(
        "/api/v1/visits/bookings?lang=ar",
        json={"slot_id": world.slot_id, "detainee": world.rn},
        headers={**api_headers(world.stranger), "Accept-Language": "ar"},
    )
    assert resp.status_code == 422
    assert resp.json["error"]["message"] == "أنت غير مرتبط بهذا المعتقل."

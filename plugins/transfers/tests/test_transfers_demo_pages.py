"""The transfers demo (``demo_app``, as ``make run`` shows it): every state to work on, in
Arabic and French, for the logins of both sides."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from core.testing import demo_client


def test_the_demo_has_transfers_in_every_state_and_hearings(demo_app: Any) -> None:
    from core.db import session
    from plugins.transfers.models import RemoteHearing, Transfer

    with demo_app.app_context():
        states = set(session().scalars(select(Transfer.status)))
        assert {s.value for s in states} >= {
            "requested",
            "approved",
            "accepted",
            "scheduled",
            "in_transit",
            "completed",
            "refused",
            "cancelled",
        }
        days = session().scalars(select(RemoteHearing.hearing_on)).all()
        assert len({(d.year, d.month) for d in days}) >= 6


def test_the_journey_is_open_to_the_demo_logins_in_arabic_and_french(demo_app: Any) -> None:
    for username, lang in (
        ("transfers", "ar"),
        ("director", "fr"),
        ("transfers.oukacha", "ar"),
        ("director.oukacha", "fr"),
    ):
        client = demo_client(demo_app, username, lang)
        headers = {"Accept-Language": lang}
        listing = client.get("/transfers/", headers=headers)
        assert listing.status_code == 200, username
        html = listing.get_data(as_text=True)
        ids = re.findall(r'href="/transfers/(\d+)"', html)
        assert ids, username
        page = client.get(f"/transfers/{ids[0]}", headers=headers)
        assert page.status_code == 200
        assert 'data-testid="transfer-timeline"' in page.get_data(as_text=True)
        dash = client.get("/dashboard", headers=headers).get_data(as_text=True)
        assert "transfers-widget-chart" in dash
    # each side has something to do today
    director = demo_client(demo_app, "director", "ar")
    html = director.get("/transfers/?status=requested&direction=out").get_data(as_text=True)
    assert re.search(r'href="/transfers/\d+"', html)
    oukacha = demo_client(demo_app, "transfers.oukacha", "fr")
    html = oukacha.get("/transfers/?status=approved&direction=in").get_data(as_text=True)
    assert re.search(r'href="/transfers/\d+"', html)
    hearings = demo_client(demo_app, "transfers", "ar").get("/transfers/hearings")
    assert "transfers-hearings-chart" in hearings.get_data(as_text=True)

"""The visits office's queue of link requests cannot be flooded (issue 10 point 2).

Paged in SQL with no cap, filterable, accounts with many rejected requests flagged; page and
API; permissions; bad input (huge numbers, extreme dates, NUL, CR/LF) is a 4xx, never a 500.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import insert

from core.db import session, utcnow
from core.identity.models import User
from plugins.visits import services
from plugins.visits.models import Relation

API = "/api/v1"
JUNK = 1000


@pytest.fixture(autouse=True)
def _english(client: Any) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def _flood(app: Any, factories: Any) -> dict[str, Any]:
    """1,000 junk pending requests (one account each, all older), then one real one."""
    with app.app_context():
        det = factories.detainee("EST-A")
        real_det = factories.detainee("EST-A", first_name="Youssef")
        junk_ids: list[int] = []
        base = utcnow() - dt.timedelta(days=3)  # outside "yesterday" in any zone, at any hour
        sess = session()
        sess.execute(
            insert(User),
            [
                {
                    "username": f"junk{i}",
                    "password_hash": "x",
                    "full_name": f"Junk {i}",
                    "national_id": f"JK{100000 + i}",
                    "created_at": base,
                }
                for i in range(JUNK)
            ],
        )
        junk_ids = list(
            sess.scalars(
                User.__table__.select()
                .with_only_columns(User.id)
                .where(User.username.like("junk%"))
            )
        )
        sess.execute(
            insert(Relation),
            [
                {
                    "visitor_id": uid,
                    "detainee_id": det.id,
                    "relationship_kind": "other_relative",
                    "status": "pending",
                    "reason": "",
                    "created_at": base + dt.timedelta(seconds=i),
                }
                for i, uid in enumerate(junk_ids)
            ],
        )
        real = factories.visitor(full_name="Khadija Real")
        rel = Relation(
            visitor_id=real.id,
            detainee_id=real_det.id,
            relationship_kind="spouse",
            status="pending",
            created_at=utcnow(),
        )
        sess.add(rel)
        sess.commit()
        return {
            "real_id": rel.id,
            "real_rn": real_det.registration_number,
            "real_cin": real.national_id,
        }


def _ids(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'id="relation-(\d+)"', html)}


def test_a_real_request_is_reachable_among_a_thousand_junk_ones(app, client, factories, login_as):
    flood = _flood(app, factories)
    login_as("visits_officer", "EST-A")
    first = client.get("/visits/office/relations")
    assert first.status_code == 200
    assert flood["real_id"] not in _ids(first.get_data(as_text=True))
    # the old queue showed the 200 oldest and nothing else; now every request is on a page
    pages = -(-(JUNK + 1) // 25)
    last = client.get(f"/visits/office/relations?page={pages}")
    assert flood["real_id"] in _ids(last.get_data(as_text=True))
    assert f"Page {pages} of {pages}" in last.get_data(as_text=True)
    # and the filters find it on the first page
    for query in (
        f"detainee={flood['real_rn']}",
        f"detainee={flood['real_rn'].lower()}",
        "visitor=khadija",
        f"visitor={flood['real_cin']}",
        "order=newest",
    ):
        resp = client.get(f"/visits/office/relations?{query}")
        assert resp.status_code == 200, query
        assert flood["real_id"] in _ids(resp.get_data(as_text=True)), query
    only = client.get(f"/visits/office/relations?detainee={flood['real_rn']}")
    assert _ids(only.get_data(as_text=True)) == {flood["real_id"]}
    # the office's home page counts every waiting request (no cap there either)
    home = client.get("/visits/office").get_data(as_text=True)
    assert f"({JUNK + 1})" in home


def test_the_api_queue_is_paged_in_sql_with_no_cap(app, client, factories, api_headers):
    flood = _flood(app, factories)
    with app.app_context():
        officer = factories.user("visits_officer", ("EST-A",))
    headers = api_headers(officer)
    resp = client.get(f"{API}/visits/relations?per_page=100&page=11", headers=headers)
    assert resp.status_code == 200, resp.json
    assert resp.json["total"] == JUNK + 1
    assert [i["id"] for i in resp.json["items"]] == [flood["real_id"]]
    found = client.get(f"{API}/visits/relations?detainee={flood['real_rn']}", headers=headers)
    assert found.json["total"] == 1 and found.json["items"][0]["visitor_name"] == "Khadija Real"
    newest = client.get(f"{API}/visits/relations?order=newest&per_page=1", headers=headers)
    assert newest.json["items"][0]["id"] == flood["real_id"]
    today = utcnow().date()
    days = {"from": today - dt.timedelta(days=1), "to": today + dt.timedelta(days=1)}
    dated = client.get(f"{API}/visits/relations", query_string=days, headers=headers)
    assert dated.json["total"] == 1


def _reject(visitor_id: int, detainee_id: int, n: int) -> None:
    for _ in range(n):
        session().add(
            Relation(
                visitor_id=visitor_id,
                detainee_id=detainee_id,
                relationship_kind="parent",
                status="rejected",
                reason="junk",
                decided_at=utcnow(),
            )
        )


def _flag_world(app: Any, factories: Any) -> dict[str, Any]:
    with app.app_context():
        det = factories.detainee("EST-A")
        elsewhere = factories.detainee("EST-B")
        spammer = factories.visitor(full_name="Spam Account")
        honest = factories.visitor(full_name="Honest Family")
        once = factories.visitor(full_name="Once Wrong")
        # rejections count wherever they were (another establishment too)
        _reject(spammer.id, det.id, 2)
        _reject(spammer.id, elsewhere.id, 1)
        _reject(once.id, det.id, 1)
        ids = {}
        for name, user in (("spammer", spammer), ("honest", honest), ("once", once)):
            rel = Relation(
                visitor_id=user.id, detainee_id=det.id, relationship_kind="parent", status="pending"
            )
            session().add(rel)
            session().flush()
            ids[name] = rel.id
        session().commit()
        return ids


def test_accounts_with_many_rejected_requests_are_flagged(app, client, factories, login_as):
    ids = _flag_world(app, factories)
    login_as("visits_officer", "EST-A")
    html = client.get("/visits/office/relations").get_data(as_text=True)
    spam_card = html[html.index(f'id="relation-{ids["spammer"]}"') :]
    spam_card = spam_card[: spam_card.index("</li>")]
    assert "Flagged: 3 rejected requests" in spam_card
    honest_card = html[html.index(f'id="relation-{ids["honest"]}"') :]
    assert "Flagged" not in honest_card[: honest_card.index("</li>")]
    once_card = html[html.index(f'id="relation-{ids["once"]}"') :]
    assert "1 rejected request" in once_card[: once_card.index("</li>")]
    flagged = client.get("/visits/office/relations?flagged=1").get_data(as_text=True)
    assert _ids(flagged) == {ids["spammer"]}
    unflagged = client.get("/visits/office/relations?flagged=0").get_data(as_text=True)
    assert _ids(unflagged) == {ids["honest"], ids["once"]}


def test_the_flag_threshold_is_a_setting(app, client, factories, api_headers):
    ids = _flag_world(app, factories)
    with app.app_context():
        officer = factories.user("visits_officer", ("EST-A",))
    headers = api_headers(officer)
    by_id = {
        i["id"]: i for i in client.get(f"{API}/visits/relations", headers=headers).json["items"]
    }
    assert by_id[ids["spammer"]]["flagged"] and by_id[ids["spammer"]]["rejected_requests"] == 3
    assert not by_id[ids["once"]]["flagged"] and by_id[ids["once"]]["rejected_requests"] == 1
    app.config["VISITS_REJECTED_FLAG_THRESHOLD"] = 1
    try:
        resp = client.get(f"{API}/visits/relations?flagged=true", headers=headers)
        assert {i["id"] for i in resp.json["items"]} == {ids["spammer"], ids["once"]}
    finally:
        app.config.pop("VISITS_REJECTED_FLAG_THRESHOLD", None)
    with app.app_context():
        assert services.flag_threshold() == services.office.DEFAULT_FLAG_THRESHOLD == 3
        for odd in ("0", "-5", "many", "99999999999999999999999"):
            app.config["VISITS_REJECTED_FLAG_THRESHOLD"] = odd
            expected = 1_000_000 if odd.startswith("9") else 3
            assert services.flag_threshold() == expected
        app.config.pop("VISITS_REJECTED_FLAG_THRESHOLD", None)


def test_the_flag_threshold_from_the_environment(app, monkeypatch):
    monkeypatch.setenv("IDMAJ_VISITS_REJECTED_FLAG_THRESHOLD", "5")
    with app.app_context():
        assert services.flag_threshold() == 5


def test_a_decision_keeps_the_page_and_filters(app, client, factories, login_as):
    ids = _flag_world(app, factories)
    login_as("visits_officer", "EST-A")
    page = client.get("/visits/office/relations?flagged=1&order=newest").get_data(as_text=True)
    action = re.search(
        rf'action="([^"]*/office/relations/{ids["spammer"]}/reject[^"]*)"', page
    ).group(1)
    assert "flagged=1" in action
    resp = client.post(action.replace("&amp;", "&"), data={"reason": "x"})
    assert resp.status_code == 302
    assert "flagged=1" in resp.location and "order=newest" in resp.location


def test_every_row_keeps_its_actions_in_its_card(app, client, factories, login_as):
    """On a 360px phone the request is a card whose actions wrap under it (no table to scroll
    sideways to reach Approve/Reject)."""
    ids = _flag_world(app, factories)
    login_as("visits_officer", "EST-A")
    html = client.get("/visits/office/relations").get_data(as_text=True)
    assert "<table" not in html
    card = html[html.index(f'id="relation-{ids["honest"]}"') :]
    card = card[: card.index("</li>")]
    assert 'class="queue-actions"' in card and ">Approve<" in card and ">Reject<" in card


# --- permissions --------------------------------------------------------------------------


def test_queue_permissions_page(app, client, factories, login_as):
    ids = _flag_world(app, factories)
    anonymous = client.get("/visits/office/relations")
    assert anonymous.status_code == 302 and "/login" in anonymous.location
    login_as("visitor", None)
    assert client.get("/visits/office/relations").status_code == 403
    client.post("/logout")
    login_as("visits_officer", "EST-B")
    html = client.get("/visits/office/relations").get_data(as_text=True)
    assert not _ids(html) & set(ids.values())
    client.post("/logout")
    login_as("auditor", None)
    assert client.get("/visits/office/relations").status_code == 403


def test_queue_permissions_api(app, client, factories, api_headers):
    ids = _flag_world(app, factories)
    assert client.get(f"{API}/visits/relations").status_code == 401
    with app.app_context():
        family = factories.visitor()
        other = factories.user("visits_officer", ("EST-B",))
        director = factories.user("director", ("EST-A",))
        admin = factories.user("central_admin", ())
    assert client.get(f"{API}/visits/relations", headers=api_headers(family)).status_code == 403
    assert client.get(f"{API}/visits/relations", headers=api_headers(other)).json["total"] == 0
    assert client.get(f"{API}/visits/relations", headers=api_headers(director)).json["total"] == 3
    # central administration does not run the visits office
    assert client.get(f"{API}/visits/relations", headers=api_headers(admin)).status_code == 403
    assert ids


# --- bad input ----------------------------------------------------------------------------

HUGE = ["99999999999999999999", "9223372036854775808", "1" + "0" * 5000, "-1", "abc", "٣"]
EXTREME_DATES = [
    "9999-12-31",
    "0001-01-01",
    "2024-02-30",
    "99999-01-01",
    "x" * 5000,
    "2026-01-01\x00",
]
ODD_TEXT = ["a\x00b", "\x00", "line\r\nbreak", "\r\n", "%", "_", "\\", "x" * 5000, "' OR 1=1 --"]


@pytest.mark.parametrize("n", HUGE)
def test_page_numbers_on_the_queue_page(app, client, factories, login_as, n):
    _flag_world(app, factories)
    login_as("visits_officer", "EST-A")
    assert client.get(f"/visits/office/relations?page={n}").status_code == 200


@pytest.mark.parametrize("name", ["from", "to"])
@pytest.mark.parametrize("d", EXTREME_DATES)
def test_dates_on_the_queue_page(app, client, factories, login_as, name, d):
    _flag_world(app, factories)
    login_as("visits_officer", "EST-A")
    resp = client.get("/visits/office/relations", query_string={name: d})
    assert resp.status_code == 400
    assert "Enter a date (YYYY-MM-DD) between 1900 and 2999." in resp.get_data(as_text=True)


@pytest.mark.parametrize("name", ["detainee", "visitor"])
@pytest.mark.parametrize("text", ODD_TEXT)
def test_odd_text_on_the_queue_page_and_api(
    app, client, factories, login_as, api_headers, name, text
):
    _flag_world(app, factories)
    officer = login_as("visits_officer", "EST-A")
    resp = client.get("/visits/office/relations", query_string={name: text})
    assert resp.status_code == 200
    api = client.get(
        f"{API}/visits/relations", query_string={name: text}, headers=api_headers(officer)
    )
    # control characters are spaces: nothing left is no filter at all
    expected = 0 if services.office.clean_text(text) else 3
    assert api.status_code == 200 and api.json["total"] == expected


def test_odd_choices_on_the_queue(app, client, factories, login_as, api_headers):
    _flag_world(app, factories)
    officer = login_as("visits_officer", "EST-A")
    for name, value in (
        ("flagged", "maybe"),
        ("order", "sideways"),
        ("flagged", "1\x00"),
        ("order", "old\r\nest"),
    ):
        query = {name: value}
        assert client.get("/visits/office/relations", query_string=query).status_code == 400
        api = client.get(
            f"{API}/visits/relations", query_string=query, headers=api_headers(officer)
        )
        assert api.status_code == 400 and api.json["error"]["code"] == "bad_query", query
    backwards = client.get(
        f"{API}/visits/relations?from=2026-02-01&to=2026-01-01", headers=api_headers(officer)
    )
    assert backwards.status_code == 400 and "to" in backwards.json["error"]["fields"]


@pytest.mark.parametrize(
    "query", [*(f"page={n}" for n in HUGE[:3]), *(f"per_page={n}" for n in (*HUGE[:3], "0", "101"))]
)
def test_huge_numbers_on_the_api_queue(app, client, factories, api_headers, query):
    with app.app_context():
        officer = factories.user("visits_officer", ("EST-A",))
    resp = client.get(f"{API}/visits/relations?{query}", headers=api_headers(officer))
    assert resp.status_code == 400 and resp.json["error"]["code"] == "bad_query"


@pytest.mark.parametrize("d", EXTREME_DATES)
def test_dates_on_the_api_queue(app, client, factories, api_headers, d):
    with app.app_context():
        officer = factories.user("visits_officer", ("EST-A",))
    resp = client.get(
        f"{API}/visits/relations", query_string={"from": d}, headers=api_headers(officer)
    )
    assert resp.status_code == 400 and resp.json["error"]["code"] == "bad_query"
    assert "from" in resp.json["error"]["fields"]

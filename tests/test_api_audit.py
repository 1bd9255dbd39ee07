"""GET /api/v1/audit/events: the auditors' search of the audit trail — every filter, paging in
the database, newest first, who may call it, and bad filters answered 400/422 (never 500)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event as sa_event

from core.audit import services as audit
from core.config import TIMEZONE
from core.db import session
from core.principals import SYSTEM

URL = "/api/v1/audit/events"
FIELDS = {
    "id",
    "occurred_at",
    "actor",
    "action",
    "object_type",
    "object_id",
    "establishment",
    "summary",
}
TZ = ZoneInfo(TIMEZONE)


@pytest.fixture
def auditor_headers(app, factories, api_headers):
    with app.app_context():
        auditor = factories.user("auditor", ())
    return api_headers(auditor)


def _get(client, headers, **query):
    resp = client.get(URL, query_string=query, headers=headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:1000]
    return resp.json


def _ids(data) -> set[str]:
    return {item["object_id"] for item in data["items"]}


def _error(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)[:1000]
    assert resp.is_json and set(resp.json) == {"error"}
    error = resp.json["error"]
    assert error["code"] == code and error["message"] and isinstance(error["fields"], dict)
    return error


# --------------------------------------------------------------------------------------------
# the shape, the order, the paging
# --------------------------------------------------------------------------------------------


def test_items_have_the_interface_fields(client, auditor_headers, trail):
    data = _get(client, auditor_headers, object_id=trail["EST-A"], action="detainee.admit")
    assert set(data) == {"items", "total", "page", "per_page"}
    assert (data["total"], data["page"], data["per_page"]) == (1, 1, 20)
    (item,) = data["items"]
    assert set(item) == FIELDS
    assert item["actor"] == "clerka"
    assert item["action"] == "detainee.admit"
    assert item["object_type"] == "detainee"
    assert item["establishment"] == "EST-A"
    assert isinstance(item["id"], int) and isinstance(item["summary"], dict)
    occurred = dt.datetime.fromisoformat(item["occurred_at"])
    assert occurred.utcoffset() is not None  # a timestamp with its offset
    assert abs(dt.datetime.now(dt.UTC) - occurred) < dt.timedelta(minutes=5)


def test_system_events_have_no_actor_name_but_system(client, auditor_headers, trail):
    data = _get(client, auditor_headers, actor="system", object_type="establishment")
    assert data["total"] >= 2  # the factories create establishments as SYSTEM
    assert {i["actor"] for i in data["items"]} == {"system"}


def test_newest_first(client, auditor_headers, trail):
    items = _get(client, auditor_headers, per_page=100)["items"]
    keys = [(dt.datetime.fromisoformat(i["occurred_at"]), i["id"]) for i in items]
    assert keys == sorted(keys, reverse=True)
    data = _get(client, auditor_headers, object_type="detainee", object_id=trail["EST-A"])
    assert [i["action"] for i in data["items"]] == ["detainee.update", "detainee.admit"]


def test_paging_totals(app, client, auditor_headers):
    with app.app_context():
        for i in range(7):
            audit.record("test.paging", "thing", i, actor=SYSTEM)
        session().commit()
    first = _get(client, auditor_headers, action="test.paging", per_page=3)
    assert (first["total"], first["page"], first["per_page"], len(first["items"])) == (7, 1, 3, 3)
    third = _get(client, auditor_headers, action="test.paging", per_page=3, page=3)
    assert (third["total"], third["page"], len(third["items"])) == (7, 3, 1)
    seen = [
        i["object_id"]
        for p in (1, 2, 3)
        for i in _get(client, auditor_headers, action="test.paging", per_page=3, page=p)["items"]
    ]
    assert seen == [str(i) for i in range(6, -1, -1)]
    past = _get(client, auditor_headers, action="test.paging", per_page=3, page=10**40)
    assert (past["items"], past["total"], past["page"]) == ([], 7, 10**40)


def test_paging_is_done_in_sql(app, client, auditor_headers):
    """One COUNT and one LIMIT query: never the whole trail loaded into memory."""
    with app.app_context():
        for i in range(5):
            audit.record("test.sqlpaging", "thing", i, actor=SYSTEM)
        session().commit()
    statements: list[str] = []
    engine = app.extensions["idmaj.db"].engine

    def seen(conn, cursor, statement, *args):
        if "core_audit_events" in statement:
            statements.append(" ".join(statement.split()).lower())

    sa_event.listen(engine, "before_cursor_execute", seen)
    try:
        data = _get(client, auditor_headers, action="test.sqlpaging", per_page=2)
    finally:
        sa_event.remove(engine, "before_cursor_execute", seen)
    assert len(data["items"]) == 2 and data["total"] == 5
    reads = [s for s in statements if s.startswith("select")]
    assert any("count(" in s for s in reads), reads
    assert any(" limit " in s for s in reads if "count(" not in s), reads


# --------------------------------------------------------------------------------------------
# each filter
# --------------------------------------------------------------------------------------------


def test_filter_actor(client, auditor_headers, trail):
    data = _get(client, auditor_headers, actor="clerka", object_type="detainee")
    assert _ids(data) == {trail["EST-A"]}
    assert _get(client, auditor_headers, actor="CLERKA", object_type="detainee") == data
    assert _get(client, auditor_headers, actor="nobody-ever")["total"] == 0


def test_filter_action_exact_and_family(app, client, auditor_headers, trail):
    data = _get(client, auditor_headers, action="detainee.update")
    assert _ids(data) == {trail["EST-A"]}
    assert {i["action"] for i in data["items"]} == {"detainee.update"}
    family = _get(client, auditor_headers, action="detainee.", per_page=100)
    assert {trail["EST-A"], trail["EST-B"]} <= _ids(family)
    assert {i["action"] for i in family["items"]} >= {"detainee.admit", "detainee.update"}
    assert all(i["action"].startswith("detainee.") for i in family["items"])
    assert _get(client, auditor_headers, action="detainee")["total"] == 0
    with app.app_context():  # an exact action is not a prefix; _ and % are not wildcards
        audit.record("user.login", "user", 1, actor=SYSTEM)
        audit.record("user.login.failed", "user", 1, actor=SYSTEM)
        audit.record("a_b.x", "thing", 1, actor=SYSTEM)
        session().commit()
    assert {i["action"] for i in _get(client, auditor_headers, action="user.login")["items"]} == {
        "user.login"
    }
    assert _get(client, auditor_headers, action="a%b.")["total"] == 0
    assert _get(client, auditor_headers, action="a_b.")["total"] == 1
    assert _get(client, auditor_headers, action="axb.")["total"] == 0


def test_filter_object_type_and_id(client, auditor_headers, trail):
    data = _get(client, auditor_headers, object_type="detainee", object_id=trail["EST-B"])
    assert _ids(data) == {trail["EST-B"]} and data["total"] == 1
    assert _get(client, auditor_headers, object_type="nothing-such")["total"] == 0


def test_filter_establishment(client, auditor_headers, trail):
    data = _get(client, auditor_headers, establishment="EST-B", object_type="detainee")
    assert _ids(data) == {trail["EST-B"]}
    assert {i["establishment"] for i in data["items"]} == {"EST-B"}
    assert _get(client, auditor_headers, establishment="est-b", object_type="detainee") == data


def test_filter_dates_are_local_days_to_inclusive(client, auditor_headers, trail):
    today = dt.datetime.now(TZ).date()
    yesterday, tomorrow = today - dt.timedelta(days=1), today + dt.timedelta(days=1)
    q = {"object_type": "detainee"}
    both = {trail["EST-A"], trail["EST-B"]}
    assert _ids(_get(client, auditor_headers, **q, **{"from": today.isoformat()})) == both
    assert _ids(_get(client, auditor_headers, **q, to=today.isoformat())) == both
    assert _get(client, auditor_headers, **q, **{"from": tomorrow.isoformat()})["total"] == 0
    assert _get(client, auditor_headers, **q, to=yesterday.isoformat())["total"] == 0
    day = {"from": today.isoformat(), "to": today.isoformat()}
    assert _ids(_get(client, auditor_headers, **q, **day)) == both


def test_filter_timestamps_with_offset(client, auditor_headers, trail):
    q = {"object_type": "detainee", "object_id": trail["EST-A"]}
    update, admit = _get(client, auditor_headers, **q)["items"]  # newest first
    at = dt.datetime.fromisoformat(update["occurred_at"])
    local = at.astimezone(dt.timezone(dt.timedelta(hours=5, minutes=30))).isoformat()
    # both ends inclusive: an event at exactly `from` or `to` is in
    data = _get(client, auditor_headers, **q, **{"from": local, "to": local})
    assert [i["id"] for i in data["items"]] == [update["id"]]
    data = _get(client, auditor_headers, **q, to=admit["occurred_at"])
    assert [i["id"] for i in data["items"]] == [admit["id"]]
    assert (
        _get(client, auditor_headers, **q, **{"from": (at + dt.timedelta(seconds=1)).isoformat()})[
            "total"
        ]
        == 0
    )


def test_extreme_dates_are_clamped_not_failed(client, auditor_headers, trail):
    q = {"object_type": "detainee"}
    for query, total in [
        ({"from": "0001-01-01"}, 3),
        ({"to": "9999-12-31"}, 3),
        ({"from": "0001-01-01T00:00:00+14:00"}, 3),
        ({"to": "9999-12-31T23:59:59.999999-14:00"}, 3),
        ({"from": "9999-12-31"}, 0),
        ({"to": "0001-01-01"}, 0),
        ({"to": "0001-01-01T00:00:00+14:00", "from": "0001-01-01T00:00:00+14:00"}, 0),
    ]:
        resp = client.get(URL, query_string={**q, **query}, headers=auditor_headers)
        assert resp.status_code == 200, (query, resp.json)
        assert resp.json["total"] == total, query


# --------------------------------------------------------------------------------------------
# who may call it
# --------------------------------------------------------------------------------------------


def test_anonymous_is_401(client):
    _error(client.get(URL), 401, "unauthorized")
    _error(client.get(URL, headers={"Authorization": "Bearer nope"}), 401, "unauthorized")


@pytest.mark.parametrize(
    "role",
    [
        "director",
        "registry_clerk",
        "visits_officer",
        "doctor",
        "nurse",
        "accountant",
        "transfers_officer",
        "complaints_officer",
        "visitor",
    ],
)
def test_other_roles_are_403(app, client, factories, api_headers, role):
    with app.app_context():
        user = factories.user(role, () if role == "visitor" else ("EST-A",))
    _error(client.get(URL, headers=api_headers(user)), 403, "forbidden")


@pytest.mark.parametrize("role", ["auditor", "central_admin"])
def test_auditors_and_central_admin_see_every_establishment(
    app, client, factories, api_headers, trail, role
):
    with app.app_context():
        user = factories.user(role, ())
    data = _get(client, api_headers(user), object_type="detainee", per_page=100)
    assert {trail["EST-A"], trail["EST-B"]} <= _ids(data)


# --------------------------------------------------------------------------------------------
# bad filters: 400 for what cannot be read, 422 for what cannot be right — never 500
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "not-a-date"}, "from"),
        ({"to": "2025-13-45"}, "to"),
        ({"from": "2025-02-30"}, "from"),
        ({"from": "2025-01-01T10:00:00"}, "from"),  # a timestamp needs its offset
        ({"to": "10000-01-01"}, "to"),
        ({"from": "1" * 5000}, "from"),
        ({"to": "2025-01-01T10"}, "to"),
        ({"action": "detainee.admit\x00"}, "action"),
        ({"actor": "clerka\r\nX-Injected: 1"}, "actor"),
        ({"object_id": "\n"}, "object_id"),
        ({"establishment": "EST-A\x00"}, "establishment"),
        ({"since": "2025-01-01"}, "since"),  # the page's name; the API says from/to
        ({"page": "0"}, "page"),
        ({"page": "9" * 5000}, "page"),
        ({"per_page": "101"}, "per_page"),
        ({"per_page": "-1"}, "per_page"),
    ],
)
def test_unreadable_filters_are_400(client, auditor_headers, query, field):
    error = _error(client.get(URL, query_string=query, headers=auditor_headers), 400, "bad_query")
    assert field in error["fields"] and error["fields"][field]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"establishment": "NOPE"}, "establishment"),
        ({"establishment": "not a code!"}, "establishment"),
        ({"establishment": "X" * 17}, "establishment"),
        ({"actor": "x" * 5000}, "actor"),
        ({"object_id": "9" * 81}, "object_id"),
        ({"action": "a" * 81}, "action"),
        ({"from": "2025-03-02", "to": "2025-03-01"}, "to"),
        ({"from": "2025-03-01T10:00:00+00:00", "to": "2025-03-01T09:59:59+00:00"}, "to"),
    ],
)
def test_impossible_filters_are_422(client, auditor_headers, trail, query, field):
    error = _error(
        client.get(URL, query_string=query, headers=auditor_headers), 422, "validation_failed"
    )
    assert field in error["fields"] and error["fields"][field]


@pytest.mark.parametrize(
    "query",
    [
        {"object_id": str(10**40)},
        {"object_id": "-1"},
        {"actor": "<script>alert(1)</script>"},
        {"object_type": "٣٤٥"},
        {"action": "%."},
        {"action": "'; drop table core_audit_events; --"},
        {"page": str(10**40)},
    ],
)
def test_odd_but_readable_filters_are_an_empty_list(client, auditor_headers, trail, query):
    data = _get(client, auditor_headers, **query)
    assert data["items"] == []


def test_messages_are_localised(client, auditor_headers):
    resp = client.get(
        URL,
        query_string={"establishment": "NOPE"},
        headers={**auditor_headers, "Accept-Language": "fr"},
    )
    error = _error(resp, 422, "validation_failed")
    assert error["fields"]["establishment"] != "Unknown establishment."


# --------------------------------------------------------------------------------------------
# the /audit/ page shares the rule (core.audit.queries)
# --------------------------------------------------------------------------------------------


def _page_rows(resp) -> str:
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    return body[body.index("<tbody>") : body.index("</tbody>")]


def test_the_page_uses_the_same_search(app, client, login_as, trail):
    with app.app_context():
        audit.record("user.login", "user", "page-exact", actor=SYSTEM)
        audit.record("user.login.failed", "user", "page-family", actor=SYSTEM)
        session().commit()
    login_as("auditor", ())
    rows = _page_rows(client.get("/audit/", query_string={"action": "user.login"}))
    assert "page-exact" in rows and "page-family" not in rows
    rows = _page_rows(client.get("/audit/", query_string={"action": "user."}))
    assert "page-exact" in rows and "page-family" in rows
    rows = _page_rows(client.get("/audit/", query_string={"establishment": "EST-B"}))
    assert trail["EST-B"] in rows and trail["EST-A"] not in rows and "EST-B" in rows


ODD = [
    "",
    " ",
    "0",
    "-1",
    str(10**40),
    "1.5",
    "true",
    "null",
    "x" * 100_000,
    "\x00",
    "\r\n",
    "٣٤٥",
    "<script>alert(1)</script>",
    "%",
    "_",
    "2025-01-01T00:00:00+99:00",
    "0000-00-00",
    "9999-12-31T23:59:59+00:00",
]


@pytest.mark.parametrize(
    "name",
    ["action", "object_type", "object_id", "establishment", "actor", "from", "to", "page"],
)
def test_fuzz_every_filter_never_fails(app, client, auditor_headers, monkeypatch, name):
    monkeypatch.setitem(app.config, "PROPAGATE_UNEXPECTED", False)  # a crash would be a 500
    raw = [quote(v, safe="") for v in ODD] + ["%ED%A0%80", "%FF", "%C0%80"]  # not UTF-8
    for value in raw:
        resp = client.get(f"{URL}?{name}={value}", headers=auditor_headers)
        assert resp.status_code in (200, 400, 422), (name, value[:50], resp.status_code)
        assert resp.is_json, (name, value[:50])

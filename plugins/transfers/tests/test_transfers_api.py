"""The transfers API: every transition and who may make it (each role, origin, destination,
another establishment, anonymous), the blocked shape, 409s, Idempotency-Key, bad input."""

from __future__ import annotations

from typing import Any

import pytest

from core.plugins import hookimpl
from core.vetoes import Blocker
from plugins.transfers.tests.helpers import (
    BASE,
    DEST,
    ORIGIN,
    OTHER,
    detainee,
    establishment_of,
    make_transfer,
    request_body,
    status_of,
    user,
)

ROLES = (
    "central_admin",
    "director",
    "registry_clerk",
    "visits_officer",
    "doctor",
    "nurse",
    "accountant",
    "transfers_officer",
    "complaints_officer",
    "auditor",
)

# the step, the status it starts from, its body, and who may: (role, side)
STEPS = {
    "approve": ("requested", {"judicial_authorisation": "AJ-1"}, {("director", ORIGIN)}),
    "accept": ("approved", {}, {("director", DEST), ("transfers_officer", DEST)}),
    "refuse": (
        "approved",
        {"reason": "no_space"},
        {("director", DEST), ("transfers_officer", DEST)},
    ),
    "schedule": ("accepted", {"date": "2999-01-01"}, {("transfers_officer", ORIGIN)}),
    "depart": ("scheduled", None, {("transfers_officer", ORIGIN)}),
    "complete": (
        "in_transit",
        None,
        {("transfers_officer", ORIGIN), ("transfers_officer", DEST)},
    ),
    "cancel": (
        "requested",
        {"reason": "changed plans"},
        {
            ("transfers_officer", ORIGIN),
            ("transfers_officer", DEST),
            ("director", ORIGIN),
            ("director", DEST),
        },
    ),
}
TARGET = {
    "approve": "approved",
    "accept": "accepted",
    "refuse": "refused",
    "schedule": "scheduled",
    "depart": "in_transit",
    "complete": "completed",
    "cancel": "cancelled",
}


def _post(client: Any, url: str, headers: dict[str, str], body: Any) -> Any:
    if body is None:
        return client.post(url, headers=headers)
    return client.post(url, json=body, headers=headers)


@pytest.mark.parametrize("step", sorted(STEPS))
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("side", [ORIGIN, DEST, OTHER])
def test_who_may_make_each_step(app, client, factories, api_headers, step, role, side):
    start, body, allowed = STEPS[step]
    rn = detainee(app, factories)
    tid = make_transfer(app, rn, start)
    actor = user(app, factories, role, side)
    resp = _post(client, f"{BASE}/{tid}/{step}", api_headers(actor), body)
    if (role, side) in allowed:
        assert resp.status_code == 200, resp.json
        assert resp.json["status"] == TARGET[step]
        assert status_of(app, tid) == TARGET[step]
    else:
        assert resp.status_code in (403, 404), (resp.status_code, resp.json)
        assert status_of(app, tid) == start


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("side", [ORIGIN, DEST, OTHER])
def test_who_may_request(app, client, factories, api_headers, role, side):
    rn = detainee(app, factories)
    actor = user(app, factories, role, side)
    resp = client.post(BASE, json=request_body(rn), headers=api_headers(actor))
    if (role, side) == ("transfers_officer", ORIGIN):
        assert resp.status_code == 201, resp.json
        assert resp.json["status"] == "requested"
    else:
        assert resp.status_code in (403, 404), resp.json


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("side", [ORIGIN, DEST, OTHER])
def test_who_may_read(app, client, factories, api_headers, role, side):
    rn = detainee(app, factories)
    tid = make_transfer(app, rn)
    actor = user(app, factories, role, side)
    resp = client.get(f"{BASE}/{tid}", headers=api_headers(actor))
    national = role in ("central_admin", "auditor")
    if national or (role in ("transfers_officer", "director") and side != OTHER):
        assert resp.status_code == 200, resp.json
        body = resp.json
        assert {
            "id",
            "detainee",
            "origin",
            "destination",
            "kind",
            "reason",
            "status",
            "blockers",
            "timeline",
        } <= set(body)
        assert body["detainee"] == rn and body["origin"] == ORIGIN
        assert body["timeline"][0]["action"] == "request"
    else:
        assert resp.status_code in (403, 404)


def test_anonymous_gets_401_everywhere(app, client, factories):
    rn = detainee(app, factories)
    tid = make_transfer(app, rn)
    assert client.post(BASE, json=request_body(rn)).status_code == 401
    assert client.get(f"{BASE}/{tid}").status_code == 401
    assert client.get(BASE).status_code == 401
    for step in STEPS:
        assert client.post(f"{BASE}/{tid}/{step}", json={}).status_code == 401


def test_a_second_complete_is_a_409_and_moves_nothing_twice(app, client, factories, api_headers):
    rn = detainee(app, factories)
    tid = make_transfer(app, rn, "in_transit")
    officer = user(app, factories, "transfers_officer", DEST)
    headers = api_headers(officer)
    assert client.post(f"{BASE}/{tid}/complete", headers=headers).status_code == 200
    again = client.post(f"{BASE}/{tid}/complete", headers=headers)
    assert again.status_code == 409
    assert again.json["error"]["code"] == "invalid_transition"
    assert establishment_of(app, rn) == DEST


def test_a_step_out_of_order_is_a_409(app, client, factories, api_headers):
    rn = detainee(app, factories)
    tid = make_transfer(app, rn)
    officer = user(app, factories, "transfers_officer")
    resp = client.post(f"{BASE}/{tid}/depart", headers=api_headers(officer))
    assert resp.status_code == 409


def test_pretrial_approval_without_authorisation_is_a_422(app, client, factories, api_headers):
    rn = detainee(app, factories, legal_status="pretrial")
    tid = make_transfer(app, rn)
    director = user(app, factories, "director")
    resp = client.post(f"{BASE}/{tid}/approve", json={}, headers=api_headers(director))
    assert resp.status_code == 422
    assert "judicial_authorisation" in resp.json["error"]["fields"]


class _Veto:
    @hookimpl
    def transfer_blockers(self, detainee: Any) -> list[Any]:
        return [Blocker("unfit_to_travel", "health", "Unfit to travel.", False)]


def test_blocked_actions_answer_the_blocked_shape(app, factories, make_app):
    from core.plugins import get_plugin_manager
    from core.testing import TEST_PASSWORD

    rn = detainee(app, factories)
    tid = make_transfer(app, rn, "scheduled")
    rn2 = detainee(app, factories)
    other = make_app(rolled_back=True)
    with other.app_context():
        get_plugin_manager().register(_Veto(), name="vetoer")
    officer = user(other, factories, "transfers_officer")
    client = other.test_client()
    token = client.post(
        "/api/v1/auth/token", json={"username": officer.username, "password": TEST_PASSWORD}
    ).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    for resp in (
        client.post(BASE, json=request_body(rn2), headers=headers),
        client.post(f"{BASE}/{tid}/depart", headers=headers),
    ):
        assert resp.status_code == 422, resp.json
        error = resp.json["error"]
        assert error["code"] == "blocked"
        assert error["fields"]["blockers"] == [
            {
                "code": "unfit_to_travel",
                "module": "health",
                "message": "Unfit to travel.",
                "overridable": False,
            }
        ]
    body = client.get(f"{BASE}/{tid}", headers=headers).json
    assert body["blockers"][0]["code"] == "unfit_to_travel"
    assert status_of(app, tid) == "scheduled"


def test_idempotency_key_creates_once(app, client, factories, api_headers):
    rn = detainee(app, factories)
    officer = user(app, factories, "transfers_officer")
    headers = {**api_headers(officer), "Idempotency-Key": "req-1"}
    first = client.post(BASE, json=request_body(rn), headers=headers)
    second = client.post(BASE, json=request_body(rn), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json == second.json
    assert second.headers.get("Idempotent-Replayed") == "true"
    other = client.post(BASE, json=request_body(rn, reason="security"), headers=headers)
    assert other.status_code == 409


@pytest.mark.parametrize(
    "body, field",
    [
        ({"reason": "teleport"}, "reason"),
        ({"kind": "rocket"}, "kind"),
        ({"reason": "other"}, "reason_text"),
        ({"destination": "X" * 17}, "destination"),
        ({"planned_for": "1800-01-01"}, "planned_for"),
        ({"planned_for": "not a date"}, "planned_for"),
        ({"note": "a\u0000b"}, None),  # the core's input layer: 400 for the whole body
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_request_bodies_are_4xx_on_the_field(app, client, factories, api_headers, body, field):
    rn = detainee(app, factories)
    officer = user(app, factories, "transfers_officer")
    resp = client.post(BASE, json=request_body(rn, **body), headers=api_headers(officer))
    assert resp.status_code in (400, 422), resp.json
    assert field is None or field in resp.json["error"]["fields"], resp.json


@pytest.mark.parametrize(
    "step, body",
    [
        ("schedule", {"date": "29999-01-01"}),
        ("schedule", {"date": "2001-01-01"}),
        ("schedule", {"date": "2999-01-01", "vehicle": "v" * 61}),
        ("cancel", {"reason": ""}),
        ("cancel", {}),
        ("refuse", {"reason": "bored"}),
        ("approve", {"judicial_authorisation": "x" * 101}),
        ("override", {"reason": "\x00"}),
    ],
)
def test_bad_step_bodies_are_4xx(app, client, factories, api_headers, step, body):
    rn = detainee(app, factories)
    start = {"schedule": "accepted", "refuse": "approved"}.get(step, "requested")
    tid = make_transfer(app, rn, start)
    role = "director" if step in ("approve", "override") else "transfers_officer"
    actor = user(app, factories, role, DEST if step == "refuse" else ORIGIN)
    resp = client.post(f"{BASE}/{tid}/{step}", json=body, headers=api_headers(actor))
    assert resp.status_code in (400, 409, 422), resp.json
    assert resp.status_code != 409 or step == "override"
    assert status_of(app, tid) == start


def test_unknown_and_huge_ids_are_404(app, client, factories, api_headers):
    officer = user(app, factories, "transfers_officer")
    headers = api_headers(officer)
    assert client.get(f"{BASE}/999999", headers=headers).status_code == 404
    assert client.get(f"{BASE}/99999999999999999999", headers=headers).status_code == 404
    assert (
        client.post(
            f"{BASE}/99999999999999999999/cancel", json={"reason": "x"}, headers=headers
        ).status_code
        == 404
    )


def test_list_is_paged_and_scoped(app, client, factories, api_headers):
    for _i in range(3):
        make_transfer(app, detainee(app, factories))
    make_transfer(app, detainee(app, factories, OTHER), destination=ORIGIN)
    officer = user(app, factories, "transfers_officer", DEST)
    resp = client.get(f"{BASE}?per_page=2&direction=in", headers=api_headers(officer))
    assert resp.status_code == 200
    assert resp.json["total"] == 3 and len(resp.json["items"]) == 2
    assert client.get(f"{BASE}?status=nope", headers=api_headers(officer)).status_code == 400


def test_court_by_video_link_records_a_hearing_and_moves_nothing(
    app, client, factories, api_headers
):
    rn = detainee(app, factories)
    tid = make_transfer(
        app, rn, destination="", kind="court", reason="court", place="Tribunal de Casablanca"
    )
    officer = user(app, factories, "transfers_officer")
    resp = client.post(
        f"{BASE}/{tid}/video", json={"case_reference": "2026/55"}, headers=api_headers(officer)
    )
    assert resp.status_code == 200, resp.json
    assert resp.json["status"] == "cancelled"
    from core.db import session
    from plugins.transfers.models import RemoteHearing

    with app.app_context():
        hearing = session().query(RemoteHearing).one()
        assert hearing.court == "Tribunal de Casablanca" and hearing.escort_hours == 6


def test_funds_hold_endpoint_sets_and_lifts(app, client, factories, api_headers):
    rn = detainee(app, factories)
    accountant = user(app, factories, "accountant")
    headers = api_headers(accountant)
    client.post(
        f"/api/v1/funds/accounts/{rn}/deposits",
        json={"amount": "80.00", "source": "cash"},
        headers=headers,
    )
    resp = client.post(
        f"/api/v1/funds/accounts/{rn}/hold",
        json={"amount": "30.00", "memo": "damage"},
        headers=headers,
    )
    assert resp.status_code == 200, resp.json
    assert resp.json["held"] == "30.00"
    officer = user(app, factories, "transfers_officer")
    blocked = client.post(BASE, json=request_body(rn), headers=api_headers(officer))
    assert blocked.status_code == 422
    assert blocked.json["error"]["fields"]["blockers"][0]["code"] == "money_on_hold"
    assert blocked.json["error"]["fields"]["blockers"][0]["overridable"] is True
    lifted = client.post(
        f"/api/v1/funds/accounts/{rn}/hold", json={"amount": "0", "memo": "paid"}, headers=headers
    )
    assert lifted.status_code == 200 and lifted.json["held"] == "0.00"
    assert client.post(BASE, json=request_body(rn), headers=api_headers(officer)).status_code == 201
    # who may: not the officer, not anonymous; bad amounts are 422
    assert (
        client.post(
            f"/api/v1/funds/accounts/{rn}/hold",
            json={"amount": "1.00", "memo": "x"},
            headers=api_headers(officer),
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/api/v1/funds/accounts/{rn}/hold", json={"amount": "1.00", "memo": "x"}
        ).status_code
        == 401
    )
    for amount in ("-1", "abc", "1e99", "99999999999999999999.00"):
        bad = client.post(
            f"/api/v1/funds/accounts/{rn}/hold",
            json={"amount": amount, "memo": "x"},
            headers=headers,
        )
        assert bad.status_code in (400, 422), amount
    too_much = client.post(
        f"/api/v1/funds/accounts/{rn}/hold", json={"amount": "500.00", "memo": "x"}, headers=headers
    )
    assert too_much.status_code == 409


def test_the_openapi_document_lists_the_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path in (
        "/transfers",
        "/transfers/{transfer_id}",
        "/transfers/{transfer_id}/approve",
        "/transfers/{transfer_id}/complete",
        "/funds/accounts/{rn}/hold",
    ):
        assert path in paths, sorted(paths)

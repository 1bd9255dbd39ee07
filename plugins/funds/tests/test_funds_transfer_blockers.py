"""Funds answers ``transfer_blockers``: money on hold stops a move (overridable by a director);
lifting the hold clears it. Through the hold endpoint of interface.md."""

from __future__ import annotations

import pytest

from core.errors import Blocked
from core.principals import SYSTEM
from plugins.funds.tests.helpers import deposit_body, setup


def test_money_on_hold_blocks_a_move_until_lifted(app, client, factories, api_headers):
    from core.db import session
    from core.detainees.services import get_detainee, move
    from core.establishments.services import get_by_code
    from plugins.funds import services

    rn, accountant = setup(app, factories)
    headers = api_headers(accountant)
    url = f"/api/v1/funds/accounts/{rn}"
    assert (
        client.post(f"{url}/deposits", json=deposit_body("50.00"), headers=headers).status_code
        == 201
    )
    held = client.post(f"{url}/hold", json={"amount": "20.00", "memo": "damage"}, headers=headers)
    assert held.status_code == 200 and held.json["held"] == "20.00"
    with app.app_context():
        factories.establishment("EST-B")
        det = get_detainee(rn, SYSTEM)
        (blocker,) = services.transfer_blockers(det)
        assert (blocker.code, blocker.module, blocker.overridable) == (
            "money_on_hold",
            "funds",
            True,
        )
        with pytest.raises(Blocked):
            move(det, get_by_code("EST-B", SYSTEM), SYSTEM)
        session().rollback()
    lifted = client.post(f"{url}/hold", json={"amount": "0", "memo": "paid"}, headers=headers)
    assert lifted.status_code == 200 and lifted.json["held"] == "0.00"
    with app.app_context():
        assert services.transfer_blockers(get_detainee(rn, SYSTEM)) == []


def test_the_hold_endpoint_permissions_and_bad_input(app, client, factories, api_headers, login_as):
    rn, accountant = setup(app, factories)
    url = f"/api/v1/funds/accounts/{rn}/hold"
    assert client.post(url, json={"amount": "1.00", "memo": "x"}).status_code == 401
    for role in ("director", "registry_clerk", "transfers_officer", "auditor"):
        with app.app_context():
            other = factories.user(role, ("EST-A",))
        assert (
            client.post(
                url, json={"amount": "1.00", "memo": "x"}, headers=api_headers(other)
            ).status_code
            == 403
        ), role
    with app.app_context():
        elsewhere = factories.user("accountant", ("EST-B",))
    assert (
        client.post(
            url, json={"amount": "0", "memo": "x"}, headers=api_headers(elsewhere)
        ).status_code
        == 404
    )
    headers = api_headers(accountant)
    for body in (
        {"amount": "-1", "memo": "x"},
        {"amount": "1e9", "memo": "x"},
        {"amount": "99999999999999999999.00", "memo": "x"},
        {"amount": "1.00"},
        {"amount": "1.00", "memo": "x" * 301},
        {"amount": 5, "memo": "x"},
    ):
        resp = client.post(url, json=body, headers=headers)
        assert resp.status_code in (400, 422), (body, resp.status_code)
    assert (
        client.post(url, json={"amount": "10.00", "memo": "x"}, headers=headers).status_code == 409
    )

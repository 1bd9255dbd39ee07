"""Issue 10 point 11: a detainee search's size and work are capped; past the cap a clear 422
tied to ``q`` (the API) or a message beside the search box (the page), never a stall."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from core.db import session
from core.detainees import search as search_module
from core.detainees.services import search
from core.errors import ValidationFailed
from core.principals import SYSTEM

HUNDRED_LETTERS = " ".join("abcdefghijklmnopqrstuvwxyz"[i % 26] for i in range(100))


@pytest.fixture
def staff(app, factories, api_headers):
    with app.app_context():
        for _ in range(3):
            factories.detainee("EST-A")
        user = factories.user("registry_clerk", ("EST-A",))
    return api_headers(user)


@pytest.mark.parametrize(
    "q",
    [
        HUNDRED_LETTERS,
        "a " * 100,
        " ".join(["Mohamed"] * 9),
        "x" * (search_module.MAX_QUERY_LENGTH + 1),
    ],
)
def test_api_refuses_a_query_past_the_caps(client, staff, q):
    resp = client.get("/api/v1/detainees", query_string={"q": q}, headers=staff)
    assert resp.status_code == 422, resp.json
    error = resp.json["error"]
    assert error["code"] == "query_too_long"
    assert "q" in error["fields"] and "8" in error["fields"]["q"]


def test_api_answers_a_query_at_the_caps(client, staff):
    q = " ".join(["Mohamed", "El", "Idrissi", "ben", "Ali", "Ahmed", "Omar", "Said"])
    resp = client.get("/api/v1/detainees", query_string={"q": q}, headers=staff)
    assert resp.status_code == 200, resp.json


def test_page_shows_the_cap_beside_the_search_box(client, login_as):
    login_as("registry_clerk", "EST-A")
    resp = client.get(
        "/detainees/", query_string={"q": HUNDRED_LETTERS}, headers={"Accept-Language": "fr"}
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'id="q-error"' in html and 'aria-describedby="q-error"' in html
    assert "mots" in html  # the message in the reader's language


def _statements(app, q: str) -> int:
    count = 0

    def tick(*_args):
        nonlocal count
        count += 1

    with app.app_context():
        engine = session().get_bind()
        event.listen(engine, "before_cursor_execute", tick)
        try:
            search(SYSTEM, q)
        finally:
            event.remove(engine, "before_cursor_execute", tick)
    return count


def test_the_work_per_query_is_bounded(app, staff):
    # eight different words nobody matches: every probe of the fallback runs, and no more
    worst = _statements(app, "qa qb qc qd qe qf qg qh")
    assert worst <= 2 + search_module.MAX_QUERY_WORDS + 1
    # repeated words are one word
    assert _statements(app, "a a a a a a a a") == _statements(app, "a")


def test_the_service_refuses_too_many_words(app):
    with app.app_context(), pytest.raises(ValidationFailed) as caught:
        search(SYSTEM, HUNDRED_LETTERS)
    assert caught.value.code == "query_too_long" and "q" in caught.value.fields


def test_a_nul_in_the_query_is_a_field_error_not_a_500(client, staff, login_as):
    resp = client.get("/api/v1/detainees", query_string={"q": "Moha\x00med"}, headers=staff)
    assert resp.status_code == 422 and "q" in resp.json["error"]["fields"]
    login_as("registry_clerk", "EST-A")
    page = client.get("/detainees/", query_string={"q": "Moha\x00med"})
    assert page.status_code == 422 and 'id="q-error"' in page.get_data(as_text=True)

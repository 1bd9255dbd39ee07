"""End-to-end smoke: a clerk signs in, admits a detainee, finds them by an Arabic spelling."""

from __future__ import annotations

from core.testing import TEST_PASSWORD


def test_clerk_admits_and_finds_detainee_by_arabic_spelling(app, client, login_as):
    login_as("registry_clerk", "EST-A")
    resp = client.post(
        "/detainees/new",
        data={
            "first_name": "Youssef",
            "last_name": "Benjelloun",
            "first_name_ar": "يوسف",
            "last_name_ar": "بنجلون",
            "birth_date": "1985-03-02",
            "sex": "M",
            "establishment": "EST-A",
            "legal_status": "pretrial",
        },
    )
    assert resp.status_code == 302, resp.data.decode()[:2000]
    profile = client.get(resp.headers["Location"])
    assert profile.status_code == 200
    assert "Benjelloun" in profile.get_data(as_text=True)

    found = client.get("/detainees/", query_string={"q": "يوسف بن جلون"})
    body = found.get_data(as_text=True)
    assert "Benjelloun" in body


def test_api_token_and_search(app, client, factories, api_headers):
    with app.app_context():
        factories.detainee(
            first_name="Mohammed",
            last_name="Lamrani",
            first_name_ar="محمد",
            last_name_ar="العمراني",
        )
        clerk = factories.user("registry_clerk", ("EST-A",))
    headers = api_headers(clerk)
    resp = client.get(
        "/api/v1/detainees", query_string={"q": "Muhammad El Amrani"}, headers=headers
    )
    assert resp.status_code == 200
    assert resp.json["items"][0]["last_name"] == "Lamrani"
    wrong = client.post("/api/v1/auth/token", json={"username": clerk.username, "password": "nope"})
    assert wrong.status_code == 401
    assert wrong.json["error"]["code"] == "invalid_credentials"
    assert TEST_PASSWORD

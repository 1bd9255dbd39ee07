"""Shared helpers of the complaints tests."""

from __future__ import annotations

from typing import Any

from core.testing import TEST_PASSWORD


def token(app: Any, user: Any) -> dict[str, str]:
    client = app.test_client()
    resp = client.post(
        "/api/v1/auth/token", json={"username": user.username, "password": TEST_PASSWORD}
    )
    assert resp.status_code == 200, resp.json
    return {"Authorization": f"Bearer {resp.json['token']}"}


def link(app: Any, factories: Any, visitor: Any, det: Any) -> None:
    """Link ``visitor`` to ``det`` through the public interface (visits' relations API)."""
    client = app.test_client()
    with app.app_context():
        officer = factories.user("visits_officer", (det.establishment.code,))
    resp = client.post(
        "/api/v1/visitors/me/relations",
        json={
            "detainee": det.registration_number,
            "detainee_birth_date": det.birth_date.isoformat(),
            "relationship": "mother",
        },
        headers=token(app, visitor),
    )
    assert resp.status_code == 201, resp.json
    done = client.post(
        f"/api/v1/visits/relations/{resp.json['id']}/approve", headers=token(app, officer)
    )
    assert done.status_code == 200, done.json


def family(app: Any, factories: Any, est: str = "EST-A") -> tuple[Any, Any]:
    """A detainee at ``est`` and a family member linked to them."""
    with app.app_context():
        det = factories.detainee(est)
        visitor = factories.visitor()
    link(app, factories, visitor, det)
    return visitor, det


GOOD = {"category": "food", "subject": "الأكل بارد", "body": "Lmakla katji bard kol nhar."}


def file_api(app: Any, user: Any, **kw: Any) -> Any:
    body = {**GOOD, **kw}
    return app.test_client().post("/api/v1/complaints", json=body, headers=token(app, user))

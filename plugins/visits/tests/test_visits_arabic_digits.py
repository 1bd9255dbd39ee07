"""A link request with the registration number typed in Arabic-Indic digits (issue 11 point 7)."""

from __future__ import annotations

from typing import Any

API = "/api/v1"
ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def test_a_link_request_takes_the_registration_number_in_arabic_digits(
    client: Any, world: Any, api_headers: Any
) -> None:
    typed = world.rn.translate(ARABIC)
    assert typed != world.rn
    resp = client.post(
        f"{API}/visitors/me/relations",
        json={
            "detainee": typed,
            "relationship": "spouse",
            "detainee_birth_date": world.birth.isoformat(),
        },
        headers=api_headers(world.stranger),
    )
    assert resp.status_code == 201, resp.json

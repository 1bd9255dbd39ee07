"""The care team's pages: the file, a consultation signed then read-only with an addendum, a
prescription drafted by a nurse and signed by a doctor, doses, the other pages answer."""

from __future__ import annotations

import re

from core.testing import TEST_PASSWORD
from plugins.health.tests.helpers import audit_actions, world


def _login(client, user):
    resp = client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
    assert resp.status_code == 302


def test_file_pages_work_for_the_care_team(app, client, factories):
    w = world(app, factories)
    rn = w["rn"]
    _login(client, w["doctor"])
    for path in [
        "/health/",
        f"/health/files/{rn}",
        f"/health/files/{rn}/screening",
        f"/health/files/{rn}/allergies/new",
        f"/health/files/{rn}/problems/new",
        f"/health/files/{rn}/vaccinations/new",
        f"/health/files/{rn}/consultations",
        f"/health/files/{rn}/consultations/new",
        f"/health/files/{rn}/prescriptions/new",
        f"/health/files/{rn}/fitness",
        f"/health/files/{rn}/referrals/new",
        f"/health/files/{rn}/appointments/new",
        f"/health/files/{rn}/history",
        f"/health/files/{rn}/access-log",
        "/health/screenings/overdue",
        "/health/appointments",
        "/health/units",
        "/health/figures",
        f"/detainees/{rn}",
        "/dashboard",
    ]:
        resp = client.get(path, headers={"Accept-Language": "ar"})
        assert resp.status_code == 200, (path, resp.status_code, resp.data[:300])


def test_consultation_signed_then_read_only_with_addendum(app, client, factories):
    w = world(app, factories)
    rn = w["rn"]
    _login(client, w["nurse"])
    resp = client.post(
        f"/health/files/{rn}/consultations/new",
        data={"reason": "Fièvre", "notes": "Fièvre depuis hier", "temperature": "38,5"},
    )
    assert resp.status_code == 302, resp.data[:2000]
    url = resp.headers["Location"]
    cid = int(re.search(r"/consultations/(\d+)", url).group(1))
    page = client.get(url)
    assert "Fièvre depuis hier".encode() in page.data and b"38.5" in page.data
    resp = client.post(f"/health/files/{rn}/consultations/{cid}/sign", data={"next": url})
    assert resp.status_code == 303
    page = client.get(url)
    assert b'data-testid="health-intact"' in page.data
    resp = client.post(url, data={"text": "Correction: 38,7 au contrôle"})
    assert resp.status_code == 302
    assert "Correction: 38,7 au contrôle".encode() in client.get(url).data


def test_nurse_drafts_doctor_signs_prescription(app, client, factories):
    w = world(app, factories)
    rn = w["rn"]
    _login(client, w["nurse"])
    resp = client.post(
        f"/health/files/{rn}/prescriptions/new",
        data={"medication": "Isoniazide 300 mg", "dosage": "1 comprimé", "times": "8:00, 20:00"},
    )
    assert resp.status_code == 302, resp.data[:2000]
    url = resp.headers["Location"]
    pid = int(re.search(r"/prescriptions/(\d+)", url).group(1))
    assert b"health-sign-prescription" not in client.get(url).data
    resp = client.post(f"/health/files/{rn}/prescriptions/{pid}/sign", data={"next": url})
    assert resp.status_code == 303
    client.get("/logout")
    _login(client, w["doctor"])
    resp = client.post(f"/health/files/{rn}/prescriptions/{pid}/sign", data={"next": url})
    assert resp.status_code == 303
    page = client.get(url)
    assert b"Print" in page.data or "طباعة".encode() in page.data
    resp = client.get(f"/health/files/{rn}/prescriptions/{pid}/print?in=fr")
    assert resp.status_code == 200 and b'lang="fr"' in resp.data
    actions = audit_actions(app, rn)
    assert "health.prescription.sign" in actions

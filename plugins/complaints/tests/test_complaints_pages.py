"""The pages: a family's list and form, the staff queue, the complaint page and its actions,
letters, attachments, figures, the calendar — and who may open each."""

from __future__ import annotations

import re

from core.db import session
from core.testing import TEST_PASSWORD
from plugins.complaints.models import Complaint

from .helpers import family, file_api

PDF = b"%PDF-1.4\n%test\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20


def signed_in(app, user, lang="fr"):
    c = app.test_client()
    resp = c.post(
        "/login",
        data={"username": user.username, "password": TEST_PASSWORD},
        headers={"Accept-Language": lang},
    )
    assert resp.status_code == 302
    return c


def _token(page: str) -> dict[str, str]:
    out = {}
    for name in ("csrf_token", "form_token"):
        m = re.search(rf'name="{name}" type="hidden" value="([^"]+)"', page) or re.search(
            rf'id="{name}" name="{name}" type="hidden" value="([^"]+)"', page
        )
        if m:
            out[name] = m.group(1)
    return out


def test_family_files_on_the_page_with_an_attachment(app, factories) -> None:
    visitor, det = family(app, factories)
    c = signed_in(app, visitor, "ar")
    page = c.get("/complaints/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert det.registration_number in html
    import io

    data = {
        **_token(html),
        "detainee": det.registration_number,
        "category": "food",
        "subject": "Lmakla",
        "body": "الماكلة باردة ديما",
        "attachments": (io.BytesIO(PDF), "bon.pdf"),
    }
    resp = c.post("/complaints/new", data=data, content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    shown = c.get(resp.headers["Location"]).get_data(as_text=True)
    assert "acknowledgement" in shown and "bon.pdf" in shown
    with app.app_context():
        comp = session().query(Complaint).filter_by(author_id=visitor.id).one()
        assert comp.attachments[0].content_type == "application/pdf"
        ref = comp.reference
        file_id = comp.attachments[0].id
    got = c.get(f"/complaints/{ref}/files/{file_id}")
    assert got.status_code == 200 and got.data == PDF
    mine = c.get("/complaints/mine").get_data(as_text=True)
    assert ref in mine


def test_wrong_attachment_types_and_sizes_are_refused(app, factories) -> None:
    import io

    visitor, det = family(app, factories)
    c = signed_in(app, visitor)
    for payload, name in (
        (b"MZ\x90\x00 not a pdf", "virus.pdf"),
        (b"<svg onload=alert(1)>", "a.svg"),
        (b"%PDF-" + b"x" * (2 * 1024 * 1024), "big.pdf"),
        (b"", "empty.pdf"),
    ):
        html = c.get("/complaints/new").get_data(as_text=True)
        data = {
            **_token(html),
            "detainee": det.registration_number,
            "category": "food",
            "subject": "s",
            "body": "b",
            "attachments": (io.BytesIO(payload), name),
        }
        resp = c.post("/complaints/new", data=data, content_type="multipart/form-data")
        assert resp.status_code == 422, name
        assert 'id="attachments-error"' in resp.get_data(as_text=True), name
    with app.app_context():
        assert session().query(Complaint).filter_by(author_id=visitor.id).count() == 0


def test_officer_answers_on_the_page_and_the_letter_prints(app, factories) -> None:
    visitor, _det = family(app, factories)
    ref = file_api(app, visitor).json["reference"]
    with app.app_context():
        officer = factories.user("complaints_officer", ("EST-A",))
    c = signed_in(app, officer)
    queue = c.get("/complaints/").get_data(as_text=True)
    assert ref in queue
    page = c.get(f"/complaints/{ref}").get_data(as_text=True)
    assert "action-answer" in page
    resp = c.post(f"/complaints/{ref}/acknowledge")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    resp = c.post(f"/complaints/{ref}/note", data={"note-body": "Voir le chef de cuisine"})
    assert resp.status_code == 302
    empty = c.post(f"/complaints/{ref}/answer", data={"ans-body": ""})
    assert empty.status_code == 422
    resp = c.post(
        f"/complaints/{ref}/answer",
        data={"ans-body": "Les repas sont servis chauds.", "ans-outcome": "founded"},
    )
    assert resp.status_code == 302
    with app.app_context():
        comp = session().query(Complaint).filter_by(reference=ref).one()
        assert comp.status.value == "answered" and comp.assigned_to_id == officer.id
    for lang, word in (("ar", "المملكة المغربية"), ("fr", "Royaume du Maroc")):
        letter = c.get(f"/complaints/{ref}/letter/{lang}")
        assert letter.status_code == 200
        text = letter.get_data(as_text=True)
        assert word in text and "Les repas sont servis chauds." in text
        assert f'lang="{lang}"' in text
    # the family sees the answer, not the note
    fam = signed_in(app, visitor).get(f"/complaints/{ref}").get_data(as_text=True)
    assert "Les repas sont servis chauds." in fam and "chef de cuisine" not in fam


def test_a_family_downloads_its_complaints_with_its_data(app, factories) -> None:
    visitor, _det = family(app, factories)
    ref = file_api(app, visitor).json["reference"]
    c = signed_in(app, visitor, "fr")
    data = c.get("/account/data.json").json
    (row,) = data["sections"]["complaints.complaints"]
    assert row["reference"] == ref and row["body"] == "Lmakla katji bard kol nhar."
    assert row["status"] in {"Reçue", "تم التوصل بها"}  # in the account's language


def test_the_detainee_profile_panel_and_the_dashboard_widget(app, factories) -> None:
    visitor, det = family(app, factories)
    ref = file_api(app, visitor).json["reference"]
    with app.app_context():
        officer = factories.user("complaints_officer", ("EST-A",))
        clerk = factories.user("registry_clerk", ("EST-A",))
    c = signed_in(app, officer)
    profile = c.get(f"/detainees/{det.registration_number}").get_data(as_text=True)
    assert ref in profile
    assert f"/complaints/new?detainee={det.registration_number}" in profile
    form = c.get(f"/complaints/new?detainee={det.registration_number}").get_data(as_text=True)
    assert f'value="{det.registration_number}"' in form
    assert 'data-testid="complaints-open">' in c.get("/dashboard").get_data(as_text=True)
    # a registry clerk has no complaints panel nor widget
    k = signed_in(app, clerk)
    assert ref not in k.get(f"/detainees/{det.registration_number}").get_data(as_text=True)
    assert "complaints-open" not in k.get("/dashboard").get_data(as_text=True)

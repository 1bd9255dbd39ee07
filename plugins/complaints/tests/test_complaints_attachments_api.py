"""Attachments through the API: ``POST /api/v1/complaints/{reference}/attachments`` (multipart,
the same limits as the page), listed in ``GET /complaints/{reference}`` and downloaded; who may
(the author, staff who see the complaint) and bad input (wrong type, too big, empty, too many)."""

from __future__ import annotations

import io

from sqlalchemy import select

from core.audit.models import AuditEvent
from core.db import session

from .helpers import family, file_api, token

PDF = b"%PDF-1.4\n%test\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20
EXE = b"MZ\x90\x00" + b"\x00" * 40


def _post(app, user, ref, *files, headers=None):
    data = {"attachments": [(io.BytesIO(d), name) for name, d in files]}
    return app.test_client().post(
        f"/api/v1/complaints/{ref}/attachments",
        data=data,
        content_type="multipart/form-data",
        headers=headers if headers is not None else token(app, user),
    )


def test_the_author_attaches_lists_and_downloads(app, factories) -> None:
    visitor, _det = family(app, factories)
    ref = file_api(app, visitor).json["reference"]
    resp = _post(app, visitor, ref, ("facture.pdf", PDF), ("photo", PNG))
    assert resp.status_code == 201, resp.json
    items = resp.json["items"]
    assert [(i["filename"], i["content_type"], i["size"]) for i in items] == [
        ("facture.pdf", "application/pdf", len(PDF)),
        ("photo.png", "image/png", len(PNG)),
    ]
    seen = app.test_client().get(f"/api/v1/complaints/{ref}", headers=token(app, visitor)).json
    assert [a["filename"] for a in seen["attachments"]] == ["facture.pdf", "photo.png"]
    got = app.test_client().get(seen["attachments"][0]["url"], headers=token(app, visitor))
    assert got.status_code == 200 and got.data == PDF
    assert got.mimetype == "application/pdf"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Disposition"].startswith("attachment;")
    with app.app_context():
        actions = list(
            session().scalars(select(AuditEvent.action).where(AuditEvent.object_id == ref))
        )
    assert "complaints.attach" in actions and "complaints.attachment" in actions


def test_who_may_attach_and_download(app, factories) -> None:
    visitor, _det = family(app, factories)
    other_visitor, _ = family(app, factories)
    ref = file_api(app, visitor).json["reference"]
    first = _post(app, visitor, ref, ("a.pdf", PDF))
    url = first.json["items"][0]["url"]
    with app.app_context():
        officer = factories.user("complaints_officer", ("EST-A",))
        elsewhere = factories.user("complaints_officer", ("EST-B",))
        clerk = factories.user("registry_clerk", ("EST-A",))
        central = factories.user("central_admin")
    assert _post(app, officer, ref, ("b.pdf", PDF)).status_code == 201
    for user in (other_visitor, elsewhere, clerk):
        assert _post(app, user, ref, ("c.pdf", PDF)).status_code == 404
        assert app.test_client().get(url, headers=token(app, user)).status_code == 404
    assert app.test_client().get(url, headers=token(app, central)).status_code == 200
    assert _post(app, None, ref, ("d.pdf", PDF), headers={}).status_code == 401
    assert app.test_client().get(url).status_code == 401
    # another complaint's file id under this reference: 404
    ref2 = file_api(app, visitor, subject="autre").json["reference"]
    assert (
        app.test_client()
        .get(
            f"/api/v1/complaints/{ref2}/attachments/{url.rsplit('/', 1)[1]}",
            headers=token(app, visitor),
        )
        .status_code
        == 404
    )


def test_bad_uploads_are_422_on_the_field(app, factories) -> None:
    visitor, _det = family(app, factories)
    ref = file_api(app, visitor).json["reference"]
    app.config["COMPLAINTS_MAX_ATTACHMENT_BYTES"] = 1024
    cases = [
        (("virus.pdf", EXE),),  # a .pdf that is an executable
        (("big.pdf", PDF + b"x" * 2000),),  # too big
        (("empty.pdf", b""),),  # empty file
        (),  # no file at all
    ]
    for files in cases:
        resp = _post(app, visitor, ref, *files)
        assert resp.status_code == 422, (files, resp.json)
        assert "attachments" in resp.json["error"]["fields"], resp.json
    # JSON instead of multipart: 400
    bad = app.test_client().post(
        f"/api/v1/complaints/{ref}/attachments", json={"x": 1}, headers=token(app, visitor)
    )
    assert bad.status_code == 400 and bad.json["error"]["code"] == "malformed_request"
    # at most 3 per complaint, counting those already there
    assert _post(app, visitor, ref, ("1.pdf", PDF), ("2.pdf", PDF)).status_code == 201
    over = _post(app, visitor, ref, ("3.pdf", PDF), ("4.pdf", PDF))
    assert over.status_code == 422 and "attachments" in over.json["error"]["fields"]
    assert _post(app, visitor, ref, ("3.pdf", PDF)).status_code == 201
    seen = app.test_client().get(f"/api/v1/complaints/{ref}", headers=token(app, visitor)).json
    assert len(seen["attachments"]) == 3


def test_a_finished_complaint_takes_no_more_files(app, factories) -> None:
    visitor, _det = family(app, factories)
    ref = file_api(app, visitor).json["reference"]
    from plugins.complaints import services

    with app.app_context():
        services.withdraw(services.find(ref), visitor)
        session().commit()
    resp = _post(app, visitor, ref, ("late.pdf", PDF))
    assert resp.status_code == 409


def test_the_attachments_endpoints_are_in_the_openapi_document(client) -> None:
    paths = client.get("/api/v1/openapi.json").json["paths"]
    post = paths["/complaints/{reference}/attachments"]["post"]
    schema = post["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert schema["properties"]["attachments"]["items"]["format"] == "binary"
    assert {"201", "401", "404", "409", "422"} <= set(post["responses"])
    assert "get" in paths["/complaints/{reference}/attachments/{file_id}"]

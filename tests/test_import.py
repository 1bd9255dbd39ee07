"""CSV bulk admission: the command (exit codes, progress, bad rows by line) and the upload
page (permissions, scoping, bad files → clear 4xx and nothing written)."""

from __future__ import annotations

import io
import re

import pytest
from click.testing import CliRunner
from flask_babel import gettext
from sqlalchemy import func, select

from core.audit.models import AuditEvent
from core.db import session
from core.detainees.models import Detainee, DetaineeNameKey, Placement
from core.detainees.search import search
from core.principals import SYSTEM
from core.testing import TEST_PASSWORD

HEADER = (
    "first_name,last_name,first_name_ar,last_name_ar,birth_date,sex,national_id,"
    "establishment,legal_status"
)
GOOD = [
    "Mohamed,El Idrissi,محمد,الإدريسي,1990-05-17,M,BE123456,EST-A,pretrial",
    "Khadija,Ouazzani,خديجة,الوزاني,1985-01-02,F,,EST-A,convicted",
    "Youssef,Benjelloun,,,1979-12-31,m,A99887,est-a,Pretrial",
]
BAD = [
    # line 5: birth date; line 6: sex and legal status; line 7: unknown establishment;
    # line 8: Latin text in the Arabic field; line 9: wrong width
    "Said,Naciri,سعيد,الناصري,1990-13-40,M,,EST-A,pretrial",
    "Omar,Ziani,عمر,الزياني,1990-01-01,X,,EST-A,free",
    "Hicham,Chraibi,هشام,الشرايبي,1990-01-01,M,,NOPE,pretrial",
    "Naima,Fassi,Naima,الفاسي,1990-01-01,F,,EST-A,pretrial",
    "Too,Few,columns",
]


def _csv(*rows: str, header: str = HEADER, sep: str = ",", bom: bool = False) -> bytes:
    lines = [header, *rows]
    if sep != ",":
        lines = [line.replace(",", sep) for line in lines]
    text = "\n".join(lines) + "\n"
    return (("\ufeff" if bom else "") + text).encode("utf-8")


def _count(model) -> int:
    return session().scalar(select(func.count()).select_from(model)) or 0


def _invoke(app, tmp_path, data: bytes, *args: str):
    from core.cli import cli

    path = tmp_path / "detainees.csv"
    path.write_bytes(data)
    runner = CliRunner()
    from flask.cli import ScriptInfo

    info = ScriptInfo(create_app=lambda: app)
    return runner.invoke(
        cli, ["detainees", "import", str(path), *args], obj=info, catch_exceptions=False
    )


# --------------------------------------------------------------------------------------------
# the command
# --------------------------------------------------------------------------------------------


def test_cli_all_good_rows_exit_0(app, factories, tmp_path):
    with app.app_context():
        factories.establishment("EST-A")
        before = _count(Detainee)
    result = _invoke(app, tmp_path, _csv(*GOOD))
    assert result.exit_code == 0, result.output
    assert "3 of 3 rows imported" in result.output
    with app.app_context():
        assert _count(Detainee) == before + 3
        det = search(SYSTEM, "Muhammad Idrissi").items[0]
        assert det.national_id == "BE123456"
        assert det.placements[0].reason == "admission"
        assert (
            session().scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(
                    AuditEvent.action == "detainee.admit",
                    AuditEvent.object_id == det.registration_number,
                )
            )
            == 1
        )
        youssef = search(SYSTEM, "يوسف بن جلون").items[0]
        assert youssef.last_name == "Benjelloun" and youssef.sex.value == "M"


def test_cli_bad_rows_reported_by_line_good_rows_kept_exit_1(app, factories, tmp_path):
    with app.app_context():
        factories.establishment("EST-A")
        before = (_count(Detainee), _count(Placement), _count(DetaineeNameKey))
    result = _invoke(app, tmp_path, _csv(GOOD[0], *BAD, GOOD[1]), "--batch-size", "2")
    assert result.exit_code == 1
    out = result.output
    assert "2 of 7 rows imported, 5 bad rows" in out
    assert "line 3: birth_date:" in out
    assert "line 4: sex:" in out and "line 4: legal_status:" in out
    with app.app_context():
        unknown = gettext("Unknown establishment.")
    assert f"line 5: establishment: {unknown}" in out
    assert "line 6: first_name_ar:" in out
    assert "line 7: row:" in out
    with app.app_context():
        after = (_count(Detainee), _count(Placement), _count(DetaineeNameKey))
        assert after[0] == before[0] + 2
        assert after[1] == before[1] + 2
        # no name keys of a rejected row were left behind
        orphans = session().scalar(
            select(func.count())
            .select_from(DetaineeNameKey)
            .where(~DetaineeNameKey.detainee_id.in_(select(Detainee.id)))
        )
        assert orphans == 0


def test_cli_semicolons_bom_and_a_duplicate_national_id(app, factories, tmp_path):
    with app.app_context():
        factories.establishment("EST-A")
    rows = [GOOD[0], GOOD[0].replace("Mohamed", "Ahmed")]
    result = _invoke(app, tmp_path, _csv(*rows, sep=";", bom=True))
    assert result.exit_code == 1
    assert "1 of 2 rows imported" in result.output
    assert "line 3: national_id:" in result.output


NOT_CSV = "This is not a CSV file: save the sheet as CSV (UTF-8)."
UNREADABLE = [
    (b"", "The file is empty.", {}),
    (b" \n\n", "The file is empty.", {}),
    (_csv(), "The file has no detainee rows under its header line.", {}),
    (
        "\n".join(GOOD).encode(),
        "The first line must name the columns; missing: %(columns)s.",
        {"columns": "first_name, last_name, birth_date, sex, establishment, legal_status"},
    ),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00", NOT_CSV, {}),
    ("first_name,last_name\nAli,Ben\n".encode("utf-16"), NOT_CSV, {}),
    (
        HEADER.replace("sex", "gender").encode(),
        "The first line must name the columns; missing: %(columns)s.",
        {"columns": "sex"},
    ),
    (
        (HEADER + ",colour\n" + GOOD[0] + ",red\n").encode(),
        "Unknown or repeated columns: %(columns)s. Expected: %(expected)s.",
        {"columns": "colour", "expected": HEADER},
    ),
    (
        HEADER.encode("latin-1") + b"\nSa\xefd,X,,,1990-01-01,M,,EST-A,pretrial\n",
        "The file is not UTF-8 text: save the sheet as CSV (UTF-8).",
        {},
    ),
]


@pytest.mark.parametrize(("data", "msgid", "params"), UNREADABLE)
def test_cli_unreadable_file_writes_nothing(app, factories, tmp_path, data, msgid, params):
    with app.app_context():
        factories.establishment("EST-A")
        before = _count(Detainee)
        message = gettext(msgid, **params)
    result = _invoke(app, tmp_path, data)
    assert result.exit_code == 1
    assert f"error: {message}" in result.output
    with app.app_context():
        assert _count(Detainee) == before


def test_cli_help_documents_the_exit_codes():
    from core.cli import cli

    result = CliRunner().invoke(cli, ["detainees", "import", "--help"])
    assert result.exit_code == 0
    assert "Exit status: 0" in result.output and "1 when some rows were bad" in result.output


def test_cli_as_a_user_is_limited_to_their_establishments(app, factories, tmp_path):
    with app.app_context():
        factories.establishment("EST-B")
        clerk = factories.user("registry_clerk", ("EST-A",))
    rows = [GOOD[1], GOOD[1].replace("EST-A", "EST-B").replace("Khadija", "Fatima")]
    result = _invoke(app, tmp_path, _csv(*rows), "--user", clerk.username)
    assert result.exit_code == 1
    with app.app_context():
        unknown = gettext("Unknown establishment.")
    assert f"line 3: establishment: {unknown}" in result.output
    with app.app_context():
        ids = {d.establishment.code for d in search(SYSTEM, "Ouazzani", per_page=100).items}
        assert ids == {"EST-A"}


# --------------------------------------------------------------------------------------------
# the page
# --------------------------------------------------------------------------------------------


def _upload(client, data: bytes, filename: str = "detainees.csv"):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client.post(
        "/detainees/import",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def test_page_imports_and_lists_bad_lines(app, client, login_as):
    login_as("registry_clerk", "EST-A")
    page = client.get("/detainees/import")
    assert page.status_code == 200
    assert 'type="file"' in page.get_data(as_text=True)
    resp = _upload(client, _csv(GOOD[0], BAD[0], GOOD[1]))
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert "<progress" in body and 'max="3"' in body
    assert "2 of 3 rows imported" in body
    assert re.search(r"<td data-label=\"[^\"]+\">3</td>", body) and "birth_date" in body
    with app.app_context():
        assert search(SYSTEM, "Khadidja Wazzani").items[0].last_name == "Ouazzani"


def test_page_rejects_rows_of_another_establishment(app, client, login_as, factories):
    with app.app_context():
        factories.establishment("EST-B")
    login_as("registry_clerk", "EST-A")
    other = GOOD[1].replace("EST-A", "EST-B")
    resp = _upload(client, _csv(GOOD[0], other))
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert "1 of 2 rows imported" in body
    assert "Unknown establishment." in body
    with app.app_context():
        assert search(SYSTEM, "Ouazzani").total == 0


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "empty.csv", "The file is empty."),
        (_csv(), "header-only.csv", "no detainee rows"),
        (b"\x00\x01\x02binary", "photo.jpg", "This is not a CSV file"),
        ("\n".join(GOOD).encode(), "noheader.csv", "must name the columns"),
    ],
)
def test_page_bad_file_is_a_clear_4xx_and_writes_nothing(
    app, client, login_as, data, filename, message
):
    login_as("registry_clerk", "EST-A")
    with app.app_context():
        before = _count(Detainee)
    resp = _upload(client, data, filename)
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    with app.app_context():
        assert _count(Detainee) == before


def test_page_without_a_file(app, client, login_as):
    login_as("registry_clerk", "EST-A")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    resp = client.post("/detainees/import", data={}, content_type="multipart/form-data")
    assert resp.status_code == 422
    assert "Choose a CSV file." in resp.get_data(as_text=True)


@pytest.mark.parametrize(
    "role",
    [
        "central_admin",
        "director",
        "visits_officer",
        "doctor",
        "accountant",
        "auditor",
        "transfers_officer",
        "complaints_officer",
    ],
)
def test_page_forbidden_without_the_import_permission(app, client, login_as, role):
    login_as(role, "EST-A")
    assert client.get("/detainees/import").status_code == 403
    with app.app_context():
        before = _count(Detainee)
    assert _upload(client, _csv(GOOD[0])).status_code == 403
    with app.app_context():
        assert _count(Detainee) == before


def test_page_anonymous_and_visitor(app, client, factories):
    resp = client.get("/detainees/import")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert _upload(client, _csv(GOOD[0])).status_code == 302
    with app.app_context():
        family = factories.visitor()
    client.post("/login", data={"username": family.username, "password": TEST_PASSWORD})
    assert client.get("/detainees/import").status_code == 403

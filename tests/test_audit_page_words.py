"""The audit page in words (issue 11 point 5): translated actions, the object's name, a readable
summary, and a filter by words; the API keeps the codes."""

from __future__ import annotations

from typing import Any

import pytest

from core.audit.presentation import Vocabulary, matching_actions, readable_summary
from core.db import session
from core.detainees import services as detainees
from core.principals import SYSTEM


@pytest.fixture
def admitted(app: Any, factories: Any) -> str:
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",), username="wordsclerk")
        rn = detainees.admit(
            {
                "first_name": "Said",
                "last_name": "Alaoui",
                "first_name_ar": "سعيد",
                "last_name_ar": "العلوي",
                "birth_date": "1975-02-03",
                "sex": "M",
                "legal_status": "convicted",
                "establishment": "EST-A",
            },
            clerk,
        ).registration_number
        detainees.update_detainee(
            detainees.get_detainee(rn, SYSTEM), {"legal_status": "pretrial"}, clerk
        )
        session().commit()
    return rn


def _rows(resp: Any) -> str:
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    return body[body.index("<tbody>") : body.index("</tbody>")]


def test_the_page_shows_actions_names_and_changes_in_french(
    client: Any, login_as: Any, admitted: str
) -> None:
    login_as("auditor", (), locale="fr")
    rows = _rows(client.get("/audit/"))
    assert "Détenu écroué" in rows and "Dossier du détenu modifié" in rows
    assert f'Said Alaoui · <bdi dir="ltr" class="rn">{admitted}</bdi>' in rows
    assert "Condamné → Prévenu" in rows  # codes in the summary shown in words
    assert "{}" not in rows and '{"' not in rows


def test_the_page_shows_arabic_names_and_labels_in_arabic(
    client: Any, login_as: Any, admitted: str
) -> None:
    login_as("auditor", (), locale="ar")
    rows = _rows(client.get("/audit/"))
    assert "إيداع معتقل" in rows
    assert f'سعيد العلوي · <bdi dir="ltr" class="rn">{admitted}</bdi>' in rows


@pytest.mark.parametrize(("lang", "words"), [("fr", "écroué"), ("fr", "ECROUE"), ("ar", "إيداع")])
def test_the_action_filter_takes_words_of_the_reader_s_language(
    client: Any, login_as: Any, admitted: str, lang: str, words: str
) -> None:
    login_as("auditor", (), locale=lang)
    rows = _rows(client.get("/audit/", query_string={"action": words}))
    assert admitted in rows
    assert rows.count("<tr>") == 1  # the admission, not the change


def test_an_action_code_still_filters(client: Any, login_as: Any, admitted: str) -> None:
    login_as("auditor", (), locale="en")
    rows = _rows(client.get("/audit/", query_string={"action": "detainee."}))
    assert rows.count("<tr>") == 2
    rows = _rows(client.get("/audit/", query_string={"action": "no such words"}))
    assert rows.count("<tr>") == 0


def test_the_api_keeps_the_codes(
    app: Any, client: Any, factories: Any, api_headers: Any, admitted: str
) -> None:
    with app.app_context():
        auditor = factories.user("auditor", ())
    body = client.get(
        "/api/v1/audit/events",
        query_string={"action": "detainee.admit"},
        headers=api_headers(auditor),
    ).json
    assert [item["action"] for item in body["items"]] == ["detainee.admit"]


def test_readable_summary_and_action_matching() -> None:
    vocab = Vocabulary(
        actions={"a.b": "Thing changed", "fam.": "Family thing"},
        object_types={},
        fields={"capacity": "Capacité"},
        values={"status": {"open": "Ouvert", "closed": "Fermé"}},
    )
    summary = {"capacity": [800, 900], "roles": ["x", "y"], "note": None, "status": ["open", "x"]}
    assert readable_summary(summary, vocab) == [
        ("Capacité", "800 → 900"),
        ("roles", "x, y"),
        ("note", "—"),
        ("status", "Ouvert → x"),
    ]
    assert matching_actions("", vocab) is None
    assert matching_actions("changed", vocab) == ["a.b"]
    assert matching_actions("family", vocab) == ["fam."]
    assert matching_actions("nothing", vocab) == []
    assert vocab.action("fam.deposit") == "Family thing"


def test_the_record_filter_takes_arabic_digits(client: Any, login_as: Any, admitted: str) -> None:
    login_as("auditor", (), locale="ar")
    typed = admitted.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    rows = _rows(client.get("/audit/", query_string={"object_id": typed}))
    ascii_rows = _rows(client.get("/audit/", query_string={"object_id": admitted}))
    assert rows.count("<tr>") == ascii_rows.count("<tr>") >= 2

"""No role but the care team reads a single clinical word — through pages, the API, exports or
search (issue 13, "Done when").

A file is seeded with distinctive made-up clinical words (consultation reason, notes and
diagnosis, an addendum, an allergy's substance and reaction, a problem, the screening, a
prescription, a dose note, a vaccine, a referral, an appointment, and a draft's edit kept in
the history). Then every non-clinical role — and the clinicians of another establishment
without emergency access — walks every page it can reach from the portal (following links),
the detainee's profile, search by registration number and by a clinical word, the audit page
and ``GET /api/v1/audit/events``, ``/account/data`` exports, CSV exports, the transfers escort
sheet when transfers is installed, and every GET of the API; none of the words may appear in
any response. Finally no audit event's summary holds clinical text.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import deque
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

from sqlalchemy import select

from core.db import session
from core.testing import TEST_PASSWORD
from plugins.health.tests.helpers import world

#: made-up words, one per kind of clinical text (lowercase: the responses are lowered)
WORDS = {
    "reason": "raisonqorvex",
    "notes": "zorblaxite",
    "old_notes": "oldnotezyx",
    "diagnosis": "quaxitisme",
    "addendum": "adzorbentis",
    "substance": "flimcillinor",
    "reaction": "wheezlumpor",
    "problem": "gronkalgiae",
    "chronic": "snorvathiae",
    "mental": "glumbrosite",
    "addiction": "kratomizor",
    "medication": "vexotrinol",
    "dosage": "plimdosex",
    "instructions": "trevanuitor",
    "dose_note": "dozenotelix",
    "vaccine": "vakzimunex",
    "referral": "refluxomyrie",
    "hospital": "hopitalzorq",
    "purpose": "puprozylite",
}
NON_CLINICAL = [
    "director",
    "registry_clerk",
    "visits_officer",
    "accountant",
    "transfers_officer",
    "complaints_officer",
    "auditor",
    "central_admin",
    "visitor",
]
MAX_PAGES = 400  # per user: the crawl of a small world ends well before
MAX_DEPTH = 2  # links followed from the start pages (they already name every kind of page)


def _seed(app: Any, w: dict[str, Any]) -> None:
    from plugins.health.services import care, consultations, files, lists, prescriptions
    from plugins.health.services.access import open_file

    with app.app_context():
        acc = open_file(w["rn"], w["doctor"], what="file", write=True)
        files.record_screening(
            acc,
            {
                "tuberculosis": "suspected",
                "self_harm_risk": "high",
                "pregnancy": "no",
                "chronic_conditions": WORDS["chronic"],
                "addictions": WORDS["addiction"],
                "mental_health": WORDS["mental"],
                "notes": WORDS["notes"],
            },
        )
        lists.add_allergy(acc, "drug", WORDS["substance"], WORDS["reaction"], "high")
        lists.add_problem(acc, WORDS["problem"])
        lists.add_vaccination(acc, WORDS["vaccine"], dt.date.today(), "1", "")
        draft = consultations.create(
            acc, reason=WORDS["reason"], notes=WORDS["old_notes"], diagnosis=WORDS["diagnosis"]
        )
        consultations.update_draft(acc, draft.id, notes=WORDS["notes"])
        consultations.sign_consultation(acc, draft.id)
        consultations.add_addendum(acc, draft.id, WORDS["addendum"])
        rx = prescriptions.create(
            acc,
            medication=WORDS["medication"],
            dosage=WORDS["dosage"],
            instructions=WORDS["instructions"],
            times="00:00,23:59",
        )
        prescriptions.sign(acc, rx.id)
        due = [d for d in prescriptions.due_doses(acc) if d.prescription.id == rx.id]
        prescriptions.record_dose(acc, rx.id, due[0].due_at, "refused", WORDS["dose_note"])
        care.refer(acc, hospital=WORDS["hospital"], reason=WORDS["referral"], urgent=True)
        care.book(
            acc,
            starts_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=3),
            purpose=WORDS["purpose"],
        )
        files.set_fitness(acc, True, "Fauteuil roulant", None)  # the escort's needs: allowed
        session().commit()


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href") if tag in ("a", "link") else None
        if href:
            self.links.append(href)


def _local(base: str, href: str) -> str | None:
    if href.startswith(("mailto:", "tel:", "javascript:", "#", "data:")):
        return None
    parts = urlsplit(urljoin("http://localhost" + base, href))
    if parts.netloc != "localhost" or parts.path.startswith(("/logout", "/static/")):
        return None
    if "lang=" in parts.query:
        return None
    return parts.path + ("?" + parts.query if parts.query else "")


def _leaks(text: str, echo: str = "") -> list[str]:
    """The seeded words found in ``text``; a word the URL itself holds (a search echoing what
    was typed) does not count — what the search found is checked by the registration number."""
    low = text.lower()
    return sorted(k for k, word in WORDS.items() if word in low and word not in echo.lower())


def _walk(app: Any, user: Any, starts: list[str], api: list[str]) -> tuple[int, list[str]]:
    """Every page ``user`` reaches from ``starts`` (links followed, GET only) and the ``api``
    URLs with a bearer token: (responses read, leaks found)."""
    client = app.test_client()
    resp = client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
    assert resp.status_code == 302, user.username
    found: list[str] = []
    seen: set[str] = set()
    queue = deque((url, 0) for url in starts)
    count = 0
    while queue and count < MAX_PAGES:
        url, depth = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        for lang in ("fr", "ar") if url in starts else ("fr",):
            response = client.get(url, headers={"Accept-Language": lang})
            count += 1
            text = response.get_data(as_text=True)
            if bad := _leaks(text, echo=url):
                found.append(f"{user.roles} {url} [{lang}]: {bad}")
        if (
            depth < MAX_DEPTH
            and response.status_code == 200
            and "html" in (response.content_type or "")
        ):
            parser = _Links()
            parser.feed(text)
            for href in parser.links:
                nxt = _local(url, href)
                if nxt and nxt not in seen:
                    queue.append((nxt, depth + 1))
    token = client.post(
        "/api/v1/auth/token", json={"username": user.username, "password": TEST_PASSWORD}
    )
    if token.status_code == 200:
        headers = {"Authorization": f"Bearer {token.json['token']}"}
        for url in api:
            response = client.get(url, headers=headers)
            count += 1
            if bad := _leaks(response.get_data(as_text=True), echo=url):
                found.append(f"{user.roles} API {url}: {bad}")
    return count, found


def _transfer(app: Any, factories: Any, client: Any, rn: str) -> int | None:
    """A transfer of the detainee through the transfers API, when transfers is installed."""
    if "transfers.escort_sheet" not in app.view_functions:
        return None
    with app.app_context():
        officer = factories.user("transfers_officer", ("EST-A",))
    token = client.post(
        "/api/v1/auth/token", json={"username": officer.username, "password": TEST_PASSWORD}
    ).json["token"]
    resp = client.post(
        "/api/v1/transfers",
        json={"detainee": rn, "destination": "EST-B", "reason": "overcrowding"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert resp.status_code == 201, resp.json
    return int(resp.json["id"])


def test_no_clinical_word_reaches_anyone_but_the_care_team(app, client, factories):
    w = world(app, factories)
    rn = w["rn"]
    _seed(app, w)
    tid = _transfer(app, factories, client, rn)
    # the care team does read them (the words are where the test looks)
    count, found = _walk(app, w["doctor"], [f"/health/files/{rn}"], [])
    assert found, "the seeded words should show on the care team's file page"

    starts = [
        "/",
        "/dashboard",
        f"/detainees/{rn}",
        f"/detainees/?q={rn}",
        f"/detainees/?q={WORDS['diagnosis']}",
        f"/detainees/?q={WORDS['problem']}",
        "/audit/",
        f"/audit/?object_id={rn}",
        "/audit/?object_type=health_file",
        "/account",
        "/account/data",
        "/account/data.json",
        f"/funds/accounts/{rn}/statement.csv",
        "/visits/gate/sheet.csv",
        "/complaints/figures.csv",
        f"/health/files/{rn}",
        f"/health/files/{rn}/history",
        f"/health/files/{rn}/consultations",
        f"/health/files/{rn}/access-log",
        "/health/",
        "/health/figures",
        "/health/units",
        "/health/screenings/overdue",
        "/health/appointments",
    ]
    if tid is not None:
        starts += [
            f"/transfers/{tid}",
            f"/transfers/{tid}/escort-sheet?paper=fr",
            f"/transfers/{tid}/escort-sheet?paper=ar",
            f"/transfers/{tid}/order?paper=fr",
        ]
    api = [
        f"/api/v1/health/files/{rn}",
        f"/api/v1/health/files/{rn}/access-log",
        f"/api/v1/detainees/{rn}",
        f"/api/v1/detainees?q={rn}",
        f"/api/v1/detainees?q={WORDS['diagnosis']}",
        "/api/v1/audit/events?per_page=100",
        f"/api/v1/audit/events?object_id={rn}&per_page=100",
        "/api/v1/audit/events?object_type=health_file&per_page=100",
        "/api/v1/visitors/me/export",
        "/api/v1/transfers",
    ] + ([f"/api/v1/transfers/{tid}"] if tid is not None else [])

    with app.app_context():
        readers = [
            factories.visitor() if role == "visitor" else factories.user(role, ("EST-A",))
            for role in NON_CLINICAL
        ]
        readers.append(factories.user("medical_inspector", ("EST-B",)))
    readers += [w["other_doctor"], w["other_nurse"]]
    total = 0
    leaks: list[str] = []
    for reader in readers:
        count, found = _walk(app, reader, starts, api)
        total += count
        leaks += found
    assert not leaks, "\n".join(leaks)
    assert total > 600, total  # the walk did read a good many responses

    # search by a clinical word finds nobody (stored encrypted), for the care team too
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
    c = app.test_client()
    c.post("/login", data={"username": clerk.username, "password": TEST_PASSWORD})
    for word in (WORDS["diagnosis"], WORDS["problem"], WORDS["notes"]):
        assert rn not in c.get(f"/detainees/?q={word}").get_data(as_text=True)
    token = c.post(
        "/api/v1/auth/token", json={"username": clerk.username, "password": TEST_PASSWORD}
    ).json["token"]
    found = c.get(
        f"/api/v1/detainees?q={WORDS['diagnosis']}", headers={"Authorization": f"Bearer {token}"}
    )
    assert found.status_code == 200 and rn not in found.get_data(as_text=True)
    assert rn in c.get(f"/detainees/?q={rn}").get_data(as_text=True)  # the search does work


def test_audit_summaries_never_hold_clinical_text(app, client, factories):
    from core.audit.models import AuditEvent

    w = world(app, factories)
    _seed(app, w)
    with app.app_context():
        events = list(session().scalars(select(AuditEvent)))
        health = [e for e in events if e.action.startswith(("health", "scope."))]
        assert len(health) >= 15
        for event in events:
            text = json.dumps(
                [event.action, event.object_id, event.summary, event.actor_username],
                ensure_ascii=False,
            )
            assert not _leaks(text), (event.action, event.summary)

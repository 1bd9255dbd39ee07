"""The visits pages: the family journey, the visits office, the gate — with permissions."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core.db import session, utcnow
from core.detainees.services import get_detainee
from core.principals import SYSTEM
from core.testing import TEST_PASSWORD
from plugins.visits import services
from plugins.visits.models import Ban, BlockedDate, Booking, Relation, SessionTemplate, Slot


def _login(client, user):
    resp = client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
    assert resp.status_code == 302


def _booking_ref(app, visitor_id):
    with app.app_context():
        return session().scalar(select(Booking.reference).where(Booking.visitor_id == visitor_id))


# --- public pages -----------------------------------------------------------------------------


def test_public_information_without_sign_in(app, client, world, factories):
    with app.app_context():
        est = session().get(
            __import__("core.establishments.models", fromlist=["x"]).Establishment, world.est_id
        )
        services.update_rules(
            SYSTEM, est, {"documents_ar": "البطاقة الوطنية", "documents_fr": "CIN"}
        )
        session().commit()
    resp = client.get("/visits/?lang=fr")
    assert resp.status_code == 200 and b"/visits/info/EST-A" in resp.data
    page = client.get("/visits/info/EST-A?lang=ar").get_data(as_text=True)
    assert "البطاقة الوطنية" in page
    page = client.get("/visits/info/EST-A?lang=fr").get_data(as_text=True)
    assert "CIN" in page
    assert client.get("/visits/info/NOPE").status_code == 404


def test_public_nav_items_for_families(app, client, world):
    _login(client, world.visitor)
    page = client.get("/?lang=fr").get_data(as_text=True)
    for href in ("/visits/book", "/visits/mine", "/visits/relatives"):
        assert href in page


# --- the family journey -----------------------------------------------------------------------


def test_family_requests_a_link_with_birth_date(app, client, world):
    _login(client, world.stranger)
    bad = client.post(
        "/visits/relatives?lang=fr",
        data={"detainee": world.rn, "detainee_birth_date": "1970-01-01", "relationship": "spouse"},
    )
    assert bad.status_code == 422
    assert "Aucun détenu" in bad.get_data(as_text=True) or "No detainee" in bad.get_data(
        as_text=True
    )
    missing = client.post(
        "/visits/relatives", data={"detainee": world.rn, "relationship": "spouse"}
    )
    assert missing.status_code == 422
    ok = client.post(
        "/visits/relatives",
        data={
            "detainee": world.rn,
            "detainee_birth_date": world.birth.isoformat(),
            "relationship": "spouse",
        },
    )
    assert ok.status_code == 302
    with app.app_context():
        rel = session().scalar(select(Relation).where(Relation.visitor_id == world.stranger.id))
        assert rel.status == "pending"


def test_the_booking_page_reads_each_thing_once(app, client, world):
    """The families' booking page reads the family's links and the visit rules once, and no
    link loads the family member again with their roles and establishments."""
    from core.testing import sql_statements

    _login(client, world.visitor)
    client.get(f"/visits/book?detainee={world.rn}")  # the first request of this user warms up
    resp, seen = sql_statements(app, lambda: client.get(f"/visits/book?detainee={world.rn}"))
    assert resp.status_code == 200
    assert f'value="{world.slot_id}"' in resp.get_data(as_text=True)
    assert sum("FROM visits_rules" in s for s in seen) == 1, seen
    assert not any("core_user_roles" in s or "core_user_establishments" in s for s in seen), seen
    links = [s for s in seen if s.startswith("SELECT visits_relations.")]
    assert links and not any("core_users" in s for s in links), links
    work = [s for s in seen if not s.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))]
    assert len(work) <= 7, work
    # the times offered: their six columns in one read, not entities with their establishment
    (times,) = [s for s in seen if "FROM visits_slots" in s]
    assert "core_establishments" not in times and "visits_slots.booked < visits_slots.capacity" in (
        times
    ), times


@pytest.mark.parametrize(
    ("lang", "kind"), [("ar", "زيارة عادية"), ("fr", "Visite ordinaire"), ("en", "Ordinary visit")]
)
def test_the_booking_page_names_each_slot_s_kind_in_the_reader_s_language(
    app, client, world, lang, kind
):
    _login(client, world.visitor)
    page = client.get(f"/visits/book?detainee={world.rn}&lang={lang}").get_data(as_text=True)
    slot = page.split(f'id="slot-{world.slot_id}"', 1)[1].split("</li>", 1)[0]
    assert f"<span>{kind}</span>" in slot


def test_family_books_sees_confirmation_and_cancels(app, client, world):
    _login(client, world.visitor)
    page = client.get(f"/visits/book?detainee={world.rn}")
    assert page.status_code == 200
    assert f'value="{world.slot_id}"' in page.get_data(as_text=True)
    assert f'value="{world.other_slot_id}"' not in page.get_data(as_text=True)
    resp = client.post(
        "/visits/book",
        data={
            "detainee": world.rn,
            "slot_id": str(world.slot_id),
            "companions-0-full_name": "Youssef Benali",
            "companions-0-national_id": "BE654321",
            "companions-0-birth_date": "1980-01-01",
            "companions-1-full_name": "Amine Benali",
            "companions-1-birth_date": (dt.date.today() - dt.timedelta(days=3650)).isoformat(),
        },
    )
    assert resp.status_code == 302, resp.data[:2000]
    ref = _booking_ref(app, world.visitor.id)
    assert resp.headers["Location"].endswith(f"/visits/mine/{ref}")
    conf = client.get(f"/visits/mine/{ref}").get_data(as_text=True)
    assert ref in conf and "<svg" in conf and "Youssef Benali" in conf
    png = client.get(f"/visits/qr/{ref}.png")
    assert png.status_code == 200 and png.data[:4] == b"\x89PNG"
    assert ref in client.get("/visits/mine").get_data(as_text=True)
    # cancelling asks first; a post without the confirmation cancels nothing
    ask = client.get(f"/visits/mine/{ref}/cancel")
    assert ask.status_code == 200 and 'name="confirm" value="yes"' in ask.get_data(as_text=True)
    unconfirmed = client.post(f"/visits/mine/{ref}/cancel")
    assert unconfirmed.status_code == 302
    assert unconfirmed.headers["Location"].endswith(f"/visits/mine/{ref}/cancel")
    with app.app_context():
        assert session().scalar(select(Booking.status).where(Booking.reference == ref)) != (
            "cancelled"
        )
    cancel = client.post(f"/visits/mine/{ref}/cancel", data={"confirm": "yes"})
    assert cancel.status_code == 302
    with app.app_context():
        assert (
            session().scalar(select(Booking.status).where(Booking.reference == ref)) == "cancelled"
        )
    # the cancelled visit has left the upcoming list (it is in the history)
    mine = client.get("/visits/mine").get_data(as_text=True)
    upcoming = mine.split('id="past"', 1)[0]
    assert ref not in upcoming and ref in mine.split('id="past"', 1)[1]


def test_booking_form_errors_are_on_fields(app, client, world):
    _login(client, world.visitor)
    resp = client.post(
        "/visits/book?lang=fr",
        data={
            "detainee": world.rn,
            "slot_id": str(world.slot_id),
            "companions-0-full_name": "Sans Carte",
            "companions-0-birth_date": "1980-01-01",
        },
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'class="field has-error"' in html
    no_slot = client.post("/visits/book", data={"detainee": world.rn})
    assert no_slot.status_code == 422
    bad_birth_date = client.post(
        "/visits/book",
        data={
            "detainee": world.rn,
            "slot_id": str(world.slot_id),
            "companions-0-full_name": "Youssef Benali",
            "companions-0-birth_date": "x",
        },
    )
    assert bad_birth_date.status_code == 422
    with app.app_context():
        assert session().get(Slot, world.slot_id).booked == 0


def test_unlinked_family_is_sent_to_relatives(app, client, world):
    _login(client, world.stranger)
    page = client.get("/visits/book").get_data(as_text=True)
    assert "/visits/relatives" in page and 'name="slot_id"' not in page
    forged = client.post("/visits/book", data={"detainee": world.rn, "slot_id": str(world.slot_id)})
    assert forged.status_code == 200 and 'name="slot_id"' not in forged.get_data(as_text=True)
    with app.app_context():
        assert session().get(Slot, world.slot_id).booked == 0


def test_other_family_cannot_see_a_confirmation(app, client, world, api_headers):
    ref = client.post(
        "/api/v1/visits/bookings",
        json={"slot_id": world.slot_id, "detainee": world.rn},
        headers=api_headers(world.visitor),
    ).json["reference"]
    _login(client, world.stranger)
    assert client.get(f"/visits/mine/{ref}").status_code == 404
    assert client.get(f"/visits/qr/{ref}.png").status_code == 404
    assert client.post(f"/visits/mine/{ref}/cancel", data={"confirm": "yes"}).status_code == 404
    assert client.get(f"/visits/mine/{ref}/cancel").status_code == 404


@pytest.mark.parametrize("url", ["/visits/book", "/visits/mine", "/visits/relatives"])
def test_family_pages_need_a_family_account(app, client, login_as, url):
    anon = client.get(url)
    assert anon.status_code == 302 and "/login" in anon.headers["Location"]
    login_as("visits_officer")
    assert client.get(url).status_code == 403


# --- the visits office ------------------------------------------------------------------------

STAFF_PAGES = [
    "/visits/office",
    "/visits/office/EST-A/rules",
    "/visits/office/EST-A/sessions",
    "/visits/office/EST-A/slots",
    "/visits/office/relations",
    "/visits/office/bans",
    "/visits/gate?establishment=EST-A",
    "/visits/gate/sheet.csv?establishment=EST-A",
]


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_staff_pages_for_the_visits_office(app, client, world, login_as, url):
    login_as("visits_officer", "EST-A")
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_staff_pages_refused_to_others(app, client, world, login_as, url):
    assert client.get(url).status_code == 302  # anonymous → sign in
    login_as("nurse", "EST-A")
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", [u for u in STAFF_PAGES if "EST-A" in u])
def test_staff_pages_of_another_establishment_are_404(app, client, world, login_as, url):
    login_as("visits_officer", "EST-B")
    assert client.get(url).status_code == 404


def test_family_cannot_open_staff_pages(app, client, world):
    _login(client, world.visitor)
    for url in STAFF_PAGES:
        assert client.get(url).status_code == 403, url


def test_auditor_reads_but_cannot_change(app, client, world, login_as):
    login_as("auditor", [])
    assert client.get("/visits/gate?establishment=EST-A").status_code == 200
    assert client.get("/visits/office/EST-A/rules").status_code == 403
    assert client.post("/visits/gate/check-in", data={"code": "X"}).status_code == 403


def test_rules_page_saves_and_validates(app, client, world, login_as):
    login_as("visits_officer", "EST-A")
    form = {
        "max_adults": "2",
        "max_children": "3",
        "adult_age": "18",
        "window_open_days": "10",
        "window_close_hours": "12",
        "cancel_deadline_hours": "6",
        "quota_pretrial": "2",
        "quota_convicted": "1",
        "address": "Route d'Ain Sebaâ",
        "documents_fr": "CIN",
        "documents_ar": "البطاقة",
    }
    assert client.post("/visits/office/EST-A/rules", data=form).status_code == 302
    bad = client.post("/visits/office/EST-A/rules?lang=fr", data={**form, "max_adults": "99"})
    assert bad.status_code == 422 and "has-error" in bad.get_data(as_text=True)
    with app.app_context():
        assert services.get_rules(world.est_id).max_adults == 2


def test_sessions_generate_and_block(app, client, world, login_as):
    login_as("visits_officer", "EST-A")
    resp = client.post(
        "/visits/office/EST-A/sessions",
        data={
            "weekday": "2",
            "start_time": "09:00",
            "end_time": "10:30",
            "capacity": "8",
            "capacity_supervised": "1",
        },
    )
    assert resp.status_code == 302
    bad = client.post(
        "/visits/office/EST-A/sessions",
        data={
            "weekday": "2",
            "start_time": "9h",
            "end_time": "10:30",
            "capacity": "8",
            "capacity_supervised": "0",
        },
    )
    assert bad.status_code == 422
    assert client.post("/visits/office/EST-A/generate", data={"days": "14"}).status_code == 302
    with app.app_context():
        assert session().query(SessionTemplate).count() == 1
        assert session().query(Slot).filter(Slot.template_id.is_not(None)).count() == 4
    day = (services.local_date(utcnow()) + dt.timedelta(days=20)).isoformat()
    assert (
        client.post("/visits/office/EST-A/slots", data={"day": day, "reason": "Fête"}).status_code
        == 302
    )
    assert (
        client.post("/visits/office/EST-A/slots", data={"day": day, "reason": ""}).status_code
        == 422
    )
    with app.app_context():
        assert session().query(BlockedDate).count() == 1


def test_cancel_session_page(app, client, world, login_as, api_headers):
    client.post(
        "/api/v1/visits/bookings",
        json={"slot_id": world.slot_id, "detainee": world.rn},
        headers=api_headers(world.visitor),
    )
    login_as("visits_officer", "EST-A")
    assert (
        client.post(f"/visits/office/slots/{world.slot_id}/cancel", data={"reason": ""}).status_code
        == 302
    )
    with app.app_context():
        assert session().get(Slot, world.slot_id).status == "open"
    client.post(f"/visits/office/slots/{world.slot_id}/cancel", data={"reason": "Grève"})
    with app.app_context():
        assert session().get(Slot, world.slot_id).status == "cancelled"
        assert session().scalar(select(Booking.status)) == "cancelled"


def test_relations_page_approve_and_reject(app, client, world, login_as):
    with app.app_context():
        from .conftest import link

        rel_id = link(world.stranger.id, world.det_id, status="pending")
        session().commit()
    login_as("visits_officer", "EST-B")
    assert f"relation-{rel_id}" not in client.get("/visits/office/relations").get_data(as_text=True)
    assert client.post(f"/visits/office/relations/{rel_id}/approve").status_code == 404
    login_as("visits_officer", "EST-A")
    assert f"relation-{rel_id}" in client.get("/visits/office/relations").get_data(as_text=True)
    client.post(f"/visits/office/relations/{rel_id}/reject", data={"reason": ""})
    with app.app_context():
        assert session().get(Relation, rel_id).status == "pending"
    assert client.post(f"/visits/office/relations/{rel_id}/approve").status_code == 302
    with app.app_context():
        assert session().get(Relation, rel_id).status == "approved"


def test_bans_page(app, client, world, login_as):
    login_as("visits_officer", "EST-A")
    bad = client.post(
        "/visits/office/bans", data={"visitor": "ZZ999", "establishment": "EST-A", "reason": "x"}
    )
    assert bad.status_code == 422
    ok = client.post(
        "/visits/office/bans",
        data={"visitor": world.visitor.national_id, "establishment": "EST-A", "reason": "Incident"},
    )
    assert ok.status_code == 302
    with app.app_context():
        ban_id = session().scalar(select(Ban.id))
    assert client.post(f"/visits/office/bans/{ban_id}/lift").status_code == 302
    login_as("visits_officer", "EST-B")
    assert (
        client.post(
            "/visits/office/bans",
            data={"visitor": world.visitor.national_id, "establishment": "EST-A", "reason": "x"},
        ).status_code
        == 422
    )


# --- the gate ---------------------------------------------------------------------------------


def _today_booking(app, world):
    with app.app_context():
        slot = session().get(Slot, world.slot_id)
        # under way since a minute ago: "today" in local time at any hour (a slot starting in
        # ten minutes was tomorrow's session between 23:50 and midnight, and walk-ins failed)
        slot.starts_at = utcnow() - dt.timedelta(minutes=1)
        slot.ends_at = utcnow() + dt.timedelta(minutes=60)
        session().commit()
        from core.identity.models import User

        b = services._create_booking(
            slot=slot,
            detainee=get_detainee(world.rn, SYSTEM),
            visitor=session().get(User, world.visitor.id),
            visitor_name="Fatima Benali",
            visitor_national_id="BE1",
            party=services.Party(1, 0),
            rules=services.get_rules(world.est_id),
            status="confirmed",
            actor=SYSTEM,
        )
        session().commit()
        return b.reference, services.local_date(slot.starts_at).isoformat()


def test_gate_sheet_check_in_outcome_and_csv(app, client, world, login_as):
    ref, day = _today_booking(app, world)
    login_as("visits_officer", "EST-A")
    sheet = client.get(f"/visits/gate?establishment=EST-A&day={day}").get_data(as_text=True)
    assert ref in sheet and "Fatima Benali" in sheet
    csv_text = client.get(f"/visits/gate/sheet.csv?establishment=EST-A&day={day}").get_data(
        as_text=True
    )
    assert ref in csv_text and "registration_number" in csv_text
    resp = client.post(
        f"/visits/gate/check-in?establishment=EST-A&day={day}",
        data={"code": f"{services.QR_PREFIX}{ref}"},
    )
    assert resp.status_code == 302
    bad = client.post(
        f"/visits/gate/bookings/{ref}/outcome", data={"outcome": "ended_early", "reason": ""}
    )
    assert bad.status_code == 302
    client.post(f"/visits/gate/bookings/{ref}/outcome", data={"outcome": "completed"})
    with app.app_context():
        assert (
            session().scalar(select(Booking.status).where(Booking.reference == ref)) == "completed"
        )


def test_gate_walk_in_and_other_establishment(app, client, world, login_as, factories):
    _ref, _day = _today_booking(app, world)
    with app.app_context():
        # another detainee: world.rn already has a visit in this session (one per session)
        rn2 = factories.detainee("EST-A").registration_number
    login_as("visits_officer", "EST-B")
    assert client.post(f"/visits/gate/slots/{world.slot_id}/walk-in", data={}).status_code == 404
    login_as("visits_officer", "EST-A")
    resp = client.post(
        f"/visits/gate/slots/{world.slot_id}/walk-in",
        data={
            "detainee": rn2,
            "visitor_name": "Khadija",
            "visitor_national_id": "BK12345",
            "adults": "1",
            "children": "0",
        },
    )
    assert resp.status_code == 302
    with app.app_context():
        walk = session().scalar(select(Booking).where(Booking.walk_in.is_(True)))
        assert walk.status == "checked_in" and session().get(Slot, world.slot_id).booked == 2


# --- dashboard and profile --------------------------------------------------------------------


def test_dashboard_widget_and_profile_panel(app, client, world, login_as, api_headers):
    client.post(
        "/api/v1/visits/bookings",
        json={"slot_id": world.slot_id, "detainee": world.rn},
        headers=api_headers(world.visitor),
    )
    login_as("visits_officer", "EST-A")
    dash = client.get("/dashboard").get_data(as_text=True)
    assert 'id="w-visits"' in dash and 'id="visits-no-show-chart"' in dash
    # nobody has missed a visit yet: the chart says so in words instead of 30 empty bars
    chart = dash.split('id="visits-no-show-chart"', 1)[1].split("</figure>", 1)[0]
    assert "chart-bar" not in chart and 'class="chart-empty"' in chart
    from core.testing import sql_statements

    resp, seen = sql_statements(app, lambda: client.get(f"/detainees/{world.rn}?lang=en"))
    profile = resp.get_data(as_text=True)
    assert 'id="panel-visits"' in profile and "Fatima Benali" in profile
    panel = profile.split('id="panel-visits"', 1)[1].split("</section>", 1)[0]
    coming, rest = panel.split("History", 1)
    history, linked = rest.split("Linked visitors", 1)
    ref = _booking_ref(app, world.visitor.id)
    assert ref in coming and "Fatima Benali" in coming and "No past visit." in history
    with app.app_context():
        national_id = session().get(type(world.visitor), world.visitor.id).national_id
    assert "Fatima Benali" in linked and (national_id or "") in linked
    # the panel reads the columns it shows: no booking object with its slot, detainee,
    # visitor and companions, no visitor's roles
    visits_sql = [s for s in seen if "visits_bookings" in s or "visits_relations" in s]
    assert len(visits_sql) == 3, visits_sql
    assert not any("visits_companions" in s or "core_detainees" in s for s in visits_sql)
    assert not any("password_hash" in s for s in visits_sql)
    login_as("nurse", "EST-A")
    assert 'id="w-visits"' not in client.get("/dashboard").get_data(as_text=True)
    assert 'id="panel-visits"' not in client.get(f"/detainees/{world.rn}").get_data(as_text=True)


FORMULAS = ['=HYPERLINK("x")', "+1", "-2", "@SUM(A1)", "\tx", "\rx"]


@pytest.mark.parametrize("payload", FORMULAS)
def test_gate_sheet_csv_escapes_every_cell(app, client, world, login_as, payload):
    """Issue 10 point 13: the detainee's name was written as it is; now every cell is escaped."""
    import csv
    import io

    from core.detainees.models import Detainee
    from plugins.visits.models import Companion

    ref, day = _today_booking(app, world)
    with app.app_context():
        booking = session().scalar(select(Booking).where(Booking.reference == ref))
        booking.visitor_name = payload
        booking.visitor_national_id = payload
        booking.companions.append(Companion(full_name=payload, national_id=""))
        detainee = session().get(Detainee, booking.detainee_id)
        detainee.first_name = payload
        session().commit()
    login_as("visits_officer", "EST-A")
    resp = client.get(f"/visits/gate/sheet.csv?establishment=EST-A&day={day}")
    assert resp.status_code == 200
    header, *rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True), newline="")))
    (row,) = [r for r in rows if r[header.index("reference")] == ref]
    for column in ("detainee", "visitor", "visitor_national_id"):
        cell = row[header.index(column)]
        assert cell.startswith("'" + payload), (column, cell)
    # "name national_id", stripped: a leading tab or CR is gone before the escaping
    companions = row[header.index("companions")]
    assert companions in ("'" + payload, payload.strip()), companions
    for cell in row:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
    assert row[header.index("adults")] == "1"


def test_the_kept_buttons_show_the_places_left_now_and_the_time_chosen(app, client, world):
    """Each visiting time's button is rendered once and kept (``booking_fragments``): a
    booking changes the places left it shows, a refused submission shows the chosen time
    checked and the people typed in, and each language has its own."""
    _login(client, world.visitor)
    url = f"/visits/book?detainee={world.rn}"

    def button(lang: str) -> str:
        page = client.get(f"{url}&lang={lang}").get_data(as_text=True)
        return page.split(f'id="slot-{world.slot_id}"', 1)[1].split("</li>", 1)[0]

    def left() -> int:
        with app.app_context():
            slot = session().get(Slot, world.slot_id)
            return slot.capacity - slot.booked

    before = left()
    assert f">{before} places left<" in button("en")
    assert "checked" not in button("en")
    with app.app_context():  # another family books this time
        slot = session().get(Slot, world.slot_id)
        slot.booked += 1
        session().commit()
    assert left() == before - 1
    assert f">{before - 1} places left<" in button("en")
    assert f">{before - 1} places restantes<" in button("fr")
    refused = client.post(
        "/visits/book?lang=en",
        data={
            "detainee": world.rn,
            "slot_id": str(world.slot_id),
            "companions-0-full_name": "Youssef Benali",  # no birth date: refused
        },
    )
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    chosen = body.split(f'id="slot-{world.slot_id}"', 1)[1].split(">", 1)[0]
    assert "checked" in chosen
    assert 'value="Youssef Benali"' in body  # the rows typed in, not the kept empty ones
    again = client.get(f"{url}&lang=en").get_data(as_text=True)
    assert "checked" not in button("en")  # the page asked again shows nothing chosen
    assert "Youssef Benali" not in again and 'id="companions-0-full_name"' in again

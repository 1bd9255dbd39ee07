"""The care team's day on the demo data (``make run``), in Arabic and French: the overdue
screenings, today's appointments, a file with its alerts; the director sees counts only."""

from __future__ import annotations

import re

import pytest

from core.testing import demo_client


@pytest.mark.parametrize("lang", ["ar", "fr"])
def test_the_care_team_s_day_on_the_demo(demo_app, lang):
    client = demo_client(demo_app, "nurse", lang)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    home = client.get("/health/", headers={"Accept-Language": lang})
    assert home.status_code == 200
    assert home.get_data(as_text=True).count('href="/health/files/') >= 2
    overdue = client.get("/health/screenings/overdue").get_data(as_text=True)
    files = re.findall(r'href="/health/files/([^/"]+)/screening"', overdue)
    assert len(files) == 2, "the demo has two overdue screenings"
    today = client.get("/health/appointments").get_data(as_text=True)
    assert today.count("<tr><td data-label=") >= 4
    rn = re.findall(r'href="/health/files/([^/"]+)"', today)[0]
    page = client.get(f"/health/files/{rn}")
    assert page.status_code == 200 and b'data-testid="health-alerts"' in page.data
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert 'data-testid="health-widget-overdue">' in dashboard
    units = client.get("/health/units").get_data(as_text=True)
    assert ("وحدة تصفية الدم" if lang == "ar" else "hémodialyse") in units


def test_the_director_sees_figures_without_names(demo_app):
    client = demo_client(demo_app, "director", "fr")
    page = client.get("/health/figures")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "/health/files/" not in body and "Hypertension" not in body
    assert client.get("/health/").status_code == 403


def test_the_head_doctor_signs_the_waiting_draft(demo_app):
    client = demo_client(demo_app, "headdoctor", "ar")
    assert client.get("/health/").status_code == 200

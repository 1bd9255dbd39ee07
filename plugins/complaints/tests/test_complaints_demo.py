"""The demo shows complaints in several states, and the story a family lives: filed, answered,
appealed — in Arabic and French."""

from __future__ import annotations

import re
from typing import Any

from core.testing import demo_client


def test_the_demo_family_sees_its_complaints_with_status_due_date_and_answers(
    demo_app: Any,
) -> None:
    client = demo_client(demo_app, "family", "ar")
    page = client.get("/complaints/mine", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    refs = re.findall(r'href="/complaints/(PL-\d{4}-\d{5})"', page)
    assert len(refs) == 3
    assert "موضوع تظلم" in page and "تم التوصل بها" in page  # appealed, received
    appealed = next(
        r for r in refs if "الزيارة تقصرات" in client.get(f"/complaints/{r}").get_data(as_text=True)
    )
    shown = client.get(f"/complaints/{appealed}?lang=fr").get_data(as_text=True)
    assert "وسيتم تعويضها" in shown and "En recours" in shown


def test_the_demo_officer_has_a_queue_with_overdue_complaints(demo_app: Any) -> None:
    client = demo_client(demo_app, "complaints", "fr")
    queue = client.get("/complaints/?lang=fr").get_data(as_text=True)
    assert "Cellule humide" in queue and "En retard" in queue
    assert "معاملة سيئة" not in queue  # the confidential one is the director's
    overdue = client.get("/complaints/overdue?lang=fr").get_data(as_text=True)
    assert "Cellule humide" in overdue and "Mandat non crédité" in overdue
    assert "Demande de formation" not in overdue
    dash = client.get("/dashboard?lang=fr").get_data(as_text=True)
    assert 'data-testid="complaints-overdue"' in dash
    figures = client.get("/complaints/figures?lang=fr").get_data(as_text=True)
    assert "chart-bar" in figures


def test_the_demo_director_sees_the_confidential_complaint(demo_app: Any) -> None:
    client = demo_client(demo_app, "director", "ar")
    queue = client.get("/complaints/?lang=ar").get_data(as_text=True)
    assert "معاملة سيئة" in queue


def test_the_demo_regional_reviewer_has_the_family_appeal(demo_app: Any) -> None:
    client = demo_client(demo_app, "regional", "fr")
    queue = client.get("/complaints/?status=&lang=fr").get_data(as_text=True)
    assert "الزيارة تقصرات" in queue  # the demo family's appeal, at the regional level
    assert "Cellule humide" not in queue  # never appealed: the establishment's

"""Registration numbers never wrap ("2026-/000083") and never turn around in Arabic text
(issue 11 point 2): every template shows them through the ``rn`` filter, one left-to-right
piece that does not break. The browser crawl checks the rendered pages line by line."""

from __future__ import annotations

import re
from pathlib import Path

from markupsafe import Markup

from core.config import PROJECT_ROOT

# an expression printing a registration number: {{ x.registration_number }} or {{ rn }}
PRINTED = re.compile(r"\{\{\s*([a-z_.]*registration_number|rn)\s*(\|[^}]*)?\}\}")


def _templates() -> list[Path]:
    roots = [PROJECT_ROOT / "templates", PROJECT_ROOT / "plugins", PROJECT_ROOT / "packages"]
    return sorted(
        p for root in roots if root.exists() for p in root.rglob("*.html") if ".venv" not in p.parts
    )


def test_every_template_prints_registration_numbers_through_the_rn_filter() -> None:
    bad: list[str] = []
    for path in _templates():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "{% block title %}" in line:  # a window title: plain text, nothing to wrap
                continue
            for match in PRINTED.finditer(line):
                filters = match.group(2) or ""
                before = line[: match.start()]
                if before.rstrip().endswith(('value="', '="', "='")):  # an attribute
                    continue
                if "rn" not in re.findall(r"\|\s*([a-z_]+)", filters):
                    bad.append(f"{path.relative_to(PROJECT_ROOT)}:{number}: {match.group(0)}")
    assert not bad, "print registration numbers with |rn:\n" + "\n".join(bad)


def test_the_rn_filter_makes_one_unbreakable_left_to_right_piece(app) -> None:
    show = app.jinja_env.filters["rn"]
    shown = show("2026-000083")
    assert isinstance(shown, Markup)
    assert str(shown) == '<bdi dir="ltr" class="rn">2026-000083</bdi>'
    assert str(show("<b>")) == '<bdi dir="ltr" class="rn">&lt;b&gt;</bdi>'
    assert show(None) == ""
    css = (PROJECT_ROOT / "static" / "style.css").read_text(encoding="utf-8")
    assert re.search(r"\.rn\b[^{]*\{[^}]*white-space:\s*nowrap", css)


def test_numbers_inside_hints_and_messages_are_kept_whole(app) -> None:
    show = app.jinja_env.filters["rn_in_text"]
    shown = show("Booked for 2026-000083 <b>today</b>.")
    assert str(shown) == (
        'Booked for <bdi dir="ltr" class="rn">2026-000083</bdi> &lt;b&gt;today&lt;/b&gt;.'
    )
    assert show(None) == ""
    macros = (PROJECT_ROOT / "templates" / "macros.html").read_text(encoding="utf-8")
    assert "hint_text|rn_in_text" in macros and "join(' ')|rn_in_text" in macros
    base = (PROJECT_ROOT / "templates" / "base.html").read_text(encoding="utf-8")
    assert "msg|rn_in_text" in base

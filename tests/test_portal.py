"""The portal: the families' home, the staff dashboard built from plugins, the language switch,
and the look's rules (accessible forms, contrast, logical CSS, no inline code, no CDN)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jinja2 import ChoiceLoader, DictLoader

from core.config import PROJECT_ROOT
from core.contributions import NavItem, Widget
from core.identity.services import has_permission
from core.plugins import hookimpl

STAFF_ROLES = [
    "central_admin",
    "director",
    "registry_clerk",
    "visits_officer",
    "doctor",
    "nurse",
    "accountant",
    "transfers_officer",
    "complaints_officer",
    "auditor",
]


def text(resp: Any) -> str:
    return resp.get_data(as_text=True)


# ---------------------------------------------------------------------------------------------
# home
# ---------------------------------------------------------------------------------------------


def test_home_for_anonymous_is_arabic_and_offers_sign_in_and_registration(client: Any) -> None:
    resp = client.get("/")
    assert resp.status_code == 200
    body = text(resp)
    assert '<html lang="ar" dir="rtl">' in body
    assert "الخدمات الإلكترونية لفائدة العائلات" in body
    assert 'href="/register"' in body and 'href="/login"' in body
    assert "كيف تعمل الخدمة" in body  # the three steps
    assert 'class="skip-link" href="#main"' in body and '<main id="main"' in body


def test_home_in_french_for_a_french_browser(client: Any) -> None:
    body = text(client.get("/", headers={"Accept-Language": "fr"}))
    assert "Services en ligne pour les familles" in body
    assert "Créer un compte" in body


def test_staff_are_sent_from_home_to_the_dashboard(client: Any, login_as: Any) -> None:
    login_as("registry_clerk", "EST-A")
    resp = client.get("/")
    assert resp.status_code == 302 and resp.headers["Location"] == "/dashboard"


def test_a_signed_in_family_member_is_welcomed_on_home(client: Any, login_as: Any) -> None:
    login_as("visitor", (), full_name="Khadija Bennani")
    resp = client.get("/")
    assert resp.status_code == 200
    body = text(resp)
    assert "مرحبًا، Khadija Bennani." in body
    assert 'href="/register"' not in body
    assert "/dashboard" not in body


# ---------------------------------------------------------------------------------------------
# dashboard
# ---------------------------------------------------------------------------------------------


def test_dashboard_sends_anonymous_users_to_sign_in(client: Any) -> None:
    resp = client.get("/dashboard")
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/login?next=")


def test_dashboard_is_refused_to_family_members(client: Any, login_as: Any) -> None:
    login_as("visitor", ())
    resp = client.get("/dashboard")
    assert resp.status_code == 403
    assert "غير مسموح لك" in text(resp)


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_every_staff_role_sees_the_occupancy_widget(
    app: Any, client: Any, login_as: Any, factories: Any, role: str
) -> None:
    with app.app_context():
        factories.establishment("EST-A")
        factories.establishment("EST-B", name="Prison locale Autre", name_ar="السجن المحلي الآخر")
    login_as(role, "EST-A")
    resp = client.get("/dashboard?lang=fr")
    assert resp.status_code == 200
    body = text(resp)
    assert 'id="widget-occupancy"' in body
    assert "Prison locale EST-A" in body
    national = role in ("central_admin", "auditor")
    assert ("Prison locale Autre" in body) is national  # other establishments only if national


def test_occupancy_counts_and_flags_overcrowding(
    app: Any, client: Any, login_as: Any, factories: Any
) -> None:
    with app.app_context():
        factories.establishment("EST-S", capacity=2)
        for _ in range(3):
            factories.detainee("EST-S")
    login_as("director", "EST-S")
    body = text(client.get("/dashboard?lang=fr"))
    row = re.search(r"<tr>\s*<th[^>]*scope=\"row\">Prison locale EST-S</th>.*?</tr>", body, re.S)
    assert row, body
    assert re.search(r'<td data-label="[^"]+" class="num">3</td>', row.group(0))
    assert "150\xa0%" in row.group(0)
    assert "Surpeuplement" in row.group(0)


class DashboardPlugin:
    """A throwaway plugin: a widget for users who see detainee records, a staff menu entry for
    auditors, a public tile for everyone and an entry whose page does not exist."""

    @hookimpl
    def portal_dashboard_widgets(self, user: Any) -> list[Widget]:
        if not has_permission(user, "detainees.view"):
            return []
        return [
            Widget(
                key="testwidget",
                title="Test widget",
                template="test/widget.html",
                context={"greeting": "hello from a plugin"},
                order=5,
            )
        ]

    @hookimpl
    def portal_nav_items(self, user: Any) -> list[NavItem]:
        return [
            NavItem("audit.index", "Plugin audit entry", order=1, permission="audit.view"),
            NavItem("auth.register", "Plugin public tile", order=1, area="public"),
            NavItem("nowhere.index", "Missing page", order=2),
        ]


@pytest.fixture
def dashboard_plugin(app: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    pm = app.extensions["idmaj.plugins"]
    pm.register(DashboardPlugin(), name="test-dashboard")
    loader = ChoiceLoader(
        [
            DictLoader(
                {"test/widget.html": "<p class=probe>{{ w.context.greeting }}, {{ greeting }}</p>"}
            ),
            app.jinja_env.loader,
        ]
    )
    monkeypatch.setattr(app.jinja_env, "loader", loader)
    try:
        yield
    finally:
        pm.unregister(name="test-dashboard")


def test_dashboard_shows_plugin_widgets_to_those_they_are_meant_for(
    client: Any, login_as: Any, dashboard_plugin: None
) -> None:
    login_as("registry_clerk", "EST-A")
    body = text(client.get("/dashboard"))
    assert 'id="widget-testwidget"' in body
    assert '<h2 id="w-testwidget">Test widget</h2>' in body
    assert "<p class=probe>hello from a plugin, hello from a plugin</p>" in body
    assert body.index('id="widget-occupancy"') < body.index('id="widget-testwidget"')


def test_navigation_follows_permissions_and_skips_missing_pages(
    app: Any, client: Any, login_as: Any, dashboard_plugin: None
) -> None:
    login_as("registry_clerk", "EST-A")
    body = text(client.get("/dashboard"))
    nav = re.search(r'<nav class="main-nav".*?</nav>', body, re.S).group(0)
    assert 'href="/detainees/"' in nav
    assert "Plugin audit entry" not in nav and "Missing page" not in nav
    assert 'href="/dashboard" aria-current="page"' in nav

    auditor = app.test_client()
    with app.app_context():
        from core.testing import TEST_PASSWORD, Factories

        user = Factories(app).user("auditor", ())
    auditor.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
    nav = re.search(r'<nav class="main-nav".*?</nav>', text(auditor.get("/dashboard")), re.S)
    assert "Plugin audit entry" in nav.group(0)
    assert "Missing page" not in nav.group(0)


def test_navigation_is_built_once_per_principal_and_again_for_a_new_plugin(
    app: Any, client: Any, login_as: Any, dashboard_plugin: None
) -> None:
    """``portal_nav_items`` is asked once per signed-in principal (the list is kept with the
    principal's snapshot), once for visitors who are not signed in, and again when a plugin
    is registered: its entry shows on the next page."""
    pm = app.extensions["idmaj.plugins"]
    asked: list[Any] = []

    class Counting:
        @hookimpl
        def portal_nav_items(self, user: Any) -> list[NavItem]:
            asked.append(user)
            return []

    pm.register(Counting(), name="test-counting")
    try:
        visitor = app.test_client()
        for _ in range(3):
            assert "Plugin public tile" in text(visitor.get("/"))
        assert asked == [None]
        login_as("registry_clerk", "EST-A")
        for _ in range(3):
            assert 'href="/detainees/"' in text(client.get("/dashboard"))
        assert len(asked) == 2 and asked[1] is not None

        class Late:
            @hookimpl
            def portal_nav_items(self, user: Any) -> list[NavItem]:
                return [NavItem("audit.index", "Late entry", order=3)]

        pm.register(Late(), name="test-late")
        try:
            nav = re.search(r'<nav class="main-nav".*?</nav>', text(client.get("/dashboard")), re.S)
            assert nav and "Late entry" in nav.group(0)
        finally:
            pm.unregister(name="test-late")
        nav = re.search(r'<nav class="main-nav".*?</nav>', text(client.get("/dashboard")), re.S)
        assert nav and "Late entry" not in nav.group(0)
    finally:
        pm.unregister(name="test-counting")


def test_public_tiles_come_from_plugins(client: Any, dashboard_plugin: None) -> None:
    body = text(client.get("/"))
    tiles = re.search(r'<ul class="tiles">.*?</ul>', body, re.S)
    assert tiles and "Plugin public tile" in tiles.group(0)


def test_the_current_page_is_marked_in_the_navigation(client: Any, login_as: Any) -> None:
    login_as("registry_clerk", "EST-A")
    nav = re.search(r'<nav class="main-nav".*?</nav>', text(client.get("/detainees/new")), re.S)
    assert 'href="/detainees/" aria-current="page"' in nav.group(0)
    assert nav.group(0).count('aria-current="page"') == 1


# ---------------------------------------------------------------------------------------------
# language switch
# ---------------------------------------------------------------------------------------------


def test_language_switch_redirects_back_without_the_old_choice(client: Any) -> None:
    resp = client.post("/language", data={"lang": "en", "next": "/login?lang=fr&x=1"})
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/login?x=1"
    assert '<html lang="en"' in text(client.get("/login"))


@pytest.mark.parametrize("lang", ["", "de", "ar-MA", "<script>"])
def test_language_switch_refuses_an_unknown_language(client: Any, lang: str) -> None:
    resp = client.post("/language", data={"lang": lang, "next": "/"})
    assert resp.status_code == 400
    assert "تعذر فهم الطلب" in text(resp)
    assert '<html lang="ar"' in text(client.get("/"))


def test_language_switch_is_a_post(client: Any) -> None:
    assert client.get("/language?lang=fr").status_code == 405


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/path",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "/ok\r\nSet-Cookie: x=1",
        "",
    ],
)
def test_language_switch_never_redirects_elsewhere(client: Any, target: str) -> None:
    resp = client.post("/language", data={"lang": "fr", "next": target})
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/"


def test_language_switch_needs_the_csrf_token_when_csrf_is_on(make_app: Any) -> None:
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    refused = client.post("/language", data={"lang": "fr", "next": "/"})
    assert refused.status_code == 400
    page = text(client.get("/"))
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    accepted = client.post("/language", data={"lang": "fr", "next": "/", "csrf_token": token})
    assert accepted.status_code == 302
    assert '<html lang="fr"' in text(client.get("/"))


def test_the_switcher_offers_the_other_languages_as_buttons(client: Any) -> None:
    body = text(client.get("/", headers={"Accept-Language": "fr"}))
    switch = re.search(r'<form class="lang-switch".*?</form>', body, re.S).group(0)
    assert 'action="/language"' in switch and 'name="csrf_token"' in switch
    assert '<button type="submit" class="lang-option" name="lang" value="ar" lang="ar">' in switch
    assert '<span class="lang-option current" lang="fr" aria-current="true">' in switch


# ---------------------------------------------------------------------------------------------
# accessible forms
# ---------------------------------------------------------------------------------------------


def test_form_errors_are_tied_to_their_fields_and_summarised(client: Any) -> None:
    resp = client.post(
        "/register",
        data={
            "full_name": "Amina",
            "national_id": "???",
            "phone": "12",
            "username": "amina.b",
            "password": "a-long-password-1",
        },
    )
    assert resp.status_code == 422
    body = text(resp)
    summary = re.search(r'<div class="error-summary".*?</div>', body, re.S).group(0)
    assert 'role="alert"' in summary
    assert 'href="#national_id"' in summary and 'href="#phone"' in summary
    assert "رقم البطاقة الوطنية" in summary  # the field, by its localised name
    # the message itself is said once, beside its field, not repeated in the summary
    assert "أدخل رقم البطاقة الوطنية" not in summary
    assert body.count("أدخل رقم البطاقة الوطنية") == 1
    field = re.search(r"<input[^>]*\bid=\"national_id\"[^>]*>", body).group(0)
    assert 'aria-invalid="true"' in field
    described = re.search(r'aria-describedby="([^"]+)"', field).group(1).split()
    assert "national_id-error" in described
    for ref in described:
        assert f'id="{ref}"' in body
    assert re.search(r'<label for="national_id">', body)
    ok_field = re.search(r"<input[^>]*\bid=\"full_name\"[^>]*>", body).group(0)
    assert "aria-invalid" not in ok_field


def test_the_field_macro_ties_hints_and_errors(app: Any) -> None:
    from wtforms import Form, RadioField, StringField

    class Demo(Form):
        name = StringField("Name", description="As on the card.")
        sex = RadioField("Sex", choices=[("M", "M"), ("F", "F")])

    form = Demo()
    form.validate()
    form.name.errors = ["Required."]
    form.sex.errors = ["Choose one."]
    with app.test_request_context("/?lang=en"):
        html = app.jinja_env.from_string(
            '{% from "macros.html" import field, form_errors %}'
            "{{ form_errors(form) }}{{ field(form.name) }}{{ field(form.sex) }}"
        ).render(form=form)
    assert 'aria-describedby="name-hint name-error"' in html
    assert '<p class="hint" id="name-hint">As on the card.</p>' in html
    assert '<fieldset id="sex" tabindex="-1" aria-describedby="sex-error">' in html
    assert 'href="#name"' in html and 'href="#sex"' in html


# ---------------------------------------------------------------------------------------------
# the stylesheet
# ---------------------------------------------------------------------------------------------

CSS = (PROJECT_ROOT / "static" / "style.css").read_text(encoding="utf-8")


def css_declarations(css: str) -> list[tuple[str, str]]:
    """(property, value) of every declaration, comments and @media conditions left out."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    found = []
    for block in re.findall(r"\{([^{}]*)\}", css):
        for decl in block.split(";"):
            if ":" in decl:
                prop, value = decl.split(":", 1)
                found.append((prop.strip().lower(), value.strip().lower()))
    return found


PHYSICAL = re.compile(
    r"^(?:(?:margin|padding|border|scroll-margin|scroll-padding)-(?:left|right|top|bottom)"
    r"(?:-\w+)?|border-(?:top|bottom)-(?:left|right)-radius|left|right|top|bottom|"
    r"width|height|min-width|max-width|min-height|max-height)$"
)


def physical_properties(css: str) -> list[str]:
    bad = []
    for prop, value in css_declarations(css):
        sides = value.split()
        if (
            PHYSICAL.match(prop)
            or (prop in ("text-align", "float", "clear") and value in ("left", "right"))
            or (prop in ("margin", "padding", "inset") and len(sides) == 4 and sides[1] != sides[3])
        ):
            bad.append(f"{prop}: {value}")
    return bad


STYLESHEETS = [
    PROJECT_ROOT / "static" / "style.css",
    *sorted((PROJECT_ROOT / "plugins").glob("*/static/**/*.css")),
]


@pytest.mark.parametrize("path", STYLESHEETS, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_stylesheets_use_logical_properties_only(path: Path) -> None:
    assert physical_properties(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", STYLESHEETS, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_stylesheets_load_nothing_remote(path: Path) -> None:
    css = path.read_text(encoding="utf-8")
    assert not CSS_URL.search(css)
    assert "@import" not in css


def test_the_logical_property_check_catches_physical_ones() -> None:
    sample = (
        ".a { margin-left: 1px; padding-right: 2px } .b { left: 0; text-align: right }"
        ".c { float: left; border-left: 1px solid; width: 3px } .d { margin: 0 1px 0 2px }"
        "@media (max-width: 40rem) { .e { margin-inline-start: 1px; text-align: start } }"
    )
    assert physical_properties(sample) == [
        "margin-left: 1px",
        "padding-right: 2px",
        "left: 0",
        "text-align: right",
        "float: left",
        "border-left: 1px solid",
        "width: 3px",
        "margin: 0 1px 0 2px",
    ]


def css_variables(css: str) -> dict[str, str]:
    root = re.search(r":root\s*\{(.*?)\}", css, re.S).group(1)
    return {
        m.group(1): m.group(2).lower()
        for m in re.finditer(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", root)
    }


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_contrast_formula_matches_known_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


TEXT_PAIRS = [  # (text, background): WCAG AA for normal text, 4.5:1
    ("ink", "bg"),
    ("ink", "card"),
    ("muted", "bg"),
    ("muted", "card"),
    ("muted", "brand-soft"),  # dashboard figures' labels
    ("brand", "card"),  # links, secondary buttons
    ("brand", "bg"),
    ("brand", "brand-soft"),  # tiles on hover, badges
    ("brand-ink", "brand"),  # header, buttons
    ("brand-ink", "brand-dark"),  # main navigation, button hover
    ("brand-ink", "danger"),  # danger buttons
    ("danger", "card"),  # error messages
    ("danger", "danger-soft"),  # error flashes
    ("ok", "ok-soft"),
    ("warn", "warn-soft"),
    ("ink", "danger-soft"),
    ("ink", "warn-soft"),
]
UI_PAIRS = [  # non-text contrast, 3:1 (WCAG 1.4.11): control borders, focus indicators
    ("field-border", "card"),
    ("focus-ring", "bg"),
    ("focus-ring", "card"),
    ("focus", "brand"),  # the focus ring in the green header
    ("focus", "brand-dark"),
]


@pytest.mark.parametrize(("fg", "bg"), TEXT_PAIRS)
def test_text_colours_meet_wcag_aa(fg: str, bg: str) -> None:
    colours = css_variables(CSS)
    assert contrast(colours[fg], colours[bg]) >= 4.5, (fg, bg, contrast(colours[fg], colours[bg]))


@pytest.mark.parametrize(("fg", "bg"), UI_PAIRS)
def test_controls_and_focus_meet_non_text_contrast(fg: str, bg: str) -> None:
    colours = css_variables(CSS)
    assert contrast(colours[fg], colours[bg]) >= 3.0, (fg, bg, contrast(colours[fg], colours[bg]))


def test_focus_is_visible_and_there_is_a_skip_link_and_print_styles() -> None:
    assert re.search(r":focus-visible\s*\{[^}]*outline:\s*3px solid", CSS)
    assert re.search(r"\.skip-link:focus\s*\{", CSS)
    print_block = CSS[CSS.index("@media print") :]
    assert re.search(r"\.site-header[^{]*\{\s*display:\s*none", print_block)
    assert "break-inside: avoid" in print_block


def test_the_stylesheet_and_icon_are_served(client: Any) -> None:
    resp = client.get("/static/style.css")
    assert resp.status_code == 200 and resp.mimetype == "text/css"
    assert client.get("/static/favicon.svg").status_code == 200


# ---------------------------------------------------------------------------------------------
# templates: no CDN, nothing inline (the Content-Security-Policy forbids it)
# ---------------------------------------------------------------------------------------------


def all_templates() -> list[Path]:
    roots = [PROJECT_ROOT / "templates", *sorted((PROJECT_ROOT / "plugins").glob("*/templates"))]
    found = [p for root in roots for p in sorted(root.rglob("*.html"))]
    assert any(p.name == "base.html" for p in found)
    return found


TEMPLATES = all_templates()
ASSET = re.compile(
    r"<(?:script|link|img|source|iframe|video|audio|embed|object)\b[^>]*"
    r"\b(?:src|href|srcset|data)\s*=\s*[\"']?\s*(?:https?:)?//",
    re.I,
)
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.I)
STYLE_ATTR = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I)
STYLE_TAG = re.compile(r"<style\b", re.I)
HANDLER_ATTR = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
CSS_URL = re.compile(r"url\(\s*[\"']?(?:https?:)?//", re.I)


def template_problems(source: str) -> list[str]:
    checks = {
        "remote asset": ASSET,
        "inline script": INLINE_SCRIPT,
        "style attribute": STYLE_ATTR,
        "style element": STYLE_TAG,
        "event handler attribute": HANDLER_ATTR,
        "javascript: URL": re.compile(r"javascript:", re.I),
    }
    return [name for name, pattern in checks.items() if pattern.search(source)]


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_templates_have_no_cdn_and_nothing_inline(path: Path) -> None:
    assert template_problems(path.read_text(encoding="utf-8")) == []


def test_the_template_check_catches_what_csp_forbids() -> None:
    assert template_problems('<script src="https://cdn.example/x.js"></script>') == ["remote asset"]
    assert template_problems('<link rel="stylesheet" href="//cdn.example/x.css">') == [
        "remote asset"
    ]
    assert template_problems("<script>alert(1)</script>") == ["inline script"]
    assert template_problems('<div style="color: red">') == ["style attribute"]
    assert template_problems("<style>p{}</style>") == ["style element"]
    assert template_problems('<button onclick="go()">') == ["event handler attribute"]
    assert template_problems('<a href="https://dgapr.gov.ma/">site</a>') == []  # a link is fine
    assert template_problems('<script src="/static/app.js"></script>') == []


def test_pages_send_the_content_security_policy(client: Any) -> None:
    csp = client.get("/").headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp


def test_navigation_labels_in_the_language_of_each_page(
    app: Any, client: Any, login_as: Any
) -> None:
    """The navigation is kept with the principal per language: switching language shows the
    labels translated again, and back."""
    from core.i18n import request_translations

    login_as("registry_clerk", "EST-A")
    shown = {}
    for lang in ("fr", "ar", "fr"):
        body = text(client.get(f"/dashboard?lang={lang}"))
        nav = re.search(r'<nav class="main-nav".*?</nav>', body, re.S).group(0)
        with app.test_request_context(f"/?lang={lang}"):
            expected = str(request_translations().ugettext("Detainees"))
        assert f'<a href="/detainees/" >{expected}</a>' in nav
        shown[lang] = expected
    assert shown["fr"] != shown["ar"]


def test_navigation_bar_kept_per_current_entry(
    app: Any, client: Any, login_as: Any, monkeypatch: Any
) -> None:
    """The rendered bar is kept: a page seen again does not render it again; another page
    marks its own entry; the number kept is bounded."""
    from core import templating

    login_as("registry_clerk", "EST-A")
    renders: list[str] = []
    original = app.jinja_env.get_template

    def counting(name: Any, *args: Any, **kwargs: Any) -> Any:
        if name == "portal/_navigation_bar.html":
            renders.append(name)
        return original(name, *args, **kwargs)

    monkeypatch.setattr(app.jinja_env, "get_template", counting)
    app.extensions.pop(templating.FRAGMENTS, None)
    for path, current in (("/dashboard", "/dashboard"), ("/detainees/", "/detainees/")) * 2:
        body = text(client.get(path))
        nav = re.search(r'<nav class="main-nav".*?</nav>', body, re.S).group(0)
        assert f'href="{current}" aria-current="page"' in nav
        assert nav.count('aria-current="page"') == 1
    assert len(renders) == 2  # one per current entry, the second visits from the kept bars

    app.extensions[templating.FRAGMENTS] = templating.KeptFragments(1)
    login_as("director", "EST-A")  # another principal: its bars come from the shared ones
    client.get("/dashboard")
    client.get("/detainees/")
    assert len(app.extensions[templating.FRAGMENTS]) == 1

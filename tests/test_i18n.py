"""Languages: complete catalogs, the locale's order of choice, direction, dates and numbers."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po
from flask_babel import gettext, ngettext

from core import i18n_tools
from core.config import LANGUAGES
from core.i18n import (
    choose_language,
    local_day,
    show_date,
    show_datetime,
    show_number,
    show_percent,
    show_time_of_day,
)
from core.testing import TEST_PASSWORD

OWNERS = [o.domain for o in i18n_tools.owners()]

# ---------------------------------------------------------------------------------------------
# catalogs
# ---------------------------------------------------------------------------------------------


def test_the_core_and_every_plugin_folder_own_a_catalog() -> None:
    assert OWNERS[0] == "core"
    plugin_folders = sorted(
        p.name
        for p in (i18n_tools.PROJECT_ROOT / "plugins").iterdir()
        if (p / "__init__.py").exists()
    )
    assert OWNERS[1 : 1 + len(plugin_folders)] == plugin_folders
    # then the modules shipped as their own distributions (packages/<dist>/<module>/)
    packages = i18n_tools.PROJECT_ROOT / "packages"
    shipped = sorted(packages.glob("*/*/translations")) if packages.is_dir() else []
    assert len(OWNERS) == 1 + len(plugin_folders) + len(shipped)


@pytest.mark.parametrize("owner", OWNERS)
def test_every_catalog_exists_in_arabic_french_and_english(owner: str) -> None:
    (found,) = i18n_tools.selected([owner])
    for lang in LANGUAGES:
        po = i18n_tools.catalog_path(found, lang)
        assert po.exists(), f"{po} is missing: run `make translations`"


@pytest.mark.parametrize("owner", OWNERS)
def test_no_arabic_or_french_message_is_missing_or_fuzzy(owner: str) -> None:
    problems = i18n_tools.missing([owner])
    assert problems == {}, "\n".join(
        f"{path}: {len(ids)} untranslated or fuzzy, e.g. {ids[:8]}"
        for path, ids in problems.items()
    )


@pytest.mark.parametrize("owner", OWNERS)
def test_plural_messages_have_every_form_of_their_language(owner: str) -> None:
    assert i18n_tools.plural_problems([owner]) == {}


def test_catalogs_cover_every_message_of_the_code() -> None:
    """Nothing wrapped in ``_()`` in core/ or templates/ is absent from the core catalogs
    (i.e. `make translations` was run after the last string change)."""
    (core,) = i18n_tools.selected(["core"])
    sources = list(core.sources)
    found: set[str] = set()
    from babel.messages.extract import extract_from_dir

    for source in sources:
        for _file, _line, message, _comments, _ctx in extract_from_dir(
            str(source),
            method_map=[("**.py", "python"), ("**.html", "jinja2")],
            keywords={
                "_": None,
                "gettext": None,
                "ngettext": (1, 2),
                "_l": None,
                "lazy_gettext": None,
                "count_message": (1, 2),
            },
        ):
            found.add(message if isinstance(message, str) else message[0])
    with i18n_tools.catalog_path(core, "ar").open("rb") as fh:
        catalog = read_po(fh)
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
    assert sorted(found - known) == []


def test_the_missing_check_reports_an_untranslated_message(tmp_path: Any, monkeypatch: Any) -> None:
    """The check the catalog tests rely on does fail on an empty and on a fuzzy message."""
    catalogs = tmp_path / "translations"
    for lang in LANGUAGES:
        folder = catalogs / lang / "LC_MESSAGES"
        folder.mkdir(parents=True)
        (folder / "demo.po").write_text(
            f'msgid ""\nmsgstr ""\n"Language: {lang}\\n"\n\n'
            'msgid "Hello"\nmsgstr ""\n\n'
            '#, fuzzy\nmsgid "Bye"\nmsgstr "Au revoir"\n',
            encoding="utf-8",
        )
    owner = i18n_tools.Owner("demo", catalogs, ())
    monkeypatch.setattr(i18n_tools, "owners", lambda: [owner])
    problems = i18n_tools.missing(["demo"])
    assert sorted(problems) == sorted(
        str(catalogs / lg / "LC_MESSAGES" / "demo.po") for lg in ("ar", "fr")
    )
    assert all(ids == ["Hello", "Bye"] for ids in problems.values())


def test_the_plural_check_reports_a_missing_arabic_form(tmp_path: Any, monkeypatch: Any) -> None:
    folder = tmp_path / "ar" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "demo.po").write_text(
        'msgid ""\nmsgstr ""\n"Language: ar\\n"\n'
        '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n'
        'msgid "%(num)d visit"\nmsgid_plural "%(num)d visits"\n'
        'msgstr[0] "زيارة"\nmsgstr[1] "زيارات"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(i18n_tools, "owners", lambda: [i18n_tools.Owner("demo", tmp_path, ())])
    (ids,) = i18n_tools.plural_problems(["demo"]).values()
    assert ids[0].startswith("<header has 2 plural forms, ar has 6>")
    assert "%(num)d visit" in ids


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (0, "0 معتقل"),
        (1, "معتقل واحد"),
        (2, "معتقلان"),
        (3, "3 معتقلين"),
        (10, "10 معتقلين"),
        (11, "11 معتقلًا"),
        (99, "99 معتقلًا"),
        (100, "100 معتقل"),
        (102, "102 معتقل"),
        (103, "103 معتقلين"),
    ],
)
def test_arabic_uses_its_six_plural_forms(app: Any, count: int, expected: str) -> None:
    with app.test_request_context("/?lang=ar"):
        assert ngettext("%(num)d detainee", "%(num)d detainees", count) == expected


def test_french_plural(app: Any) -> None:
    with app.test_request_context("/?lang=fr"):
        assert ngettext("%(num)d detainee", "%(num)d detainees", 1) == "1 détenu"
        assert ngettext("%(num)d detainee", "%(num)d detainees", 2) == "2 détenus"
        assert ngettext("%(num)d detainee", "%(num)d detainees", 0) == "0 détenu"
        # Babel 2.19's French "many": exact millions take "de"
        assert ngettext("%(num)d detainee", "%(num)d detainees", 2000000) == "2000000 de détenus"
        assert ngettext("%(num)d detainee", "%(num)d detainees", 2000001) == "2000001 détenus"


def test_update_gives_an_old_catalog_the_shipped_plural_rules(
    tmp_path: Any, monkeypatch: Any
) -> None:
    """A Babel release that adds a plural form (French in 2.19) is followed by ``make
    translations``: the header changes and the check reports the form left to translate."""
    folder = tmp_path / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    po = folder / "demo.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: fr\\n"\n'
        '"Plural-Forms: nplurals=2; plural=(n > 1);\\n"\n\n'
        'msgid "%(num)d visit"\nmsgid_plural "%(num)d visits"\n'
        'msgstr[0] "%(num)d visite"\nmsgstr[1] "%(num)d visites"\n',
        encoding="utf-8",
    )
    assert i18n_tools.sync_plural_forms(po, "fr") is True
    assert i18n_tools.sync_plural_forms(po, "fr") is False  # already in step
    text = po.read_text(encoding="utf-8")
    assert f"nplurals={get_plural('fr').num_plurals};" in text
    assert 'msgstr[1] "%(num)d visites"' in text
    monkeypatch.setattr(i18n_tools, "owners", lambda: [i18n_tools.Owner("demo", tmp_path, ())])
    assert i18n_tools.plural_problems(["demo"]) == {str(po): ["%(num)d visit"]}


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("ar", "هذه الصفحة غير موجودة."),
        ("fr", "Cette page n'existe pas."),
        ("en", "This page does not exist."),
    ],
)
def test_messages_come_from_the_compiled_catalogs(app: Any, lang: str, text: str) -> None:
    with app.test_request_context(f"/?lang={lang}"):
        assert gettext("This page does not exist.") == text


def test_the_kept_catalog_follows_force_locale_and_refresh(app: Any) -> None:
    """The request's catalog is found once and kept (core.i18n.request_translations); a
    message in another reader's language (``force_locale``) and a language changed during the
    request (``refresh``) still get their own catalog, in Python and in templates."""
    from flask import render_template_string
    from flask_babel import force_locale, lazy_gettext, refresh

    from core.i18n import request_translations

    msg = "This page does not exist."
    page = "{{ _('This page does not exist.') }}"
    with app.test_request_context("/?lang=fr"):
        assert gettext(msg) == "Cette page n'existe pas."
        kept = request_translations()
        assert request_translations() is kept  # one look-up for the whole request
        with force_locale("ar_MA"):
            assert gettext(msg) == "هذه الصفحة غير موجودة."
            assert render_template_string(page) == "هذه الصفحة غير موجودة."
            assert str(lazy_gettext(msg)) == "هذه الصفحة غير موجودة."
            with force_locale("en"):
                assert gettext(msg) == "This page does not exist."
            assert gettext(msg) == "هذه الصفحة غير موجودة."
        assert gettext(msg) == "Cette page n'existe pas."
        assert render_template_string(page) == "Cette page n'existe pas."
        assert ngettext("%(num)d detainee", "%(num)d detainees", 2) == "2 détenus"
        from flask import request

        request.args = {"lang": "en"}  # type: ignore[misc]
        refresh()
        assert gettext(msg) == "This page does not exist."
        assert render_template_string(page) == "This page does not exist."
    with app.test_request_context("/?lang=ar"):  # a new request: its own catalog
        assert render_template_string(page) == "هذه الصفحة غير موجودة."


def test_core_lazy_strings_follow_the_request_s_locale(app: Any) -> None:
    """``core.i18n.lazy_gettext`` (the ``_l`` of the code) translates when shown, through the
    request's kept catalog: the language of the request, of ``force_locale``, after
    ``refresh``; its variables formatted; the default locale outside a request."""
    from flask import request
    from flask_babel import force_locale, refresh
    from markupsafe import escape

    from core.i18n import lazy_gettext

    label = lazy_gettext("This page does not exist.")
    count = lazy_gettext("%(amount)s MAD", amount="12,50")
    with app.test_request_context("/?lang=fr"):
        assert str(label) == "Cette page n'existe pas."
        # as Flask-Babel's: a translation is the catalog's text, shown as it is
        assert str(escape(label)) == "Cette page n'existe pas."
        assert str(count) == gettext("%(amount)s MAD", amount="12,50")
        with force_locale("ar_MA"):
            assert str(label) == "هذه الصفحة غير موجودة."
        request.args = {"lang": "en"}  # type: ignore[misc]
        refresh()
        assert str(label) == "This page does not exist."
    with app.app_context():  # no request: the default locale, as Flask-Babel's own gives
        from flask_babel import lazy_gettext as babel_lazy

        arabic = "هذه الصفحة غير موجودة."
        assert str(label) == str(babel_lazy("This page does not exist.")) == arabic


@pytest.mark.parametrize("lang", ["ar", "fr", "en"])
def test_centimes_are_shown_as_babel_formats_them(app: Any, lang: str) -> None:
    """``show_centimes`` (the pattern parsed once) gives Babel's own two-decimal text."""
    from decimal import Decimal

    from flask_babel import format_decimal

    from core.i18n import show_centimes

    with app.test_request_context(f"/?lang={lang}"):
        for centimes in (0, 5, -5, 100, 123_456_789, -100_050, 9_223_372_036_854_775_807):
            want = format_decimal(Decimal(centimes) / 100, format="#,##0.00")
            assert show_centimes(centimes) == want, (lang, centimes)
        assert show_centimes(None) == ""
    with app.test_request_context("/?lang=fr"):
        assert show_centimes(123_450) in ("1\u202f234,50", "1\xa0234,50", "1 234,50")


# ---------------------------------------------------------------------------------------------
# which language
# ---------------------------------------------------------------------------------------------


def html_tag(resp: Any) -> str:
    match = re.search(r"<html[^>]*>", resp.get_data(as_text=True))
    assert match, resp.get_data(as_text=True)[:300]
    return match.group(0)


def lang_of(resp: Any) -> str:
    match = re.search(r'<html lang="([a-z]+)"', resp.get_data(as_text=True))
    assert match
    return match.group(1)


def test_public_pages_are_arabic_without_accept_language(client: Any) -> None:
    for path in ("/", "/login", "/register"):
        resp = client.get(path)
        assert resp.status_code == 200
        assert html_tag(resp) == '<html lang="ar" dir="rtl">'
    assert "تسجيل الدخول" in client.get("/login").get_data(as_text=True)


def test_the_browser_language_is_used(client: Any) -> None:
    resp = client.get("/", headers={"Accept-Language": "fr-MA,fr;q=0.9,en;q=0.5"})
    assert html_tag(resp) == '<html lang="fr" dir="ltr">'
    assert "Se connecter" in resp.get_data(as_text=True)
    assert lang_of(client.get("/", headers={"Accept-Language": "en-GB"})) == "en"


def test_an_unsupported_browser_language_falls_back_to_arabic(client: Any) -> None:
    assert lang_of(client.get("/", headers={"Accept-Language": "de-DE,es;q=0.8"})) == "ar"


def test_an_explicit_choice_beats_the_browser_and_is_kept(client: Any) -> None:
    french_browser = {"Accept-Language": "fr"}
    assert lang_of(client.get("/?lang=en", headers=french_browser)) == "en"
    assert lang_of(client.get("/login", headers=french_browser)) == "en"  # kept in the session
    assert lang_of(client.get("/?lang=ar", headers=french_browser)) == "ar"
    assert lang_of(client.get("/register", headers=french_browser)) == "ar"


def test_an_unknown_explicit_choice_is_ignored(client: Any) -> None:
    assert lang_of(client.get("/?lang=xx", headers={"Accept-Language": "fr"})) == "fr"
    assert lang_of(client.get("/?lang=", headers={})) == "ar"


def test_the_switcher_choice_is_kept_for_an_anonymous_visitor(client: Any) -> None:
    resp = client.post("/language", data={"lang": "fr", "next": "/login"})
    assert resp.status_code == 302
    assert lang_of(client.get("/login", headers={"Accept-Language": "en"})) == "fr"


def test_a_saved_preference_beats_an_explicit_choice_and_the_browser(
    app: Any, client: Any, login_as: Any
) -> None:
    login_as("registry_clerk", "EST-A", locale="fr")
    headers = {"Accept-Language": "en"}
    assert lang_of(client.get("/dashboard", headers=headers)) == "fr"
    assert lang_of(client.get("/dashboard?lang=ar", headers=headers)) == "fr"


def test_without_a_preference_a_signed_in_user_gets_explicit_then_browser(
    client: Any, login_as: Any
) -> None:
    login_as("registry_clerk", "EST-A")
    assert lang_of(client.get("/dashboard", headers={"Accept-Language": "en"})) == "en"
    assert lang_of(client.get("/dashboard?lang=fr", headers={"Accept-Language": "en"})) == "fr"
    assert lang_of(client.get("/dashboard", headers={"Accept-Language": "en"})) == "fr"


def test_the_switcher_saves_the_preference_and_shows_at_once(
    app: Any, client: Any, login_as: Any
) -> None:
    from core.db import session
    from core.identity.models import User

    user = login_as("registry_clerk", "EST-A", locale="fr")
    resp = client.post("/language", data={"lang": "ar", "next": "/dashboard"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/dashboard"
    page = client.get("/dashboard", headers={"Accept-Language": "fr"})
    assert html_tag(page) == '<html lang="ar" dir="rtl">'
    assert "لوحة القيادة" in page.get_data(as_text=True)
    with app.app_context():
        assert session().get(User, user.id).locale == "ar"
    # the preference follows the user to a new browser
    other = app.test_client()
    other.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
    assert lang_of(other.get("/dashboard", headers={"Accept-Language": "en"})) == "ar"


def test_a_registered_family_member_keeps_the_language_used_to_register(
    app: Any, client: Any
) -> None:
    from core.db import session
    from core.identity.models import User

    resp = client.post(
        "/register?lang=fr",
        data={
            "full_name": "Fatima Zahra Alaoui",
            "national_id": "BE765432",
            "phone": "0612345678",
            "username": "fz.alaoui",
            "password": "a-long-password-1",
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    with app.app_context():
        assert session().query(User).filter_by(username="fz.alaoui").one().locale == "fr"


def test_outside_a_request_the_language_is_arabic(app: Any) -> None:
    with app.app_context():
        assert choose_language() == "ar"


def test_the_api_answers_in_the_browser_language(client: Any) -> None:
    resp = client.post(
        "/api/v1/auth/token",
        json={"username": "nobody", "password": "x" * 12},
        headers={"Accept-Language": "fr"},
    )
    assert resp.status_code == 401
    assert resp.json["error"]["message"] == "Nom d'utilisateur ou mot de passe incorrect."
    arabic = client.post("/api/v1/auth/token", json={"username": "nobody", "password": "x" * 12})
    assert arabic.json["error"]["message"] == "اسم المستخدم أو كلمة المرور غير صحيحة."


# ---------------------------------------------------------------------------------------------
# direction on every page
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "direction"), [("ar", "rtl"), ("fr", "ltr"), ("en", "ltr")])
def test_html_lang_and_dir_on_every_kind_of_page(
    client: Any, login_as: Any, lang: str, direction: str
) -> None:
    expected = f'<html lang="{lang}" dir="{direction}">'
    headers = {"Accept-Language": lang}
    anonymous = ["/", "/login", "/register", "/no-such-page"]
    for path in anonymous:
        assert html_tag(client.get(path, headers=headers)) == expected, path
    login_as("central_admin", ())
    staff = ["/dashboard", "/detainees/", "/establishments/", "/admin/users", "/audit/", "/nope"]
    for path in staff:
        resp = client.get(path, headers=headers)
        assert resp.status_code in (200, 404), (path, resp.status_code)
        assert html_tag(resp) == expected, path


# ---------------------------------------------------------------------------------------------
# dates, times and numbers
# ---------------------------------------------------------------------------------------------

SUMMER_NOON_UTC = dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)
# Morocco returns to UTC+0 during Ramadan (in 2026: from 15 February to 22 March).
RAMADAN_NOON_UTC = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def test_times_are_shown_in_casablanca_in_french(app: Any) -> None:
    with app.test_request_context("/?lang=fr"):
        assert show_datetime(SUMMER_NOON_UTC) == "1 juil. 2026, 13:00:00"
        assert show_datetime(SUMMER_NOON_UTC, "short") == "01/07/2026 13:00"
        assert show_datetime(RAMADAN_NOON_UTC, "short") == "01/03/2026 12:00"
        # naive values are read as UTC, as stored
        assert show_datetime(SUMMER_NOON_UTC.replace(tzinfo=None), "short") == "01/07/2026 13:00"


def test_times_are_shown_in_casablanca_in_arabic(app: Any) -> None:
    rlm = "\u200f"
    with app.test_request_context("/?lang=ar"):
        assert show_datetime(SUMMER_NOON_UTC, "short") == f"1{rlm}/7{rlm}/2026، 13:00"
        assert show_datetime(RAMADAN_NOON_UTC, "short") == f"1{rlm}/3{rlm}/2026، 12:00"
        # Moroccan month names: يوليوز, غشت
        assert show_date(dt.date(2026, 7, 1), "long") == "1 يوليوز 2026"
        assert show_date(dt.date(2026, 8, 20), "long") == "20 غشت 2026"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_time_of_day_and_local_day_say_what_the_full_formats_say(app: Any, lang: str) -> None:
    """The booking page's cheap filters: ``time_of_day`` is ``datetime('HH:mm')`` formatted
    once per time and language, ``local_day`` the Casablanca date that ``date`` shows —
    across summer time, Ramadan and midnight."""
    moments = [
        SUMMER_NOON_UTC,
        RAMADAN_NOON_UTC,
        dt.datetime(2026, 7, 1, 23, 30, tzinfo=dt.UTC),
        dt.datetime(2026, 12, 31, 23, 59, tzinfo=dt.UTC),
        SUMMER_NOON_UTC.replace(tzinfo=None),
    ]
    with app.test_request_context(f"/?lang={lang}"):
        for moment in moments:
            assert show_time_of_day(moment) == show_datetime(moment, "HH:mm"), moment
            assert show_date(local_day(moment), "full") == show_date(moment, "full"), moment
        assert show_time_of_day(None) == ""
    with app.test_request_context("/?lang=fr"):
        assert show_time_of_day(SUMMER_NOON_UTC) == "13:00"
        assert local_day(dt.datetime(2026, 7, 1, 23, 30, tzinfo=dt.UTC)) == dt.date(2026, 7, 2)


def test_a_late_evening_utc_time_is_the_next_day_in_casablanca(app: Any) -> None:
    late = dt.datetime(2026, 7, 1, 23, 30, tzinfo=dt.UTC)
    with app.test_request_context("/?lang=fr"):
        assert show_date(late) == "2 juil. 2026"
        assert show_datetime(late, "short") == "02/07/2026 00:30"


def test_numbers_follow_the_locale(app: Any) -> None:
    nnbsp = "\u202f"
    with app.test_request_context("/?lang=fr"):
        assert show_number(1234567) == f"1{nnbsp}234{nnbsp}567"
        assert show_number(Decimal("1234.5")) == f"1{nnbsp}234,5"
        assert show_percent(0.856) == f"86{chr(0xA0)}%"
    with app.test_request_context("/?lang=ar"):
        assert show_number(1234567) == "1.234.567"
        assert show_number(Decimal("1234.5")) == "1.234,5"
    with app.test_request_context("/?lang=en"):
        assert show_number(1234567) == "1,234,567"
        assert show_datetime(SUMMER_NOON_UTC, "short") == f"7/1/26, 1:00{nnbsp}PM"


def test_empty_values_format_as_nothing(app: Any) -> None:
    with app.test_request_context("/?lang=fr"):
        assert (
            show_datetime(None) == show_date(None) == show_number(None) == show_percent(None) == ""
        )


def test_the_template_filters_are_registered(app: Any) -> None:
    with app.test_request_context("/?lang=fr"):
        template = app.jinja_env.from_string(
            "{{ t|datetime('short') }}|{{ t|date('long') }}|{{ n|number }}|{{ r|percent }}"
        )
        rendered = template.render(t=SUMMER_NOON_UTC, n=1500, r=0.5)
    assert rendered == f"01/07/2026 13:00|1 juillet 2026|1{chr(0x202F)}500|50{chr(0xA0)}%"


# ---------------------------------------------------------------------------------------------
# one msgid, one meaning; count messages with every plural form (issue 11 points 3, 4, 6)
# ---------------------------------------------------------------------------------------------


def test_no_two_catalogs_translate_one_message_two_ways() -> None:
    """Flask-Babel merges the domains into one table: a message translated two ways shows one
    of them everywhere. Two meanings take a context (``pgettext``)."""
    assert i18n_tools.conflicts() == []


def test_the_conflict_check_reports_one_message_translated_two_ways(
    tmp_path: Any, monkeypatch: Any
) -> None:
    found = []
    for domain, text, context in (("one", "السجل", "noun"), ("two", "تسجيل", "verb")):
        folder = tmp_path / domain / "ar" / "LC_MESSAGES"
        folder.mkdir(parents=True)
        (folder / f"{domain}.po").write_text(
            f'msgid ""\nmsgstr ""\n"Language: ar\\n"\n\n'
            f'msgid "Record"\nmsgstr "{text}"\n\n'
            f'msgctxt "{context}"\nmsgid "Open"\nmsgstr "{text}"\n',
            encoding="utf-8",
        )
        found.append(i18n_tools.Owner(domain, tmp_path / domain, ()))
    monkeypatch.setattr(i18n_tools, "owners", lambda: found)
    # "Record" without a context is reported; "Open" in two contexts is two messages
    (problem,) = i18n_tools.conflicts()
    assert problem.startswith("ar: 'Record'")


def test_the_plural_check_reports_arabic_forms_for_11_99_and_100_swapped(
    tmp_path: Any, monkeypatch: Any
) -> None:
    folder = tmp_path / "ar" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    header = i18n_tools.get_plural("ar")
    (folder / "demo.po").write_text(
        'msgid ""\nmsgstr ""\n"Language: ar\\n"\n'
        f'"Plural-Forms: nplurals=6; plural={header.plural_expr};\\n"\n\n'
        'msgid "%(num)d place left"\nmsgid_plural "%(num)d places left"\n'
        'msgstr[0] "لا مكان متبق"\nmsgstr[1] "مكان واحد متبق"\nmsgstr[2] "مكانان متبقيان"\n'
        'msgstr[3] "%(num)d أماكن متبقية"\nmsgstr[4] "%(num)d مكانًا متبقيًا"\n'
        'msgstr[5] "%(num)d مكان متبق"\n\n'
        'msgid "%(num)d child"\nmsgid_plural "%(num)d children"\n'
        'msgstr[0] "%(num)d طفل"\nmsgstr[1] "%(num)d طفل"\nmsgstr[2] "%(num)d طفل"\n'
        'msgstr[3] "%(num)d طفل"\nmsgstr[4] "%(num)d طفل"\nmsgstr[5] "%(num)d طفل"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(i18n_tools, "owners", lambda: [i18n_tools.Owner("demo", tmp_path, ())])
    (ids,) = i18n_tools.plural_problems(["demo"]).values()
    assert any(i.startswith("%(num)d place left <") for i in ids)
    assert any(i.startswith("%(num)d child <") for i in ids)


# A number followed by a word in a message made with plain gettext: "%(n)d visits were
# cancelled" reads wrong in Arabic for most numbers. Words that are no noun of the number.
_COUNT_RE = re.compile(r"%\((\w+)\)d ([a-z]+)")
_NOT_A_NOUN = {"to", "of", "per", "and", "from", "for"}
# WTForms' own message, which it formats with gettext: "بين 3 و200 من الأحرف" reads right for
# every number.
_WTFORMS_RANGE = "Field must be between %(min)d and %(max)d characters long."


@pytest.mark.parametrize("owner", OWNERS)
def test_count_messages_are_made_with_ngettext(owner: str) -> None:
    """Scans the code and templates themselves (not the catalogs, which may lag): a
    ``_("%(n)d visits were cancelled")`` fails here until it becomes an ``ngettext``."""
    from babel.messages.extract import extract_from_dir

    (found,) = i18n_tools.selected([owner])
    singular_keywords = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None}
    plain = sorted(
        {
            f"{source.name}/{filename}:{lineno}: {message}"
            for source in found.sources
            for filename, lineno, message, _comments, _ctx in extract_from_dir(
                str(source),
                method_map=[("**/tests/**", "ignore"), ("**.py", "python"), ("**.html", "jinja2")],
                keywords=singular_keywords,
            )
            if isinstance(message, str)
            and message != _WTFORMS_RANGE
            and any(word not in _NOT_A_NOUN for _name, word in _COUNT_RE.findall(message))
        }
    )
    assert plain == [], "count messages need ngettext (all six Arabic forms)"


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (0, "لا مكان متبقٍّ"),
        (1, "مكان واحد متبقٍّ"),
        (2, "مكانان متبقيان"),
        (3, "3 أماكن متبقية"),
        (15, "15 مكانًا متبقيًا"),
        (100, "100 مكان متبقٍّ"),
    ],
)
def test_places_left_agree_with_their_number_in_arabic(app: Any, count: int, expected: str) -> None:
    with app.test_request_context("/?lang=ar"):
        assert ngettext("%(num)d place left", "%(num)d places left", count) == expected


def test_one_msgid_with_two_meanings_is_told_apart_by_its_context(app: Any) -> None:
    from flask_babel import pgettext

    with app.test_request_context("/?lang=fr"):
        assert gettext("Record") == "Enregistrement"  # the audit page's column
        assert pgettext("verb", "Record") == "Enregistrer"  # the gate's button
        assert pgettext("account", "Open") == "Ouvert"
        assert pgettext("visiting time", "Open") == "Ouvert"  # un horaire de visite
        assert pgettext("visiting time", "Cancelled") == "Annulé"
        assert gettext("Cancelled") == "Annulée"  # une visite
    with app.test_request_context("/?lang=ar"):
        assert pgettext("visiting time", "Cancelled") == "ملغى"  # موعد الزيارة
        assert gettext("Cancelled") == "ملغاة"  # الزيارة
        assert pgettext("verb", "Record") == "تسجيل"
        assert gettext("Record") == "السجل"


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("ar", "لا يمكن أن يتجاوز طول الحقل 200 حرف."),
        ("fr", "Le champ ne peut pas dépasser 200 caractères."),
        ("en", "Field cannot be longer than 200 characters."),
    ],
)
def test_wtforms_own_messages_are_translated(app: Any, lang: str, expected: str) -> None:
    from flask_wtf import FlaskForm
    from werkzeug.datastructures import MultiDict
    from wtforms import StringField
    from wtforms.validators import DataRequired, Length

    class Demo(FlaskForm):
        class Meta:
            csrf = False

        name = StringField(validators=[Length(max=200)])
        other = StringField(validators=[DataRequired()])

    with app.test_request_context(f"/?lang={lang}"):
        form = Demo(formdata=MultiDict({"name": "x" * 201}))
        assert not form.validate()
        assert form.name.errors == [expected]
        assert form.other.errors == [gettext("This field is required.")]
        if lang != "en":
            assert form.other.errors != ["This field is required."]


def test_every_wtforms_message_we_list_is_translated(app: Any) -> None:
    from core import wtforms_messages

    with app.test_request_context("/?lang=ar"):
        shown = wtforms_messages.messages()
    assert not [m for m in shown if re.search(r"[A-Za-z]{4}", m.replace("CSRF", ""))]


def test_a_count_message_in_a_form_validator_takes_the_plural_of_its_number(app: Any) -> None:
    from core.i18n import count_message

    message = count_message("At most %(num)d character.", "At most %(num)d characters.", "max")
    with app.test_request_context("/?lang=ar"):
        assert message % {"min": -1, "max": 2, "length": 3} == "حرفان على الأكثر."
        assert message % {"min": -1, "max": 20, "length": 30} == "20 حرفًا على الأكثر."


def test_every_form_leaves_validation_to_our_localised_messages() -> None:
    """The browser's required-field bubble speaks the browser's language, not the page's, and
    hides our message tied to the field: every form has ``novalidate`` (``required`` stays on
    the inputs for assistive technology)."""
    roots = [
        i18n_tools.PROJECT_ROOT / "templates",
        *(i18n_tools.PROJECT_ROOT / "plugins").glob("*/templates"),
    ]
    missing = [
        f"{path.relative_to(i18n_tools.PROJECT_ROOT)}: {tag}"
        for root in roots
        for path in root.rglob("*.html")
        for tag in re.findall(r"<form\b[^>]*>", path.read_text(encoding="utf-8"))
        if "novalidate" not in tag
    ]
    assert missing == []


MILLIONS_DE = r"%\(num\)d (de (?!ses |leurs |ces |vos |nos )|d’|d')"


def test_french_plural_forms_are_in_babel_order() -> None:
    """Babel's French forms are one, *many* (exact millions: "2 000 000 de détenus"), other:
    the "de" belongs to form [1] only — "128 de caractères" reads wrong."""
    import re

    from babel.messages.pofile import read_po

    from core.config import PROJECT_ROOT

    wrong = []
    for path in PROJECT_ROOT.glob("**/translations/fr/LC_MESSAGES/*.po"):
        if ".venv" in path.parts:
            continue
        with path.open("rb") as fh:
            for message in read_po(fh):
                # "%(num)d de ses demandes" (of its requests) is not the millions' "de"
                plural = isinstance(message.string, tuple) and len(message.string) == 3
                if plural and re.search(MILLIONS_DE, message.string[2]):
                    wrong.append(f"{path.name}: {message.string[2]}")
    assert wrong == []


def test_a_template_string_is_formatted_only_when_formatting_changes_it(app: Any) -> None:
    """``_()`` in a template: a string with no variables and no ``%`` is given back as it
    is (marked safe), one with ``%%`` or variables is still formatted, its variables
    escaped."""
    from markupsafe import Markup

    with app.test_request_context("/?lang=en"):
        env = app.jinja_env
        out = env.from_string(
            '{{ _("Birth date") }}|{{ _("100%% sure") }}|{{ _("Hi %(n)s", n="<b>") }}'
        )
        assert out.render() == "Birth date|100% sure|Hi &lt;b&gt;"
        plain = env.from_string('{% set x = _("Birth date") %}{{ x is string }}').render()
        assert plain == "True"
        from core.i18n import _new_style

        ctx = env.from_string("").new_context()
        assert isinstance(_new_style(ctx, "A <i>", {}), Markup)


def test_dates_and_times_follow_the_locale_of_the_moment_force_locale_included(app: Any) -> None:
    """Dates and times are formatted once per value and locale, and the locale is read from
    Flask-Babel's choice for the request: a message in its reader's language
    (``force_locale``) gets that language's text, and the page's comes back after it."""
    from flask_babel import force_locale

    from core.i18n import current_language

    day = dt.date(2026, 3, 2)
    at = dt.datetime(2026, 3, 2, 13, 30, tzinfo=dt.UTC)
    with app.test_request_context("/?lang=fr"):
        assert current_language() == "fr"
        french = show_date(day, "full")
        assert french == "lundi 2 mars 2026"
        with force_locale("en"):
            assert current_language() == "en"
            assert show_date(day, "full") == "Monday, March 2, 2026"
            assert show_time_of_day(at) == show_datetime(at, "HH:mm")  # Casablanca's hour
        assert current_language() == "fr" and show_date(day, "full") == french


@pytest.mark.parametrize("lang", ["ar", "fr", "en"])
def test_datetimes_as_babel_formats_them(app: Any, lang: str) -> None:
    """``show_datetime`` formats the date and the time apart (each kept per value) for the
    formats whose time shows no zone: the same text as Babel's ``format_datetime``, across
    two centuries and the summer-time changes; a zone or a custom pattern goes to Babel."""
    import datetime as dt
    import random

    from babel import dates as babel_dates

    from core import i18n

    rng = random.Random(lang)
    start = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
    with app.test_request_context(f"/?lang={lang}"):
        locale = i18n._locale()
        assert i18n._datetime_layout("medium", str(locale)) is not None
        assert i18n._datetime_layout("full", str(locale)) is None  # its time shows the zone
        for fmt in ("medium", "short", "full", "d MMM y HH:mm"):
            for _ in range(200):
                value = start + dt.timedelta(seconds=rng.randrange(200 * 365 * 86400))
                local = i18n._local(value)
                expected = babel_dates.format_datetime(
                    local, fmt, tzinfo=local.tzinfo, locale=locale
                )
                assert i18n.show_datetime(value, fmt) == expected

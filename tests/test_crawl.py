"""The whole portal as its users see it: every demo login crawls what it can reach.

One database seeded with the demo data (``demo_app``: ``core.demo.seed``, committed for real,
built once for the session since seeding per test would cost minutes). For each
demo login, in Arabic and in French, and anonymously from ``/``, follow every same-site link
(GET only) up to depth 3 and check that:

- no response is a 5xx;
- every HTML page says its language and direction (``<html lang dir>``) and they match the
  language asked for;
- an Arabic page's ``<h1>`` holds Arabic letters (a cheap check for untranslated titles);
- no page links to a page the user may not open (403).

To keep the run short, links that differ only in their ids (``/detainees/CAS-AS-2024-00012``,
``/visits/bookings/ABC123``...) count as one *kind* of page; a few of each kind are visited.
The crawl goes through the app only (whatever plugins it has); the checks of one plugin's demo
pages live in that plugin's tests (``plugins/*/tests/test_*_demo_pages.py``).
"""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest

from core import demo
from core.testing import demo_client

LOGINS = [
    "admin",
    "auditor",
    "director",
    "clerk",
    "clerk.oukacha",
    "visits",
    "doctor",
    "nurse",
    "accountant",
    "transfers",
    "complaints",
    "family",
]
LANGS = ["ar", "fr"]
MAX_DEPTH = 3
PER_KIND = 2  # pages visited per kind of link (same path shape, ids left out)
ARABIC = re.compile(r"[\u0600-\u06FF]")
ID_SEGMENT = re.compile(r"\d|^[A-Z0-9-]{6,}$")


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        # links marked ``hreflang`` lead to a page in that language on purpose (a printable
        # paper in French from an Arabic page): that page is checked against it
        self.hreflang: dict[str, str] = {}
        self.html_attrs: dict[str, str | None] | None = None
        self.h1: list[str] = []
        self._in_h1 = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "html" and self.html_attrs is None:
            self.html_attrs = dict(attrs)
        elif tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)
                if dict(attrs).get("hreflang"):
                    self.hreflang[href] = str(dict(attrs)["hreflang"])
        elif tag == "h1":
            self._in_h1 += 1
            self.h1.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "h1" and self._in_h1:
            self._in_h1 -= 1

    def handle_data(self, data: str) -> None:
        if self._in_h1 and self.h1:
            self.h1[-1] += data


def _kind(url: str) -> str:
    parts = urlsplit(url)
    segments = ["{id}" if ID_SEGMENT.search(s) else s for s in parts.path.split("/")]
    query = ",".join(sorted(p.split("=", 1)[0] for p in parts.query.split("&") if p))
    return "/".join(segments) + ("?" + query if query else "")


def _same_site(base: str, href: str) -> str | None:
    if href.startswith(("mailto:", "tel:", "javascript:", "#", "data:")):
        return None
    absolute = urljoin(base, href)
    parts = urlsplit(absolute)
    if parts.scheme not in ("http", "https") or parts.netloc != "localhost":
        return None
    path = parts.path + ("?" + parts.query if parts.query else "")
    if parts.path.startswith(("/logout", "/static/")):
        return None
    return path


def crawl(app: Any, lang: str, start: str, username: str | None) -> tuple[int, list[str]]:
    """What ``username`` (None: anonymous) reaches from ``start``: (pages, problems)."""
    client = app.test_client()
    headers = {"Accept-Language": lang}
    problems: list[str] = []
    if username is not None:
        response = client.post(
            "/login",
            data={"username": username, "password": demo.DEMO_PASSWORD},
            headers=headers,
        )
        assert response.status_code == 302, f"{username} cannot sign in ({response.status_code})"
    seen: set[str] = set()
    per_kind: dict[str, int] = {}
    lang_links_done = False
    wanted_lang: dict[str, str] = {}
    queue: deque[tuple[str, int, str]] = deque([(start, 0, "(start)")])
    pages = 0
    while queue:
        url, depth, referrer = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        switches_language = "lang=" in urlsplit(url).query
        if switches_language:
            if lang_links_done:
                continue
            lang_links_done = True
        kind = _kind(url)
        if per_kind.get(kind, 0) >= PER_KIND:
            continue
        per_kind[kind] = per_kind.get(kind, 0) + 1
        response = client.get(url, headers=headers)
        pages += 1
        where = f"{url} (from {referrer})"
        if switches_language:
            # a ?lang= link changes the session's language: undo it for the rest of the crawl
            with client.session_transaction() as sess:
                sess.pop("lang", None)
            if response.status_code >= 500:
                problems.append(f"{response.status_code} on {where}")
            continue
        if response.status_code >= 500:
            problems.append(f"{response.status_code} on {where}")
            continue
        if response.status_code == 403 and depth > 0:
            problems.append(f"a link to a forbidden page: {where}")
            continue
        if response.status_code in (301, 302, 303, 307, 308):
            target = _same_site("http://localhost" + url, response.headers.get("Location", ""))
            if target and depth < MAX_DEPTH:
                queue.append((target, depth, url))
            continue
        if response.mimetype != "text/html":
            continue
        page = _Page()
        page.feed(response.get_data(as_text=True))
        attrs = page.html_attrs or {}
        want = wanted_lang.get(url, lang)
        want_dir = "rtl" if want == "ar" else "ltr"
        if attrs.get("lang") != want or attrs.get("dir") != want_dir:
            problems.append(
                f"<html lang={attrs.get('lang')!r} dir={attrs.get('dir')!r}> on {where}, "
                f"wanted lang={want!r} dir={want_dir!r}"
            )
        if want == "ar" and response.status_code < 400:
            if not page.h1:
                problems.append(f"no <h1> on {where}")
            elif not ARABIC.search(page.h1[0]):
                problems.append(f"<h1> not in Arabic on {where}: {page.h1[0].strip()!r}")
        if depth >= MAX_DEPTH:
            continue
        for href in page.links:
            target = _same_site("http://localhost" + url, href)
            if target and target not in seen:
                if href in page.hreflang:
                    wanted_lang[target] = page.hreflang[href]
                queue.append((target, depth + 1, url))
    return pages, problems


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("username", LOGINS)
def test_every_demo_login_crawls_cleanly(demo_app: Any, username: str, lang: str) -> None:
    start = "/" if username == "family" else "/dashboard"
    pages, problems = crawl(demo_app, lang, start, username)
    assert pages > 3, f"{username} reached only {pages} pages from {start}"
    assert not problems, f"{username} in {lang}:\n" + "\n".join(problems)


@pytest.mark.parametrize("lang", LANGS)
def test_anonymous_crawl_of_the_public_pages(demo_app: Any, lang: str) -> None:
    pages, problems = crawl(demo_app, lang, "/", None)
    assert pages > 2
    assert not problems, f"anonymous in {lang}:\n" + "\n".join(problems)


def test_crawler_flags_a_page_without_arabic_title(demo_app: Any) -> None:
    """The crawler's own checks bite: an English-only <h1> is reported."""
    page = _Page()
    page.feed('<html lang="ar" dir="rtl"><h1>Visits <small>x</small></h1><a href="/a">a</a></html>')
    assert page.h1 == ["Visits x"]
    assert not ARABIC.search(page.h1[0])
    assert page.links == ["/a"]
    assert _kind("/detainees/CAS-AS-2024-00012?tab=1") == "/detainees/{id}?tab"
    assert _same_site("http://localhost/x", "https://example.org/") is None
    assert _same_site("http://localhost/x", "/logout") is None


# --------------------------------------------------------------------------------------------
# what the quality pass fixed on the demo pages
# --------------------------------------------------------------------------------------------


def test_establishment_figures_line_up_with_their_headings(demo_app: Any) -> None:
    client = demo_client(demo_app, "admin", "ar")
    body = client.get("/establishments/", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    head = body[body.index("<thead>") : body.index("</thead>")]
    assert head.count('class="num"') == 3
    assert re.search(r'<td data-label="[^"]+" class="nowrap">', body)  # codes never wrap


def test_user_page_title_says_what_it_is(demo_app: Any) -> None:
    client = demo_client(demo_app, "admin", "ar")
    users = client.get("/admin/users", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    link = re.search(r'href="(/admin/users/\d+)"', users)
    assert link
    page = _Page()
    page.feed(client.get(link.group(1), headers={"Accept-Language": "ar"}).get_data(as_text=True))
    assert ARABIC.search(page.h1[0])

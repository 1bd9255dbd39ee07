"""Every page each demo login reaches, as its people use it: in Arabic on a 360 px phone and in
French on a 1280 px desktop, in Debian's Chromium, on the demo data.

For every page: no serious or critical axe-core violation (WCAG 2 A/AA rules), no page wider
than the viewport, no action (button, link styled as a button, form control) out of view
sideways, no registration number broken over two lines, and — on Arabic pages — no word of
the interface left in English or French (names, codes and numbers aside: the text checked is
the page's own, outside ``dir="ltr"`` islands (identifiers), ``dir="auto"`` ones (free text a
person typed, shown as typed), ``<bdi>``, ``<code>``, form values, acronyms, and people's and
places' names).

Pages are found by following links with the test client (fast), then each kind of page (the
same path shape, ids aside) is opened once in the browser.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest

from core import demo
from core.testing import TestDatabase, build_migrated_app
from core.testing_browser import LiveServer

pytestmark = pytest.mark.browser

LOGINS = [
    "admin",
    "auditor",
    "director",
    "clerk",
    "visits",
    "doctor",
    "accountant",
    "transfers",
    "complaints",
    "family",
    "canteen",  # remote purchasing's canteen manager (packages/idmaj-purchasing)
]
SETTINGS = [("ar", 360, 780), ("fr", 1280, 900)]
MAX_DEPTH = 2
ID_SEGMENT = re.compile(r"\d|^[A-Z0-9-]{6,}$")
SKIP = ("/logout", "/static/", "/language")
DOWNLOADS = (".csv", "/csv", "/export", "/qr", ".svg", ".json", "/print")
SEVERE = {"serious", "critical"}

# what the page says in its own words: text nodes of <main> outside islands of Latin script
TEXT_OF_PAGE = """
() => {
  const out = [];
  const islands = '[dir=ltr], [dir=auto], bdi, code, kbd, samp, .reference, .name, [translate=no], '
    + 'script, style, svg, option, select, textarea, input';
  const skip = (el) => el.closest(islands);
  const root = document.querySelector('main') || document.body;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    const el = node.parentElement;
    if (!el || skip(el)) continue;
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    const text = node.textContent.trim();
    if (text) out.push(text);
  }
  return out;
}
"""

# actions a person must be able to reach: visible, not beyond the viewport's sides
ACTIONS_OUT_OF_VIEW = """
(width) => {
  const bad = [];
  const actions = 'main button, main a.button, main input:not([type=hidden]), '
    + 'main select, main textarea';
  for (const el of document.querySelectorAll(actions)) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;          // not rendered (closed details…)
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || el.closest('.visually-hidden')) continue;
    let scroller = el.parentElement, inScroller = false;
    while (scroller && scroller !== document.body) {
      const s = getComputedStyle(scroller);
      const scrolls = ['auto', 'scroll'].includes(s.overflowX);
      if (scrolls && scroller.scrollWidth > scroller.clientWidth) { inScroller = true; break; }
      scroller = scroller.parentElement;
    }
    if (r.left < -1 || r.right > width + 1 || inScroller) {
      bad.push((el.textContent || el.name || el.id || el.tagName).trim().slice(0, 40));
    }
  }
  return bad;
}
"""


# registration numbers ("2026-000083") drawn on more than one line: "2026-/000083"
REGISTRATION_NUMBERS_WRAPPED = """
() => {
  const bad = [];
  const root = document.querySelector('main') || document.body;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    for (const m of node.textContent.matchAll(/\\d{4}-\\d{6}/g)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0)
        .map((r) => Math.round(r.top)));
      if (lines.size > 1) bad.push(m[0]);
    }
  }
  return bad;
}
"""


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.links.append(href)


def _kind(path: str) -> str:
    parts = urlsplit(path)
    segments = ["{id}" if ID_SEGMENT.search(s) else s for s in parts.path.split("/")]
    query = ",".join(sorted(p.split("=", 1)[0] for p in parts.query.split("&") if p))
    return "/".join(segments) + ("?" + query if query else "")


def pages_of(app: Any, username: str, lang: str) -> list[str]:
    """One path per kind of page ``username`` reaches from their home, depth ≤ MAX_DEPTH."""
    client = app.test_client()
    headers = {"Accept-Language": lang}
    resp = client.post(
        "/login", data={"username": username, "password": demo.DEMO_PASSWORD}, headers=headers
    )
    assert resp.status_code == 302, username
    start = urlsplit(resp.headers["Location"]).path or "/"
    found: dict[str, str] = {}
    queue: deque[tuple[str, int]] = deque([(start, 0)])
    while queue:
        path, depth = queue.popleft()
        kind = _kind(path)
        if kind in found:
            continue
        response = client.get(path, headers=headers)
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        found[kind] = path
        if depth >= MAX_DEPTH:
            continue
        parser = _Links()
        parser.feed(response.get_data(as_text=True))
        for href in parser.links:
            absolute = urlsplit(urljoin(f"http://localhost{path}", href))
            if absolute.netloc != "localhost" or "lang=" in absolute.query:
                continue
            target = absolute.path + ("?" + absolute.query if absolute.query else "")
            if target.startswith(SKIP) or any(mark in absolute.path for mark in DOWNLOADS):
                continue
            if _kind(target) not in found:
                queue.append((target, depth + 1))
    return sorted(found.values())


def interface_words() -> set[str]:
    """Words of the English and French interface (from the catalogs), 4 letters or more."""
    from babel.messages.pofile import read_po

    from core.config import PROJECT_ROOT

    words: set[str] = set()
    for po in PROJECT_ROOT.glob("**/translations/fr/LC_MESSAGES/*.po"):
        if ".venv" in po.parts:
            continue
        with po.open("rb") as fh:
            for message in read_po(fh):
                if not message.id:
                    continue
                texts = list(message.id if isinstance(message.id, tuple) else (message.id,))
                texts += list(
                    message.string if isinstance(message.string, tuple) else (message.string,)
                )
                for text in texts:
                    cleaned = re.sub(r"%\([a-z_]+\)[sd]|\{[^}]*\}", " ", text or "")
                    words.update(w.lower() for w in re.findall(r"[A-Za-zÀ-ÿ]{4,}", cleaned))
    return words


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory, idmaj_plugins: Any) -> Iterator[Any]:
    from core.db import session

    tmp = tmp_path_factory.mktemp("crawl")
    database = TestDatabase(tmp)
    app = build_migrated_app(
        database.url, tmp, plugins=idmaj_plugins, SERVER_NAME=None, TESTING=False
    )
    with app.app_context():
        demo.seed(detainees=60, population=False)
        session().commit()
    with LiveServer(app) as server:
        yield app, server
    app.extensions["idmaj.db"].dispose()
    database.drop()


@pytest.mark.parametrize("username", LOGINS)
def test_every_page_reads_right_and_fits(browser: Any, demo_server: Any, username: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    app, server = demo_server
    axe = Axe()
    words = interface_words()
    names = _people_names(app)
    problems: list[str] = []
    for lang, width, height in SETTINGS:
        context = browser.new_context(
            locale={"ar": "ar-MA", "fr": "fr-FR"}[lang],
            viewport={"width": width, "height": height},
            is_mobile=width < 600,
            has_touch=width < 600,
            extra_http_headers={"Accept-Language": lang},
        )
        page = context.new_page()
        page.set_default_timeout(15000)
        page.goto(f"{server.url}/login")
        page.fill("#username", username)
        page.fill("#password", demo.DEMO_PASSWORD)
        page.locator("main form button[type=submit]").first.click()
        page.wait_for_load_state()
        for path in pages_of(app, username, lang):
            page.goto(f"{server.url}{path}")
            where = f"{lang}@{width} {path}"
            result = axe.run(page, options={"runOnly": ["wcag2a", "wcag2aa", "best-practice"]})
            for violation in result.response["violations"]:
                if violation["impact"] in SEVERE:
                    targets = [n["target"] for n in violation["nodes"][:3]]
                    problems.append(f"{where}: axe {violation['id']} {targets}")
            wide = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            if wide > 1:
                problems.append(f"{where}: page {wide}px wider than the screen")
            wrapped = page.evaluate(REGISTRATION_NUMBERS_WRAPPED)
            if wrapped:
                problems.append(f"{where}: registration numbers wrapped {wrapped[:3]}")
            hidden = page.evaluate(ACTIONS_OUT_OF_VIEW, width)
            if hidden:
                problems.append(f"{where}: actions out of view {hidden[:5]}")
            if lang == "ar":
                foreign = set()
                for text in page.evaluate(TEXT_OF_PAGE):
                    for word in re.findall(r"[A-Za-zÀ-ÿ0-9]{4,}", text):
                        # acronyms (JSON, CSV) and technical names with digits (argon2id)
                        if word.isupper() or any(ch.isdigit() for ch in word):
                            continue
                        low = word.lower()
                        if low in words and low not in names:
                            foreign.add(word)
                if foreign:
                    problems.append(f"{where}: not in Arabic {sorted(foreign)[:8]}")
        context.close()
    assert not problems, "\n".join(problems)


def _people_names(app: Any) -> set[str]:
    """Words of people's and places' names in the demo (they stay as recorded)."""
    from sqlalchemy import select

    from core.db import session
    from core.detainees.models import Detainee
    from core.establishments.models import Establishment
    from core.identity.models import User

    found: set[str] = set()
    with app.app_context():
        for (name,) in session().execute(select(User.full_name)):
            found.update(w.lower() for w in re.findall(r"[A-Za-zÀ-ÿ]{4,}", name))
        for first, last in session().execute(select(Detainee.first_name, Detainee.last_name)):
            found.update(w.lower() for w in re.findall(r"[A-Za-zÀ-ÿ]{4,}", f"{first} {last}"))
        for (name,) in session().execute(select(Establishment.name_fr)):
            found.update(w.lower() for w in re.findall(r"[A-Za-zÀ-ÿ]{4,}", name))
    return found

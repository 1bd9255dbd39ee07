"""Translations compiled into templates (core.templating): the same text as the templates'
``gettext`` gives at render time, one compiled copy per language, and nothing replaced where
the runtime function must run."""

from __future__ import annotations

from typing import Any

import pytest
from jinja2 import DictLoader

from core import templating
from core.i18n import request_translations

TEMPLATES = {
    "plain.html": '<h2>{{ _("Identity") }}</h2>'
    '<p title="{{ _("Sex") }}">{{ pgettext("sex", "Male") }}</p>',
    "vars.html": '{{ _("Detainee admitted with registration number %(rn)s.", rn="<x>") }}',
    "shadow.html": "{% set _ = upper %}{{ _('Identity') }}",
    "macro.html": "{% macro m(_) %}{{ _('Identity') }}{% endmacro %}{{ m(upper) }}",
    "child.html": '{% extends "parent.html" %}{% block b %}{{ _("Sex") }}{% endblock %}',
    "parent.html": '<title>{{ _("Identity") }}</title>{% block b %}{% endblock %}',
    "text.txt": "{{ _('Identity') }}",
    "set.html": "{% set t = _('<b>') %}{{ t }}|{{ t|e }}",
    "globals.html": "{{ late }}|{{ where }}",
    "safe.html": "{{ _('<b>') }}|{% autoescape false %}{{ _('<b>') }}{% endautoescape %}",
}


@pytest.fixture
def env(app: Any) -> Any:
    environment = templating.Environment(
        app,
        loader=DictLoader(TEMPLATES),
        autoescape=lambda name: (name or ".html").endswith(".html"),
    )
    environment.globals.update(app.jinja_env.globals)
    environment.globals["upper"] = str.upper
    environment.globals["where"] = "env"
    return environment


def _render(app: Any, env: Any, name: str, lang: str, **values: Any) -> str:
    with app.test_request_context(f"/?lang={lang}"):
        return env.get_template(name).render(**values)


def _translated(app: Any, lang: str, text: str, context: str | None = None) -> str:
    with app.test_request_context(f"/?lang={lang}"):
        catalog = request_translations()
        if context is not None:
            return str(catalog.upgettext(context, text))
        return str(catalog.ugettext(text))


def test_the_app_uses_it(app: Any) -> None:
    assert isinstance(app.jinja_env, templating.Environment)
    assert type(app.jinja_env.cache) is dict  # no LRU: every template in every language


@pytest.mark.parametrize("lang", ["ar", "fr", "en"])
def test_the_same_text_as_at_render_time(app: Any, env: Any, lang: str) -> None:
    identity = _translated(app, lang, "Identity")
    sex = _translated(app, lang, "Sex")
    male = _translated(app, lang, "Male", context="sex")
    html = _render(app, env, "plain.html", lang)
    assert html == f'<h2>{identity}</h2><p title="{sex}">{male}</p>'
    if lang == "ar":
        assert identity != "Identity"  # a real translation, not the text itself


def test_folded_calls_no_longer_call_gettext(app: Any, env: Any) -> None:
    """Compiled in: the translating functions are not called when the page is rendered."""
    with app.test_request_context("/?lang=fr"):
        template = env.get_template("plain.html")
    calls: list[str] = []
    env.globals["_"] = env.globals["pgettext"] = lambda *a, **k: calls.append("called")
    with app.test_request_context("/?lang=fr"):
        html = template.render()
    assert calls == []
    assert _translated(app, "fr", "Identity") in html


def test_one_copy_per_language_compiled_once(app: Any, env: Any) -> None:
    with app.test_request_context("/?lang=ar"):
        ar_first = env.get_template("plain.html")
    with app.test_request_context("/?lang=fr"):
        fr = env.get_template("plain.html")
    with app.test_request_context("/?lang=ar"):
        ar_again = env.get_template("plain.html")
    assert ar_first is ar_again
    assert fr is not ar_first
    assert _render(app, env, "plain.html", "ar") != _render(app, env, "plain.html", "fr")


def test_inherited_blocks_in_the_language_of_the_request(app: Any, env: Any) -> None:
    for lang in ("fr", "ar"):
        html = _render(app, env, "child.html", lang)
        identity, sex = _translated(app, lang, "Identity"), _translated(app, lang, "Sex")
        assert html == f"<title>{identity}</title>{sex}"


def test_variables_are_formatted_and_escaped_at_render_time(app: Any, env: Any) -> None:
    html = _render(app, env, "vars.html", "en")
    assert html == "Detainee admitted with registration number &lt;x&gt;."


@pytest.mark.parametrize("name", ["shadow.html", "macro.html"])
def test_a_template_variable_named_underscore_is_not_replaced(
    app: Any, env: Any, name: str
) -> None:
    assert _render(app, env, name, "fr") == "IDENTITY"


def test_marked_safe_only_when_autoescaping(app: Any, env: Any) -> None:
    """As the runtime function: a translation is trusted markup in an HTML template, text in
    a text template; what Jinja does next with it is unchanged."""
    assert _render(app, env, "safe.html", "en") == "<b>|<b>"
    assert _render(app, env, "text.txt", "ar") == _translated(app, "ar", "Identity")
    assert _render(app, env, "set.html", "en") == "<b>|<b>"


def test_from_string_is_compiled_as_written(app: Any, env: Any) -> None:
    with app.test_request_context("/?lang=fr"):
        template = env.from_string("{{ _('Identity') }}")
    env.globals["_"] = lambda text: "runtime"
    with app.test_request_context("/?lang=fr"):
        assert template.render() == "runtime"


def test_outside_a_request_nothing_is_replaced(app: Any, env: Any) -> None:
    with app.app_context():
        assert templating.folding_catalog() is None
        template = env.get_template("text.txt")
    env.globals["_"] = lambda text: "runtime"
    with app.app_context():
        assert template.render() == "runtime"


def test_a_text_with_a_percent_sign_is_left_to_the_runtime_function(app: Any) -> None:
    class Catalog:
        def ugettext(self, text: str) -> str:
            return {"Share": "50 %% share", "Plain": "plain"}.get(text, text)

    tree = templating.Environment(app).parse("{{ _('Share') }}{{ _('Plain') }}{{ _('5 %%') }}")
    assert templating.fold_translations(tree, Catalog()) == 1


def test_globals_are_read_when_rendering(app: Any, env: Any) -> None:
    """A global added after the template was loaded is seen; a template's own globals win
    over the environment's, as with Jinja's ``ChainMap``."""
    env.globals["late"] = "before"
    with app.test_request_context("/?lang=en"):
        template = env.get_template("globals.html")
        assert template.render() == "before|env"
        env.globals["late"] = "after"
        assert template.render() == "after|env"
        own = env.get_template("globals.html", globals={"where": "own"})
        assert own.render() == "after|own"
        assert own.render(where="value") == "after|value"
        assert isinstance(template, templating.Template)


def test_a_kept_fragment_is_rendered_once_per_key_and_language(
    app: Any, env: Any, monkeypatch: Any
) -> None:
    """``kept_fragment`` renders a template once per key and language, then hands back the
    kept text; another key or another language renders again."""
    renders: list[str] = []
    original = env.get_template

    def counting(name: Any, *args: Any, **kwargs: Any) -> Any:
        renders.append(name)
        return original(name, *args, **kwargs)

    monkeypatch.setattr(app, "jinja_env", env)
    monkeypatch.setattr(env, "get_template", counting)
    app.extensions.pop(templating.FRAGMENTS, None)

    def fragment(lang: str, key: Any, value: str) -> str:
        with app.test_request_context(f"/?lang={lang}"):
            return str(templating.kept_fragment("vars.html", key, rn=value))

    first = fragment("fr", 1, "<x>")
    assert fragment("fr", 1, "ignored: the key is the same") == first
    assert len(renders) == 1
    arabic = fragment("ar", 1, "<x>")
    assert arabic != first and len(renders) == 2
    assert fragment("fr", 2, "<x>") == first and len(renders) == 3
    assert first == _render(app, env, "vars.html", "fr")  # what a render gives
    assert arabic == _render(app, env, "vars.html", "ar")


def test_kept_fragments_drop_the_least_recently_used() -> None:
    from markupsafe import Markup

    kept = templating.KeptFragments(2)
    kept.put("a", Markup("A"))
    kept.put("b", Markup("B"))
    assert kept.get("a") == "A"  # a is now the most recently used
    kept.put("c", Markup("C"))
    assert kept.get("b") is None and kept.get("a") == "A" and kept.get("c") == "C"
    assert len(kept) == 2
    kept.clear()
    assert len(kept) == 0 and kept.get("a") is None

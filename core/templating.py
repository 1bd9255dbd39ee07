"""The templates' environment: Flask's, with constant translations put in when a template is
compiled.

A page says ``{{ _("Identity") }}`` some forty times. Each one, at every render, is a call
through Jinja's ``Context.call`` to the templates' ``gettext`` (:mod:`core.i18n`), a look-up of
the request's catalog, a ``Markup`` and an escape, for a text that depends only on the
language. This environment keeps one compiled copy of a template per catalog (the language,
and the translation domain, the request uses when the template is loaded) and, in that copy,
replaces a call of ``_``/``gettext`` on one literal text (``pgettext`` on a literal context and
text) with the translation itself, marked safe when autoescaping as the templates' ``gettext``
marks it. Jinja then writes it out as a constant.

What is not replaced: a call with variables (``_("%(n)s days", n=n)``), with any argument that
is not a literal, of ``ngettext``/``npgettext`` (the form depends on the number), a text with a
``%`` in it (the runtime function formats it), and a call where ``_`` is a variable of the
template itself (a ``{% set _ = … %}``, a macro argument, a loop target, an import). A value
named ``_``, ``gettext`` or ``pgettext`` passed to ``render_template`` would not be seen by a
replaced call: none is passed, and docs/plugins.md says not to. A template compiled by
``from_string`` (no name, not cached) is never changed. Outside an application context with a
chosen locale nothing is replaced either: the template is compiled as written.

The copy for a catalog is kept in Jinja's cache beside the others (a dictionary without a
limit: every template in every language); the catalog objects are Flask-Babel's own, one per
language and domain for the life of the process, so a language's copy is compiled once.
"""

from __future__ import annotations

import threading
import weakref
from collections import ChainMap, OrderedDict
from collections.abc import Hashable
from contextvars import ContextVar
from typing import Any

from flask.globals import _cv_app, _cv_request
from flask.templating import Environment as FlaskEnvironment
from jinja2 import Template as JinjaTemplate
from jinja2 import nodes
from jinja2.runtime import Context
from jinja2.runtime import new_context as jinja_new_context
from jinja2.utils import internalcode
from markupsafe import Markup

from core.i18n import _babel_state, current_language, request_translations

# Jinja's cache without a limit (a plain dictionary): what it holds is bounded by the
# templates there are, each in each language. Its default, an LRU of 400, would drop the
# oldest of three languages' copies, and its look-up moves the key in a queue, a scan of the
# queue on every ``get_template`` (a page asks five or six).
CACHE_SIZE = -1
_FOLDED_NAMES = {"_": "ugettext", "gettext": "ugettext", "pgettext": "upgettext"}
_catalog: ContextVar[Any] = ContextVar("idmaj_template_catalog", default=None)


def folding_catalog() -> Any:
    """The catalog the templates' ``_`` would read now, or ``None`` when there is none to
    read (no application context, or no locale chosen yet outside a request)."""
    ctx = _cv_app.get(None)
    if ctx is None:
        return None
    state = _babel_state()
    has_locale = state is not None and state.__dict__.get("babel_locale") is not None
    if not has_locale and _cv_request.get(None) is None:
        return None
    return request_translations()


def _literal_texts(call: nodes.Call, count: int) -> list[str] | None:
    """The ``count`` literal texts ``call`` is made with, or ``None`` if it has anything else
    (keywords, ``*args``, ``**kwargs``, a non-text argument)."""
    if call.kwargs or call.dyn_args or call.dyn_kwargs or len(call.args) != count:
        return None
    texts = [arg.value for arg in call.args if isinstance(arg, nodes.Const)]
    if len(texts) != count or not all(isinstance(t, str) for t in texts):
        return None
    return texts


def _assigned_names(tree: nodes.Template) -> set[str]:
    """Every name the template itself binds (``set``, ``for``, ``with``, macro and call-block
    arguments, imports): a ``_`` among them is not the translating function."""
    bound: set[str] = set()
    for node in tree.find_all(nodes.Name):
        if node.ctx in ("store", "param"):
            bound.add(node.name)
    for imp in tree.find_all(nodes.FromImport):
        for item in imp.names:
            bound.add(item[1] if isinstance(item, tuple) else item)
    for imp in tree.find_all(nodes.Import):
        bound.add(imp.target)
    return bound


def fold_translations(tree: nodes.Template, catalog: Any) -> int:
    """Replace, in ``tree``, each translating call on literal text by its translation from
    ``catalog``; returns how many were replaced."""
    shadowed = _assigned_names(tree) & set(_FOLDED_NAMES)
    replaced = 0

    def visit(node: nodes.Node) -> None:
        nonlocal replaced
        for field, value in node.iter_fields():
            if isinstance(value, list):
                for index, item in enumerate(value):
                    if isinstance(item, nodes.Node):
                        new = _folded(item)
                        if new is not None:
                            value[index] = new
                            replaced += 1
                        else:
                            visit(item)
            elif isinstance(value, nodes.Node):
                new = _folded(value)
                if new is not None:
                    setattr(node, field, new)
                    replaced += 1
                else:
                    visit(value)

    def _folded(node: nodes.Node) -> nodes.Expr | None:
        if not isinstance(node, nodes.Call) or not isinstance(node.node, nodes.Name):
            return None
        name = node.node.name
        method = _FOLDED_NAMES.get(name)
        if method is None or name in shadowed:
            return None
        texts = _literal_texts(node, 2 if method == "upgettext" else 1)
        if texts is None:
            return None
        translated = getattr(catalog, method)(*texts)
        if "%" in translated or "%" in texts[-1]:  # formatted by the runtime function
            return None
        const = nodes.Const(str(translated), lineno=node.lineno)
        return nodes.MarkSafeIfAutoescape(const, lineno=node.lineno)

    visit(tree)
    return replaced


class Template(JinjaTemplate):
    """Jinja's template, its globals handed to a new context as one dictionary.

    A template's globals are a ``ChainMap`` of its own and the environment's (so that a global
    added later is seen); Jinja copies them into every context it makes (a page, each panel,
    each imported macro file) with ``dict(globals, **vars)``, which reads a ``ChainMap`` key by
    key in Python — thirty-odd calls per context. The same two dictionaries merged by
    ``{**…}`` give the same mapping, read as it is now, at C speed."""

    def new_context(
        self,
        vars: dict[str, Any] | None = None,
        shared: bool = False,
        locals: Any = None,
    ) -> Context:
        found = self.globals
        if type(found) is ChainMap and len(found.maps) == 2:
            own, environment = found.maps
            found = {**environment, **own} if own else environment
        return jinja_new_context(
            self.environment, self.name, self.blocks, vars, shared, found, locals
        )


class Environment(FlaskEnvironment):
    """Flask's template environment, one compiled copy of a template per translation catalog
    (see the module's text)."""

    template_class = Template

    def __init__(self, app: Any, **options: Any) -> None:
        options.setdefault("cache_size", CACHE_SIZE)
        super().__init__(app, **options)

    @internalcode
    def _load_template(self, name: str, globals: Any) -> Any:
        if self.loader is None:
            raise TypeError("no loader for this environment specified")
        catalog = folding_catalog() if self.bytecode_cache is None else None
        cache_key = (weakref.ref(self.loader), name, catalog)
        if self.cache is not None:
            template = self.cache.get(cache_key)
            if template is not None and (not self.auto_reload or template.is_up_to_date):
                if globals:
                    template.globals.update(globals)
                return template
        token = _catalog.set(catalog)
        try:
            template = self.loader.load(self, name, self.make_globals(globals))
        finally:
            _catalog.reset(token)
        if self.cache is not None:
            self.cache[cache_key] = template
        return template

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        catalog = _catalog.get()
        if catalog is not None and name is not None:
            fold_translations(tree, catalog)
        return tree


#: rendered fragments kept per app (:func:`kept_fragment`), at most this many (the least
#: recently used dropped first): about 300 bytes each
FRAGMENTS_KEPT = 16_384
FRAGMENTS = "idmaj.fragments"


class KeptFragments:
    """Rendered fragments by key, at most ``size``, the least recently used dropped first;
    safe for a threaded server (one lock around each look-up)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: OrderedDict[Hashable, Markup] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Markup | None:
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
            return found

    def put(self, key: Hashable, fragment: Markup) -> None:
        with self._lock:
            self._kept[key] = fragment
            self._kept.move_to_end(key)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)

    def __len__(self) -> int:
        return len(self._kept)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()


def kept_fragment(name: str, key: Hashable, **context: Any) -> Markup:
    """The template ``name`` rendered with ``context``, kept per app, language and ``key``.

    For a small piece of a page drawn again and again with the same values — a visiting time
    in the families' list (150 of them on one page), the navigation bar: rendering it once
    and joining the kept text costs a dictionary look-up instead of a template's loop body.
    ``key`` must hold every value the fragment shows (whatever is not in it is shown as the
    first rendering had it); the language is added to it. The fragment is rendered with the
    environment's globals and filters only (no context processor, no ``request``)."""
    app = _cv_app.get().app
    kept: KeptFragments | None = app.extensions.get(FRAGMENTS)
    if kept is None:
        kept = app.extensions.setdefault(FRAGMENTS, KeptFragments(FRAGMENTS_KEPT))
    full_key = (name, current_language(), key)
    fragment = kept.get(full_key)
    if fragment is None:
        fragment = Markup(app.jinja_env.get_template(name).render(**context))
        kept.put(full_key, fragment)
    return fragment

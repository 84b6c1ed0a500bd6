"""Template helpers every feature uses: the CSRF input of a form, plain text with its web addresses as links, the
layout's main menu kept once rendered; and the template environment that compiles each template once per language,
its fixed texts translated."""

from __future__ import annotations

import re
import time
import weakref
from collections.abc import Callable, MutableMapping
from contextvars import ContextVar
from typing import Any, NamedTuple

from flask import Flask, current_app, g, has_request_context, request, session
from flask.templating import Environment
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from jinja2 import Template, nodes
from jinja2.visitor import NodeTransformer
from markupsafe import Markup, escape

from app.core.i18n import current_language
from app.core.static import file_version

URL_RE = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")


def linkify(text: str | None) -> Markup:
    """``text`` escaped, with each http(s) address as a link (a reply's article link, a pasted address). Only the
    address itself becomes a link; nothing the writer typed can add markup or attributes."""
    if not text:
        return Markup("")
    parts, last = [], 0
    for match in URL_RE.finditer(text):
        parts.append(escape(text[last:match.start()]))
        url = escape(match.group(0))
        parts.append(Markup('<a href="{0}" rel="noopener noreferrer">{0}</a>').format(url))
        last = match.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


SIGNED_TOKEN_REUSE_SECONDS = 60.0
SIGNED_TOKENS_KEPT = 20_000
_signed: dict[tuple[str, str], tuple[float, str]] = {}


def csrf_token() -> str:
    """The request's signed CSRF token, as Flask-WTF's ``generate_csrf`` makes it, but reused for up to a minute
    for the same session: signing cost 48 µs of every logged-in page (the layout's log-out form carries one).
    A token is valid for ``WTF_CSRF_TIME_LIMIT`` from its signing, so a page may carry one a minute older than a
    freshly signed one; a new log-in gets a new session secret and so a new token."""
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    token = g.get(field)
    if token is not None:
        return token
    key = (current_app.config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key, session.get(field))
    now = time.monotonic()
    found = _signed.get(key) if isinstance(key[1], str) else None
    if found is not None and now - found[0] < SIGNED_TOKEN_REUSE_SECONDS:
        setattr(g, field, found[1])  # where generate_csrf, and so every form of the request, looks first
        return found[1]
    token = generate_csrf()
    if len(_signed) >= SIGNED_TOKENS_KEPT:
        _signed.clear()
    _signed[key[0], session[field]] = (now, token)
    return token


CSRF_INPUT = '<input name="{}" type="hidden" value="{}">'


def _csrf_input(name: str, token: str) -> Markup:
    """Both values escaped, then put in place by ``str.format`` (``Markup.format`` runs Python's string formatter,
    four times the work)."""
    return Markup(CSRF_INPUT.format(escape(name), escape(token)))  # noqa: S704


def csrf_field(form: FlaskForm | None = None) -> Markup:
    """The form's hidden CSRF input without an ``id``: a page with several forms would repeat it. Empty when CSRF
    is off (tests). Written out: WTForms' widget took 33 µs per form, a page has one to four. Without a form: the
    request's token, as a ``ConfirmForm`` carries it, for a button's form (no form object built to render it;
    the view that takes the post checks it with ``ConfirmForm``)."""
    if form is None:
        if not current_app.config.get("WTF_CSRF_ENABLED", True):
            return Markup("")
        return _csrf_input(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), csrf_token())
    field = getattr(form, "csrf_token", None)
    return _csrf_input(field.name, field.current_token) if field is not None else Markup("")


_compiling_for: ContextVar[str | None] = ContextVar("compiling_for", default=None)


class _TranslateFixedTexts(NodeTransformer):
    """``_("text")`` and ``_("text %(n)s", n=value)`` (also ``gettext`` and ``{% trans %}``) with the text
    translated at compile time; the result is what the i18n extension's newstyle gettext returns at run time
    (marked safe when autoescaping, then ``% variables``), so the output is the same, minus the call."""

    def __init__(self, translate: Callable[[str], str]) -> None:
        self.translate = translate

    def visit_Call(self, node: nodes.Call) -> nodes.Node:  # noqa: N802 (Jinja's visitor naming)
        node = self.generic_visit(node)
        if not (isinstance(node.node, nodes.Name) and node.node.name in ("_", "gettext") and len(node.args) == 1
                and isinstance(node.args[0], nodes.Const) and isinstance(node.args[0].value, str)
                and node.dyn_args is None and node.dyn_kwargs is None):
            return node
        text = nodes.MarkSafeIfAutoescape(nodes.Const(self.translate(node.args[0].value)), lineno=node.lineno)
        variables = nodes.Dict([nodes.Pair(nodes.Const(keyword.key), keyword.value, lineno=node.lineno)
                                for keyword in node.kwargs], lineno=node.lineno)
        return nodes.Mod(text, variables, lineno=node.lineno)


class LocalizedEnvironment(Environment):
    """Flask's template environment, keeping each template compiled once per language with its fixed texts
    already translated. A page translates fifty to a hundred fixed texts, each call through Jinja's i18n
    extension, the context and the catalogue; as constants they are joined to the page's static parts when it
    compiles. Texts with a variable message id, plurals and templates made from strings translate at run time
    as before. ``translate_with`` (by ``i18n.init_app``) says how to find the language and translate."""

    language: Callable[[], str | None] = staticmethod(lambda: None)
    translate: Callable[[str], str] | None = None

    def translate_with(self, language: Callable[[], str | None], translate: Callable[[str], str]) -> None:
        self.language, self.translate = language, translate

    def _load_template(self, name: str, globals: MutableMapping[str, Any] | None) -> Template:
        if self.loader is None:
            raise TypeError("no loader for this environment specified")
        language = self.language()
        cache_key = (weakref.ref(self.loader), name, language)
        template = self.cache.get(cache_key) if self.cache is not None else None
        if template is not None and (not self.auto_reload or template.is_up_to_date):
            if globals:
                template.globals.update(globals)
            return template
        token = _compiling_for.set(language)
        try:
            template = self.loader.load(self, name, self.make_globals(globals))
        finally:
            _compiling_for.reset(token)
        if self.cache is not None:
            self.cache[cache_key] = template
        return template

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        if _compiling_for.get() is None or self.translate is None:
            return tree
        return _TranslateFixedTexts(self.translate).visit(tree)


URLS_KEPT = 20_000
LONGEST_VALUE_KEPT = 100  # a longer value (a page's own address in ``next=``, a question) is hardly ever reused


def remembered_urls(app: Flask) -> Callable[..., str]:
    """``url_for`` for templates, remembering each address it built per mounting point: a page links the same
    endpoints with the same values on every request (the menu alone has fifteen links), and Werkzeug's builder
    costs about 4 µs a link, 15 µs for a static file's. A static file's link is kept per content hash (looked
    at every 2 s, ``static.file_version``), so a changed file gets its new link. Not remembered: relative
    endpoints (``.name``), external or anchored addresses, values that are not plain text or numbers or are long
    (anyone can send a long query string, and the language links carry it: the memo stays small), and addresses
    built outside a request (mails)."""
    build, folder = app.url_for, app.static_folder
    kept: dict[tuple, str] = {}

    def url_for(endpoint: str, **values: Any) -> str:
        if endpoint[0] == "." or not has_request_context() or any(
                key[0] == "_" or not isinstance(value, str | int | None) or (isinstance(value, str) and len(
                    value) > LONGEST_VALUE_KEPT) for key, value in values.items()):
            return build(endpoint, **values)
        if endpoint == "static":
            if not folder or set(values) != {"filename"}:
                return build(endpoint, **values)
            key = (request.script_root, endpoint, values["filename"], file_version(folder, values["filename"]))
        else:
            key = (request.script_root, endpoint, *sorted(values.items()))
        found = kept.get(key)
        if found is None:
            if len(kept) >= URLS_KEPT:
                kept.clear()
            found = kept[key] = build(endpoint, **values)
        return found

    return url_for


MENUS_KEPT = 2_000
MENU_TEMPLATE = "_main_menu.html"
UNREAD_SLOT = Markup("\x00unread\x00")  # where the notifications link goes: its count is not kept


class MainMenu(NamedTuple):
    head: Markup
    tail: Markup | None  # after the notifications link; None when the menu has none


def kept_menus(app: Flask) -> Callable[[], MainMenu]:
    """``main_menu()`` for the layout: the logged-in user's main menu, rendered once per language, mounting point,
    page (its endpoint marks the current link) and set of roles (``User.role_signature``, read from the grants
    loaded with the user on every request, so a role gained or lost shows at once), then kept. The menu made
    a tenth of a page's work: some fifteen role checks, links and translated labels, the same on every request."""
    kept: dict[tuple, MainMenu] = {}

    def main_menu() -> MainMenu:
        user = current_user._get_current_object()
        endpoint = request.endpoint or ""
        key = (current_language(), request.script_root, endpoint, user.role_signature)
        found = kept.get(key)
        if found is None:
            html = app.jinja_env.get_template(MENU_TEMPLATE).render(user=user, endpoint=endpoint,
                                                                   unread_slot=UNREAD_SLOT)
            head, slot, tail = html.partition(UNREAD_SLOT)  # the autoescaping template's own output: markup
            found = MainMenu(Markup(head), Markup(tail) if slot else None)  # noqa: S704
            if len(kept) >= MENUS_KEPT:
                kept.clear()
            kept[key] = found
        return found

    return main_menu


def init_app(app: Flask) -> None:
    app.jinja_env.globals["url_for"] = remembered_urls(app)
    app.jinja_env.globals["main_menu"] = kept_menus(app)
    app.jinja_env.globals["csrf_field"] = csrf_field
    app.jinja_env.filters["linkify"] = linkify

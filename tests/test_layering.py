"""The map of the house (../shared/design.md), checked by parsing imports.

- core is the floor: it imports no feature package;
- models never import services, forms, views, queries or cli; services never import views or forms, nor
  Flask's ``request``;
- features use each other's services but never another feature's views;
- side systems have one adapter each (ldap, whoosh, weasyprint, smtplib);
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
}
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
        own = feature_of(".".join(path.relative_to(ROOT).with_suffix("").parts))
        for m in mods:
            other = feature_of(m)
            if other and own and other != own and role_of(m) == "views":
                problems.append(f"{rel} imports another feature's views: {m}")
        if rel.startswith("intranet_widgets/"):
            problems += [f"{rel} imports app internals: {m}" for m in mods if m == "app" or m.startswith("app.")]
    return problems


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
])
def test_the_checker_catches_wrong_arrows(tmp_path, monkeypatch, rel, source, expected):
    fake_root = tmp_path / "root"
    target = fake_root / rel
    target.parent.mkdir(parents=True)
    target.write_text(source + "\n")
    (fake_root / "intranet_widgets").mkdir(exist_ok=True)
    monkeypatch.setattr(sys.modules[__name__], "ROOT", fake_root)
    assert any(expected in problem for problem in violations())

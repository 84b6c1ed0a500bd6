"""The layout's main menu, rendered once per language, page and set of roles and then kept: what it shows must
follow the reader's roles, page and language at once, and the notifications count is never kept."""

from __future__ import annotations

import re

import pytest
from flask.templating import Environment

from app.auth import services as auth_services
from app.auth.models import User
from app.core.db import db
from app.core.permissions import Role
from app.core.templating import MENU_TEMPLATE


def menu_of(page: str) -> str:
    return re.search(r'<nav class="main-nav".*?</nav>', page, re.S).group(0)


@pytest.fixture
def menu_renders(monkeypatch) -> list[str]:
    """The names of the menu templates loaded, as each render of the menu loads it."""
    loaded: list[str] = []
    original = Environment.get_template

    def counting(self, name, *args, **kwargs):
        if name == MENU_TEMPLATE:
            loaded.append(name)
        return original(self, name, *args, **kwargs)

    monkeypatch.setattr(Environment, "get_template", counting)
    return loaded


def test_the_menu_is_rendered_once_per_page_and_roles_then_kept(client, create_user, auth, menu_renders):
    create_user("karin")
    auth.login("karin")
    first = client.get("/").get_data(as_text=True)
    assert client.get("/").get_data(as_text=True) == first
    assert client.get("/tickets").status_code == 200
    client.get("/tickets")
    assert len(menu_renders) == 2  # the start page's, then "Mina ärenden"'s, each once
    start, mine = menu_of(first), menu_of(client.get("/tickets").get_data(as_text=True))
    assert start.count("aria-current") == 1 and re.search(r'href="/"\s+aria-current="page"', start)
    assert mine.count("aria-current") == 1 and re.search(r'href="/tickets"\s+aria-current="page"', mine)


def test_a_role_gained_or_lost_shows_in_the_menu_at_once(client, create_user, auth):
    user_id = create_user("karin").id
    auth.login("karin")
    assert "/workspace" not in menu_of(client.get("/").get_data(as_text=True))
    user = db.session.get(User, user_id)
    auth_services.grant_role(user, Role.SPECIALIST, "it")
    db.session.commit()
    menu = menu_of(client.get("/").get_data(as_text=True))
    assert 'href="/workspace"' in menu and 'href="/notifications"' in menu and 'href="/reports/"' in menu
    auth_services.revoke_role(db.session.get(User, user_id), Role.SPECIALIST, "it")
    db.session.commit()
    page = client.get("/")
    assert page.status_code in (200, 302)  # a lost role may end the session: either way, no workspace link
    assert "/workspace" not in page.get_data(as_text=True)


def test_the_menu_follows_the_language(client, create_user, auth):
    create_user("karin")
    auth.login("karin")
    assert "Mina ärenden" in menu_of(client.get("/").get_data(as_text=True))
    client.get("/language/en?next=/")
    menu = menu_of(client.get("/").get_data(as_text=True))
    assert "My cases" in menu and "Mina ärenden" not in menu


def test_the_notifications_count_is_read_on_every_page(client, create_user, auth, monkeypatch):
    from app.tickets import notifications

    create_user("ivar", roles=["specialist:it"])
    auth.login("ivar")
    monkeypatch.setattr(notifications, "unread_count", lambda user: 0)
    assert 'class="unread-count"' not in client.get("/").get_data(as_text=True)
    monkeypatch.setattr(notifications, "unread_count", lambda user: 3)
    menu = menu_of(client.get("/").get_data(as_text=True))
    assert 'class="unread-count">3' in menu
    assert menu.index('href="/workspace"') < menu.index('href="/notifications"') < menu.index('href="/reports/"')

"""Every main page at desk and phone width: no sideways scrolling, a two-row header on a phone, screenshots."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import log_in, snap

PAGES = {
    "erik.anstalld": ["/", "/tickets", "/tickets/new", "/account"],
    "anna.chef": ["/forms", "/forms/employment-contract/new", "/forms/employment-end/new"],
    "hanna.hr": ["/workspace/hr", "/forms"],
    "sara.service": ["/workspace/servicecenter", "/workspace/register", "/workspace/servicecenter/notices",
                     "/workspace/servicecenter/canned", "/workspace/servicecenter/stats"],
    "admin": ["/admin/routing", "/users", "/outbox"],
}


@pytest.mark.parametrize("username", list(PAGES))
def test_pages_fit_a_phone_and_a_desk(page, live_server, screenshots, username):
    log_in(page, live_server, username, "demo")
    for path in PAGES[username]:
        page.get(live_server + path)
        name = f"layout-{username}-{path.strip('/').replace('/', '-') or 'start'}"
        measured = snap(page, screenshots, name)
        assert measured[390]["overflow"] <= 0 and measured[1366]["overflow"] <= 0, (path, measured)
        assert measured[390]["header"] < 120, (path, measured)  # brand, user and language; then the menu

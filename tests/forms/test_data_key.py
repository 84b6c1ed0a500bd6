"""Issue 17: identity numbers at rest are encrypted with LOTSEN_DATA_KEY, found by their keyed hash, and the key
can be rotated."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from app.config import ConfigError
from app.core import crypto
from app.core.db import db
from app.forms.models import FormSubmission
from tests.forms.test_orders import EXAMPLE, flat


def _send(client, auth):
    auth.login("anna")
    assert client.post("/forms/employment-contract/new", data=flat(EXAMPLE) | {"action": "submit"}).status_code == 302
    auth.logout()
    return db.session.scalar(select(FormSubmission))


def test_a_dump_shows_no_identity_number(app, people, client, auth):
    order = _send(client, auth)
    number = order.data["employee"]["personnummer"]
    raw = " ".join(str(row) for row in db.session.execute(text("SELECT data, person_number FROM form_submission")))
    assert number not in raw and number[-4:] not in raw and "enc:" in raw


def _order_under_key(make_app, key: str) -> None:
    """Anna sends the example contract to an app whose LOTSEN_DATA_KEY is ``key``."""
    app = make_app(LOTSEN_DATA_KEY=key)
    with app.app_context():
        browser = app.test_client()
        browser.post("/login", data={"username": "anna", "password": "ett-bra-losenord"})
        assert browser.post("/forms/employment-contract/new",
                            data=flat(EXAMPLE) | {"action": "submit"}).status_code == 302


def test_the_key_is_rotated_without_losing_a_number(make_app, people):
    number = EXAMPLE["employee"]["personnummer"]
    first, second = crypto.new_key(), crypto.new_key()
    _order_under_key(make_app, first)
    app_two = make_app(LOTSEN_DATA_KEY=f"{second},{first}")
    with app_two.app_context():
        result = app_two.test_cli_runner().invoke(args=["forms", "rotate-key"])
        assert result.exit_code == 0 and "1 orders" in result.output
    app_three = make_app(LOTSEN_DATA_KEY=second)  # the old key is gone
    with app_three.app_context():
        db.session.remove()
        found = db.session.scalar(select(FormSubmission).where(FormSubmission.person_number == number))
        assert found is not None and found.data["employee"]["personnummer"] == number
        assert next(h for h in found.history if h.data).data["employee"]["personnummer"] == number


def test_a_bad_data_key_is_refused_at_start_up(make_app):
    with pytest.raises(ConfigError, match="LOTSEN_DATA_KEY"):
        make_app(LOTSEN_DATA_KEY="kort")


def test_numbers_are_found_during_a_rotation_and_a_rotation_never_loses_one(make_app, people):
    """Review: with the new key first, lookups missed until rotate-key ran; rotate-key without the old key wrote
    "[okrypterbart]" over every number."""
    number = EXAMPLE["employee"]["personnummer"]
    first, second = crypto.new_key(), crypto.new_key()
    _order_under_key(make_app, first)
    with make_app(LOTSEN_DATA_KEY=f"{second},{first}").app_context():
        assert db.session.scalar(select(FormSubmission.id).where(FormSubmission.person_number == number))
    lost = make_app(LOTSEN_DATA_KEY=second)
    with lost.app_context():
        result = lost.test_cli_runner().invoke(args=["forms", "rotate-key"])
        assert result.exit_code != 0 and "kan inte dekrypteras" in result.output
    with make_app(LOTSEN_DATA_KEY=first).app_context():
        db.session.remove()
        assert db.session.scalar(select(FormSubmission)).data["employee"]["personnummer"] == number


def test_new_key_shows_how_to_leave_the_derived_key(app, runner):
    result = runner.invoke(args=["forms", "new-key"])
    assert result.exit_code == 0 and result.output.startswith("LOTSEN_DATA_KEY=") and "," in result.output

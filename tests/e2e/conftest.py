"""A live Lotsen server in a thread and a headless Chromium driven by Selenium."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app.core.db import db
from app.demo import load_demo_data

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


@pytest.fixture
def live_server(make_app):
    """Lotsen with demo data and CSRF on, served on a free loopback port; yields its base URL."""
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        load_demo_data()
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium (installed by ``make test``); in CI its absence fails the run."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        if os.environ.get("CI") == "true":
            pytest.fail("chromium and chromium-driver are missing: scripts/system-packages.sh installs them")
        pytest.skip("chromium and chromium-driver are not installed (make test installs them)")
    os.environ.setdefault("SE_OFFLINE", "true")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--disable-quic", "--window-size=1280,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.implicitly_wait(3)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def page(browser, live_server):
    """The browser with fresh cookies, pointed at the live server."""
    browser.delete_all_cookies()
    yield browser
    browser.delete_all_cookies()


def wait_for_text(page, text: str, timeout: float = 15, within: str = "body") -> None:
    """Wait until the page (after a navigation or a script's update) shows ``text`` in ``within`` (CSS)."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    # the old page may vanish while being read: such errors only mean "not yet"
    WebDriverWait(page, timeout, ignored_exceptions=(WebDriverException,)).until(
        lambda driver: text in driver.find_element(By.CSS_SELECTOR, within).text)


def log_in(page, base_url: str, username: str, password: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    page.get(f"{base_url}/login")
    page.find_element(By.ID, "username").send_keys(username)
    page.find_element(By.ID, "password").send_keys(password + Keys.ENTER)
    wait_for_text(page, "Logga ut")


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Where the journeys save their screenshots: ``LOTSEN_TEST_OUTPUT`` (default ``test-output/``) /screenshots."""
    folder = Path(os.environ.get("LOTSEN_TEST_OUTPUT", Path(__file__).resolve().parents[2] / "test-output"))
    folder = folder / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def snap(page, folder: Path, name: str, widths=(1366, 390)) -> dict[int, dict]:
    """Full-page screenshots at desk and phone width; returns what each width measured (sideways scrolling and
    the header's height) so a journey can assert the layout."""
    measured = {}
    for width in widths:
        page.set_window_size(width, 900)
        height = page.execute_script("return document.documentElement.scrollHeight")
        page.set_window_size(width, min(max(height, 900), 6000))
        measured[width] = page.execute_script(
            "var h = document.querySelector('.site-header');"
            "return {overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,"
            " header: h ? h.getBoundingClientRect().height : 0};")
        page.save_screenshot(str(folder / f"{name}-{width}.png"))
    page.set_window_size(1280, 900)
    return measured

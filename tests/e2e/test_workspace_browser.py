"""The specialists' day in Chromium: land on the queue, bulk close, and the case page's keyboard help."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from app.demo import DEMO_PASSWORD
from tests.e2e.conftest import log_in, snap, wait_for_text


def test_land_on_the_queue_and_bulk_close(page, live_server, screenshots):
    log_in(page, live_server, "hanna.hr", DEMO_PASSWORD)
    assert page.current_url.rstrip("/").endswith("/workspace/hr")  # specialists land on their queue
    measured = snap(page, screenshots, "queue-hr")
    assert measured[390]["overflow"] <= 0
    boxes = page.find_elements(By.CSS_SELECTOR, "input[name=case]")
    page.find_element(By.ID, "select-all").click()  # every case on the page
    assert boxes and all(box.is_selected() for box in boxes)
    Select(page.find_element(By.ID, "bulk-action")).select_by_visible_text("Stäng")
    assert not page.find_element(By.ID, "bulk-assignee").is_displayed()  # only the fields the action needs
    page.find_element(By.XPATH, "//button[normalize-space()='Utför']").click()
    wait_for_text(page, "ärende ändrat." if len(boxes) == 1 else "ärenden ändrade.")
    snap(page, screenshots, "queue-after-bulk-close")

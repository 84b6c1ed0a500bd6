"""A function lead's look at the month in Chromium: the dashboard, a figure's cases, the department table."""

from __future__ import annotations

from selenium.webdriver.common.by import By

from app.demo import DEMO_PASSWORD
from tests.e2e.conftest import log_in, snap, wait_for_text


def test_a_lead_reads_the_dashboard_drills_down_and_finds_the_csv(page, live_server, screenshots):
    log_in(page, live_server, "ivar.it", DEMO_PASSWORD)
    page.find_element(By.LINK_TEXT, "Rapporter").click()
    page.find_element(By.LINK_TEXT, "IT och telefoni").click()
    wait_for_text(page, "Rapport: IT och telefoni")
    measured = snap(page, screenshots, "report-it")
    assert measured[390]["overflow"] <= 0  # wide tables scroll inside their box, not the page
    assert page.find_elements(By.CSS_SELECTOR, "svg[role=img] title")  # charts named for screen readers
    resolved = page.find_element(By.XPATH, "//th[normalize-space()='Lösta ärenden']/following-sibling::td/a")
    count = resolved.text
    resolved.click()
    wait_for_text(page, "Lösta ärenden: IT och telefoni")
    assert len(page.find_elements(By.CSS_SELECTOR, "tbody tr")) == int(count)  # the cases behind the figure
    snap(page, screenshots, "report-it-resolved")
    page.get(live_server + "/reports/departments")
    link = page.find_element(By.LINK_TEXT, "Ladda ner som CSV").get_attribute("href")
    assert "format=csv" in link and "from=" in link
    snap(page, screenshots, "report-departments")

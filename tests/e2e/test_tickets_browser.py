import re

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from app.demo import DEMO_PASSWORD
from tests.e2e.conftest import log_in, snap, wait_for_text

pytestmark = pytest.mark.browser


def test_ask_route_answer_and_read_the_answer(page, live_server, screenshots):
    log_in(page, live_server, "erik.anstalld", DEMO_PASSWORD)
    page.find_element(By.LINK_TEXT, "Ställ en fråga").click()
    wait_for_text(page, "Vad gäller det?")
    page.find_element(By.ID, "subject").send_keys("Skärmen flimrar")
    wait_for_text(page, "Kanske redan besvarat")
    page.find_element(By.ID, "description").send_keys("Skärmen på min arbetsplats flimrar hela tiden.")
    page.find_element(By.XPATH, "//button[normalize-space()='Skicka frågan']").click()
    wait_for_text(page, "Din fråga är skickad")
    number = re.search(r"LOT-\d{4}-\d{6}", page.find_element(By.TAG_NAME, "main").text).group(0)
    page.find_element(By.XPATH, "//button[normalize-space()='Logga ut']").click()

    log_in(page, live_server, "sara.service", DEMO_PASSWORD)  # "Vet inte" landed with the service centre
    page.get(f"{live_server}/workspace/servicecenter")
    page.find_element(By.LINK_TEXT, number).click()
    wait_for_text(page, "Svara och hantera ärendet")
    snap(page, screenshots, "case-triage-servicecenter")
    page.find_element(By.TAG_NAME, "body").send_keys("?")  # the shortcuts are listed on "?"
    wait_for_text(page, "Nästa ärende i kön", within="[data-shortcuts-dialog]")
    page.find_element(By.XPATH, "//button[normalize-space()='Stäng']").click()
    page.find_element(By.XPATH, "//summary[normalize-space()='Flytta till en annan stödfunktion']").click()
    Select(page.find_element(By.ID, "function")).select_by_visible_text("IT och telefoni")
    page.find_element(By.ID, "reason").send_keys("Gäller skärm")
    page.find_element(By.XPATH, "//button[normalize-space()='Spara']").click()
    wait_for_text(page, "Ärendet är flyttat till IT och telefoni.")
    page.find_element(By.XPATH, "//button[normalize-space()='Logga ut']").click()

    log_in(page, live_server, "ivar.it", DEMO_PASSWORD)
    assert page.find_element(By.CSS_SELECTOR, ".unread-count").text[:1].isdigit()  # the case arrived: notified
    page.get(f"{live_server}/notifications")
    wait_for_text(page, number)
    page.get(f"{live_server}/workspace/it/canned")
    page.find_element(By.ID, "title").send_keys("Kabelbyte")
    page.find_element(By.ID, "body").send_keys("Hej {first_name}! Vi byter skärmkabeln i dag.")
    page.find_element(By.XPATH, "//form[.//textarea[@id='body']]//button[@type='submit']").click()
    wait_for_text(page, "Kabelbyte")
    page.get(f"{live_server}/tickets/{number}")
    page.find_element(By.XPATH, "//summary[contains(., 'Färdiga svar')]").click()
    page.find_element(By.XPATH, "//button[normalize-space()='Infoga']").click()  # the ready answer, filled in
    assert "Hej Erik! Vi byter skärmkabeln i dag." in page.find_element(By.ID, "body").get_attribute("value")
    page.find_element(By.XPATH, "(//button[normalize-space()='Infoga länk'])[1]").click()  # a suggested article
    assert "/articles/" in page.find_element(By.ID, "body").get_attribute("value")
    Select(page.find_element(By.ID, "status")).select_by_visible_text("Löst")
    page.find_element(By.XPATH, "//button[normalize-space()='Spara']").click()
    wait_for_text(page, "Ditt meddelande är skickat.")
    wait_for_text(page, "Status: Löst.")
    snap(page, screenshots, "case-resolved-it")
    page.find_element(By.XPATH, "//button[normalize-space()='Logga ut']").click()

    log_in(page, live_server, "erik.anstalld", DEMO_PASSWORD)
    page.find_element(By.LINK_TEXT, "Mina ärenden").click()
    page.find_element(By.LINK_TEXT, number).click()
    wait_for_text(page, "Vi byter skärmkabeln i dag.")
    assert page.find_elements(By.CSS_SELECTOR, ".event-body a[href*='/articles/']")  # the article as a real link
    assert "Gäller skärm" not in page.find_element(By.TAG_NAME, "main").text  # the re-route reason is internal

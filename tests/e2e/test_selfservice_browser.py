import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from app.demo import DEMO_PASSWORD
from tests.e2e.conftest import log_in, wait_for_text

pytestmark = pytest.mark.browser


def test_search_as_you_type_open_the_article_and_vote(page, live_server):
    log_in(page, live_server, "erik.anstalld", DEMO_PASSWORD)
    box = page.find_element(By.ID, "q")
    for letter in "lösenrod":  # typed with a typo, a key at a time
        box.send_keys(letter)
    wait_for_text(page, "Glömt lösenordet? Återställ det själv", within="#search-results")
    assert page.find_elements(By.CSS_SELECTOR, "#search-results mark")

    box.send_keys(Keys.ARROW_DOWN)  # the keyboard reaches the first result
    first = page.switch_to.active_element
    assert first.tag_name == "a"
    first.send_keys(Keys.ENTER)
    wait_for_text(page, "Hjälpte det här?")
    assert page.find_element(By.TAG_NAME, "h1").text == "Glömt lösenordet? Återställ det själv"

    page.find_element(By.XPATH, "//label[normalize-space()='Nej']").click()
    page.find_element(By.ID, "comment").send_keys("Jag har inget BankID")
    page.find_element(By.XPATH, "//button[normalize-space()='Skicka svar']").click()
    wait_for_text(page, "Tack för ditt svar!")
    assert "Du svarade: Nej" in page.find_element(By.ID, "feedback").text


def test_search_page_works_without_typing_pauses_and_offers_a_correction(page, live_server):
    log_in(page, live_server, "erik.anstalld", DEMO_PASSWORD)
    page.get(f"{live_server}/search?q=semestervxling")
    wait_for_text(page, "Menade du")
    page.find_element(By.LINK_TEXT, "semesterväxling").click()
    wait_for_text(page, "Semesterväxling – byt semestertillägg mot fler lediga dagar")

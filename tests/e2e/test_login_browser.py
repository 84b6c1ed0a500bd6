import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from app.demo import DEMO_PASSWORD
from tests.e2e.conftest import wait_for_text

pytestmark = pytest.mark.browser


def test_keyboard_log_in_language_switch_and_log_out(page, live_server):
    page.get(f"{live_server}/")
    assert page.current_url.startswith(f"{live_server}/login")
    assert page.find_element(By.TAG_NAME, "html").get_attribute("lang") == "sv"

    body = page.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    focused = page.switch_to.active_element
    assert focused.get_attribute("class") == "skip-link"
    assert focused.text == "Hoppa till innehållet"

    page.find_element(By.ID, "username").send_keys("anna.chef")
    password = page.find_element(By.ID, "password")
    password.send_keys(DEMO_PASSWORD)
    password.send_keys(Keys.ENTER)

    wait_for_text(page, "Hej Anna!")
    assert page.find_element(By.TAG_NAME, "h1").text == "Hej Anna!"
    assert "För chefer" in page.page_source

    page.find_element(By.LINK_TEXT, "English").click()
    wait_for_text(page, "Hello Anna!")
    assert page.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    assert page.find_element(By.TAG_NAME, "h1").text == "Hello Anna!"

    page.find_element(By.XPATH, "//button[normalize-space()='Log out']").click()
    wait_for_text(page, "You are now logged out.")
    assert page.current_url == f"{live_server}/login"
    assert "You are now logged out." in page.page_source


def test_wrong_password_shows_the_message_and_keeps_the_user_name(page, live_server):
    page.get(f"{live_server}/login")
    page.find_element(By.ID, "username").send_keys("erik.anstalld")
    page.find_element(By.ID, "password").send_keys("fel" + Keys.ENTER)
    wait_for_text(page, "Fel användarnamn")
    assert page.find_element(By.ID, "login-error").text == "Fel användarnamn eller lösenord."
    assert page.find_element(By.ID, "username").get_attribute("value") == "erik.anstalld"


def test_admin_grants_a_role_through_the_page(page, live_server):
    page.get(f"{live_server}/login")
    page.find_element(By.ID, "username").send_keys("admin")
    page.find_element(By.ID, "password").send_keys(DEMO_PASSWORD + Keys.ENTER)
    wait_for_text(page, "Hej Administratör!")
    page.find_element(By.LINK_TEXT, "Användare").click()
    wait_for_text(page, "Användare och roller")
    page.find_element(By.LINK_TEXT, "erik.anstalld").click()
    wait_for_text(page, "Tillbaka till användarna")
    page.find_element(By.XPATH, "//label[normalize-space()='Chef']").click()
    page.find_element(By.XPATH, "//button[normalize-space()='Spara']").click()
    wait_for_text(page, "Ändringarna för Erik Anställd är sparade.")
    row = page.find_element(By.XPATH, "//tr[td/a[normalize-space()='erik.anstalld']]")
    assert "Chef" in row.text  # the role in words

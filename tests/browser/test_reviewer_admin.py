"""A reviewer works the queue in a real browser (Debian's headless Chromium, via Selenium).

Screenshots of the main pages land in test-artifacts/screenshots/.
"""

import os
import shutil
from pathlib import Path

import pytest

from assessments import services
from tests.conftest import skip_or_fail
from tests.support.api import make_user
from tra.http.auth import actor_for
from tra.observability import usage

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

pytestmark = [pytest.mark.usefixtures("dynamo_table"), pytest.mark.browser]


@pytest.fixture
def browser(tmp_path):
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        skip_or_fail("Chromium and ChromeDriver are not installed (apt-get install chromium chromium-driver)")
    os.environ["SE_OFFLINE"] = "true"  # never let Selenium Manager fetch a browser or driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,1000",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def navigate(driver, element) -> None:
    """Click `element` and wait until the browser has left the page it was on."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait

    page = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, 15).until(expected_conditions.staleness_of(page))


def shot(driver, name: str) -> None:
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


@pytest.fixture
def queue(transactional_db):
    owner = make_user("olivia")
    reviewer = make_user("rita", reviewer=True)
    actor = actor_for(owner)
    waiting = services.assessment_create(actor=actor, title="Acme Cloud hosting", description="Hosting vendor")
    services.question_create(actor=actor, assessment_id=waiting.assessment_id, text="Is data encrypted at rest?")
    services.assessment_transition(actor=actor, assessment_id=waiting.assessment_id, action="submit", version=1)
    draft = services.assessment_create(actor=actor, title="Payroll draft")
    return {"reviewer": reviewer, "waiting": waiting, "draft": draft}


def test_a_reviewer_filters_the_queue_requests_changes_and_a_stale_tab_gets_the_conflict(browser, live_server, queue):
    from selenium.webdriver.common.by import By

    browser.get(f"{live_server.url}/admin/login/?next=/admin/dynamo/assessments/")
    browser.find_element(By.NAME, "username").send_keys("rita")
    browser.find_element(By.NAME, "password").send_keys("rita-password-123")
    navigate(browser, browser.find_element(By.CSS_SELECTOR, "input[type=submit]"))
    assert "Assessments" in browser.title, browser.find_element(By.ID, "content").text
    shot(browser, "01-assessment-list")

    navigate(browser, browser.find_element(By.LINK_TEXT, "Submitted"))
    rows = browser.find_element(By.ID, "result_list").text
    assert "Acme Cloud hosting" in rows and "Payroll draft" not in rows
    shot(browser, "02-queue-submitted")

    navigate(browser, browser.find_element(By.LINK_TEXT, "Acme Cloud hosting"))
    page_url = browser.current_url
    assert browser.find_element(By.ID, "assessment-state").text == "Submitted"
    shot(browser, "03-assessment-page")

    first_tab = browser.current_window_handle
    browser.switch_to.new_window("tab")  # a second tab, loaded now, acted on later
    browser.get(page_url)
    stale_tab = browser.current_window_handle

    browser.switch_to.window(first_tab)
    browser.find_element(By.ID, "id_comment").send_keys("Please attach the latest penetration test.")
    navigate(browser, browser.find_element(By.ID, "decision-request_changes"))
    assert browser.find_element(By.ID, "assessment-state").text == "Changes requested"
    history = browser.find_element(By.ID, "history").text
    assert "Reviewed → Changes requested by rita" in history
    assert "Saved: request changes" in browser.find_element(By.CSS_SELECTOR, "ul.messagelist").text
    shot(browser, "04-changes-requested")

    browser.switch_to.window(stale_tab)
    navigate(browser, browser.find_element(By.ID, "decision-approve"))
    message = browser.find_element(By.CSS_SELECTOR, "ul.messagelist").text
    assert "changed by someone else" in message
    assert browser.find_element(By.ID, "assessment-state").text == "Changes requested"
    shot(browser, "05-stale-tab-conflict")
    usage.flush()  # the dashboard shows what workers flushed (viewing it writes nothing)
    browser.get(f"{live_server.url}/admin/dashboard/")
    assert browser.find_elements(By.CSS_SELECTOR, "svg.usage-chart")  # this test's DynamoDB capacity, drawn
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.usage-chart, .usage-chart-empty")) >= 4
    shot(browser, "06-dashboard")

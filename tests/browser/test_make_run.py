"""The pages a reviewer and a frontend developer open first, in Chromium, served by `make run`'s own
command (uvicorn, not the test live server, which serves static files by itself): the admin is styled
and the OpenAPI UI renders. Screenshots land in test-artifacts/screenshots/."""

import signal

import pytest

from tests.browser.test_reviewer_admin import browser, shot  # noqa: F401 - the fixture
from tests.devtools.running import start_runlocal
from tests.devtools.test_runlocal import dynamodb_local_installed  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser


@pytest.fixture
def make_run(tmp_path, dynamodb_local_installed):  # noqa: F811
    run = start_runlocal(tmp_path / "local", "--in-memory")
    try:
        run.wait_healthy()
        yield run
    finally:
        run.stop(signal.SIGINT)


def test_make_run_serves_a_styled_admin_and_a_working_openapi_ui(make_run, browser):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    browser.get(make_run.url + "/")
    browser.find_element(By.CSS_SELECTOR, 'a[href="/admin/"]').click()
    WebDriverWait(browser, 30).until(lambda driver: driver.find_elements(By.ID, "header"))
    header = browser.find_element(By.ID, "header")
    # admin/css/base.css paints the header (its --header-bg, #417690); unstyled it is transparent.
    assert header.value_of_css_property("background-color") == "rgba(65, 118, 144, 1)"
    assert browser.execute_script(
        "return [...document.styleSheets].some(sheet => (sheet.href || '').endsWith('/static/admin/css/base.css'))"
    )
    shot(browser, "make-run-admin-login")

    browser.get(make_run.url + "/api/docs")
    WebDriverWait(browser, 60).until(lambda driver: driver.find_elements(By.CSS_SELECTOR, ".swagger-ui .opblock"))
    assert browser.find_elements(By.CSS_SELECTOR, ".swagger-ui .info .title")
    assert len(browser.find_elements(By.CSS_SELECTOR, ".swagger-ui .opblock")) > 10
    shot(browser, "make-run-api-docs")

"""An analyst builds, opens and exports a report in real headless Chromium.

Uses Debian's chromium and chromedriver (``apt-get install chromium
chromium-driver``, done by ``.ci/run``); nothing is downloaded.
"""

import shutil
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from dashboards.models import SavedReport

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
PASSWORD = "secret-pass-123"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def browser(tmp_path):
    if not (Path(CHROMIUM).exists() and shutil.which(CHROMEDRIVER)):
        pytest.fail("chromium and chromium-driver (Debian packages) are needed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        "--lang=en-US",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    driver.execute_cdp_cmd(
        "Page.setDownloadBehavior",
        {"behavior": "allow", "downloadPath": str(tmp_path)},
    )
    yield driver
    driver.quit()


def wait_for(condition, seconds: float = 15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"condition not met within {seconds} s")


def test_analyst_builds_the_telnet_report_sees_one_trace_per_country_and_exports(
    browser, live_server, analyst, add_events, countries, tmp_path
):
    from selenium.webdriver.common.by import By

    analyst.set_password(PASSWORD)
    analyst.save()
    now = timezone.now()
    for days_ago, country, count in [
        (1, "CN", 5),
        (2, "CN", 3),
        (2, "RU", 4),
        (3, "US", 2),
    ]:
        add_events(
            count, occurred_at=now - timedelta(days=days_ago), src_country=country
        )
    add_events(6, occurred_at=now - timedelta(days=1), dst_port=22, src_country="NL")

    browser.get(f"{live_server.url}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys(analyst.username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait_for(lambda: "/admin/login/" not in browser.current_url)

    browser.get(f"{live_server.url}/admin/dashboards/savedreport/add/")
    browser.find_element(By.NAME, "name").send_keys("Telnet by country")
    browser.find_element(By.CSS_SELECTOR, "input[name=range_kind][value=last]").click()
    last = browser.find_element(By.NAME, "range_last")
    last.clear()
    last.send_keys("30")
    select(browser, "range_unit", "days")
    select(browser, "bucket", "day")
    select(browser, "dimension_1", "src_country")
    select(browser, "metric", "events")
    browser.find_element(By.CSS_SELECTOR, "input[name=chart][value=stacked]").click()
    browser.find_element(
        By.CSS_SELECTOR, "input[name=filter_protocols][value=tcp]"
    ).click()
    browser.find_element(By.NAME, "filter_ports").send_keys("23")
    browser.find_element(By.NAME, "is_shared").click()
    browser.find_element(By.NAME, "_save").click()
    wait_for(lambda: browser.current_url.endswith("/admin/dashboards/savedreport/"))

    report = SavedReport.objects.get(owner=analyst)
    url = report.get_absolute_url()
    browser.find_element(By.CSS_SELECTOR, f"a[href='{url}']").click()
    wait_for(lambda: url in browser.current_url)
    traces = wait_for(
        lambda: browser.execute_script(
            "var c = document.getElementById('chart-report');"
            "return c && c.data ? c.data.map(function (t) { return t.name; }) : null;"
        )
    )
    browser.save_screenshot(str(tmp_path / "report.png"))
    bars = browser.find_elements(By.CSS_SELECTOR, "#chart-report g.trace.bars")
    browser.find_element(By.CSS_SELECTOR, "button[value=csv]").click()
    exported = wait_for(lambda: list(tmp_path.glob("*.csv")))

    assert sorted(traces) == [
        "China (CN)",
        "Russian Federation (RU)",
        "United States (US)",
    ]
    assert len(bars) == 3
    lines = exported[0].read_text(encoding="utf-8").splitlines()
    assert lines[0] == "time,source country,events"
    assert sum(int(line.rsplit(",", 1)[1]) for line in lines[1:]) == 14


def select(browser, name: str, value: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element(By.NAME, name)).select_by_value(value)

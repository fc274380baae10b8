"""Time on page in a real browser: reported on leaving, only after the visitor allowed analytics
(LOG-2)."""

import time

import pytest
from playwright.sync_api import expect

from haven.privacy.models import PageViewCount


def wait_for(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.browser
@pytest.mark.promise("LOG-2")
def test_the_browser_reports_time_on_a_page_when_leaving_it_only_with_agreement(page, people):
    page.goto("/privacy/recipients/")
    page.goto("/privacy/")
    assert not PageViewCount.objects.exists()  # not before the visitor agrees

    page.get_by_role("button", name="Allow analytics").click()
    expect(page.locator("body[data-analytics-page]")).to_have_count(1)
    page.goto("/privacy/recipients/")
    expect(page.locator("body")).to_have_attribute("data-analytics-page", "privacy:recipients")
    time.sleep(1.2)
    page.goto("/privacy/")  # leaving the recipients page sends its time

    def reported():
        row = PageViewCount.objects.filter(page="privacy:recipients").first()
        return row is not None and row.timed == 1 and row.seconds >= 1

    assert wait_for(reported)

"""Time zones in a real browser: Chromium set to Asia/Shanghai reports its zone on the first
visit, and from the next page on every time is shown in it; the account page changes it."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from accounts.models import User
from tests.test_browser import browser_type_launch_args, demo_with_sandbox_key, log_in  # noqa: F401
from videos.audit import record_action
from videos.models import AuditEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

if not os.path.exists("/usr/bin/chromium") and not os.environ.get("CI"):
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture
def browser_context_args(browser_context_args):
    """A browser whose clock runs in Shanghai (UTC+8) and asks for English pages."""
    return {**browser_context_args, "timezone_id": "Asia/Shanghai", "locale": "en-US"}


def test_the_first_visit_stores_the_browsers_zone_and_pages_show_times_in_it(page, live_server):
    from playwright.sync_api import expect

    demo = demo_with_sandbox_key(live_server)
    team = demo.teams.get()
    entry = record_action(team, demo, "key.added", "Sandbox")
    AuditEntry.objects.filter(pk=entry.pk).update(created_at=datetime(2026, 12, 1, 0, 0, tzinfo=UTC))

    page.set_viewport_size({"width": 1280, "height": 800})
    with page.expect_response(lambda r: r.url.endswith("/account/time-zone")) as reported:
        log_in(page, live_server)
    assert reported.value.status == 204
    assert User.objects.get(pk=demo.pk).time_zone == "Asia/Shanghai"

    page.goto(f"{live_server.url}/audit/")
    expect(page.locator("#audit-zone")).to_have_text("Times in Asia/Shanghai")
    expect(page.locator("table.audit time").first).to_have_text("2026-12-01 08:00:00")
    assert page.locator("script[src*='timezone.js']").count() == 0  # asked once, never again
    page.screenshot(path="/tmp/wt-tz-audit-1280.png", full_page=True)

    page.goto(f"{live_server.url}/account/")
    expect(page.get_by_text("Times on your pages are in Asia/Shanghai.")).to_be_visible()
    expect(page.get_by_label("Time zone")).to_have_value("Asia/Shanghai")
    page.screenshot(path="/tmp/wt-tz-account-1280.png", full_page=True)

    page.set_viewport_size({"width": 375, "height": 812})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path="/tmp/wt-tz-account-375.png", full_page=True)

    # Chosen on the account page, another zone wins over the browser's from then on.
    page.get_by_label("Time zone").select_option("Europe/Paris")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Times on your pages are in Europe/Paris.")).to_be_visible()
    page.goto(f"{live_server.url}/audit/")
    expect(page.locator("table.audit time").first).to_have_text("2026-12-01 01:00:00")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path="/tmp/wt-tz-audit-375.png", full_page=True)
    assert User.objects.get(pk=demo.pk).time_zone == "Europe/Paris"

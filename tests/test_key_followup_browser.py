"""In headless Chromium: the compose form's sandbox hint follows the chosen key, and a key's
Test button over the member's limit says in its row when to try again. Screenshots at 1280
and 375 px go to /tmp/wt-followup-*.png."""

from __future__ import annotations

import pytest

from accounts import throttle
from tests.test_browser import browser_type_launch_args, demo_with_sandbox_key, log_in  # noqa: F401
from videos.models import GatewayKey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_hint_follows_the_key_and_a_test_over_the_limit_says_when_to_try_again(page, live_server, settings):
    from playwright.sync_api import expect

    settings.STUDIO_SANDBOX_URL = f"{live_server.url}/sandbox"  # the live server serves the sandbox
    user = demo_with_sandbox_key(live_server)
    real = GatewayKey(
        team=user.teams.get(),
        owner=user,
        dialect="openai-preview",
        label="A real gateway",
        base_url="https://gw.example.com",
    )
    real.set_secret("sk-a-real-gateway-key-0099")
    real.save()
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server)

    # The real gateway's key comes first: no sandbox hint. Choosing the sandbox key shows it.
    hint = page.locator(".sandbox-hint")
    page.get_by_label("Prompt").wait_for()
    expect(hint).to_have_count(0)
    sandbox = page.locator("select[name=key] option", has_text="Sandbox").get_attribute("value")
    page.locator("select[name=key]").select_option(sandbox)
    expect(hint).to_contain_text("This is a sandbox key: put [fail] in the prompt")
    page.screenshot(path="/tmp/wt-followup-compose-1280.png", full_page=True)
    page.locator("select[name=key]").select_option(str(real.uuid))
    expect(hint).to_have_count(0)

    # One test works; after ten in a minute the row says when to try again, in place.
    page.goto(f"{live_server.url}/keys/")
    card = page.locator("article.key-card", has=page.get_by_role("heading", name="Sandbox", exact=True))
    card.get_by_role("button", name="Test").click()
    expect(card.locator(".key-check")).to_contain_text("Works: the gateway accepted the key.")
    for _ in range(throttle.KEY_CHECK_LIMIT - 1):
        assert throttle.begin_key_check(user) == 0
    card.get_by_role("button", name="Test").click()
    expect(card.locator(".key-refusal")).to_contain_text("try again in")
    expect(card.locator(".key-check")).to_contain_text("Works: the gateway accepted the key.")
    page.screenshot(path="/tmp/wt-followup-keys-1280.png", full_page=True)

    page.set_viewport_size({"width": 375, "height": 812})
    card.get_by_role("button", name="Test").click()
    expect(card.locator(".key-refusal")).to_contain_text("try again in")
    width = page.evaluate("document.documentElement.scrollWidth")
    page.screenshot(path="/tmp/wt-followup-keys-375.png", full_page=True)
    assert width <= 375, f"/keys/ is {width} px wide at 375 px"
    page.goto(f"{live_server.url}/")
    page.locator("select[name=key]").select_option(sandbox)
    expect(hint).to_be_visible()
    page.screenshot(path="/tmp/wt-followup-compose-375.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

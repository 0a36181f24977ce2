"""Access tokens in Chromium: made on the account page, shown once, used by a script,
listed with their last use, revoked at once; screenshots at 1280 and 375 px."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.test_browser import browser_type_launch_args, demo_with_sandbox_key, log_in  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


SHOTS = "/tmp/wt-api-{}-{}.png"


def shoot(page, name: str) -> None:
    """Screenshots at 1280 and 375 px wide; at 375 nothing may scroll sideways."""
    for width, height in ((1280, 800), (375, 812)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=SHOTS.format(name, width), full_page=True)
        if width == 375:
            scroll = page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= 375, f"{name} is {scroll} px wide at 375"
    page.set_viewport_size({"width": 1280, "height": 800})


@pytest.mark.browser
def test_a_member_makes_uses_and_revokes_a_token_in_the_browser(page, live_server):
    demo_with_sandbox_key(live_server)
    log_in(page, live_server)
    page.goto(f"{live_server.url}/account/")
    page.get_by_label("Name").fill("CMS export")
    page.get_by_label("Generate").check()
    page.get_by_role("button", name="Create token").click()
    token = page.get_by_label("New access token")
    expect(token).to_have_value(re.compile(r"^stk_[0-9a-f]{8}_"))
    plain = token.input_value()
    shoot(page, "token-shown-once")

    keys = httpx.get(f"{live_server.url}/api/v1/keys", headers={"Authorization": f"Bearer {plain}"})
    assert keys.status_code == 200 and keys.json()[0]["label"] == "Sandbox"

    page.goto(f"{live_server.url}/account/")
    expect(page.get_by_label("New access token")).to_have_count(0)
    row = page.locator("table.tokens tr", has_text="CMS export")
    expect(row).to_contain_text("Generate, Read")
    expect(row).to_contain_text("ago")  # its last use
    shoot(page, "token-listed")
    row.get_by_role("button", name="Revoke CMS export").click()
    expect(page.locator("table.tokens tr", has_text="CMS export")).to_contain_text("revoked")
    refused = httpx.get(f"{live_server.url}/api/v1/keys", headers={"Authorization": f"Bearer {plain}"})
    assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"


def test_the_api_docs_page_renders_under_the_sites_csp(page, live_server):
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(f"{live_server.url}/api/v1/docs")
    expect(page.get_by_text("Studio API").first).to_be_visible()
    expect(page.get_by_text("/api/v1/generations/{generation_id}/video").first).to_be_visible()
    page.screenshot(path=SHOTS.format("docs", 1280))
    assert not [e for e in errors if "Content Security Policy" in e], errors

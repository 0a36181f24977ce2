"""The keys page in headless Chromium: a saved sandbox key is tested as the page loads and
"works"; a secret the gateway does not know reads "wrong key"; a key's label is edited in
place; deleting asks first. Screenshots at 1280 and 375 px go to /tmp/wt-keys-*.png."""

from __future__ import annotations

import pytest

from accounts.models import User
from tests.test_browser import browser_type_launch_args, demo_with_sandbox_key, log_in  # noqa: F401
from videos.models import GatewayKey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def key_card(page, label: str):
    return page.locator("article.key-card", has=page.get_by_role("heading", name=label, exact=True))


def test_a_member_adds_tests_edits_and_deletes_keys(page, live_server, settings):
    from playwright.sync_api import expect

    settings.STUDIO_SANDBOX_URL = f"{live_server.url}/sandbox"  # the live server serves the sandbox
    user = demo_with_sandbox_key(live_server)
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server)
    page.goto(f"{live_server.url}/keys/")

    # Save a sandbox key: it is tested as the page comes back, and it works.
    page.locator("#id_label").fill("My sandbox")
    page.locator("#id_base_url").fill(f"{live_server.url}/sandbox/openai")
    page.locator("#id_secret").fill("sk-browser-added-key-0042")
    page.get_by_role("button", name="Save key").click()
    mine = key_card(page, "My sandbox")
    expect(mine.locator(".key-check")).to_contain_text("Works: the gateway accepted the key.")
    expect(mine.locator(".key-check time")).to_be_visible()

    # A secret the gateway never issued: the Test button says "wrong key", in place.
    stranger = GatewayKey(
        team=user.teams.get(),
        owner=user,
        dialect="openai-preview",
        label="Old secret",
        base_url=f"{live_server.url}/sandbox/openai",
    )
    stranger.set_secret("sk-never-issued-anywhere-7777")
    stranger.save()
    page.reload()
    old = key_card(page, "Old secret")
    expect(old.locator(".key-check")).to_contain_text("Not tested yet.")
    page.evaluate("window.__noReload = true")
    old.get_by_role("button", name="Test").click()
    expect(old.locator(".key-check")).to_contain_text("Wrong key: the gateway refused it (HTTP 401).")
    assert page.evaluate("window.__noReload") is True  # the row was swapped, not the page reloaded

    # Edit the label in place; the secret stays.
    secret_before = GatewayKey.objects.get(label="My sandbox").secret_encrypted
    mine.get_by_text("Edit", exact=True).click()
    mine.get_by_label("Label").fill("Renamed sandbox")
    mine.get_by_role("button", name="Save changes").click()
    renamed = key_card(page, "Renamed sandbox")
    expect(renamed).to_be_visible()
    assert GatewayKey.objects.get(label="Renamed sandbox").secret_encrypted == secret_before
    page.screenshot(path="/tmp/wt-keys-1280.png", full_page=True)

    # Delete asks first: the summary opens a confirmation naming the key.
    confirm = renamed.get_by_role("button", name="Yes, delete this key")
    expect(confirm).to_be_hidden()
    renamed.get_by_text("Delete", exact=True).click()
    expect(renamed).to_contain_text("Delete “Renamed sandbox”? You cannot generate with it afterwards")
    page.screenshot(path="/tmp/wt-keys-confirm-1280.png", full_page=True)
    confirm.click()
    expect(page.locator(".messages, .message").first).to_contain_text("Deleted “Renamed sandbox”")
    expect(key_card(page, "Renamed sandbox")).to_have_count(0)
    assert not GatewayKey.objects.filter(label="Renamed sandbox").exists()
    assert User.objects.get(pk=user.pk).gateway_keys.count() == 2

    # On a phone the page fits its width, the forms opened too.
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(f"{live_server.url}/keys/")
    for card in page.locator("article.key-card").all():
        for summary in card.locator("summary").all():
            summary.click()
    width = page.evaluate("document.documentElement.scrollWidth")
    page.screenshot(path="/tmp/wt-keys-375.png", full_page=True)
    assert width <= 375, f"/keys/ is {width} px wide at 375 px"
    field = page.locator("article.key-card input[type=password]").first
    assert field.bounding_box()["width"] >= 250  # wide enough to paste a key into

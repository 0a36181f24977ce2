"""The Webhooks page in headless Chromium: an owner adds an endpoint on a real receiver,
copies the secret shown once, sends a test event and reads its delivery in the log; a
private address is refused where it was typed. Screenshots: /tmp/wt-hooks-*.png."""

from __future__ import annotations

import os

import pytest
from standardwebhooks import Webhook

from tests.test_browser import browser_type_launch_args, demo_with_sandbox_key, log_in  # noqa: F401
from tests.test_webhooks import _Hook, loopback_receiver  # noqa: F401
from videos.models import WEBHOOK_TEST_EVENT, WebhookDelivery, WebhookEndpoint

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = "/tmp/wt-hooks-{}-{}.png"


def shoot(page, name: str) -> None:
    """Screenshots at 1280 and 375 px wide; at 375 nothing may scroll sideways."""
    for width, height in ((1280, 800), (375, 812)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=SHOTS.format(name, width), full_page=True)
        if width == 375:
            scroll = page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= 375, f"{name} is {scroll} px wide at 375"
    page.set_viewport_size({"width": 1280, "height": 800})


def test_an_owner_adds_an_endpoint_and_reads_its_log(page, live_server, loopback_receiver, settings):  # noqa: F811
    from playwright.sync_api import expect

    port = loopback_receiver
    settings.STUDIO_ALLOWED_PRIVATE_HOSTS = [f"127.0.0.1:{port}"]
    demo_with_sandbox_key(live_server)
    log_in(page, live_server)
    page.locator("summary.team-name").click()  # the team's pages are in the Team menu
    page.get_by_role("link", name="Webhooks").first.click()
    expect(page.get_by_role("heading", name="Webhooks")).to_be_visible()

    page.get_by_label("Endpoint URL").fill("http://10.0.0.7/hook")
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.get_by_text("only sends webhooks to public addresses")).to_be_visible()
    shoot(page, "refused")
    assert WebhookEndpoint.objects.count() == 0

    page.get_by_label("Endpoint URL").fill(f"http://127.0.0.1:{port}/hook")
    page.get_by_label("A generation was reviewed").check()
    page.get_by_role("button", name="Add endpoint").click()
    secret = page.locator("#webhook-secret").inner_text()
    assert secret.startswith("whsec_")
    shoot(page, "secret")

    page.get_by_role("button", name="Send a test event").click()
    expect(page.get_by_text("A test event is on its way")).to_be_visible()
    expect(page.locator("table.deliveries")).to_contain_text("Delivered")
    expect(page.locator("table.deliveries")).to_contain_text("204")
    expect(page.locator("#webhook-secret")).to_have_count(0)  # shown once
    ((headers, body),) = _Hook.received
    assert Webhook(secret).verify(body, headers)["type"] == WEBHOOK_TEST_EVENT
    shoot(page, "log")

    page.get_by_role("button", name="Redeliver").click()
    expect(page.locator("table.deliveries tbody tr")).to_have_count(2)
    assert len(_Hook.received) == 2 and _Hook.received[1][0]["webhook-id"] == headers["webhook-id"]
    assert WebhookDelivery.objects.filter(state=WebhookDelivery.State.DELIVERED).count() == 2

    page.goto(f"{live_server.url}/webhooks/")
    expect(page.locator("table.webhooks")).to_contain_text(f"127.0.0.1:{port}")
    shoot(page, "list")

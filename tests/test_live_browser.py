"""Live pages in headless Chromium: one refresh request per interval for all running cards,
the cards finishing without a reload, Cancel on a card. Screenshots at 1280 and 375 px go
to /tmp/wt-live-*.png."""

from __future__ import annotations

import os
from urllib.parse import parse_qs

import pytest

from tests.conftest import make_generation
from tests.test_browser import browser_type_launch_args, demo_with_sandbox_key, log_in  # noqa: F401
from videos.models import Billing, GatewayKey, Generation, Task, TaskState

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop runs in this thread
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = "/tmp/wt-live-{name}-{width}.png"


def three_cards(user, state=TaskState.PROCESSING) -> list[Generation]:
    """Three generations through ``user``'s key, put in ``state`` (None: left to the worker)."""
    key = GatewayKey.objects.get(owner=user)
    team = key.team
    made = [make_generation(user, team, key, prompt=f"Live clip {i}: waves on a pier") for i in range(3)]
    if state is not None:
        Task.objects.filter(generation__in=made).update(state=state, progress=10, status_word="in_progress")
    return made


def shoot(page, name: str) -> None:
    """Screenshots at 1280 and 375 px wide, each checked not to scroll sideways."""
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} scrolls sideways at {width}"
        page.screenshot(path=SHOTS.format(name=name, width=width), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_page_with_three_running_cards_makes_one_refresh_request_per_interval(page, live_server, settings):
    from playwright.sync_api import expect

    settings.STUDIO_SANDBOX_URL = f"{live_server.url}/sandbox"
    user = demo_with_sandbox_key(live_server)
    cards = three_cards(user)
    log_in(page, live_server)
    expect(page.locator("article.card")).to_have_count(3)
    page.evaluate("window.__noReload = true")

    seen: list = []
    page.on("request", lambda request: seen.append(request) if request.resource_type in ("xhr", "fetch") else None)
    for _ in range(3):
        with page.expect_request(lambda r: r.url.endswith("/live"), timeout=10_000):
            pass

    assert seen and all(r.url == f"{live_server.url}/live" and r.method == "POST" for r in seen)
    for request in seen:
        body = parse_qs(request.post_data)
        assert sorted(v.split(".")[0] for v in body["card"]) == sorted(str(g.uuid) for g in cards)

    # A change reaches its card through the same request.
    Task.objects.filter(generation=cards[1]).update(progress=60, status_word="rendering")
    expect(page.locator(f"#card-{cards[1].uuid} .progress-text")).to_contain_text("60%")
    assert page.evaluate("window.__noReload") is True
    shoot(page, "running")


def test_the_cards_finish_live_and_the_poller_slows_down(page, live_server, poller, settings):
    from playwright.sync_api import expect

    settings.STUDIO_SANDBOX_RUN_SECONDS = 2
    settings.STUDIO_SANDBOX_URL = f"{live_server.url}/sandbox"
    user = demo_with_sandbox_key(live_server)
    log_in(page, live_server)
    page.evaluate("window.__noReload = true")
    cards = three_cards(user, state=None)  # the worker thread sends and follows them
    page.reload()
    page.evaluate("window.__noReload = true")
    for generation in cards:
        card = page.locator(f"#card-{generation.uuid}")
        expect(card).to_have_attribute("data-state", "completed", timeout=60_000)
        expect(card.get_by_role("link", name="Download")).to_be_visible()
        expect(card.get_by_role("button", name="☆ Favorite")).to_be_visible()
        expect(card.get_by_role("link", name="Remix")).to_be_visible()
    assert page.evaluate("window.__noReload") is True
    expect(page.locator("#live-refresh")).to_have_attribute("hx-trigger", "every 30s", timeout=10_000)
    expect(page.locator("#notification-count")).to_be_visible()  # "your video is ready", without a reload

    page.locator(f"#card-{cards[0].uuid}").get_by_role("button", name="☆ Favorite").click()
    expect(page.locator(f"#card-{cards[0].uuid}").get_by_role("button", name="★ Favorite")).to_be_visible()
    shoot(page, "finished")


def test_cancel_on_a_running_card(page, live_server, settings):
    from playwright.sync_api import expect

    settings.STUDIO_SANDBOX_URL = f"{live_server.url}/sandbox"
    user = demo_with_sandbox_key(live_server)
    cards = three_cards(user, state=TaskState.PENDING)
    log_in(page, live_server)
    page.set_viewport_size({"width": 375, "height": 900})
    card = page.locator(f"#card-{cards[2].uuid}")
    card.get_by_role("button", name="Cancel").click()
    expect(card).to_have_attribute("data-state", "cancelled")
    expect(card).to_contain_text("Not charged")
    task = Task.objects.get(generation=cards[2])
    assert task.state == TaskState.CANCELLED
    assert Generation.objects.get(pk=cards[2].pk).billing != Billing.HELD
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shoot(page, "cancelled")


def test_a_later_successful_submit_clears_the_earlier_errors(page, live_server, settings, tmp_path):
    from playwright.sync_api import expect

    settings.STUDIO_SANDBOX_URL = f"{live_server.url}/sandbox"
    demo_with_sandbox_key(live_server)
    log_in(page, live_server)
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_bytes(b"plain text, not a picture")
    page.get_by_label("Prompt").fill("A lantern on a night ferry")
    page.get_by_label("Reference images").set_input_files(str(not_an_image))
    page.get_by_role("button", name="Generate").click()
    errors = page.locator("#compose .errorlist")
    expect(errors.first).to_be_visible()
    assert Generation.objects.count() == 0

    page.get_by_label("Reference images").set_input_files([])
    page.get_by_role("button", name="Generate").click()
    expect(page.locator("article.card")).to_have_count(1)
    expect(errors).to_have_count(0)
    assert Generation.objects.count() == 1


def test_a_running_generations_page_follows_it_to_the_end(page, live_server, poller, settings):
    from playwright.sync_api import expect

    settings.STUDIO_SANDBOX_RUN_SECONDS = 2
    settings.STUDIO_SANDBOX_URL = f"{live_server.url}/sandbox"
    user = demo_with_sandbox_key(live_server)
    log_in(page, live_server)
    key = GatewayKey.objects.get(owner=user)
    generation = make_generation(user, key.team, key, prompt="A heron lifting off a misty pond")
    page.goto(f"{live_server.url}/generations/{generation.uuid}/")
    page.evaluate("window.__noReload = true")
    lines = page.locator(".timeline li").count()

    expect(page.locator(".detail video")).to_be_visible(timeout=60_000)
    expect(page.locator(".facts")).to_contain_text("Completed")
    assert page.locator(".timeline li").count() > lines
    expect(page.locator("#live-refresh")).to_have_attribute("hx-trigger", "every 30s", timeout=10_000)
    assert page.locator("input[name=detail]").count() == 0
    assert page.evaluate("window.__noReload") is True
    shoot(page, "detail")

"""Takes in the browser: ask for four, see four cards, open their grid, choose one and
archive the others (issue 13, item 1). Screenshots at 1280 and 375 px wide."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.test_browser import browser_type_launch_args, demo_with_sandbox_key, log_in  # noqa: F401
from videos.models import Generation, Price

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = "/tmp/wt-takes-{name}-{width}.png"


def shoot(page, name: str) -> None:
    """Screenshots at 1280 and 375 px wide, each checked not to scroll sideways."""
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} scrolls sideways at {width}"
        page.screenshot(path=SHOTS.format(name=name, width=width), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_four_takes_make_a_grid_where_one_is_chosen_and_the_others_archived(page, live_server, settings):
    from playwright.sync_api import expect

    settings.STUDIO_SANDBOX_URL = f"{live_server.url}/sandbox"
    Price.objects.create(
        dialect="openai-preview", model="grok-imagine-video-1.5-preview", resolution="480p",
        usd_per_second=Decimal("0.04"), source="test", read_on=date(2026, 11, 1),
    )  # fmt: skip
    demo_with_sandbox_key(live_server)
    log_in(page, live_server)
    page.get_by_label("Prompt").fill("A paper boat drifting down a rainy street")
    page.get_by_label("Duration (s)").select_option("8")
    page.get_by_label("Resolution").select_option("480p")
    page.get_by_label("Takes").fill("4")
    page.get_by_label("Takes").dispatch_event("change")
    expect(page.locator(".estimate-takes")).to_contain_text("4 takes × $0.32 = $1.28")
    shoot(page, "compose")
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page.locator("article.card")).to_have_count(4)
    assert Generation.objects.count() == 4

    page.locator("article.card .take-line a").first.click()
    expect(page.locator(".takes-grid article.card")).to_have_count(4)
    shoot(page, "grid")
    third = page.locator(".takes-grid article.card").nth(2)
    third.get_by_role("button", name="Choose this take").click()
    expect(page.locator(".takes-grid article.card").nth(2).locator(".chosen-take")).to_be_visible()
    page.get_by_role("button", name="Archive the other takes").click()
    expect(page.locator(".takes-grid article.card")).to_have_count(1)
    expect(page.locator(".takes-head")).to_contain_text("3 takes archived")
    shoot(page, "chosen")
    assert Generation.objects.get(chosen_take=True).take_index == 2
    assert Generation.objects.filter(archived=True).count() == 3


def test_the_same_request_through_two_gateways_side_by_side(page, live_server, settings):
    from playwright.sync_api import expect

    from tests.conftest import issued
    from videos.models import GatewayKey

    settings.STUDIO_SANDBOX_URL = f"{live_server.url}/sandbox"
    user = demo_with_sandbox_key(live_server)
    team = user.teams.get()
    for dialect, label, secret in [
        ("multipart", "Multi", "sk-sandbox-multi-01"),
        ("aijisu", "Jisu", "sk-sandbox-jisu-01"),
    ]:
        other = GatewayKey(
            team=team, owner=user, dialect=dialect, label=label, base_url=f"{live_server.url}/sandbox/{dialect}"
        )
        other.set_secret(issued(secret))
        other.save()
    log_in(page, live_server)
    page.get_by_label("Prompt").fill("A lighthouse at dusk")
    page.get_by_label("Prompt").dispatch_event("change")
    fieldset = page.locator("#compare-gateways")
    expect(fieldset).to_contain_text("Jisu")
    expect(fieldset.locator("li.does-not-fit")).to_contain_text("cannot take it:")
    fieldset.get_by_label("Sandbox", exact=False).check()
    page.locator("#compare-gateways").get_by_label("Multi", exact=False).check()
    shoot(page, "compare-form")
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page.locator("article.card")).to_have_count(2)
    page.locator("article.card .take-line a").first.click()
    expect(page.locator("h1")).to_contain_text("The same request through 2 gateways")
    expect(page.locator(".takes-grid article.card")).to_have_count(2)
    shoot(page, "compare")
    assert sorted(Generation.objects.values_list("dialect", flat=True)) == ["multipart", "openai-preview"]

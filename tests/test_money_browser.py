"""In Chromium: an owner prices a gateway the price book does not cover, and the compose
estimate says "team price" and warns of the approval threshold before Generate is pressed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.models import Team
from tests.test_browser import browser_type_launch_args, demo_with_sandbox_key, log_in  # noqa: F401
from videos.models import GatewayKey, Generation, TeamPrice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_owner_sets_a_team_price_and_the_estimate_warns_before_generate(page, live_server):
    from playwright.sync_api import expect

    owner = demo_with_sandbox_key(live_server)
    team = Team.objects.get(memberships__user=owner)
    Team.objects.filter(pk=team.pk).update(approval_threshold_usd=Decimal("1.00"))
    jimmy = GatewayKey(team=team, owner=owner, dialect="jimmyai", label="Jimmy", base_url="https://www.jimmyai.cn")
    jimmy.set_secret("sk-jimmy-browser-0001")  # a real gateway's key: never sent here
    jimmy.save()

    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server)
    page.get_by_label("Prompt").wait_for()
    expect(page.locator("#estimate")).to_contain_text("price unknown")
    expect(page.locator("#estimate")).to_contain_text("Set a team price")  # an owner is told where
    expect(page.locator("#estimate")).not_to_contain_text("site admin")

    page.locator("#estimate a", has_text="Set a team price").click()
    expect(page).to_have_url(f"{live_server.url}/spend/prices/")
    page.get_by_label("Gateway and model").select_option("jimmyai|grok-imagine-video-1.5")
    page.get_by_label("USD per second of video").fill("-1")
    page.get_by_role("button", name="Save price").click()
    expect(page.locator("#team-price-form .errorlist")).to_contain_text("greater than or equal to 0")
    assert not TeamPrice.objects.exists()
    page.get_by_label("USD per second of video").fill("0.20")
    page.get_by_role("button", name="Save price").click()
    expect(page.locator(".message.success")).to_contain_text("Team price saved")
    expect(page.locator("#team-prices")).to_contain_text("$0.20/s")
    page.screenshot(path="/tmp/wt-money-prices-1280.png", full_page=True)

    page.goto(f"{live_server.url}/")
    estimate = page.locator("#estimate")
    expect(estimate.locator(".estimate-this strong")).to_have_text("$2.00")  # 10 s × $0.20
    expect(estimate.locator(".price-source")).to_have_text("team price")
    expect(page.locator("#estimate-warnings")).to_contain_text("Needs approval by an owner or admin: over $1.00.")
    page.screenshot(path="/tmp/wt-money-estimate-1280.png", full_page=True)

    page.get_by_label("Duration (s)").select_option("15")  # the estimate follows the choice
    expect(estimate.locator(".estimate-this strong")).to_have_text("$3.00")
    expect(page.locator("#estimate-warnings")).to_contain_text("over $1.00")

    page.set_viewport_size({"width": 375, "height": 812})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.locator("#estimate").scroll_into_view_if_needed()
    page.screenshot(path="/tmp/wt-money-estimate-375.png")
    page.goto(f"{live_server.url}/spend/prices/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path="/tmp/wt-money-prices-375.png", full_page=True)
    assert not Generation.objects.exists()  # nothing was sent: the warning came first


def test_an_approver_declines_with_a_reason_on_a_phone(page, live_server):
    from playwright.sync_api import expect

    from tests.conftest import make_generation

    owner = demo_with_sandbox_key(live_server)
    team = Team.objects.get(memberships__user=owner)
    Team.objects.filter(pk=team.pk).update(approval_threshold_usd=Decimal("1.00"))
    team.refresh_from_db()
    generation = make_generation(owner, team, GatewayKey.objects.get(owner=owner), prompt="A costly drone flight")
    assert generation.approval == "waiting"  # unpriced while a threshold is set

    page.set_viewport_size({"width": 375, "height": 812})
    log_in(page, live_server)
    page.goto(f"{live_server.url}/approvals/")
    row = page.locator(f"#approval-{generation.uuid}")
    expect(row).to_contain_text("A costly drone flight")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path="/tmp/wt-money-approvals-375.png", full_page=True)
    row.get_by_role("button", name="Decline").click()  # no reason yet: the browser asks for one
    assert Generation.objects.get(pk=generation.pk).approval == "waiting"
    row.get_by_label("Reason for declining").fill("Price it first, then ask again")
    row.get_by_role("button", name="Decline").click()
    expect(page.locator(".message.success")).to_contain_text("Declined")
    generation.refresh_from_db()
    assert generation.approval == "declined" and generation.decline_reason == "Price it first, then ask again"

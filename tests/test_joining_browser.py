"""Issue 12's acceptance walk in headless Chromium: an invitation link opened logged out,
sign-up from it, landing in the inviting team, and a video made from a remixed form whose
estimate is the amount held; plus the team pages at 1280 and 375 px.

Screenshots go to /tmp/wt-join-*.png.
"""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal

import pytest

from accounts.models import Membership, Role, Team, User
from tests.conftest import issued
from tests.test_browser import browser_type_launch_args, demo_with_sandbox_key, log_in  # noqa: F401
from videos.models import GatewayKey, Generation, LedgerEntry, Price, TaskState

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = "/tmp/wt-join-{}-{}.png"


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "permissions": ["clipboard-read", "clipboard-write"]}


def priced() -> None:
    """A price for the sandbox's openai-preview model, so estimates and holds are known."""
    for resolution, rate in (("480p", "0.05"), ("720p", "0.10")):
        Price.objects.create(
            dialect="openai-preview", model="grok-imagine-video-1.5-preview", resolution=resolution,
            usd_per_second=Decimal(rate), source="test", read_on=date(2026, 11, 1),
        )  # fmt: skip


def shoot(page, name: str) -> None:
    """Screenshots at 1280 and 375 px wide; at 375 nothing may scroll sideways."""
    for width, height in ((1280, 800), (375, 812)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=SHOTS.format(name, width), full_page=True)
        if width == 375:
            scroll = page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= 375, f"{name} is {scroll} px wide at 375"
    page.set_viewport_size({"width": 1280, "height": 800})


def test_an_invitee_signs_up_from_the_link_and_remixes_at_the_estimated_price(page, live_server, poller, settings):
    from playwright.sync_api import expect

    settings.STUDIO_SANDBOX_RUN_SECONDS = 1
    settings.STUDIO_SANDBOX_URL = f"{live_server.url}/sandbox"
    priced()
    demo = demo_with_sandbox_key(live_server)
    team = demo.teams.get()

    # The inviter makes a video, then an invitation link, copied with one click.
    log_in(page, live_server)
    page.get_by_label("Prompt").fill("A paper boat drifting down a rainy street")
    page.get_by_label("Duration (s)").select_option("2")
    page.get_by_label("Resolution").select_option("480p")
    page.get_by_role("button", name="Generate").click()
    expect(page.locator("article.card").first).to_have_attribute("data-state", "completed", timeout=60_000)
    page.locator("summary.team-name").click()  # the team's pages are in the Team menu
    page.get_by_role("link", name="Team settings").click()
    page.get_by_role("button", name="Make an invitation link").click()
    link = page.locator("input.invite-link").first
    expect(link).to_have_attribute("readonly", "")
    invite_url = link.input_value()
    assert invite_url.startswith(f"{live_server.url}/invite/")
    page.get_by_role("button", name="Copy link").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == invite_url
    shoot(page, "teams")
    page.locator("summary.user-name").click()  # Log out is in the user menu
    page.get_by_role("button", name="Log out").click()

    # Logged out, the link says who invited whom to what; sign-up from it joins the team.
    page.goto(invite_url)
    expect(page.locator("main")).to_contain_text(f"demo invited you to {team.name} as member.")
    shoot(page, "invite")
    page.get_by_role("link", name="Sign up and join").click()
    expect(page.locator("main")).to_contain_text(f"You will join {team.name} as member.")
    page.get_by_label("Username").fill("carol")
    page.get_by_label("Email address").fill("carol@example.com")
    page.locator("#id_password1").fill("a-long-pass-phrase-1")
    page.locator("#id_password2").fill("a-long-pass-phrase-1")
    shoot(page, "signup")
    page.get_by_role("button", name="Create account and join").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator(".messages")).to_contain_text(f"You joined {team.name} as member.")
    expect(page.locator("summary.team-name")).to_contain_text(team.name)
    carol = User.objects.get(username="carol")
    assert list(Membership.objects.filter(user=carol).values_list("team", "role")) == [(team.pk, Role.MEMBER)]

    # Keys are each member's own: carol brings one (as the Keys page would save it).
    key = GatewayKey(
        team=team, owner=carol, dialect="openai-preview", label="Carol's sandbox",
        base_url=f"{live_server.url}/sandbox/openai",
    )  # fmt: skip
    key.set_secret(issued("sk-sandbox-carol-browser"))
    key.save()

    # She remixes demo's video at another duration: the estimate is what is held.
    original = Generation.objects.get(author=demo)
    page.goto(f"{live_server.url}/generations/{original.uuid}/")
    page.get_by_role("link", name="Remix").click()
    expect(page.locator(".remix-note")).to_contain_text("A paper boat")
    expect(page.get_by_label("Prompt")).to_have_value("A paper boat drifting down a rainy street")
    page.get_by_label("Prompt").fill("A paper boat drifting down a rainy street, at night")
    page.get_by_label("Duration (s)").select_option("3")
    estimate = page.locator(".estimate-this strong")
    expect(estimate).to_have_text("$0.15")  # 3 s × $0.05 at 480p
    estimated = estimate.inner_text()
    shoot(page, "remix")
    page.get_by_role("button", name="Generate").click()
    card = page.locator("article.card", has_text="at night").first
    expect(card).to_contain_text(f"Est. {estimated} held")
    remix = Generation.objects.get(author=carol)
    assert remix.parent_id == original.pk and remix.team_id == team.pk
    hold = LedgerEntry.objects.get(generation=remix, kind=LedgerEntry.Kind.HOLD)
    assert f"${hold.amount_usd:.2f}" == estimated
    expect(card).to_have_attribute("data-state", "completed", timeout=60_000)
    assert Generation.objects.get(pk=remix.pk).task.state == TaskState.COMPLETED


def test_the_header_switches_teams_and_the_account_page_leaves_one(page, live_server):
    from playwright.sync_api import expect

    demo = demo_with_sandbox_key(live_server)
    night = Team.objects.create(name="Night shift")
    Membership.objects.create(team=night, user=demo, role=Role.MEMBER)
    log_in(page, live_server)
    expect(page.locator("summary.team-name")).to_contain_text("demo's team")
    page.locator("summary.team-name").click()
    expect(page.get_by_role("button", name="Switch to Night shift")).to_be_visible()
    shoot(page, "switcher")
    page.get_by_role("button", name="Switch to Night shift").click()
    expect(page.locator("summary.team-name")).to_contain_text("Night shift")

    # The team used last is where the next login lands.
    page.locator("summary.user-name").click()  # Log out is in the user menu
    page.get_by_role("button", name="Log out").click()
    log_in(page, live_server)
    expect(page.locator("summary.team-name")).to_contain_text("Night shift")

    page.locator("summary.user-name").click()
    page.locator(".who a.user").click()
    expect(page).to_have_url(f"{live_server.url}/account/")
    shoot(page, "account")
    page.get_by_role("button", name="Leave demo's team").click()
    expect(page.locator(".messages")).to_contain_text("make someone else owner first")
    page.get_by_role("button", name="Leave Night shift").click()
    expect(page.locator(".messages")).to_contain_text("You left Night shift.")
    expect(page.locator("summary.team-name")).to_contain_text("demo's team")
    assert list(Membership.objects.filter(user=demo).values_list("team__name", flat=True)) == ["demo's team"]

"""The header in headless Chromium: one row on a laptop (1280 and 1024 px), the team's pages in
the Team menu (its button carries the approvals count), the account, theme and log out in the
user menu, every page reachable by keyboard, the current page marked (its menu button too),
and on a phone the Menu fold with nothing scrolling sideways. Screenshots: /tmp/wt-nav-*.png."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Membership, Role, Team, User
from tests.test_browser import CHROMIUM, browser_type_launch_args, demo_with_sandbox_key, log_in  # noqa: F401
from videos.models import Approval, GatewayKey, Generation, Notification

SHOTS = "/tmp/wt-nav-{theme}-{width}-{name}.png"
LONG_TEAM = "The Extraordinarily Long-Named Production Collective of the Northern Coast"


def busy_demo(live_server) -> User:
    """demo, owner of a team with a long name, one request awaiting approval, one video
    awaiting review, an unread notification, and a second team to switch to."""
    from tests.conftest import awaiting, make_generation

    user = demo_with_sandbox_key(live_server)
    key = GatewayKey.objects.get(owner=user)
    team = key.team
    Team.objects.filter(pk=team.pk).update(name=LONG_TEAM)
    team.refresh_from_db()
    awaiting(user, team, key, prompt="A heron waiting in the reeds")
    waiting = make_generation(user, team, key, prompt="A lighthouse in a storm")
    Generation.objects.filter(pk=waiting.pk).update(approval=Approval.WAITING)
    Notification.objects.create(user=user, team=team, message="Your video is ready.")
    other = Team.objects.create(name="Night shift")
    Membership.objects.create(team=other, user=user, role=Role.MEMBER)
    return user


def header_items(page) -> list[dict]:
    """The boxes of what the header shows on its row: brand, links, menu buttons."""
    return page.evaluate(
        """() => [...document.querySelectorAll(
              '.topbar .brand, .topbar .nav > a, .topbar .nav-menu > summary, .topbar > .menu-button')]
            .filter(e => e.getClientRects().length)
            .map(e => { const r = e.getBoundingClientRect();
                        return {text: e.textContent.trim(), top: r.top, bottom: r.bottom, height: r.height}; })"""
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 1024])
def test_on_a_laptop_the_header_is_one_tidy_row_with_the_approvals_count_on_the_team_button(
    page, live_server, width, theme
):
    from playwright.sync_api import expect

    busy_demo(live_server)
    page.set_viewport_size({"width": width, "height": 800})
    page.emulate_media(color_scheme=theme)
    log_in(page, live_server)
    page.get_by_label("Prompt").wait_for()

    items = header_items(page)
    texts = " ".join(item["text"] for item in items)
    for word in ("Studio", "History", "Sequences", "Boards", "Prompts", "Review", "Notifications", "demo"):
        assert word in texts, texts
    centres = [(item["top"] + item["bottom"]) / 2 for item in items]
    assert max(centres) - min(centres) <= 4, items  # one row: nothing wrapped below
    assert all(item["height"] < 40 for item in items), items  # no item broke onto two lines
    header = page.locator("header.topbar").bounding_box()
    assert header["height"] < 64, header
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    # The team's pages moved into the Team menu; approvers still see the count on its button.
    team_button = page.locator("summary.team-name")
    expect(team_button.locator("#approval-count")).to_have_text("1")
    expect(page.locator("nav.nav #review-count")).to_have_text("1")
    expect(page.locator("nav.nav #notification-count")).to_be_visible()
    expect(page.locator(".team-menu").get_by_role("link", name="Spend")).to_be_hidden()
    page.screenshot(path=SHOTS.format(theme=theme, width=width, name="studio"))

    team_button.click()
    menu = page.locator(".team-menu")
    for name in ("Spend", "Prices", "Approvals", "Audit", "Keys", "Webhooks", "Team settings"):
        expect(menu.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(menu.get_by_role("button", name="Switch to Night shift")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=SHOTS.format(theme=theme, width=width, name="team-menu"))

    # One header menu open at a time: the user menu closes the Team menu.
    page.locator("summary.user-name").click()
    expect(menu).to_be_hidden()
    user_menu = page.locator(".user-menu > div")
    expect(user_menu.get_by_role("link", name="Account")).to_be_visible()
    expect(user_menu.get_by_label("Theme")).to_be_visible()
    expect(user_menu.get_by_role("button", name="Log out")).to_be_visible()
    page.screenshot(path=SHOTS.format(theme=theme, width=width, name="user-menu"))


def tab_to(page, locator, limit: int = 60) -> None:
    """Press Tab until ``locator`` has the focus (fails after ``limit`` presses)."""
    handle = locator.element_handle()
    for _ in range(limit):
        if page.evaluate("e => document.activeElement === e", handle):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{locator} never took the focus")


def focus_ring(locator) -> str:
    return locator.evaluate("e => getComputedStyle(e).outlineStyle")


#: (menu button or None, link name) for every page the header leads to.
DESTINATIONS = [
    (None, "Studio", "studio"),
    (None, "History", "history"),
    (None, "Sequences", "sequences"),
    (None, "Boards", "boards"),
    (None, "Prompts", "prompts"),
    (None, "Review", "review_queue"),
    (None, "Notifications", "notifications"),
    ("summary.team-name", "Spend", "spend"),
    ("summary.team-name", "Prices", "prices"),
    ("summary.team-name", "Approvals", "approvals"),
    ("summary.team-name", "Audit", "audit_log"),
    ("summary.team-name", "Keys", "keys"),
    ("summary.team-name", "Webhooks", "webhooks"),
    ("summary.team-name", "Team settings", "teams"),
    ("summary.user-name", "Account", "account"),
]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_every_page_is_reachable_from_the_header_by_keyboard_and_is_marked_current(page, live_server):
    from playwright.sync_api import expect

    busy_demo(live_server)
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_server)
    for button, name, url_name in DESTINATIONS:
        page.goto(f"{live_server.url}/")
        page.locator("body").focus()
        if button:
            summary = page.locator(button)
            tab_to(page, summary)
            assert focus_ring(summary) != "none", button  # the keyboard's place is visible
            page.keyboard.press("Enter" if name != "Keys" else " ")  # both open a <details>
            link = page.locator(f"details:has(> {button}) > div").get_by_role("link", name=name, exact=True)
            expect(link).to_be_visible()
        else:
            link = page.locator("nav.nav").get_by_role("link", name=name)
        tab_to(page, link)
        assert focus_ring(link) != "none", name
        page.keyboard.press("Enter")
        expect(page).to_have_url(f"{live_server.url}{reverse(url_name)}")
        # The page's own link says so, and so does the menu button it sits behind.
        if button:
            current = page.locator(f"details:has(> {button}) > div a[aria-current=page]")
            expect(page.locator(button)).to_have_attribute("aria-current", "true")
        else:
            current = page.locator("nav.nav a[aria-current=page]")
            expect(page.locator(".nav-menu > summary[aria-current]")).to_have_count(0)
        expect(current).to_have_count(1)
        expect(current).to_contain_text(name)

    # Log out is a POST from the user menu, by keyboard too.
    page.locator("body").focus()
    tab_to(page, page.locator("summary.user-name"))
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_role("button", name="Log out"))
    page.keyboard.press("Enter")
    expect(page.get_by_label("Username")).to_be_visible()
    page.screenshot(path=SHOTS.format(theme="system", width=1280, name="logged-out"))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_member_sees_only_the_team_pages_a_member_may_use_and_no_approvals_count(page, live_server):
    from playwright.sync_api import expect

    owner = busy_demo(live_server)
    team = Membership.objects.get(user=owner, role=Role.OWNER).team
    member = User.objects.create_user("demo2", password="demo-pass-123")
    Membership.objects.create(team=team, user=member, role=Role.MEMBER)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("demo2")
    page.get_by_label("Password").fill("demo-pass-123")
    page.get_by_role("button", name="Log in").click()
    team_button = page.locator("summary.team-name")
    expect(team_button).to_contain_text(LONG_TEAM[:12])
    expect(page.locator("#approval-count")).to_have_count(0)
    expect(page.locator("nav.nav").get_by_role("link", name="Review")).to_have_count(0)
    team_button.click()
    menu = page.locator(".team-menu")
    for name in ("Spend", "Prices", "Keys", "Team settings"):
        expect(menu.get_by_role("link", name=name, exact=True)).to_be_visible()
    for name in ("Approvals", "Audit", "Webhooks"):
        expect(menu.get_by_role("link", name=name, exact=True)).to_have_count(0)
    expect(menu.locator(".menu-heading")).to_have_count(0)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_on_a_phone_the_navigation_folds_and_the_open_menus_never_scroll_sideways(page, live_server, theme):
    from playwright.sync_api import expect

    busy_demo(live_server)
    page.set_viewport_size({"width": 375, "height": 812})
    page.emulate_media(color_scheme=theme)
    log_in(page, live_server)
    page.get_by_label("Prompt").wait_for()
    expect(page.locator("nav.nav a", has_text="History")).to_be_hidden()
    expect(page.locator("summary.team-name #approval-count")).to_have_text("1")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=SHOTS.format(theme=theme, width=375, name="studio"))
    page.get_by_text("Menu", exact=True).click()
    expect(page.locator("nav.nav a", has_text="Notifications")).to_be_visible()
    page.screenshot(path=SHOTS.format(theme=theme, width=375, name="menu"))
    for button in ("summary.team-name", "summary.user-name"):
        page.locator(button).click()
        expect(page.locator(f"details:has(> {button}) > div")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, button
        box = page.locator(f"details:has(> {button}) > div").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375, (button, box)
        page.screenshot(path=SHOTS.format(theme=theme, width=375, name=button.split(".")[1]))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [768, 900, 1024])
def test_on_a_tablet_nothing_in_the_header_overlaps_or_scrolls_sideways(page, live_server, width):
    """Between phone and laptop the row may not hold everything: items move down, never on top
    of each other, and the page never scrolls sideways."""
    busy_demo(live_server)
    page.set_viewport_size({"width": width, "height": 800})
    log_in(page, live_server)
    page.get_by_label("Prompt").wait_for()
    boxes = page.evaluate(
        """() => [...document.querySelectorAll('.topbar .brand, .topbar .nav > a, .topbar .nav-menu > summary')]
            .map(e => { const r = e.getBoundingClientRect();
                        return {text: e.textContent.trim(), left: r.left, right: r.right, top: r.top, bottom: r.bottom}; })"""
    )
    for i, a in enumerate(boxes):
        assert a["right"] <= width, a
        for b in boxes[i + 1 :]:
            apart = a["right"] <= b["left"] + 0.5 or b["right"] <= a["left"] + 0.5
            apart = apart or a["bottom"] <= b["top"] + 0.5 or b["bottom"] <= a["top"] + 0.5
            assert apart, (a, b)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=SHOTS.format(theme="system", width=width, name="tablet"))


@pytest.mark.django_db
def test_someone_in_no_team_still_gets_a_working_header(client):
    """Left every team: the header still renders, with a Team menu leading to the team pages
    and a user menu with Log out, and no approvals count."""
    user = User.objects.create_user("loner", password="pw-loner-123")
    client.force_login(user)
    response = client.get(reverse("account"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="team-name"' in html and reverse("teams") in html and "Switch to" not in html
    assert 'class="user-name"' in html and reverse("logout") in html
    assert 'id="approval-count"' not in html


@pytest.mark.django_db
def test_a_hostile_team_name_is_shown_as_text_in_the_team_button_and_its_tooltip(client):
    user = User.objects.create_user("mallory", password="pw-mallory-123")
    team = Team.create_personal(user)
    Team.objects.filter(pk=team.pk).update(name='"><img src=x onerror=alert(1)>')
    client.force_login(user)
    html = client.get(reverse("history")).content.decode()
    assert "<img src=x" not in html
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_open_menu_closes_on_escape_and_on_a_click_outside(page, live_server):
    from playwright.sync_api import expect

    busy_demo(live_server)
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_server)
    for summary in ("summary.team-name", "summary.user-name"):
        menu = page.locator(f"details:has(> {summary})")
        page.locator(summary).click()
        expect(menu).to_have_attribute("open", "")
        page.keyboard.press("Escape")
        expect(menu).not_to_have_attribute("open", "")
        assert page.evaluate("selector => document.activeElement.matches(selector)", summary)
        page.locator(summary).click()
        expect(menu).to_have_attribute("open", "")
        page.locator("main").click(position={"x": 5, "y": 5})
        expect(menu).not_to_have_attribute("open", "")

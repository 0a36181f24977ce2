"""The studio for keyboards and light rooms, in headless Chromium: the skip link is the first
Tab stop, Ctrl+Enter submits, the new card takes the focus, and a light theme follows the
system setting or the member's choice (screenshots of both themes at 1280 and 375 px)."""

from __future__ import annotations

import re

import pytest

from tests.test_browser import CHROMIUM, browser_type_launch_args, demo_with_sandbox_key, log_in  # noqa: F401
from videos.models import AuditEntry, GatewayKey, Generation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = "/tmp/wt-polish-{theme}-{width}-{name}.png"


def rgb(css: str) -> tuple[float, ...]:
    return tuple(float(v) for v in re.findall(r"[\d.]+", css)[:3])


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two ``rgb(…)`` colours."""

    def luminance(colour):
        channels = [c / 255 for c in rgb(colour)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def colours(page) -> dict:
    return page.evaluate(
        """() => {
        const s = getComputedStyle(document.body), help = document.querySelector('.help, h1 small');
        return {bg: s.backgroundColor, text: s.color, muted: help ? getComputedStyle(help).color : s.color,
                theme: document.documentElement.dataset.theme || 'system'};
    }"""
    )


def test_the_skip_link_is_the_first_tab_stop_and_jumps_to_the_content(page, live_server):
    from playwright.sync_api import expect

    demo_with_sandbox_key(live_server)
    log_in(page, live_server)
    page.get_by_label("Prompt").wait_for()
    page.locator("body").focus()
    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    assert skip.bounding_box()["y"] >= 0  # shown on screen once focused
    outline = skip.evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline != "none"  # a visible focus ring
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    page.keyboard.press("Tab")  # the next stop is inside the page, past the navigation
    assert page.evaluate("document.activeElement.closest('main') !== null")


def test_ctrl_enter_generates_and_the_new_card_takes_the_focus(page, live_server, settings):
    from playwright.sync_api import expect

    settings.STUDIO_SANDBOX_RUN_SECONDS = 60  # the card stays running, so it refreshes itself
    settings.STUDIO_SANDBOX_URL = f"{live_server.url}/sandbox"  # the live server serves the sandbox
    demo_with_sandbox_key(live_server)
    log_in(page, live_server)
    prompt = page.get_by_label("Prompt")
    prompt.fill("A kite over the dunes at dawn")
    prompt.press("Control+Enter")
    card = page.locator("article.card").first
    expect(card).to_contain_text("A kite over the dunes")
    expect(card).to_be_focused()
    assert Generation.objects.filter(prompt="A kite over the dunes at dawn").count() == 1
    ring = card.evaluate("e => getComputedStyle(e).outlineStyle")
    assert ring != "none"
    # The worker moves the task on; the page's one refresh swaps the changed card in place.
    from videos.models import Task

    Task.objects.filter(generation__prompt="A kite over the dunes at dawn").update(progress=40)
    with page.expect_response(lambda r: r.url.endswith("/live") and r.status == 200, timeout=15_000):
        pass
    expect(page.locator("article.card").first).to_contain_text("40")
    expect(page.locator("article.card").first).to_be_focused()  # and the focus stays on it
    page.screenshot(path=SHOTS.format(theme="system", width=1280, name="new-card"))

    # A textarea outside the compose form submits its own form the same way; Enter alone does not.
    prompt.fill("Second take, wider")
    prompt.press("Enter")
    assert Generation.objects.filter(prompt__startswith="Second take").count() == 0
    prompt.press("Meta+Enter")
    expect(page.locator("article.card").first).to_contain_text("Second take")
    expect(page.locator("article.card").first).to_be_focused()


def test_ctrl_enter_never_picks_a_review_decision(page, live_server):
    """A form with several submit buttons (accept, changes, reject) is left alone."""
    from tests.conftest import awaiting

    user = demo_with_sandbox_key(live_server)
    key = GatewayKey.objects.get(owner=user)
    awaiting(user, key.team, key, prompt="A heron waiting")
    log_in(page, live_server)
    page.goto(f"{live_server.url}/review/")
    comment = page.locator("form.review-form textarea").first
    if comment.count() == 0:
        pytest.skip("the review desk has no comment box here")
    comment.fill("Needs a slower pan")
    comment.press("Control+Enter")
    page.wait_for_load_state("networkidle")
    assert not AuditEntry.objects.filter(action="generation.reviewed").exists()


@pytest.mark.parametrize("width", [1280, 375])
def test_the_light_theme_follows_the_system_and_the_toggle_overrides_it(page, live_server, width):
    from playwright.sync_api import expect

    from tests.conftest import awaiting
    from videos.audit import record_action

    user = demo_with_sandbox_key(live_server)
    key = GatewayKey.objects.get(owner=user)
    made = awaiting(user, key.team, key, prompt="Sunset over the sea, a slow pan across the waves")
    record_action(
        key.team, user, "generation.sent_to_review", "“Sunset over the sea, a slow pan…”", uuid=str(made.uuid)
    )
    record_action(key.team, user, "key.added", f"{key.label} ({key.masked})", dialect=key.dialect)
    page.set_viewport_size({"width": width, "height": 900})
    page.emulate_media(color_scheme="light")
    log_in(page, live_server)
    page.get_by_label("Prompt").wait_for()
    light = colours(page)
    assert light["theme"] == "system"
    assert sum(rgb(light["bg"])) > 600, light  # a light page
    assert contrast(light["text"], light["bg"]) >= 7 and contrast(light["muted"], light["bg"]) >= 4.5, light
    page.screenshot(path=SHOTS.format(theme="light", width=width, name="studio"), full_page=True)
    page.goto(f"{live_server.url}/audit/")
    expect(page.locator(".audit-sentence a").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=SHOTS.format(theme="light", width=width, name="audit"), full_page=True)

    # The member picks dark: it wins over the system's light, and lasts across pages.
    page.locator("summary.user-name").click()  # the theme is in the user menu
    choice = page.get_by_label("Theme")
    choice.select_option("dark")
    dark = colours(page)
    assert dark["theme"] == "dark" and sum(rgb(dark["bg"])) < 100, dark
    assert contrast(dark["text"], dark["bg"]) >= 7 and contrast(dark["muted"], dark["bg"]) >= 4.5, dark
    page.goto(f"{live_server.url}/")
    page.get_by_label("Prompt").wait_for()
    assert colours(page)["theme"] == "dark"
    expect(page.get_by_label("Theme")).to_have_value("dark")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=SHOTS.format(theme="dark", width=width, name="studio"), full_page=True)
    page.goto(f"{live_server.url}/audit/")
    page.screenshot(path=SHOTS.format(theme="dark", width=width, name="audit"), full_page=True)

    # Back to the system's setting; then a dark system turns it dark with no choice stored.
    page.locator("summary.user-name").click()
    page.get_by_label("Theme").select_option("system")
    assert sum(rgb(colours(page)["bg"])) > 600
    page.emulate_media(color_scheme="dark")
    assert sum(rgb(colours(page)["bg"])) < 100
    page.get_by_label("Theme").select_option("light")
    assert sum(rgb(colours(page)["bg"])) > 600  # light chosen in a dark room


def test_the_chosen_theme_is_on_the_page_before_it_paints(page, live_server):
    """No flash: the stored choice is on <html> when the first stylesheet applies."""
    demo_with_sandbox_key(live_server)
    page.emulate_media(color_scheme="dark")
    page.add_init_script("window.localStorage.setItem('studio-theme', 'light')")
    seen = []
    page.on("console", lambda message: seen.append(message.text))
    page.add_init_script(
        """document.addEventListener('readystatechange', () => {
            if (document.readyState === 'interactive')
              console.log('theme at parse end: ' + document.documentElement.dataset.theme);
        });"""
    )
    page.goto(f"{live_server.url}/accounts/login/")
    assert "theme at parse end: light" in seen
    assert sum(rgb(colours(page)["bg"])) > 600
    page.screenshot(path=SHOTS.format(theme="light", width=1280, name="login"))


@pytest.mark.parametrize("width", [1280, 375])
def test_every_page_reads_in_the_light_theme(page, live_server, width):
    """Each page a member walks to, light: readable text, nothing scrolling sideways on a phone."""
    from tests.conftest import awaiting
    from tests.test_browser import PHONE_PAGES

    user = demo_with_sandbox_key(live_server)
    key = GatewayKey.objects.get(owner=user)
    awaiting(user, key.team, key, prompt="A heron waiting in the reeds")
    page.set_viewport_size({"width": width, "height": 900})
    page.emulate_media(color_scheme="light")
    log_in(page, live_server)
    for path in PHONE_PAGES:
        page.goto(f"{live_server.url}{path}")
        seen = colours(page)
        assert sum(rgb(seen["bg"])) > 600, (path, seen)
        assert contrast(seen["text"], seen["bg"]) >= 7 and contrast(seen["muted"], seen["bg"]) >= 4.5, (path, seen)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
        name = path.strip("/") or "studio"
        page.screenshot(path=SHOTS.format(theme="light", width=width, name=f"page-{name}"), full_page=True)

"""In Chromium (issue 14's acceptance): a reviewer pins a note at 2.5 s; the author sees the
marker and the notification, clicks the marker and the player is at 2.5 s; a reply resolves
it. Two versions play side by side in step. Screenshots at 1280 and 375 px wide."""

from __future__ import annotations

import pytest

from accounts.models import Membership, Role, User
from tests.conftest import add_key, make_generation, run_until_done
from tests.test_browser import (  # noqa: F401 - the fixture is used by pytest-playwright
    LOADED_DURATION,
    browser_type_launch_args,
    demo_with_sandbox_key,
    log_in,
)
from videos.models import Generation, Note, Review, TaskState

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = "/tmp/wt-notes-{name}-{width}.png"
#: Resolves once the video has finished seeking (at once when it is not seeking).
SEEKED = """v => new Promise(resolve => { if (!v.seeking) return resolve(v.currentTime);
    v.addEventListener('seeked', () => resolve(v.currentTime), {once: true}); })"""


#: True once neither player is seeking and both stand within 0.1 s of ``t`` seconds.
BOTH_AT = """t => [...document.querySelectorAll('video[data-compare-player]')]
    .every(v => !v.seeking && Math.abs(v.currentTime - t) < 0.1)"""


def log_in_as(page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def rendered(author, team, key, prompt: str, parent: Generation | None = None, duration: int = 4) -> Generation:
    """A finished generation with a real MP4 rendered by the sandbox, sent to review."""
    generation = make_generation(author, team, key, prompt=prompt, duration=duration)
    assert run_until_done(generation.task.pk).state == TaskState.COMPLETED
    Generation.objects.filter(pk=generation.pk).update(review=Review.AWAITING, parent=parent)
    return Generation.objects.get(pk=generation.pk)


def fits_a_phone(page) -> None:
    page.set_viewport_size({"width": 375, "height": 812})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{page.url} is {width} px wide"


def test_a_reviewer_pins_a_note_and_the_author_seeks_to_it_and_resolves_it(page, browser, live_server, gateway):
    from playwright.sync_api import expect

    reviewer = demo_with_sandbox_key(live_server)
    team = reviewer.teams.get()
    author = User.objects.create_user("bob", password="bob-pass-123")
    Membership.objects.create(team=team, user=author, role=Role.MEMBER)
    video = rendered(author, team, add_key(author, team, secret="sk-sandbox-bob-notes"), "A kite over the dunes")
    url = f"{live_server.url}/generations/{video.uuid}/"

    # The reviewer pauses at 2.5 s and pins a note there.
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server)
    page.goto(url)
    player = page.locator("video.player")
    assert player.evaluate(LOADED_DURATION) == pytest.approx(4, abs=0.2)
    player.evaluate("v => { v.currentTime = 2.5; }")
    player.evaluate(SEEKED)
    page.get_by_role("button", name="Note at current time").click()
    expect(page.get_by_label("Time code")).to_have_value("0:02.5")
    page.get_by_label("Note", exact=True).fill("The horizon tilts here, @bob")
    page.get_by_role("button", name="Pin note").click()
    expect(page.locator(".note")).to_contain_text("The horizon tilts here")
    expect(page.locator(".scrub-bar .note-marker")).to_have_count(1)
    note = Note.objects.get()
    assert note.time_s == 2.5 and note.author == reviewer
    page.screenshot(path=SHOTS.format(name="pinned", width=1280), full_page=True)

    # The author, in a browser of their own, is told and sees the marker.
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    bob = context.new_page()
    log_in_as(bob, live_server, "bob", "bob-pass-123")
    expect(bob.locator("#notification-count")).to_be_visible()  # also "your video is ready"
    bob.goto(f"{live_server.url}/notifications/")
    expect(bob.locator("main")).to_contain_text("demo left a note at 0:02.5")
    bob.goto(url)
    bob_player = bob.locator("video.player")
    assert bob_player.evaluate(LOADED_DURATION) == pytest.approx(4, abs=0.2)
    marker = bob.locator(".scrub-bar .note-marker")
    expect(marker).to_have_count(1)
    left = marker.evaluate("m => parseFloat(m.style.left)")
    assert left == pytest.approx(2.5 / 4 * 100, abs=2)  # placed by time over duration
    marker.click()
    bob.wait_for_function("() => Math.abs(document.querySelector('video.player').currentTime - 2.5) < 0.05")
    assert bob_player.evaluate(SEEKED) == pytest.approx(2.5, abs=0.05)

    # A reply resolves it.
    bob.get_by_label("Reply", exact=True).fill("Levelled it in the next take")
    bob.get_by_role("button", name="Reply and resolve").click()
    expect(bob.locator(".note.resolved")).to_contain_text("Levelled it in the next take")
    expect(bob.locator(".scrub-bar .note-marker.resolved")).to_have_count(1)
    note.refresh_from_db()
    assert note.resolved_by == author and note.replies.get().body == "Levelled it in the next take"
    bob.screenshot(path=SHOTS.format(name="resolved", width=1280), full_page=True)
    fits_a_phone(bob)
    bob.screenshot(path=SHOTS.format(name="resolved", width=375), full_page=True)
    context.close()


def test_two_versions_play_side_by_side_in_step(page, live_server, gateway):
    from playwright.sync_api import expect

    member = demo_with_sandbox_key(live_server)
    team = member.teams.get()
    key = add_key(member, team, secret="sk-sandbox-demo-versions")
    first = rendered(member, team, key, "A lighthouse at dusk")
    second = rendered(member, team, key, "A lighthouse at dusk in the rain", parent=first)

    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server)
    page.goto(f"{live_server.url}/generations/{second.uuid}/")
    expect(page.locator(".versions")).to_contain_text("this is version 2 of 2")
    page.screenshot(path=SHOTS.format(name="versions", width=1280), full_page=True)
    page.get_by_role("link", name="Compare with v1").click()
    expect(page.locator("h1")).to_contain_text("Version 2 and version 1")
    expect(page.locator(".prompt-diff del")).to_have_text("in the rain")  # only in v2, on the left
    players = page.locator("video[data-compare-player]")
    expect(players).to_have_count(2)
    for i in (0, 1):
        assert players.nth(i).evaluate(LOADED_DURATION) == pytest.approx(4, abs=0.2)

    in_step = """() => { const [a, b] = document.querySelectorAll('video[data-compare-player]');
        return !a.seeking && !b.seeking && Math.abs(a.currentTime - b.currentTime) < 0.1 && a.currentTime > 0; }"""
    # A seek on the left: the right follows.
    players.nth(0).evaluate("v => { v.currentTime = 1.5; }")
    page.wait_for_function(BOTH_AT, arg=1.5)
    # A seek on the right: the left follows.
    players.nth(1).evaluate("v => { v.currentTime = 3.0; }")
    page.wait_for_function(BOTH_AT, arg=3.0)
    # Play both, then pause one: both pause, still in step.
    players.nth(0).evaluate("v => { v.currentTime = 0.5; }")
    page.wait_for_function(in_step)
    page.get_by_role("button", name="Play both").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('video[data-compare-player]')].every(v => !v.paused && v.currentTime > 0.8)"
    )
    players.nth(1).evaluate("v => v.pause()")
    page.wait_for_function("() => [...document.querySelectorAll('video[data-compare-player]')].every(v => v.paused)")
    page.wait_for_function(in_step)
    page.screenshot(path=SHOTS.format(name="compare", width=1280), full_page=True)
    fits_a_phone(page)
    page.screenshot(path=SHOTS.format(name="compare", width=375), full_page=True)

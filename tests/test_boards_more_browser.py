"""Boards, continued, in headless Chromium: a board with two videos and a sequence is
shared from its page; a guest opens the link in a fresh browser context (no login), plays a
video, switches to the other and leaves a note on it. A studio card's "Add to board" leads
to the video's form. Screenshots at 1280 and 375 px: /tmp/wt-boards2-*.png."""

from __future__ import annotations

import pytest

from tests.test_boards_browser import finished_videos
from tests.test_browser import LOADED_DURATION, browser_type_launch_args, demo_with_sandbox_key, log_in  # noqa: F401
from videos import actions
from videos.models import Generation, GuestNote

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = "/tmp/wt-boards2-{}-{}.png"


def shoot(page, name: str) -> None:
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=SHOTS.format(name, width), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} scrolls sideways at {width}"
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_board_is_shared_and_a_guest_plays_its_videos_in_a_fresh_context(page, browser, live_server, gateway):
    from playwright.sync_api import expect

    user = demo_with_sandbox_key(live_server)
    team = user.teams.get()
    made = finished_videos(user, ["A red kite over the dunes", "A lighthouse in a storm"])
    kite, tower = (Generation.objects.select_related("task", "team").get(pk=g.pk) for g in made)
    board = actions.create_board(team, user, name="Coast campaign", description="Seaside spots")
    actions.add_to_board(board, [kite, tower], user)
    sequence = actions.create_sequence(team, user, "Coast cut")
    actions.add_shot(sequence, kite, user)

    log_in(page, live_server)
    # The studio card leads to the video's Add to board form.
    page.goto(f"{live_server.url}/")
    card_link = page.locator(f"#card-{kite.uuid} a.add-to-board-link")
    expect(card_link).to_be_visible()
    shoot(page, "studio")
    card_link.click()
    expect(page.locator(f"#add-board-{kite.uuid}")).to_be_visible()

    # The sequence's page offers its boards; the sequence goes on this one from the board's page.
    page.goto(f"{live_server.url}/sequences/{sequence.uuid}/")
    expect(page.locator("#sequence-board")).to_be_visible()
    shoot(page, "sequence")
    page.goto(f"{live_server.url}/boards/{board.uuid}/")
    page.get_by_label("Sequence", exact=True).select_option(label="Coast cut")
    page.get_by_role("button", name="Put on the board").click()
    expect(page.locator(".board-sequence")).to_contain_text("Coast cut")
    shoot(page, "board")

    page.get_by_role("link", name="Share", exact=True).click()
    page.get_by_role("button", name="Make a share link").click()
    link_box = page.locator("#share-link-new")
    expect(link_box).to_be_visible()
    url = link_box.input_value()
    shoot(page, "share-create")

    context = browser.new_context()
    guest = context.new_page()
    assert guest.goto(url).status == 200
    expect(guest.get_by_role("heading", name="Coast campaign")).to_be_visible()
    expect(guest.locator("nav")).to_have_count(0)
    assert guest.locator("#share-player").evaluate(LOADED_DURATION) > 0
    token_path = url.removeprefix(live_server.url)
    hrefs = guest.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    assert hrefs and all(h.startswith(token_path) for h in hrefs), hrefs
    shoot(guest, "guest")

    guest.get_by_role("link", name="A lighthouse in a storm").click()
    expect(guest.get_by_role("heading", name="A lighthouse in a storm")).to_be_visible()
    assert guest.locator("#share-player").evaluate(LOADED_DURATION) > 0
    guest.get_by_label("Your name").fill("Carla")
    guest.get_by_label("Note").fill("Brighter beam, please.")
    guest.get_by_role("button", name="Add note").click()
    expect(guest.locator(".guest-note").first).to_contain_text("Brighter beam")
    assert GuestNote.objects.get().generation_id == tower.pk
    shoot(guest, "guest-note")
    context.close()

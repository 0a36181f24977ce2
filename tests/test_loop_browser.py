"""Issue 13's acceptance walk in Chromium, as a member does it: two takes of one request on the
studio page, their grid shows them finish, choose one, use its last frame for a new request,
put the shots in a sequence and continue it, make a board, put the sequence on it, render it
from the board and play the render. Screenshots of each step: /tmp/wt-walk-*.png."""

from __future__ import annotations

import pytest

from tests.test_browser import (  # noqa: F401 (browser_type_launch_args: Debian's chromium)
    LOADED_DURATION,
    browser_type_launch_args,
    demo_with_sandbox_key,
    log_in,
)
from videos.models import Generation, Sequence

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page, name: str, width: int = 1280) -> None:
    """A full-page screenshot at ``width`` px, checked not to scroll sideways."""
    page.set_viewport_size({"width": width, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} scrolls sideways at {width}"
    page.screenshot(path=f"/tmp/wt-walk-{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def wait_completed(page, card, timeout: int = 60_000) -> None:
    from playwright.sync_api import expect

    expect(card).to_have_attribute("data-state", "completed", timeout=timeout)


def test_takes_choose_frame_continue_board_render_and_play(page, live_server, poller, settings):
    from playwright.sync_api import expect

    settings.STUDIO_SANDBOX_RUN_SECONDS = 1
    settings.STUDIO_SANDBOX_URL = f"{live_server.url}/sandbox"
    demo_with_sandbox_key(live_server)
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server)

    # 1. Two takes of a short request; their grid shows them finish.
    page.get_by_label("Prompt").fill("A paper boat drifting down a rainy street")
    page.get_by_label("Duration (s)").select_option("2")
    page.get_by_label("Resolution").select_option("480p")
    page.get_by_label("Takes").fill("2")
    page.get_by_label("Takes").dispatch_event("change")
    expect(page.locator(".estimate-takes")).to_contain_text("2 takes")
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page.locator("article.card")).to_have_count(2)
    shot(page, "1-studio")
    page.locator("article.card .take-line a").first.click()
    grid = page.locator(".takes-grid article.card")
    expect(grid).to_have_count(2)
    for i in range(2):
        wait_completed(page, grid.nth(i))
    shot(page, "1-grid")

    # 2. Choose the second take.
    grid.nth(1).get_by_role("button", name="Choose this take").click()
    expect(grid.nth(1).locator(".chosen-take")).to_be_visible()
    chosen = Generation.objects.get(chosen_take=True)
    shot(page, "2-chosen")

    # 3. Its last frame opens the compose form as the reference image; generate from it.
    grid.nth(1).get_by_role("link", name="details").click()
    expect(page).to_have_url(f"{live_server.url}/generations/{chosen.uuid}/")
    expect(page.locator(".take-of")).to_contain_text("Chosen take")
    expect(page.locator(".take-of a")).to_have_attribute("href", f"/takes/{chosen.take_group}/")
    shot(page, "3-detail")
    page.get_by_role("button", name="Use the last frame").click()
    expect(page.locator(".frame-note")).to_contain_text("From frame")
    expect(page.get_by_label("Prompt")).to_have_value("A paper boat drifting down a rainy street")
    page.get_by_label("Takes").fill("1")
    page.get_by_label("Prompt").fill("The paper boat sails under a bridge")
    shot(page, "3-compose")
    page.get_by_role("button", name="Generate", exact=True).click()
    framed_card = page.locator("article.card").first
    expect(framed_card).to_contain_text("under a bridge")
    wait_completed(page, framed_card)
    framed = Generation.objects.get(prompt="The paper boat sails under a bridge")
    assert framed.frame_of_id == chosen.pk and framed.reference_images.count() == 1

    # 4. The chosen take starts a sequence; the framed shot joins it and is continued.
    page.goto(f"{live_server.url}/generations/{chosen.uuid}/")
    page.get_by_label("New sequence name").fill("Rainy street")
    page.get_by_role("button", name="Add to sequence").click()
    expect(page.locator("h1")).to_contain_text("Rainy street")
    expect(page.locator("li.shot")).to_have_count(1)
    page.goto(f"{live_server.url}/generations/{framed.uuid}/")
    expect(page.locator(".lineage")).to_contain_text("from frame")
    page.get_by_label("Sequence", exact=True).select_option(label="Rainy street")
    page.get_by_role("button", name="Continue this shot").click()
    expect(page.locator("h1")).to_contain_text("Rainy street")
    shots = page.locator("li.shot")
    expect(shots).to_have_count(3)
    for _ in range(60):  # the sandbox renders the continued shot; the poller archives it
        if shots.nth(2).locator(".badge").inner_text() == "Completed":
            break
        page.wait_for_timeout(1000)
        page.reload()
    expect(shots.nth(2).locator(".badge")).to_have_text("Completed")
    sequence = Sequence.objects.get(name="Rainy street")
    in_order = [s.generation for s in sequence.shots.order_by("position")]
    assert in_order[:2] == [chosen, framed] and in_order[2].frame_of_id == framed.pk
    shot(page, "4-sequence")

    # 5. A board, and the sequence on it.
    page.goto(f"{live_server.url}/boards/")
    page.get_by_label("Name").fill("Rain")
    page.get_by_role("button", name="Make the board").click()
    expect(page.get_by_role("heading", name="Rain")).to_be_visible()
    page.goto(f"{live_server.url}/sequences/{sequence.uuid}/")
    page.get_by_label("Board").select_option(label="Rain")
    page.get_by_role("button", name="Add to board").click()
    expect(page.locator(".sequence-boards .on-boards")).to_contain_text("Rain")
    page.locator(".sequence-boards .on-boards").get_by_role("link", name="Rain").click()
    expect(page.locator(".board-sequence")).to_contain_text("Rainy street")
    expect(page.locator(".board-facts")).to_contain_text("1 sequence")
    expect(page.locator(".empty")).not_to_contain_text("Nothing on this board")
    shot(page, "5-board")

    # 6. Render the board's sequence; its page follows the render to the end.
    page.locator(".board-sequence").get_by_role("button", name="Render “Rainy street” to one MP4").click()
    expect(page.locator("h1")).to_contain_text("Rainy street")
    expect(page.locator("#sequence-player")).to_be_visible(timeout=60_000)
    shot(page, "6-rendered")
    on_boards = page.locator(".sequence-boards .on-boards")
    name_box = on_boards.get_by_role("link", name="Rain").bounding_box()
    off_box = on_boards.get_by_role("button", name="Take it off “Rain”").bounding_box()
    assert abs(off_box["y"] - name_box["y"]) < name_box["height"], "the × sits beside the board's name"
    page.locator(".sequence-boards .on-boards").get_by_role("link", name="Rain").click()
    player = page.locator(".board-sequence video")
    expect(player).to_be_visible()
    expect(page.locator(".board-sequence").get_by_role("button", name="Render “Rainy street” again")).to_be_visible()

    # 7. Play it: it runs, and lasts as long as its shots together.
    total = sum(s.generation.asset.duration_s for s in sequence.shots.select_related("generation__asset"))
    assert player.evaluate(LOADED_DURATION) == pytest.approx(total, abs=0.1)
    played = player.evaluate(
        "v => { v.muted = true; return v.play().then(() => new Promise(r => setTimeout(() => r(v.currentTime), 700))); }"
    )
    assert played > 0
    shot(page, "7-board", width=375)
    shot(page, "7-board")

"""Boards and the prompt library in headless Chromium (issue 13): make a board, add videos
to it from History in bulk ("Select all on this page"), filter History by it, download its
ZIP; a tile previews muted on hover; "Use" on a template fills the compose form, and "Save as
template" saves the compose form. Screenshots at 1280 and 375 px: /tmp/wt-boards-*.png."""

from __future__ import annotations

import io
import zipfile

import pytest

from tests.conftest import add_key, make_generation, run_until_done
from tests.test_browser import browser_type_launch_args, demo_with_sandbox_key, log_in  # noqa: F401
from tests.test_history import quick
from videos import actions
from videos.models import Board, BoardItem, Generation, PromptTemplate, TaskState

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = "/tmp/wt-boards-{}-{}.png"


def shoot(page, name: str) -> None:
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=SHOTS.format(name, width), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} scrolls sideways at {width}"
    page.set_viewport_size({"width": 1280, "height": 900})


def finished_videos(user, prompts) -> list[Generation]:
    team = user.teams.get()
    key = add_key(user, team, secret="sk-sandbox-demo-boards", label="In-process sandbox")
    made = []
    for prompt in prompts:
        generation = make_generation(user, team, key, prompt=prompt)
        assert run_until_done(generation.task.pk).state == TaskState.COMPLETED
        made.append(generation)
    return made


def test_a_board_is_made_filled_from_history_filtered_and_downloaded(page, live_server, gateway):
    from playwright.sync_api import expect

    user = demo_with_sandbox_key(live_server)
    finished_videos(user, ["A lighthouse in a storm", "A red kite over dunes"])
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server)

    page.goto(f"{live_server.url}/boards/")
    page.get_by_label("Name").fill("Spring campaign")
    page.get_by_label("Description").fill("Ads for the spring launch")
    page.get_by_role("button", name="Make the board").click()
    expect(page.get_by_role("heading", name="Spring campaign")).to_be_visible()
    board = Board.objects.get()

    page.goto(f"{live_server.url}/history/")
    video = page.locator("video[data-hover-preview]").first
    assert video.evaluate("v => v.readyState") == 0  # nothing loaded before the hover
    video.hover()
    page.wait_for_function("() => !document.querySelector('video[data-hover-preview]').paused", timeout=10000)
    assert video.evaluate("v => v.muted")
    page.mouse.move(5, 5)
    page.wait_for_function("() => document.querySelector('video[data-hover-preview]').paused", timeout=5000)

    page.get_by_label("Select all on this page").check()
    boxes = page.locator("#bulk input[name=ids]")
    assert boxes.count() == 2 and all(boxes.nth(i).is_checked() for i in range(2))
    page.locator("#bulk-board").select_option(label="Spring campaign")
    page.get_by_role("button", name="Add to board").click()
    expect(page.get_by_text("Added 2 video(s) to “Spring campaign”")).to_be_visible()
    assert BoardItem.objects.filter(board=board).count() == 2
    shoot(page, "history")

    quick(user, user.teams.get(), "Not on the board")
    page.goto(f"{live_server.url}/history/")
    expect(page.locator(".tile")).to_have_count(3)
    page.locator("#id_board").select_option(label="Spring campaign")
    expect(page.locator(".tile")).to_have_count(2)
    assert f"board={board.uuid}" in page.url

    page.goto(f"{live_server.url}/boards/")
    expect(page.get_by_text("2 videos")).to_be_visible()
    shoot(page, "list")
    page.get_by_role("link", name="Spring campaign").click()
    shoot(page, "board")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download ZIP").click()
    body = open(download.value.path(), "rb").read()
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        names = set(archive.namelist())
        manifest = archive.read("manifest.csv").decode()
    assert len(names - {"manifest.csv"}) == 2
    assert "A lighthouse in a storm" in manifest and "Not on the board" not in manifest
    assert download.value.suggested_filename.startswith("board-spring-campaign-")


def test_use_fills_the_compose_form_and_save_as_template_saves_it(page, live_server):
    from playwright.sync_api import expect

    user = demo_with_sandbox_key(live_server)
    team = user.teams.get()
    actions.save_template(
        team,
        user,
        name="Stormy lighthouse",
        tags="sea, night",
        prompt="A lighthouse in a storm, waves breaking",
        dialect="openai-preview",
        model="grok-imagine-video-1.5-preview",
        options={"duration": 4, "aspect_ratio": "9:16", "resolution": "480p"},
    )
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server)
    page.goto(f"{live_server.url}/prompts/")
    expect(page.get_by_text("Used 0 times")).to_be_visible()
    shoot(page, "prompts")
    page.get_by_role("link", name="Use").click()
    expect(page.get_by_label("Prompt")).to_have_value("A lighthouse in a storm, waves breaking")
    expect(page.get_by_label("Duration (s)")).to_have_value("4")
    expect(page.get_by_label("Aspect ratio")).to_have_value("9:16")
    expect(page.get_by_text("From the prompt library: “Stormy lighthouse”.")).to_be_visible()

    page.get_by_label("Prompt").fill("A kite festival on a windy beach")
    page.get_by_text("Save as template").click()
    page.get_by_label("Template name").fill("Kites")
    page.get_by_label("Tags (comma-separated)").fill("beach, wind")
    page.get_by_role("button", name="Save in the prompt library").click()
    expect(page.get_by_text("Saved “Kites” in the prompt library.")).to_be_visible()
    shoot(page, "compose")
    saved = PromptTemplate.objects.get(name="Kites")
    assert saved.prompt == "A kite festival on a windy beach" and saved.options["duration"] == 4
    assert saved.tags == ["beach", "wind"]

"""History's search and keyset pages in headless Chromium, at 1280 and 375 px wide."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.test_browser import CHROMIUM, browser_type_launch_args, demo_with_sandbox_key, log_in  # noqa: F401
from videos.models import Generation, Task, TaskState

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIGHTHOUSE = "海边的灯塔，黄昏，镜头缓慢推进"


def fill(user, n: int) -> None:
    team = user.teams.get()
    now = timezone.now()
    for i in range(n):
        prompt = LIGHTHOUSE if i == 5 else f"Clip {i:02}: a paper boat on a rainy street"
        generation = Generation.objects.create(
            team=team,
            author=user,
            dialect="openai-preview",
            model_name="sora-2",
            key_label="Sandbox",
            prompt=prompt,
            created_at=now - timedelta(minutes=i),
        )
        Task.objects.create(generation=generation, state=TaskState.FAILED)


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"the page is {width} px wide"


@pytest.mark.parametrize("width", [1280, 375])
def test_a_chinese_search_and_the_older_newer_links(page, live_server, width):
    user = demo_with_sandbox_key(live_server)
    fill(user, 30)
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server)
    page.goto(f"{live_server.url}/history/")
    tiles = page.locator(".tile .prompt")
    assert tiles.count() == 24
    assert page.locator(".pager .total").inner_text() == "30 videos"

    page.get_by_role("link", name="Older →").click()
    page.wait_for_url("**cursor=**")
    page.get_by_role("link", name="← Newer").wait_for()
    assert tiles.count() == 6 and page.get_by_role("link", name="Older →").count() == 0
    no_sideways_scroll(page)
    page.screenshot(path=f"/tmp/wt-search-older-{width}.png", full_page=True)

    page.get_by_role("link", name="← Newer").click()
    page.get_by_role("link", name="Older →").wait_for()
    assert tiles.count() == 24

    search = page.get_by_role("searchbox", name="Search prompts")
    search.fill("黄昏 灯塔")
    search.press("Enter")
    expect(page.locator(".tile")).to_have_count(1)
    assert tiles.inner_text() == LIGHTHOUSE
    assert page.locator(".pager .total").inner_text() == "1 video"
    no_sideways_scroll(page)
    page.screenshot(path=f"/tmp/wt-search-found-{width}.png", full_page=True)

"""A browser that asks for Chinese (``Accept-Language: zh-Hans``) gets the studio in
Chinese: the login page, the studio page, a generation made there that completes live,
History, and the detail page, at 1280 and at 375 px wide. Words are looked up in the
catalog, so the test follows the translation rather than copying it."""

from __future__ import annotations

import pytest
from django.utils import translation
from playwright.sync_api import expect

from tests.test_browser import CHROMIUM, LOADED_DURATION, browser_type_launch_args, demo_with_sandbox_key  # noqa: F401
from tests.test_i18n_pages import english_left
from videos.models import Generation, TaskState

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PROMPT = "海边的灯塔，黄昏，镜头缓慢推进"


def zh(text: str) -> str:
    with translation.override("zh-hans"):
        chinese = translation.gettext(text)
    assert chinese != text, f"{text!r} has no Chinese translation"
    return chinese


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "zh-CN", "extra_http_headers": {"Accept-Language": "zh-Hans"}}


def speaks_chinese(page) -> None:
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    left = english_left(page.content())
    assert not left, f"{page.url} still shows English: {sorted(set(left))}"


@pytest.mark.parametrize("width", [1280, 375])
def test_a_chinese_browser_gets_a_chinese_studio_and_a_generation_completes(page, live_server, poller, settings, width):
    settings.STUDIO_SANDBOX_RUN_SECONDS = 2
    settings.STUDIO_SANDBOX_URL = f"{live_server.url}/sandbox"
    user = demo_with_sandbox_key(live_server)
    user.teams.update(name="演示团队")  # made in English outside a request: data, not the interface
    page.set_viewport_size({"width": width, "height": 900})

    page.goto(f"{live_server.url}/accounts/login/")
    speaks_chinese(page)
    page.get_by_label(zh("Username")).fill("demo")
    page.get_by_label(zh("Password")).fill("demo-pass-123")
    page.get_by_role("button", name=zh("Log in")).click()

    page.get_by_label(zh("Prompt")).wait_for()
    speaks_chinese(page)
    page.get_by_label(zh("Prompt")).fill(PROMPT)
    page.get_by_role("button", name=zh("Generate"), exact=True).click()
    card = page.locator("article.card").first
    expect(card).to_contain_text(PROMPT)
    expect(card).to_have_attribute("data-state", "completed", timeout=60_000)
    expect(card.locator(".badge").first).to_have_text(zh("Completed"))
    assert card.locator("video").evaluate(LOADED_DURATION) > 0
    speaks_chinese(page)
    page.screenshot(path=f"/tmp/zh-studio-{width}.png", full_page=True)

    generation = Generation.objects.get()
    assert generation.task.state == TaskState.COMPLETED and generation.language == "zh-hans"

    page.goto(f"{live_server.url}/history/")
    expect(page.locator(".tile")).to_have_count(1)
    speaks_chinese(page)
    page.screenshot(path=f"/tmp/zh-history-{width}.png", full_page=True)

    page.locator(".tile a[href*='/generations/']").first.click()
    page.wait_for_url(f"**/generations/{generation.uuid}/")
    expect(page.locator("h1")).to_have_text(PROMPT)
    speaks_chinese(page)
    page.screenshot(path=f"/tmp/zh-detail-{width}.png", full_page=True)


def test_on_a_phone_every_page_in_chinese_fits_and_speaks_chinese(page, live_server):
    from tests.test_browser import PHONE_PAGES

    user = demo_with_sandbox_key(live_server)
    user.teams.update(name="演示团队")
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label(zh("Username")).fill("demo")
    page.get_by_label(zh("Password")).fill("demo-pass-123")
    page.get_by_role("button", name=zh("Log in")).click()
    page.get_by_label(zh("Prompt")).wait_for()
    for path in PHONE_PAGES:
        page.goto(f"{live_server.url}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} is {width} px wide"
        speaks_chinese(page)
        page.screenshot(path=f"/tmp/zh-phone{path.strip('/').replace('/', '-') or '-studio'}.png", full_page=True)

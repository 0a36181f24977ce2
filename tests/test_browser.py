"""One end-to-end run in headless Chromium: log in, generate, watch the card finish live.

Playwright drives Debian's /usr/bin/chromium (never a downloaded browser). The
studio runs on pytest-django's live server with the sandbox gateway on loopback;
a thread plays the worker's poller.
"""

from __future__ import annotations

import os
import shutil

import pytest

from accounts.models import Team, User
from tests.conftest import issued, png_bytes
from videos.models import GatewayKey, Generation, TaskState

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop runs in this thread

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

if not os.path.exists(CHROMIUM) and not os.environ.get("CI"):
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


#: Resolves to the video's duration in seconds once its metadata has loaded (-1 on an error).
LOADED_DURATION = """v => new Promise(resolve => {
    if (v.readyState >= 1) return resolve(v.duration);
    v.addEventListener('loadedmetadata', () => resolve(v.duration));
    v.addEventListener('error', () => resolve(-1));
    v.load();
})"""


def demo_with_sandbox_key(live_server) -> User:
    """The user "demo" with one openai-preview key on the live server's sandbox."""
    user = User.objects.create_user("demo", password="demo-pass-123")
    team = Team.create_personal(user)
    key = GatewayKey(
        team=team, owner=user, dialect="openai-preview", label="Sandbox", base_url=f"{live_server.url}/sandbox/openai"
    )
    key.set_secret(issued("sk-sandbox-browser-test"))  # issued to the sandbox, as add_key would
    key.save()
    return user


def log_in(page, live_server) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("demo")
    page.get_by_label("Password").fill("demo-pass-123")
    page.get_by_role("button", name="Log in").click()


def test_a_member_generates_and_watches_the_card_finish(page, live_server, poller, settings, tmp_path):
    settings.STUDIO_SANDBOX_RUN_SECONDS = 3
    settings.STUDIO_SANDBOX_URL = f"{live_server.url}/sandbox"  # the live server serves the sandbox
    demo_with_sandbox_key(live_server)
    log_in(page, live_server)
    page.get_by_label("Prompt").wait_for()
    page.evaluate("window.__noReload = true")

    # Text to video.
    page.get_by_label("Prompt").fill("A paper boat drifting down a rainy street")
    page.get_by_label("Duration (s)").select_option("2")
    page.get_by_label("Resolution").select_option("480p")
    page.get_by_role("button", name="Generate").click()
    from playwright.sync_api import expect

    first = page.locator("article.card").first
    expect(first).to_contain_text("A paper boat")
    expect(first).to_have_attribute("data-state", "completed", timeout=60_000)

    # Image to video.
    image = tmp_path / "ref.png"
    image.write_bytes(png_bytes((320, 180), (30, 120, 220)))
    page.get_by_label("Prompt").fill("Slow push-in on the blue picture")
    page.get_by_label("Reference images").set_input_files(str(image))
    page.get_by_role("button", name="Generate").click()
    newest = page.locator("article.card").first
    expect(newest).to_contain_text("Slow push-in")
    expect(newest).to_have_attribute("data-state", "completed", timeout=60_000)

    assert page.evaluate("window.__noReload") is True  # the cards updated without a reload
    for card in (newest, page.locator("article.card").nth(1)):
        video = card.locator("video")
        assert video.get_attribute("poster").endswith("poster.jpg")
        assert video.get_attribute("src").endswith("video.mp4")
        assert video.evaluate(LOADED_DURATION) == pytest.approx(2, abs=0.2)

    states = set(Generation.objects.values_list("task__state", flat=True))
    assert states == {TaskState.COMPLETED}
    page.screenshot(path=str(tmp_path / "studio.png"), full_page=True)

    page.get_by_role("link", name="History").click()
    expect(page.locator(".tile")).to_have_count(2)
    expect(page.locator(".tile video[poster]")).to_have_count(2)


def test_switching_the_key_switches_the_options_and_an_impossible_choice_says_why(page, live_server):
    from playwright.sync_api import expect

    user = User.objects.create_user("demo", password="demo-pass-123")
    team = Team.create_personal(user)
    for dialect in ("openai-preview", "jimmyai", "aijisu"):
        key = GatewayKey(
            team=team, owner=user, dialect=dialect, label=f"My {dialect}", base_url=f"{live_server.url}/sandbox/x"
        )
        key.set_secret(issued(f"sk-{dialect}-browser"))
        key.save()
    log_in(page, live_server)

    def choose(label):
        value = page.locator("select[name=key] option", has_text=label).get_attribute("value")
        page.locator("select[name=key]").select_option(value)

    expect(page.get_by_label("Resolution")).to_be_visible()
    choose("My jimmyai")
    expect(page.get_by_label("Resolution")).to_have_count(0)  # jimmyai has no resolution field
    expect(page.get_by_label("Duration (s)").locator("option")).to_have_text(["10 s", "15 s"])
    choose("My aijisu")
    expect(page.get_by_label("Aspect ratio")).to_have_count(0)  # orientation follows the image
    page.get_by_label("Prompt").fill("no image, so aijisu must refuse")
    page.get_by_role("button", name="Generate").click()
    expect(page.locator("#compose .errorlist")).to_contain_text("image-to-video only")
    assert Generation.objects.count() == 0


def test_with_signed_delivery_the_video_plays_from_the_bucket(page, live_server, poller, settings, bucket):
    """Media in an S3 bucket (moto's server), handed to the browser as presigned links:
    the redirect, the bucket's CORS-free range reads and the CSP's media-src all work."""
    settings.STUDIO_SANDBOX_RUN_SECONDS = 2
    settings.STUDIO_SANDBOX_URL = f"{live_server.url}/sandbox"
    settings.STUDIO_MEDIA_DELIVERY = "signed"
    settings.SECURE_CSP = {
        **settings.SECURE_CSP,
        "media-src": [*settings.SECURE_CSP["media-src"], bucket.endpoint],
        "img-src": [*settings.SECURE_CSP["img-src"], bucket.endpoint],
    }  # what project/settings.py adds for STUDIO_MEDIA_ORIGIN
    demo_with_sandbox_key(live_server)
    refused: list[str] = []
    page.on(
        "console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None
    )
    from_bucket: list[str] = []
    page.on(
        "request", lambda request: from_bucket.append(request.url) if request.url.startswith(bucket.endpoint) else None
    )

    log_in(page, live_server)
    page.get_by_label("Prompt").fill("A lighthouse at dusk, from the bucket")
    page.get_by_label("Duration (s)").select_option("2")
    page.get_by_role("button", name="Generate").click()
    from playwright.sync_api import expect

    card = page.locator("article.card").first
    expect(card).to_have_attribute("data-state", "completed", timeout=60_000)
    video = card.locator("video")
    assert video.evaluate(LOADED_DURATION) == pytest.approx(2, abs=0.2)
    poster_loaded = page.evaluate(
        """src => new Promise(resolve => { const i = new Image(); i.onload = () => resolve(i.naturalWidth);
            i.onerror = () => resolve(0); i.src = src; })""",
        video.get_attribute("poster"),
    )
    assert poster_loaded > 0
    # The studio answered redirects; the browser took the video and the poster from the bucket.
    signed = [url for url in from_bucket if "X-Amz-Signature=" in url]
    assert any(".mp4?" in url for url in signed) and any(".jpg?" in url for url in signed)
    assert refused == []
    page.screenshot(path=os.environ.get("STUDIO_SCREENSHOT", "/tmp/studio-signed-delivery.png"))


#: The pages a member walks to; each must fit a 375 px phone without scrolling sideways.
PHONE_PAGES = [
    "/",
    "/history/",
    "/spend/",
    "/spend/prices/",
    "/approvals/",
    "/review/",
    "/audit/",
    "/keys/",
    "/webhooks/",
    "/teams/",
    "/notifications/",
    "/account/",
    "/account/password/",
    "/sequences/",
    "/boards/",
    "/prompts/",
]


def test_on_a_phone_no_page_scrolls_sideways_and_the_menu_folds(page, live_server):
    """At 375×812 every page fits its width (wide tables scroll in their own box), and the
    navigation sits behind a Menu button until it is pressed."""
    from playwright.sync_api import expect

    demo_with_sandbox_key(live_server)
    page.set_viewport_size({"width": 375, "height": 812})
    log_in(page, live_server)
    for path in PHONE_PAGES:
        page.goto(f"{live_server.url}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} is {width} px wide"
    page.goto(f"{live_server.url}/")
    nav_link = page.locator("nav.nav a", has_text="History")
    expect(nav_link).to_be_hidden()
    page.get_by_text("Menu", exact=True).click()
    expect(nav_link).to_be_visible()
    nav_link.click()
    expect(page).to_have_url(f"{live_server.url}/history/")
    page.set_viewport_size({"width": 1280, "height": 800})  # on a laptop the navigation is always there
    expect(page.locator("nav.nav a", has_text="Studio")).to_be_visible()
    expect(page.get_by_text("Menu", exact=True)).to_be_hidden()


def test_the_estimate_ends_on_the_last_choice_even_when_an_older_answer_is_slow(page, live_server, monkeypatch):
    """Duration, then resolution in quick succession: the older estimate (slow to answer)
    must not overwrite the newer one (htmx replaces an estimate request still in flight)."""
    import time as clock
    from datetime import date
    from decimal import Decimal

    from playwright.sync_api import expect

    from videos.models import Price
    from videos.web import compose

    for resolution, rate in (("480p", "0.05"), ("720p", "0.10")):
        Price.objects.create(
            dialect="openai-preview", model="grok-imagine-video-1.5-preview", resolution=resolution,
            usd_per_second=Decimal(rate), source="test", read_on=date(2026, 11, 1),
        )  # fmt: skip
    real = compose.compose_quote

    def slow_for_720p(form):
        if form.data.get("resolution") == "720p" and form.data.get("duration") == "3":
            clock.sleep(1.5)  # the older answer arrives last
        return real(form)

    monkeypatch.setattr(compose, "compose_quote", slow_for_720p)
    demo_with_sandbox_key(live_server)
    log_in(page, live_server)
    page.get_by_label("Duration (s)").select_option("3")
    page.wait_for_timeout(500)  # its estimate request is on its way
    page.get_by_label("Resolution").select_option("480p")
    page.wait_for_timeout(2500)  # past the slow answer
    expect(page.locator(".estimate-this strong")).to_have_text("$0.15")  # 3 s × $0.05, not 3 s × $0.10

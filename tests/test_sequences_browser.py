"""In Chromium: take a frame of a finished video, continue the shot, reorder by drag and drop,
render the sequence and play the render (issue 13, items 3–4). Screenshots at 1280 and 375 px
go to /tmp/wt-seq-*.png."""

from __future__ import annotations

import pytest
from django.core.files import File
from django.core.files.base import ContentFile

from tests.test_browser import (  # noqa: F401 (browser_type_launch_args: Debian's chromium)
    LOADED_DURATION,
    browser_type_launch_args,
    demo_with_sandbox_key,
    log_in,
)
from tests.test_frames import write_clip
from videos.lib import media
from videos.models import Asset, GatewayKey, Generation, Sequence, Task, TaskState

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def finished_video(user, path) -> Generation:
    """A completed generation of ``user``'s team whose archived video is ``path`` (written
    straight to the database: nothing is sent to a gateway)."""
    key = GatewayKey.objects.get(owner=user)
    generation = Generation.objects.create(
        team=key.team,
        author=user,
        key=key,
        dialect=key.dialect,
        model_name=key.gateway_class.spec().model,
        key_label=key.label,
        prompt="A harbour at dawn, gulls over the boats",
        options={"duration": 1, "aspect_ratio": "16:9", "resolution": "480p", "audio": None},
    )
    Task.objects.create(generation=generation, state=TaskState.COMPLETED)
    info = media.probe_video(path)
    asset = Asset(
        generation=generation,
        duration_s=info.duration_s,
        width=info.width,
        height=info.height,
        bytes=path.stat().st_size,
        sha256="0" * 64,
    )
    with open(path, "rb") as fh:
        asset.file.save("video.mp4", File(fh), save=False)
    asset.poster.save("poster.jpg", ContentFile(media.extract_poster(path)), save=False)
    asset.save()
    return generation


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{page.url} is {width} px wide"


def test_frame_continue_reorder_render_and_play(page, live_server, poller, settings, tmp_path):
    from playwright.sync_api import expect

    settings.STUDIO_SANDBOX_RUN_SECONDS = 1
    settings.STUDIO_SANDBOX_URL = f"{live_server.url}/sandbox"
    user = demo_with_sandbox_key(live_server)
    clip = tmp_path / "harbour.mp4"
    write_clip(clip, seconds=2.0, fps=24, size=(160, 90))
    video = finished_video(user, clip)
    log_in(page, live_server)
    page.get_by_label("Prompt").wait_for()

    # A frame at a typed time becomes the reference image of a new request.
    page.goto(f"{live_server.url}/generations/{video.uuid}/")
    player = page.locator("video.player")
    assert player.evaluate(LOADED_DURATION) == pytest.approx(2, abs=0.1)
    player.evaluate("v => { v.currentTime = 0.75; }")  # scrubbing fills in the time
    expect(page.get_by_label("Frame at (s)")).to_have_value("0.75")
    page.get_by_label("Frame at (s)").fill("1.5")
    page.screenshot(path="/tmp/wt-seq-detail-1280.png", full_page=True)
    page.get_by_role("button", name="Use this frame").click()
    expect(page.locator(".frame-note")).to_contain_text("From frame 1.50 s of")
    expect(page.locator(".frame-note img")).to_have_js_property("complete", True)
    assert page.locator(".frame-note img").evaluate("i => i.naturalWidth") == 160

    # A time past the end is refused next to the field.
    page.goto(f"{live_server.url}/generations/{video.uuid}/")
    page.get_by_label("Frame at (s)").fill("9")
    page.get_by_role("button", name="Use this frame").click()
    expect(page.locator("#frame-time-error")).to_contain_text("Pick a time from 0 to 2.00 s")

    # Continue this shot into a new sequence: the next shot comes from its last frame.
    page.get_by_label("New sequence name").fill("Harbour")
    page.get_by_role("button", name="Continue this shot").click()
    expect(page.locator("h1")).to_contain_text("Harbour")
    expect(page.locator("li.shot")).to_have_count(2)
    for _ in range(60):  # the sandbox renders the continued shot; the poller archives it
        if page.locator("li.shot").nth(1).locator(".badge").inner_text() == "Completed":
            break
        page.wait_for_timeout(1000)
        page.reload()
    expect(page.locator("li.shot").nth(1).locator(".badge")).to_have_text("Completed")
    made = Generation.objects.exclude(pk=video.pk).get()
    assert made.frame_of_id == video.pk and made.reference_images.count() == 1

    # Drag the second shot above the first.
    with page.expect_response(lambda r: r.url.endswith("/order") and r.status == 200):
        page.locator("li.shot").nth(1).drag_to(page.locator("li.shot").nth(0))
    expect(page.locator("li.shot").nth(0).locator(".shot-info a")).to_have_attribute(
        "href", f"/generations/{made.uuid}/"
    )
    sequence = Sequence.objects.get(name="Harbour")
    assert [s.generation_id for s in sequence.shots.order_by("position")] == [made.pk, video.pk]

    # Render and play the result.
    page.get_by_role("button", name="Render to one MP4").click()
    player = page.locator("#sequence-player")
    expect(player).to_be_visible(timeout=60_000)
    total = made.asset.duration_s + video.asset.duration_s
    assert player.evaluate(LOADED_DURATION) == pytest.approx(total, abs=0.1)
    played = player.evaluate(
        "v => { v.muted = true; return v.play().then(() => new Promise(r => setTimeout(() => r(v.currentTime), 700))); }"
    )
    assert played > 0
    page.screenshot(path="/tmp/wt-seq-sequence-1280.png", full_page=True)

    # On a phone, nothing scrolls sideways.
    page.set_viewport_size({"width": 375, "height": 812})
    for path, name in [
        (f"/sequences/{sequence.uuid}/", "sequence"),
        (f"/generations/{video.uuid}/", "detail"),
        ("/sequences/", "sequences"),
    ]:
        page.goto(f"{live_server.url}{path}")
        no_sideways_scroll(page)
        page.screenshot(path=f"/tmp/wt-seq-{name}-375.png", full_page=True)

"""Issue 14's share-link acceptance in headless Chromium: the author makes a link, a guest
opens it in a fresh browser context (no login), sees the video and leaves a note; from the
link no other studio page is reachable; after revocation the same URL is a 404.
Screenshots at 1280 and 375 px: /tmp/wt-share-*.png."""

from __future__ import annotations

import time

import pytest

from tests.conftest import make_generation
from tests.test_browser import LOADED_DURATION, browser_type_launch_args, demo_with_sandbox_key, log_in  # noqa: F401
from videos.models import GatewayKey, GuestNote, Task, TaskState

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOT = "/tmp/wt-share-{name}-{width}.png"


def finished_video(user, live_server):
    """A video made through the demo's sandbox key, rendered and archived by the poller."""
    from videos.worker import tasks

    key = GatewayKey.objects.get(owner=user)
    generation = make_generation(user, key.team, key, prompt="A lighthouse in a storm, slow push-in")
    tasks.submit_task(generation.task.pk)
    for _ in range(240):  # the poller thread sweeps every 0.3 s
        if not Task.objects.get(pk=generation.task.pk).is_active:
            break
        time.sleep(0.25)
    assert Task.objects.get(pk=generation.task.pk).state == TaskState.COMPLETED
    return generation


def test_a_guest_opens_a_share_link_without_login_leaves_a_note_and_revocation_makes_it_404(
    page, browser, live_server, poller, settings
):
    from playwright.sync_api import expect

    settings.STUDIO_SANDBOX_RUN_SECONDS = 1
    settings.STUDIO_SANDBOX_URL = f"{live_server.url}/sandbox"
    user = demo_with_sandbox_key(live_server)
    generation = finished_video(user, live_server)

    # The author makes the link from the video's page.
    log_in(page, live_server)
    page.goto(f"{live_server.url}/generations/{generation.uuid}/")
    page.get_by_role("link", name="Share…").click()
    page.get_by_label("Guests may download the video").check()
    page.get_by_role("button", name="Make a share link").click()
    link_box = page.locator("#share-link-new")
    expect(link_box).to_be_visible()
    url = link_box.input_value()
    assert url.startswith(f"{live_server.url}/s/")
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=SHOT.format(name="create", width=width), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width

    # A guest, in a browser context of their own (no cookies, no login).
    context = browser.new_context()
    guest = context.new_page()
    response = guest.goto(url)
    assert response.status == 200
    expect(guest.get_by_role("heading", name="A lighthouse in a storm, slow push-in")).to_be_visible()
    assert guest.locator("video").evaluate(LOADED_DURATION) > 0
    expect(guest.locator("nav")).to_have_count(0)
    token_path = url.removeprefix(live_server.url)
    hrefs = guest.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    assert hrefs and all(h.startswith(token_path) for h in hrefs), hrefs

    guest.get_by_label("Your name").fill("Client <b>Carla</b>")
    guest.get_by_label("Note").fill("Warmer light on the tower, please.")
    guest.get_by_label("At (seconds)").fill("0.5")
    guest.get_by_role("button", name="Add note").click()
    note = guest.locator(".guest-note").first
    expect(note).to_contain_text("Client Carla")
    expect(note.locator(".guest-badge")).to_have_text("guest")
    expect(note).to_contain_text("Warmer light on the tower")
    assert GuestNote.objects.get().guest_name == "Client Carla"
    expect(guest.get_by_label("Your name")).to_have_value("Client Carla")  # kept for the next note, as stored
    for width in (1280, 375):
        guest.set_viewport_size({"width": width, "height": 900})
        guest.screenshot(path=SHOT.format(name="guest", width=width), full_page=True)
        assert guest.evaluate("document.documentElement.scrollWidth") <= width

    # From the link, no other studio page opens: each one asks to log in or is not found.
    for path in ["/", "/history/", f"/generations/{generation.uuid}/", "/audit/", "/teams/", "/keys/"]:
        guest.goto(f"{live_server.url}{path}")
        assert "/accounts/login/" in guest.url, path
        expect(guest.get_by_text("A lighthouse in a storm")).to_have_count(0)
    assert guest.goto(f"{live_server.url}/generations/{generation.uuid}/video.mp4").url.find("/accounts/login/") > 0

    # The author sees the guest's note on the video's page, then revokes the link.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/generations/{generation.uuid}/")
    expect(page.locator(".guest-note")).to_contain_text("Warmer light on the tower")
    page.get_by_role("link", name="Share…").click()
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("no longer opens")).to_be_visible()

    gone = guest.goto(url)
    assert gone.status == 404
    expect(guest.get_by_role("heading", name="This link does not open")).to_be_visible()
    guest.screenshot(path=SHOT.format(name="revoked", width=1280))
    assert guest.request.get(f"{url}video.mp4").status == 404
    context.close()


def test_an_owner_turns_on_the_export_gate_and_the_video_page_offers_no_download(page, live_server, poller, settings):
    from playwright.sync_api import expect

    settings.STUDIO_SANDBOX_RUN_SECONDS = 1
    settings.STUDIO_SANDBOX_URL = f"{live_server.url}/sandbox"
    user = demo_with_sandbox_key(live_server)
    generation = finished_video(user, live_server)
    log_in(page, live_server)
    page.goto(f"{live_server.url}/teams/")
    page.get_by_label("Only approved videos leave the studio").check()
    page.locator("form.export-gate-form").get_by_role("button", name="Save").click()
    expect(page.get_by_text("Only approved videos leave the studio now.")).to_be_visible()
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=SHOT.format(name="team-gate", width=width), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.goto(f"{live_server.url}/generations/{generation.uuid}/")
    expect(page.get_by_role("link", name="Download MP4")).to_have_count(0)
    expect(page.locator(".export-gated")).to_be_visible()
    page.screenshot(path=SHOT.format(name="detail-gated", width=375), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

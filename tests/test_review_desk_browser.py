"""In Chromium: the review desk with a later version, its open notes and its changes; the
filters; at 1280 and 375 px wide (nothing scrolls sideways on a phone)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.conftest import awaiting
from tests.test_browser import (  # noqa: F401 - the fixture is used by pytest-playwright
    browser_type_launch_args,
    demo_with_sandbox_key,
    log_in,
)
from videos.models import GatewayKey, Generation, Note, Review

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = "/tmp/wt-desk-{name}-{width}.png"


def _desk_with_a_later_version(live_server):
    demo = demo_with_sandbox_key(live_server)
    team = demo.teams.get()
    key = GatewayKey.objects.get(team=team)
    first = awaiting(demo, team, key, prompt="A grey heron lifts off a misty lake at dawn, slow motion")
    Generation.objects.filter(pk=first.pk).update(
        review=Review.CHANGES, reviewed_by=demo, reviewed_at=timezone.now(), review_comment="Warmer light, please."
    )
    second = awaiting(demo, team, key, prompt="A grey heron lifts off a golden lake at dusk, slow motion")
    Generation.objects.filter(pk=second.pk).update(parent=first, options={**second.options, "duration": 6})
    Note.objects.create(generation=second, author=demo, time_s=1.0, body="The wing clips the frame")
    return demo, first, second


@pytest.mark.parametrize("width", [1280, 375])
def test_the_desk_shows_open_notes_changes_and_filters(page, live_server, width):
    from playwright.sync_api import expect

    _desk_with_a_later_version(live_server)
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server)
    page.goto(f"{live_server.url}/review/")

    row = page.locator("article.review-item")
    expect(row).to_have_count(1)
    expect(row.get_by_text("1 open note")).to_be_visible()
    expect(row.get_by_text("Changed since the version it was made from")).to_be_visible()
    expect(row.locator("del")).to_have_text("misty dawn,")
    expect(row.locator("ins")).to_have_text("golden dusk,")
    expect(row.get_by_text("Duration (s): 1 → 6")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=SHOTS.format(name="awaiting", width=width), full_page=True)

    page.get_by_label("Show", exact=True).select_option("decided")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(f"{live_server.url}/review/?show=decided&author=&reviewer=")
    decided = page.locator("article.review-item")
    expect(decided).to_have_count(1)
    expect(decided.get_by_text("Warmer light, please.", exact=False)).to_be_visible()
    expect(decided.get_by_role("button", name="Accept")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=SHOTS.format(name="decided", width=width), full_page=True)

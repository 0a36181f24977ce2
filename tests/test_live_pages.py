"""Live pages: the page's one poller (``videos.web.live``) answers only what changed on the
studio cards, History tiles, a generation's page and the nav badges; the actions on a card."""

from __future__ import annotations

import re

import pytest
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from tests.conftest import add_key, awaiting, join, make_generation, run_until_done
from videos import timeline
from videos.models import Approval, Billing, Generation, Notification, Task, TaskState
from videos.web import live
from videos.web.versions import version

HTMX = {"HTTP_HX_REQUEST": "true"}
LIVE_INPUT = re.compile(
    r'<input type="hidden"(?: form="live-refresh")? name="(card|tile|detail|seen|every)" value="([^"]*)"'
)


def page_state(html: str) -> dict[str, list[str]]:
    """What the page's poller would post: its own ``every`` and every input owned by it."""
    posted: dict[str, list[str]] = {}
    for name, value in LIVE_INPUT.findall(html):
        posted.setdefault(name, []).append(value)
    return posted


def after(posted: dict, html: str) -> dict:
    """What the page posts next once ``html`` (a refresh's answer) is swapped in: a fragment
    replaces what it names (its card, tile, detail or badge), and a new poller its interval."""
    answer = page_state(html)
    swapped = set(re.findall(r'id="(?:card|tile|detail)-([0-9a-f-]{36})"', html))
    out = {}
    for kind in ("card", "tile", "detail"):
        kept = [v for v in posted.get(kind, []) if v.split(".")[0] not in swapped]
        out[kind] = kept + answer.get(kind, [])
    names = {v.split(".")[0] for v in answer.get("seen", [])}
    out["seen"] = [v for v in posted.get("seen", []) if v.split(".")[0] not in names] + answer.get("seen", [])
    out["every"] = answer.get("every", posted.get("every", []))
    return out


def refresh(client, posted: dict):
    return client.post(reverse("live"), posted, **HTMX)


def progress(generation: Generation, percent: int, word: str = "in_progress") -> None:
    Task.objects.filter(generation=generation).update(state=TaskState.PROCESSING, progress=percent, status_word=word)


@pytest.fixture
def running(owner, team, key):
    """Three of alice's generations, running (no worker: they stay where they are put)."""
    return [make_generation(owner, team, key, prompt=f"Running clip {i}") for i in range(3)]


# --- the studio cards ------------------------------------------------------------------------


def test_the_studio_cards_carry_no_poll_of_their_own_and_one_poller_follows_them(client_for, owner, running):
    html = client_for(owner).get(reverse("studio")).content.decode()
    assert "/card" not in html.split('id="cards"')[1]  # no card polls its own URL any more
    assert html.count('hx-trigger="every') == 1  # the page's one poller
    posted = page_state(html)
    assert {value.split(".")[0] for value in posted["card"]} == {str(g.uuid) for g in running}
    assert posted["every"] == ["2"]


def test_it_answers_nothing_when_nothing_changed(client_for, owner, running):
    client = client_for(owner)
    posted = page_state(client.get(reverse("studio")).content.decode())
    response = refresh(client, posted)
    assert response.status_code == 204 and response.content == b""


def test_it_answers_only_the_card_that_changed(client_for, owner, running):
    client = client_for(owner)
    posted = page_state(client.get(reverse("studio")).content.decode())
    moved, *still = running
    progress(moved, 40, "rendering")

    html = refresh(client, posted).content.decode()

    assert f'id="card-{moved.uuid}" data-state="processing" hx-swap-oob="true"' in html
    assert "40%" in html and "rendering" in html
    assert all(str(g.uuid) not in html for g in still)
    assert 'id="live-refresh"' not in html  # still running: the poller keeps its pace
    assert refresh(client, after(posted, html)).status_code == 204  # the page holds the new version


def test_a_finished_card_comes_back_final_and_the_poller_slows_down(client_for, owner, team, key, gateway):
    generation = make_generation(owner, team, key)
    client = client_for(owner)
    posted = page_state(client.get(reverse("studio")).content.decode())
    run_until_done(generation.task.pk)

    html = refresh(client, posted).content.decode()

    assert f'id="card-{generation.uuid}" data-state="completed" hx-swap-oob="true"' in html
    assert reverse("video_file", args=[generation.uuid]) in html
    assert 'name="card"' not in html  # the final card drops out of the poll
    assert f'hx-trigger="every {live.SLOW}s"' in html and 'id="live-refresh"' in html
    assert refresh(client, after(posted, html)).status_code == 204


def test_a_new_card_after_generate_speeds_the_poller_up(client_for, owner, key):
    from tests.test_compose import form_data

    client = client_for(owner)
    assert 'hx-trigger="every 2s"' not in refresh(client, {"every": "2"}).content.decode()  # slowed: nothing runs
    html = client.post(reverse("generate"), form_data(key), **HTMX).content.decode()
    generation = Generation.objects.get()
    assert 'id="live-refresh"' in html and 'hx-trigger="every 2s"' in html and 'hx-swap-oob="true"' in html
    assert f'name="card" value="{generation.uuid}.' in html
    assert 'class="live-refresh fresh"' in html and 'hx-swap-oob="outerHTML:#live-refresh"' in html


def test_a_slow_down_answer_never_replaces_the_fresh_poller_generate_sent(client_for, owner, key):
    """A refresh sent before Generate's card was on the page says "nothing runs": its poller
    may replace only a poller that is not fresh, so the new card keeps being followed."""
    client = client_for(owner)
    late = refresh(client, {"every": "2"}).content.decode()
    assert 'hx-swap-oob="outerHTML:#live-refresh:not(.fresh)"' in late and "every 30s" in late

    from tests.test_compose import form_data

    html = client.post(reverse("generate"), form_data(key), **HTMX).content.decode()
    first = refresh(client, page_state(html) | {"fresh": "1"}).content.decode()
    assert 'hx-swap-oob="outerHTML:#live-refresh"' in first and "every 2s" in first  # an ordinary one, same pace
    assert 'class="live-refresh"' in first and 'name="fresh"' not in first


def test_another_teams_ids_are_ignored(client_for, owner, running, outsider):
    client = client_for(owner)
    posted = page_state(client.get(reverse("studio")).content.decode())
    stale = {"card": [f"{g.uuid}.000000000000" for g in running], "every": "2"}
    spy = client_for(outsider)

    response = refresh(spy, stale)

    text = response.content.decode()
    assert "Running clip" not in text and all(str(g.uuid) not in text for g in running)
    assert f'hx-trigger="every {live.SLOW}s"' in text  # as if nothing ran: nothing of alice's is said
    assert refresh(client_for(owner), posted).status_code == 204


def test_nothing_changed_costs_the_same_few_queries_for_one_card_or_fifty(client_for, owner, team, key):
    client = client_for(owner)
    make_generation(owner, team, key)
    one = page_state(client.get(reverse("studio")).content.decode())
    with CaptureQueriesContext(_connection()) as few:
        assert refresh(client, one).status_code == 204
    for i in range(49):
        make_generation(owner, team, key, prompt=f"Clip {i}")
    cards = [f"{g.uuid}.{version(g)}" for g in Generation.objects.for_team(team).select_related("task")]
    with CaptureQueriesContext(_connection()) as many:
        assert refresh(client, {**one, "card": cards}).status_code == 204
    assert len(cards) == 50
    assert len(many.captured_queries) == len(few.captured_queries) <= 6


def _connection():
    from django.db import connection

    return connection


@pytest.mark.parametrize(
    "posted",
    [
        {"card": ["not-a-uuid.x", "", ".", "💥" * 100, "12345678-1234-5678-1234-567812345678"]},
        {"card": [f"{i:032x}.v" for i in range(3000)], "seen": ["notifications.99999999999999", "x.1", "review.-1"]},
        {"detail": ["<script>alert(1)</script>.1"], "every": "0"},
    ],
)
def test_hostile_posts_get_a_plain_answer(client_for, owner, running, posted):
    response = refresh(client_for(owner), posted)
    assert response.status_code in (200, 204, 400)  # 400: more fields than Django reads
    assert b"<script>" not in response.content


def test_it_rejects_get_and_sends_strangers_to_log_in(client, client_for, owner):
    assert client_for(owner).get(reverse("live")).status_code == 405
    client.logout()
    anonymous = client.post(reverse("live"), {"every": "2"})
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]


# --- History tiles and a generation's page ----------------------------------------------------


def test_a_running_history_tile_is_refreshed_in_place(client_for, owner, running):
    client = client_for(owner)
    posted = page_state(client.get(reverse("history")).content.decode())
    assert len(posted["tile"]) == 3
    progress(running[1], 10)

    html = refresh(client, posted).content.decode()

    assert f'id="tile-{running[1].uuid}" hx-swap-oob="true"' in html
    assert html.count('class="tile ') == 1 and "Processing" in html


def test_the_detail_page_follows_its_task_and_stops_when_it_ends(client_for, owner, team, key, gateway):
    generation = make_generation(owner, team, key)
    client = client_for(owner)
    posted = page_state(client.get(reverse("generation", args=[generation.uuid])).content.decode())
    assert len(posted["detail"]) == 1
    assert refresh(client, posted).status_code == 204

    timeline.record(generation.pk, "note", "A line on the timeline, nothing else changed")
    html = refresh(client, posted).content.decode()
    assert f'id="detail-{generation.uuid}" hx-swap-oob="true"' in html and "A line on the timeline" in html
    assert 'name="detail"' in html  # still running: still followed

    run_until_done(generation.task.pk)
    posted = after(posted, html)
    html = refresh(client, posted).content.decode()
    assert "Completed" in html and reverse("video_file", args=[generation.uuid]) in html
    assert 'name="detail"' not in html  # the final fragment carries nothing to poll
    assert f'hx-trigger="every {live.SLOW}s"' in html


def test_a_finished_generations_page_starts_without_anything_to_follow(client_for, owner, team, key):
    generation = make_generation(owner, team, key)
    Task.objects.filter(generation=generation).update(state=TaskState.FAILED, last_error="no")
    html = client_for(owner).get(reverse("generation", args=[generation.uuid])).content.decode()
    assert "detail" not in page_state(html)


# --- the nav badges ---------------------------------------------------------------------------


def test_owners_see_the_review_and_approval_counts_and_members_do_not(client_for, owner, team, key, teammate):
    awaiting(owner, team, key, prompt="Waiting for a verdict")
    waiting = make_generation(owner, team, key, prompt="Waiting for a yes")
    Generation.objects.filter(pk=waiting.pk).update(approval=Approval.WAITING)
    Notification.objects.create(user=owner, team=team, message="one")

    html = client_for(owner).get(reverse("history")).content.decode()
    assert '<span class="count" id="review-count" title="Videos awaiting review">1</span>' in html
    assert '<span class="count" id="approval-count" title="Requests awaiting approval">1</span>' in html
    assert '<span class="count" id="notification-count" title="Unread notifications">1</span>' in html

    html = client_for(teammate).get(reverse("history")).content.decode()
    assert 'id="review-count"' not in html and 'id="approval-count"' not in html
    assert 'id="badge-review"' not in html


def test_the_badges_change_without_a_reload(client_for, owner, team, key):
    client = client_for(owner)
    posted = page_state(client.get(reverse("spend")).content.decode())
    assert sorted(posted["seen"]) == ["approvals.0", "notifications.0", "review.0"]

    awaiting(owner, team, key)
    Notification.objects.create(user=owner, team=team, message="Your video is ready.")
    html = refresh(client, posted).content.decode()

    assert '<span id="badge-review" class="badge-slot" hx-swap-oob="true"><span class="count" id="review-count"' in html
    assert 'id="notification-count" title="Unread notifications">1</span>' in html
    assert 'id="badge-approvals"' not in html  # unchanged: not sent
    assert refresh(client, after(posted, html)).status_code == 204


def test_the_badge_queries_are_one_statement(rf, owner, team):
    from django.contrib.auth.models import AnonymousUser

    request = rf.get("/")
    request.user, request.team, request.membership = owner, team, owner.memberships.get()
    with CaptureQueriesContext(_connection()) as ctx:
        assert live.badge_counts(request) == {"notifications": 0, "review": 0, "approvals": 0}
    assert len(ctx.captured_queries) == 1
    request.user = AnonymousUser()
    assert live.badges(request) == {}


# --- actions on a card ------------------------------------------------------------------------


def test_cancel_on_a_running_card_cancels_it_and_releases_the_hold(client_for, owner, team, key):
    generation = make_generation(owner, team, key)
    client = client_for(owner)
    html = client.get(reverse("studio")).content.decode()
    assert f'hx-post="{reverse("cancel", args=[generation.uuid])}"' in html

    response = client.post(reverse("cancel", args=[generation.uuid]), **HTMX)

    text = response.content.decode()
    assert response.status_code == 200 and f'id="card-{generation.uuid}" data-state="cancelled"' in text
    assert 'name="card"' not in text
    generation.refresh_from_db()
    assert generation.task.state == TaskState.CANCELLED and generation.billing != Billing.HELD


def test_a_teammate_cannot_cancel_alices_card(client_for, owner, team, key, teammate):
    generation = make_generation(owner, team, key)
    response = client_for(teammate).post(reverse("cancel", args=[generation.uuid]), **HTMX)
    assert response.status_code == 403
    assert Task.objects.get(generation=generation).state == TaskState.PENDING


def test_an_outsider_cannot_cancel_a_card(client_for, owner, team, key, outsider):
    generation = make_generation(owner, team, key)
    assert client_for(outsider).post(reverse("cancel", args=[generation.uuid]), **HTMX).status_code == 404
    assert Task.objects.get(generation=generation).state == TaskState.PENDING


def test_a_finished_card_offers_download_favorite_and_remix(client_for, owner, team, key, gateway):
    generation = make_generation(owner, team, key)
    run_until_done(generation.task.pk)
    generation.favorited_by.add(owner)
    html = client_for(owner).get(reverse("studio")).content.decode()
    card = html.split(f'id="card-{generation.uuid}"')[1].split("</article>")[0]
    assert f'href="{reverse("video_file", args=[generation.uuid])}?download=1"' in card
    assert f'hx-post="{reverse("favorite", args=[generation.uuid])}"' in card and "★ Favorite" in card
    assert f'href="{reverse("remix", args=[generation.uuid])}"' in card
    assert reverse("cancel", args=[generation.uuid]) not in card


def test_a_viewer_gets_no_remix_or_cancel(client_for, owner, team, key, gateway):
    viewer, _ = join(team, "vera", Role.VIEWER)
    running = make_generation(owner, team, key, prompt="Still running")
    done = make_generation(owner, team, key, prompt="Done already")
    run_until_done(done.task.pk)
    html = client_for(viewer).get(reverse("history")).content.decode()
    assert reverse("remix", args=[done.uuid]) not in html and reverse("cancel", args=[running.uuid]) not in html


def test_a_later_successful_submit_clears_the_earlier_errors(client_for, owner, key):
    from tests.test_compose import form_data

    client = client_for(owner)
    refused = client.post(reverse("generate"), form_data(key, prompt=""), **HTMX).content.decode()
    assert 'class="errorlist' in refused and not Generation.objects.exists()

    accepted = client.post(reverse("generate"), form_data(key), **HTMX).content.decode()

    assert Generation.objects.count() == 1
    assert 'hx-swap-oob="delete:#compose .errorlist, #compose .errors"' in accepted


def test_a_second_key_owner_sees_only_their_own_cards_live(client_for, owner, team, key, teammate):
    bobs_key = add_key(teammate, team, label="Bob's")
    mine = make_generation(owner, team, key, prompt="Alice's")
    bobs = make_generation(teammate, team, bobs_key, prompt="Bob's")
    html = client_for(teammate).get(reverse("studio")).content.decode()
    values = page_state(html)["card"]
    assert any(v.startswith(str(bobs.uuid)) for v in values)
    assert not any(v.startswith(str(mine.uuid)) for v in values)


def test_the_studio_page_costs_the_same_queries_with_one_card_or_twelve(client_for, owner, team, key):
    client = client_for(owner)

    def studio_queries() -> int:
        with CaptureQueriesContext(_connection()) as ctx:
            assert client.get(reverse("studio")).status_code == 200
        return len(ctx.captured_queries)

    first = make_generation(owner, team, key)
    Task.objects.filter(generation=first).update(state=TaskState.COMPLETED)
    studio_queries()  # the first request of a session does some one-off work
    one = studio_queries()
    for i in range(11):
        make_generation(owner, team, key, prompt=f"Clip {i}")
    Task.objects.filter(generation__team=team).update(state=TaskState.COMPLETED)
    assert studio_queries() == one


def test_filtering_history_lets_the_poller_look_at_the_new_tiles_at_once(client_for, owner, running):
    html = client_for(owner).get(reverse("history"), {"q": "clip"}, **HTMX).content.decode()
    assert len(page_state(html)["tile"]) == 3
    assert 'class="live-refresh fresh"' in html and 'hx-trigger="every 2s"' in html

"""Keyset pagination (``videos/lib/paging.py``) on History and the review desk: Newer and
Older cursors walk every row once in order (ties in time included), a deep page costs
the queries of the first, a tampered cursor is the first page, the total is approximate."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Team
from tests.test_history import fill, listed, next_cursor, quick
from videos.lib import paging
from videos.models import Generation, Review, TaskState
from videos.web import review


def walk(client, url: str, query: dict, *, rel: str = "next", cursor: str | None = None) -> list[list[str]]:
    """Every page met following the ``rel`` links from ``cursor`` (or the first page)."""
    pages = []
    while True:
        response = client.get(url, {**query, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200
        pages.append(listed(response) if url == reverse("history") else desk_prompts(response))
        html = response.content.decode()
        if f'rel="{rel}"' not in html:
            return pages
        cursor = next_cursor(html, rel)


def desk_prompts(response) -> list[str]:
    return [item.prompt for item, _ in response.context["items"]]


@pytest.fixture
def tied(owner, team):
    """55 generations, many sharing one timestamp (a bulk import): ``clip 00`` is the newest."""
    now = timezone.now()
    for i in range(55):
        quick(owner, team, f"clip {i:02}", when=now - timedelta(minutes=i // 10))
    return sorted(Generation.objects.for_team(team), key=lambda g: (g.created_at, g.pk), reverse=True)


def test_older_and_newer_walk_every_row_once_in_order(tied, client_for, owner):
    client = client_for(owner)
    newest_first = [g.prompt for g in tied]
    pages = walk(client, reverse("history"), {})
    assert [len(p) for p in pages] == [24, 24, 7]
    assert sum(pages, []) == newest_first  # ties broken by id, nothing twice, nothing missed
    # Back from the last page by the "← Newer" links: the same pages, in reverse.
    second = client.get(reverse("history"), {"cursor": next_cursor(client.get(reverse("history")).content.decode())})
    back = walk(client, reverse("history"), {}, rel="prev", cursor=next_cursor(second.content.decode()))
    assert back == [pages[2], pages[1], pages[0]]


def test_oldest_first_pages_the_other_way(tied, client_for, owner):
    pages = walk(client_for(owner), reverse("history"), {"sort": "oldest"})
    assert sum(pages, []) == [g.prompt for g in reversed(tied)]
    first = client_for(owner).get(reverse("history"), {"sort": "oldest"}).content.decode()
    assert "Newer →" in first and "← Older" not in first


def test_filters_and_search_page_too(tied, client_for, owner):
    pages = walk(client_for(owner), reverse("history"), {"q": '"clip 1"'})
    assert sum(pages, []) == [g.prompt for g in tied if g.prompt.startswith("clip 1")]


def test_a_cursor_url_can_be_shared_in_the_team_but_shows_only_your_team(tied, client_for, owner, teammate, outsider):
    first = client_for(owner).get(reverse("history")).content.decode()
    cursor = next_cursor(first)
    assert listed(client_for(teammate).get(reverse("history"), {"cursor": cursor})) == [g.prompt for g in tied[24:48]]
    Team.create_personal(outsider)
    assert listed(client_for(outsider).get(reverse("history"), {"cursor": cursor})) == []


TAMPERED = ["nope", "", "x" * 5_000, "WyJvIiwiMjAyNi0wMS0wMSIsMV0:forged", "%00", "\u202e", "[]:", ":"]


@pytest.mark.parametrize("cursor", TAMPERED, ids=range(len(TAMPERED)))
def test_a_bad_or_tampered_cursor_is_the_first_page(tied, client_for, owner, cursor):
    client = client_for(owner)
    client.raise_request_exception = False
    response = client.get(reverse("history"), {"cursor": cursor})
    assert response.status_code == 200 and listed(response) == [g.prompt for g in tied[:24]]


def test_a_cursor_with_a_changed_value_is_refused(tied):
    good = paging.make_cursor(paging.OLDER, tied[23].created_at, tied[23].pk)
    value, signature = good.rsplit(":", 1)
    forged = paging.make_cursor(paging.OLDER, tied[23].created_at, tied[23].pk + 1).rsplit(":", 1)[0]
    field = Generation._meta.get_field("created_at")
    assert paging.read_cursor(good, field) is not None
    assert paging.read_cursor(f"{forged}:{signature}", field) is None
    wrong_shape = paging.make_cursor("sideways", tied[0].created_at, tied[0].pk)
    assert paging.read_cursor(wrong_shape, field) is None
    assert paging.read_cursor(paging.make_cursor(paging.OLDER, "not a time", 1), field) is None
    assert paging.read_cursor(paging.make_cursor(paging.OLDER, tied[0].created_at, 2**70), field) is None


def test_a_deep_page_costs_the_queries_of_the_first(client_for, owner, team, teammate, django_assert_num_queries):
    fill(team, [owner, teammate], 2_000)
    client = client_for(owner)
    client.get(reverse("history"))
    rows = Generation.objects.for_team(team).order_by("-created_at", "-pk")
    deep = rows[1_900]
    cursor = paging.make_cursor(paging.OLDER, deep.created_at, deep.pk)
    with django_assert_num_queries(queries := count_queries(client, reverse("history"))):
        first = client.get(reverse("history"))
    with django_assert_num_queries(queries):
        page = client.get(reverse("history"), {"cursor": cursor})
    assert len(listed(first)) == 24
    assert listed(page) == [g.prompt for g in rows[1_901:1_925]]
    assert "2,000 videos" in first.content.decode()


def test_the_total_is_exact_up_to_the_cap_then_approximate(owner, team, client_for, monkeypatch):
    for i in range(5):
        quick(owner, team, f"clip {i}")
    assert paging.approximate_count(Generation.objects.all(), cap=5) == (5, True)
    assert paging.approximate_count(Generation.objects.all(), cap=4) == (4, False)
    assert "5 videos" in client_for(owner).get(reverse("history")).content.decode()
    monkeypatch.setattr(paging, "COUNT_CAP", 3)
    assert "more than 3 videos" in client_for(owner).get(reverse("history")).content.decode()


def test_past_the_end_says_so(tied, client_for, owner):
    newest = tied[0]
    beyond = paging.make_cursor(paging.NEWER, newest.created_at, newest.pk)
    html = client_for(owner).get(reverse("history"), {"cursor": beyond}).content.decode()
    assert "No more videos here." in html and "Back to the first page" in html


# --- the review desk ----------------------------------------------------------------------------


@pytest.fixture
def queue(owner, team):
    now = timezone.now()
    made = [
        quick(
            owner,
            team,
            f"take {i:02}",
            state=TaskState.COMPLETED,
            review=Review.AWAITING,
            when=now + timedelta(seconds=i),
        )
        for i in range(45)
    ]
    quick(owner, team, "not sent", state=TaskState.COMPLETED)
    return made


def test_the_review_desk_pages_oldest_first_by_cursor(queue, client_for, owner):
    client = client_for(owner)
    pages = walk(client, reverse("review_queue"), {})
    assert [len(p) for p in pages] == [review.QUEUE_PAGE, review.QUEUE_PAGE, 5]
    assert sum(pages, []) == [g.prompt for g in queue]
    first = client.get(reverse("review_queue")).content.decode()
    assert "45 awaiting review, oldest first" in first and "Newer →" in first and "← Older" not in first


@pytest.mark.parametrize("cursor", TAMPERED, ids=range(len(TAMPERED)))
def test_the_review_desk_takes_a_tampered_cursor_as_the_first_page(queue, client_for, owner, cursor):
    client = client_for(owner)
    client.raise_request_exception = False
    response = client.get(reverse("review_queue"), {"cursor": cursor})
    assert response.status_code == 200 and desk_prompts(response) == [g.prompt for g in queue[:20]]


def test_the_review_desk_page_costs_the_same_deep_down(queue, client_for, owner, django_assert_num_queries):
    client = client_for(owner)
    client.get(reverse("review_queue"))
    with django_assert_num_queries(queries := count_queries(client, reverse("review_queue"))):
        client.get(reverse("review_queue"))
    cursor = paging.make_cursor(paging.NEWER, queue[39].created_at, queue[39].pk)
    with django_assert_num_queries(queries):
        response = client.get(reverse("review_queue"), {"cursor": cursor})
    assert desk_prompts(response) == [g.prompt for g in queue[40:]]


def count_queries(client, url: str) -> int:
    """How many queries one GET of ``url`` makes."""
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return len(captured)


def test_a_search_is_not_counted_unless_it_fits_one_page(tied, client_for, owner):
    client = client_for(owner)
    many = client.get(reverse("history"), {"q": "clip"}).content.decode()
    assert 'class="total"' not in many and "Older →" in many
    few = client.get(reverse("history"), {"q": '"clip 1"'}).content.decode()
    assert "10 videos" in few and "Older →" not in few

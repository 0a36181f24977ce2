"""The review desk's list: open-note counts, what changed since the previous version,
filters by author and reviewer that the pager keeps, and a cost that does not grow with the page."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.models import Role
from tests.conftest import awaiting, join
from videos.models import Generation, Note, Review
from videos.web import review


def _desk(client, **params):
    response = client.get(reverse("review_queue"), params)
    assert response.status_code == 200
    return response.content.decode()


def _next(html):
    found = re.search(r'<a rel="next" href="([^"]+)"', html)
    return reverse("review_queue") + unescape(found.group(1)) if found else None


def _item(html, generation):
    """The desk row of ``generation`` (its article)."""
    start = html.index(f'id="review-{generation.uuid}"')
    return html[start : html.index("</article>", start)]


def _decided(generation, reviewer, verdict=Review.CHANGES, comment="Warmer light, please.", **extra):
    Generation.objects.filter(pk=generation.pk).update(
        review=verdict, reviewed_by=reviewer, reviewed_at=timezone.now(), review_comment=comment, **extra
    )
    return Generation.objects.get(pk=generation.pk)


def _version_of(parent, author, team, key, prompt, **options):
    child = awaiting(author, team, key, prompt=prompt)
    Generation.objects.filter(pk=child.pk).update(parent=parent, options={**child.options, **options})
    return Generation.objects.get(pk=child.pk)


def _note(generation, author, body="Too dark at 2 s", **extra):
    return Note.objects.create(generation=generation, author=author, time_s=2.0, body=body, **extra)


def test_each_video_shows_how_many_of_its_notes_are_open(client_for, owner, team, teammate, bob_key):
    noted = awaiting(teammate, team, bob_key, prompt="A heron at dawn")
    quiet = awaiting(teammate, team, bob_key, prompt="A tram in the snow")
    first = _note(noted, owner)
    _note(noted, owner, body="The horizon tilts")
    _note(noted, owner, body="Fixed already", resolved_at=timezone.now())
    Note.objects.create(generation=noted, author=teammate, parent=first, body="On it")  # a reply is no note of its own

    html = _desk(client_for(owner))

    assert "2 open notes" in _item(html, noted)
    assert reverse("generation", args=[noted.uuid]) + "#notes" in _item(html, noted)
    assert "0 open notes" in _item(html, quiet)


def test_a_later_version_says_what_changed_since_the_one_it_was_made_from(client_for, owner, team, teammate, bob_key):
    first = _decided(awaiting(teammate, team, bob_key, prompt="A heron at dawn over a grey lake"), owner)
    second = _version_of(first, teammate, team, bob_key, "A heron at dusk over a golden lake", duration=6)
    retake = _version_of(first, teammate, team, bob_key, first.prompt)
    lone = awaiting(teammate, team, bob_key, prompt="A tram in the snow")

    html = _desk(client_for(owner))

    row = _item(html, second)
    assert "Changed since the version it was made from" in row
    assert "<del>dawn grey</del>" in row and "<ins>dusk golden</ins>" in row
    assert "Duration (s): 1 → 6" in row
    assert reverse("compare", args=[first.uuid, second.uuid]) in row
    assert "Same prompt and options" in _item(html, retake)
    assert "Changed since" not in _item(html, lone)


def test_a_parent_of_another_team_is_never_shown(client_for, owner, team, teammate, bob_key, outsider):
    from tests.conftest import add_key

    theirs = awaiting(outsider, outsider.teams.get(), add_key(outsider, outsider.teams.get()), prompt="Mallory secret")
    ours = _version_of(theirs, teammate, team, bob_key, "A heron at dawn")

    row = _item(_desk(client_for(owner)), ours)

    assert "Mallory" not in row and str(theirs.uuid) not in row and "Changed since" not in row


def test_the_author_filter_is_kept_by_the_pager(client_for, owner, team, teammate, key, bob_key):
    for n in range(review.QUEUE_PAGE + 2):
        awaiting(teammate, team, bob_key, prompt=f"Bob shot {n:02d}")
    awaiting(owner, team, key, prompt="Alice shot")
    client = client_for(owner)

    first = _desk(client, author="bob")
    assert "Bob shot 00" in first and "Alice shot" not in first and "Bob shot 20" not in first
    assert "22 awaiting review" in first
    older = _next(first)
    assert "author=bob" in older
    second = client.get(older).content.decode()
    assert "Bob shot 20" in second and "Bob shot 21" in second and "Alice shot" not in second
    assert "Bob shot 00" not in second


def test_the_reviewer_sees_the_new_versions_of_what_they_reviewed(client_for, owner, team, teammate, bob_key):
    carol, _ = join(team, "carol", Role.ADMIN)
    by_carol = _decided(awaiting(teammate, team, bob_key, prompt="Heron v1"), carol)
    by_alice = _decided(awaiting(teammate, team, bob_key, prompt="Tram v1"), owner)
    heron = _version_of(by_carol, teammate, team, bob_key, "Heron v2")
    tram = _version_of(by_alice, teammate, team, bob_key, "Tram v2")
    fresh = awaiting(teammate, team, bob_key, prompt="Boat v1")

    html = _desk(client_for(owner), reviewer="carol")

    assert f'id="review-{heron.uuid}"' in html
    assert f'id="review-{tram.uuid}"' not in html and f'id="review-{fresh.uuid}"' not in html
    assert "1 awaiting review" in html
    assert "the reviewer is who decided" in html  # the help text says what the filter means


def test_the_decided_list_shows_reviews_newest_first_filtered_by_who_decided(
    client_for, owner, team, teammate, bob_key
):
    carol, _ = join(team, "carol", Role.ADMIN)
    earlier = _decided(awaiting(teammate, team, bob_key, prompt="Heron accepted"), carol, Review.ACCEPTED, "")
    later = _decided(awaiting(teammate, team, bob_key, prompt="Tram rejected"), carol, Review.REJECTED, "Too shaky")
    _decided(awaiting(teammate, team, bob_key, prompt="Boat by alice"), owner)
    awaiting(teammate, team, bob_key, prompt="Still waiting")
    client = client_for(owner)

    html = _desk(client, show="decided", reviewer="carol")

    assert html.index("Tram rejected") < html.index("Heron accepted")
    assert "Boat by alice" not in html and "Still waiting" not in html
    assert "by carol" in _item(html, later) and "Too shaky" in _item(html, later)
    assert "Accepted" in _item(html, earlier)
    assert "review_decide" not in html and reverse("review_decide", args=[later.uuid]) not in html
    assert "2 decided reviews, newest first" in html
    assert "Boat by alice" in _desk(client, show="decided")


@pytest.mark.parametrize("field", ["author", "reviewer", "show"])
@pytest.mark.parametrize("value", ["mallory", "<script>alert(1)</script>", "x" * 5000, "bob\x00"])
def test_a_filter_value_that_is_no_team_member_is_a_message_not_a_500(
    client_for, owner, team, teammate, bob_key, outsider, field, value
):
    awaiting(teammate, team, bob_key, prompt="A heron at dawn")

    html = _desk(client_for(owner), **{field: value})

    assert "Select a valid choice" in html
    assert "<script>alert(1)</script>" not in html
    assert "A heron at dawn" in html  # that filter is not applied


def test_a_tampered_cursor_means_the_first_page(client_for, owner, team, teammate, bob_key):
    for n in range(review.QUEUE_PAGE + 1):
        awaiting(teammate, team, bob_key, prompt=f"Shot {n:02d}")
    client = client_for(owner)
    cursor = _next(_desk(client)).split("cursor=")[1]

    for show in ("awaiting", "decided"):
        html = _desk(client, cursor=cursor[:-2] + "zz", show=show)
        assert ("Shot 00" in html) == (show == "awaiting")


def _fill(count, author, reviewer, team, key):
    """``count`` later versions awaiting review, each with a decided parent and open notes."""
    for n in range(count):
        parent = _decided(awaiting(author, team, key, prompt=f"Take {n} at dawn"), reviewer)
        child = _version_of(parent, author, team, key, f"Take {n} at dusk", duration=6)
        _note(child, reviewer)


def test_the_desks_queries_do_not_grow_with_its_rows(
    client_for, owner, team, teammate, bob_key, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(review, "QUEUE_PAGE", 50)
    client = client_for(owner)
    _fill(5, teammate, owner, team, bob_key)
    _desk(client)  # the session's first page does its once-a-visit work
    with CaptureQueriesContext(connection) as five:
        html = _desk(client)
    assert html.count("Changed since the version it was made from") == 5 and html.count("1 open note") == 5

    _fill(45, teammate, owner, team, bob_key)
    with django_assert_num_queries(len(five)):
        html = _desk(client)
    assert html.count("Changed since the version it was made from") == 50 and html.count("1 open note") == 50


@hypothesis_settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=True,
)
@given(
    query=st.dictionaries(st.sampled_from(["show", "author", "reviewer", "cursor"]), st.text(max_size=40), max_size=4)
)
def test_the_desk_answers_any_query(client_for, owner, team, teammate, bob_key, query):
    """Whatever the URL carries, the desk answers 200 (a message for a bad filter, the first page for a bad cursor)."""
    response = client_for(owner).get(reverse("review_queue"), query)
    assert response.status_code == 200

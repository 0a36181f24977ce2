"""Versions (issue 14, item 2): a remix or retake is the next version; the page shows the
chain, and two versions compare side by side with a prompt diff and an options table."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import add_key, awaiting
from videos.models import Generation
from videos.web.notes import option_rows, word_diff


def remix_of(parent: Generation, author, team, key, prompt: str, **options) -> Generation:
    child = awaiting(author, team, key, prompt=prompt)
    Generation.objects.filter(pk=child.pk).update(parent=parent, options={**child.options, **options})
    return Generation.objects.get(pk=child.pk)


@pytest.fixture
def chain(owner, team, key, teammate, bob_key):
    """v1 → v2 → v3, and v1 → v4 (a second remix of the first)."""
    v1 = awaiting(owner, team, key, prompt="A red kite over green hills")
    v2 = remix_of(v1, owner, team, key, "A red kite over green hills at dusk", duration=2)
    v3 = remix_of(v2, teammate, team, bob_key, "A blue kite over green hills at dusk")
    v4 = remix_of(v1, owner, team, key, "A red kite over snowy hills")
    return [v1, v2, v3, v4]


def test_the_chain_follows_remixes_both_ways_from_any_version(chain):
    for version in chain:
        assert [g.pk for g in Generation.objects.versions_of(version)] == [g.pk for g in chain]


def test_another_teams_remix_is_not_in_the_chain(chain, outsider):
    theirs_team = outsider.teams.get()
    theirs = remix_of(chain[0], outsider, theirs_team, add_key(outsider, theirs_team, secret="sk-sandbox-mal-9"), "x")
    assert theirs.pk not in [g.pk for g in Generation.objects.versions_of(chain[1])]
    assert [g.pk for g in Generation.objects.versions_of(theirs)] == [theirs.pk]


def test_a_parent_loop_ends(owner, team, key):
    a = awaiting(owner, team, key, prompt="a")
    b = remix_of(a, owner, team, key, "b")
    Generation.objects.filter(pk=a.pk).update(parent=b)  # only a corrupted database does this
    assert {g.pk for g in Generation.objects.versions_of(Generation.objects.get(pk=a.pk))} == {a.pk, b.pk}


def test_the_page_shows_the_chain_and_links_to_compare(client_for, owner, chain):
    v1, v2, v3, v4 = chain
    html = client_for(owner).get(reverse("generation", args=[v2.uuid])).content.decode()
    assert "this is version 2 of 4" in html
    for other in (v1, v3, v4):
        assert reverse("compare", args=[v2.uuid, other.uuid]) in html
    assert reverse("compare", args=[v2.uuid, v2.uuid]) not in html


def test_a_video_without_versions_shows_no_chain(client_for, owner, team, key):
    alone = awaiting(owner, team, key, prompt="Alone")
    assert "Versions" not in client_for(owner).get(reverse("generation", args=[alone.uuid])).content.decode()


def test_compare_shows_both_the_prompt_diff_and_the_changed_options(client_for, owner, chain):
    v1, v2, v3, _ = chain
    response = client_for(owner).get(reverse("compare", args=[v1.uuid, v3.uuid]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Version 1 and version 3" in html
    assert "<del>red</del>" in html and "<ins>blue</ins>" in html and "<ins>at dusk</ins>" in html
    assert "js/compare.js" in html
    assert reverse("video_file", args=[v1.uuid]) not in html  # not finished: no player, says so
    assert "No video to play yet." in html


def test_compare_refuses_what_is_not_a_version_or_not_the_teams(client_for, owner, team, key, outsider, chain):
    stranger = awaiting(owner, team, key, prompt="Unrelated")
    client = client_for(owner)
    assert client.get(reverse("compare", args=[chain[0].uuid, stranger.uuid])).status_code == 404
    assert client_for(outsider).get(reverse("compare", args=[chain[0].uuid, chain[1].uuid])).status_code == 404


def test_word_diff_marks_removed_and_added_words():
    assert word_diff("a red kite flies", "a blue kite flies high") == [
        ("same", "a"),
        ("removed", "red"),
        ("added", "blue"),
        ("same", "kite flies"),
        ("added", "high"),
    ]


def test_the_options_table_marks_what_changed(chain):
    v1, v2, *_ = chain
    rows = {r["label"]: r for r in option_rows(v1, v2)}
    assert rows["Duration (s)"]["changed"] and rows["Duration (s)"]["right"] == "2"
    assert not rows["Model"]["changed"]

"""Prompt search through the index (``videos/search.py``), on SQLite and on PostgreSQL:
Chinese words inside sentences without spaces, all words in any order, phrases, case,
deletions, team scoping and hostile queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from accounts.models import Team
from tests.test_history import listed, quick
from videos import actions, search
from videos.models import Generation

LIGHTHOUSE = "海边的灯塔，黄昏，镜头缓慢推进"


@pytest.fixture(autouse=True, params=["rare", "common"])
def plan(request, monkeypatch):
    """Every test twice: words taken as rare (looked up through the trigram index) and as
    common (checked on the rows the newest-first index walks): the same results either way."""
    if request.param == "common":
        monkeypatch.setattr(search, "FTS_PROBE_ROWS", 0)
    return request.param


def found(team, query: str) -> set[str]:
    """The prompts of ``team``'s generations that ``search`` finds for ``query``."""
    return set(search.search(Generation.objects.for_team(team), query).values_list("prompt", flat=True))


@pytest.fixture
def prompts(owner, team):
    for prompt in (
        LIGHTHOUSE,
        "城市夜景，霓虹灯，雨中的街道",
        "A Lighthouse at dusk, the camera slowly pushes in",
        "a paper boat on a rainy street",
        "Rain on the boat deck; a 50% chance of storm_clouds",
    ):
        quick(owner, team, prompt)


@pytest.mark.parametrize("query", ["灯塔", "黄昏 灯塔", "灯塔 黄昏", "海边的灯塔", "镜头缓慢推进 海边"])
def test_a_chinese_prompt_is_found_by_its_words(prompts, team, query):
    assert found(team, query) == {LIGHTHOUSE}


def test_history_finds_the_chinese_prompt(prompts, client_for, owner):
    client = client_for(owner)
    assert listed(client.get(reverse("history"), {"q": "黄昏 灯塔"})) == [LIGHTHOUSE]
    assert listed(client.get(reverse("history"), {"q": "灯"})) == [
        "城市夜景，霓虹灯，雨中的街道",
        LIGHTHOUSE,
    ]  # a one-character word, newest first


def test_all_words_must_match_in_any_order_ignoring_case(prompts, team):
    assert found(team, "DUSK lighthouse") == {"A Lighthouse at dusk, the camera slowly pushes in"}
    assert found(team, "boat") == {
        "a paper boat on a rainy street",
        "Rain on the boat deck; a 50% chance of storm_clouds",
    }
    assert found(team, "boat paper") == {"a paper boat on a rainy street"}
    assert found(team, "boat lighthouse") == set()


def test_a_quoted_phrase_matches_as_a_phrase(prompts, team):
    assert found(team, '"paper boat"') == {"a paper boat on a rainy street"}
    assert found(team, '"boat paper"') == set()
    assert found(team, '"rainy   street" paper') == {"a paper boat on a rainy street"}  # spaces collapsed
    assert found(team, '"dusk, the') == {"A Lighthouse at dusk, the camera slowly pushes in"}  # unclosed: to the end


def test_short_words_and_like_characters_are_literal(prompts, team):
    assert found(team, "a") >= {"a paper boat on a rainy street"}
    assert found(team, "50%") == {"Rain on the boat deck; a 50% chance of storm_clouds"}
    assert found(team, "%") == {"Rain on the boat deck; a 50% chance of storm_clouds"}
    assert found(team, "m_c") == {"Rain on the boat deck; a 50% chance of storm_clouds"}
    assert found(team, "_") == {"Rain on the boat deck; a 50% chance of storm_clouds"}
    assert found(team, "a_p") == set()  # "_" is not a wildcard


def test_an_empty_query_keeps_everything(prompts, team):
    assert len(found(team, "")) == len(found(team, '  ""  ')) == 5


def test_deleted_and_edited_generations_leave_the_results(prompts, owner, team):
    boat = Generation.objects.get(prompt="a paper boat on a rainy street")
    actions.delete_generation(boat, owner)
    assert found(team, "paper") == set()
    lighthouse = Generation.objects.get(prompt=LIGHTHOUSE)
    Generation.objects.filter(pk=lighthouse.pk).update(prompt="山顶的日出")
    assert found(team, "海边的灯塔") == set() and found(team, "山顶的日出") == {"山顶的日出"}


def test_another_teams_prompts_never_match(prompts, outsider, client_for):
    other = Team.create_personal(outsider)
    quick(outsider, other, "their own lighthouse 灯塔")
    assert found(other, "灯塔") == {"their own lighthouse 灯塔"}
    assert found(other, "lighthouse") == {"their own lighthouse 灯塔"}
    assert listed(client_for(outsider).get(reverse("history"), {"q": "海边的灯塔"})) == []


HOSTILE = [
    '"',
    '""""',
    "*",
    "boat*",
    "NEAR(boat lighthouse)",
    "NEAR(",
    "-boat",
    "prompt:boat",
    "boat OR lighthouse",
    "boat AND NOT paper",
    "^boat",
    "(boat",
    "'; DROP TABLE videos_generation; --",
    "' OR '1'='1",
    "\\",
    "\\%",
    "{prompt}: boat",
    "\x00boat",
    "boat\ud800",
    "x" * 10_000,
    "灯塔 " * 2_000,
]


@pytest.mark.parametrize("query", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_queries_are_plain_text(prompts, team, client_for, owner, query):
    results = found(team, query)  # never raises
    if query in ("boat OR lighthouse", "boat AND NOT paper", "NEAR(boat lighthouse)"):
        assert results == set()  # operators are words, which no prompt holds all of
    client = client_for(owner)
    client.raise_request_exception = False
    typed = query.encode("utf-8", "replace").decode()  # a browser cannot send a lone surrogate
    response = client.get(reverse("history"), {"q": typed})
    assert response.status_code == 200
    assert Generation.objects.count() == 5


def test_a_long_query_is_named_not_run(prompts, client_for, owner):
    response = client_for(owner).get(reverse("history"), {"q": "boat " * 2_000})
    assert response.status_code == 200 and "Ignored “Search prompts”" in response.content.decode()


def test_terms_are_capped_and_cleaned():
    assert search.terms('Boat  "Paper   BOAT" boat \x00x') == ["boat", "paper boat", "x"]
    assert len(search.terms(" ".join(f"w{i}" for i in range(50)))) == search.MAX_TERMS


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's triggers")
def test_the_index_survives_a_table_rebuild(prompts, owner, team):
    """A migration that rebuilds the table drops its triggers; migrate's hook puts them back."""
    with connection.cursor() as cursor:
        for name in search.SQLITE_TRIGGERS:
            cursor.execute(f"DROP TRIGGER {name}")
    assert search.ensure_index() is True
    assert search.ensure_index() is False  # all in place now
    quick(owner, team, "a new red kite over the hill")
    assert found(team, "red kite") == {"a new red kite over the hill"}
    assert found(team, "灯塔 黄昏") == {LIGHTHOUSE}


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5 table")
def test_the_index_holds_every_prompt(prompts):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {search.FTS_TABLE} WHERE {search.FTS_TABLE} MATCH '\"灯塔，黄\"'")
        assert cursor.fetchone()[0] == 1

"""Where the pieces of issue 13's loop meet (found by the walk in test_loop_browser): a board
renders its sequences, says it holds them, and a take's page links back to its takes."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from accounts.models import Membership, Role
from tests.conftest import finished, make_user
from tests.test_boards import make_board
from videos import actions
from videos.models import Generation, RenderState, Review, Sequence


@pytest.fixture
def two(owner, team, key, gateway):
    """Two finished videos of the team."""
    return (
        finished(owner, team, key, prompt="A lighthouse in a storm", review=Review.NONE),
        finished(owner, team, key, prompt="A red kite over dunes", review=Review.NONE),
    )


@pytest.fixture
def board(owner, team):
    return make_board(team, owner)


@pytest.fixture
def sequence(owner, team, two):
    """The sequence "The coast" of the two videos."""
    made = actions.create_sequence(team, owner, "The coast")
    for video in two:
        actions.add_shot(made, video, owner)
    return made


def test_the_board_offers_to_render_its_sequence_and_the_render_is_queued(client_for, owner, board, sequence):
    client = client_for(owner)
    client.post(reverse("board_sequence_add"), {"board": str(board.uuid), "sequence": str(sequence.uuid)})
    page = client.get(reverse("board", args=[board.uuid])).content.decode()
    action = reverse("sequence_render", args=[sequence.uuid])
    assert f'action="{action}"' in page and "Render “The coast” to one MP4" in page
    assert "1 sequence" in page and "Nothing on this board yet" not in page

    response = client.post(action)
    assert response.status_code == 302 and response.url == reverse("sequence", args=[sequence.uuid])
    assert Sequence.objects.get(pk=sequence.pk).render_state != RenderState.NONE


def test_a_rendering_sequence_and_a_viewer_get_no_render_button_on_the_board(client_for, team, owner, board, sequence):
    client_for(owner).post(reverse("board_sequence_add"), {"board": str(board.uuid), "sequence": str(sequence.uuid)})
    action = reverse("sequence_render", args=[sequence.uuid])
    viewer = make_user("vera")
    Membership.objects.create(team=team, user=viewer, role=Role.VIEWER)
    assert action not in client_for(viewer).get(reverse("board", args=[board.uuid])).content.decode()
    Sequence.objects.filter(pk=sequence.pk).update(render_state=RenderState.RENDERING)
    assert action not in client_for(owner).get(reverse("board", args=[board.uuid])).content.decode()


def test_a_takes_page_links_back_to_all_its_takes_and_says_it_is_chosen(client_for, owner, two):
    first, second = two
    group = uuid.uuid4()
    Generation.objects.filter(pk=first.pk).update(take_group=group, take_index=0)
    Generation.objects.filter(pk=second.pk).update(take_group=group, take_index=1, chosen_take=True)
    client = client_for(owner)
    page = client.get(reverse("generation", args=[second.uuid])).content.decode()
    assert f'href="{reverse("takes", args=[group])}"' in page and "Take 2 · all the takes side by side" in page
    assert "Chosen take" in page
    page = client.get(reverse("generation", args=[first.uuid])).content.decode()
    assert "Take 1 · all the takes side by side" in page and "Chosen take" not in page


def test_a_video_that_is_no_take_has_no_take_line(client_for, owner, two):
    page = client_for(owner).get(reverse("generation", args=[two[0].uuid])).content.decode()
    assert "all the takes side by side" not in page

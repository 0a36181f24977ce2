"""Boards (issue 13, item 5): a team's projects grouping its generations, added from a
video's page and in bulk from History, filtered on in History, with cover, description,
total spend and a ZIP; and the gallery tiles (item 8): cost, hover preview, select all."""

from __future__ import annotations

import io
import re
import zipfile
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Membership, Role
from tests.conftest import add_key, make_generation, make_user, run_until_done
from tests.test_history import listed, quick
from videos import actions, billing
from videos.models import AuditEntry, Board, BoardItem, Generation, LedgerEntry, TaskState


def make_board(team, user, name="Spring campaign", description="Ads for the spring launch") -> Board:
    return actions.create_board(team, user, name=name, description=description)


def done(owner, team, key, prompt) -> Generation:
    generation = make_generation(owner, team, key, prompt=prompt)
    assert run_until_done(generation.task.pk).state == TaskState.COMPLETED
    return Generation.objects.select_related("asset", "task").get(pk=generation.pk)


def charge(generation: Generation, amount: str, *, billed=True) -> None:
    LedgerEntry.objects.create(
        team=generation.team,
        generation=generation,
        key_label="k",
        dialect=generation.dialect,
        kind=LedgerEntry.Kind.CHARGE,
        amount_usd=Decimal(amount),
        billed=billed,
    )


# --- making and editing boards ---------------------------------------------------------------


def test_a_member_makes_a_board_and_sees_it_listed(client_for, owner, team):
    client = client_for(owner)
    response = client.post(reverse("boards"), {"name": "  Spring   campaign ", "description": "The launch"})
    board = Board.objects.get(team=team)
    assert response.status_code == 302 and response["Location"] == reverse("board", kwargs={"uuid": board.uuid})
    assert board.name == "Spring campaign" and board.created_by == owner
    assert AuditEntry.objects.filter(team=team, action="board.created", target="Spring campaign").exists()
    page = client.get(reverse("boards")).content.decode()
    assert "Spring campaign" in page and "The launch" in page and "0 videos" in page


def test_a_second_board_of_the_same_name_is_refused_where_it_was_typed(client_for, owner, team):
    make_board(team, owner)
    response = client_for(owner).post(reverse("boards"), {"name": "Spring campaign"})
    assert response.status_code == 400
    assert "has a board named “Spring campaign” already" in response.content.decode()
    assert Board.objects.filter(team=team).count() == 1


def test_a_blank_name_is_refused_and_nothing_is_made(client_for, owner, team):
    response = client_for(owner).post(reverse("boards"), {"name": "   "})
    assert response.status_code == 400 and not Board.objects.exists()


def test_a_viewer_cannot_make_a_board(client_for, team):
    viewer = make_user("vera")
    Membership.objects.create(team=team, user=viewer, role=Role.VIEWER)
    assert client_for(viewer).post(reverse("boards"), {"name": "Mine"}).status_code == 403
    assert not Board.objects.exists()


def test_the_board_page_edits_name_description_and_cover(client_for, owner, team, key, gateway):
    board = make_board(team, owner)
    first, second = done(owner, team, key, "A lighthouse in a storm"), done(owner, team, key, "A red kite")
    actions.add_to_board(board, [first, second], owner)
    board.refresh_from_db()
    assert board.cover == first  # the first finished video added becomes the cover
    client = client_for(owner)
    response = client.post(
        reverse("board", kwargs={"uuid": board.uuid}),
        {"name": "Summer", "description": "Renamed", "cover": str(second.uuid)},
    )
    assert response.status_code == 302
    board.refresh_from_db()
    assert (board.name, board.description, board.cover) == ("Summer", "Renamed", second)
    listing = client.get(reverse("boards")).content.decode()
    assert reverse("poster_file", kwargs={"uuid": second.uuid}) in listing


def test_a_cover_that_is_not_on_the_board_is_refused(client_for, owner, team, key):
    board = make_board(team, owner)
    elsewhere = quick(owner, team, "not on it")
    response = client_for(owner).post(
        reverse("board", kwargs={"uuid": board.uuid}), {"name": "Spring campaign", "cover": str(elsewhere.uuid)}
    )
    assert response.status_code == 400
    board.refresh_from_db()
    assert board.cover is None


def test_deleting_a_board_keeps_its_videos(client_for, owner, team):
    board = make_board(team, owner)
    clip = quick(owner, team, "kept")
    actions.add_to_board(board, [clip], owner)
    response = client_for(owner).post(reverse("board_delete", kwargs={"uuid": board.uuid}))
    assert response.status_code == 302 and not Board.objects.exists()
    assert Generation.objects.filter(pk=clip.pk).exists()


def test_only_its_maker_or_an_admin_deletes_a_board(client_for, owner, team, teammate):
    board = make_board(team, owner)
    assert client_for(teammate).post(reverse("board_delete", kwargs={"uuid": board.uuid})).status_code == 403
    assert Board.objects.filter(pk=board.pk).exists()


# --- adding and removing -------------------------------------------------------------------


def test_the_detail_page_adds_a_video_to_a_board(client_for, owner, team):
    board = make_board(team, owner)
    clip = quick(owner, team, "A paper boat")
    client = client_for(owner)
    page = client.get(reverse("generation", kwargs={"uuid": clip.uuid})).content.decode()
    assert "Add to board" in page and "Spring campaign" in page
    back = reverse("generation", kwargs={"uuid": clip.uuid})
    response = client.post(reverse("board_add"), {"board": str(board.uuid), "ids": [str(clip.uuid)], "next": back})
    assert response.status_code == 302 and response["Location"] == back
    assert BoardItem.objects.filter(board=board, generation=clip, added_by=owner).exists()
    again = client.post(reverse("board_add"), {"board": str(board.uuid), "ids": [str(clip.uuid)]}, follow=True)
    assert "0 video(s)" in again.content.decode() and BoardItem.objects.count() == 1  # once only
    page = client.get(back).content.decode()
    assert "On boards:" in page and reverse("board", kwargs={"uuid": board.uuid}) in page


def test_history_adds_the_ticked_videos_in_bulk_and_filters_by_board(client_for, owner, team):
    board = make_board(team, owner)
    other = make_board(team, owner, name="Other")
    on = [quick(owner, team, f"on the board {i}") for i in range(3)]
    off = quick(owner, team, "not on the board")
    client = client_for(owner)
    page = client.get(reverse("history")).content.decode()
    assert "Select all on this page" in page and 'value="board"' in page
    response = client.post(
        reverse("bulk"), {"action": "board", "board": str(board.uuid), "ids": [str(g.uuid) for g in on]}, follow=True
    )
    assert "Added 3 video(s) to “Spring campaign”" in response.content.decode()
    assert set(BoardItem.objects.filter(board=board).values_list("generation_id", flat=True)) == {g.pk for g in on}
    filtered = client.get(reverse("history"), {"board": str(board.uuid)})
    assert sorted(listed(filtered)) == sorted(g.prompt for g in on)
    assert off.prompt not in listed(filtered)
    assert listed(client.get(reverse("history"), {"board": str(other.uuid)})) == []


def test_an_unknown_board_in_the_history_filter_is_ignored_and_named(client_for, owner, team):
    quick(owner, team, "still listed")
    response = client_for(owner).get(reverse("history"), {"board": "not-a-board"})
    assert response.status_code == 200 and listed(response) == ["still listed"]
    assert "Ignored “Board”" in response.content.decode()


def test_adding_another_teams_generation_is_refused_and_nothing_is_added(owner, team, outsider):
    board = make_board(team, owner)
    mine = quick(owner, team, "mine")
    theirs = quick(outsider, outsider.teams.get(), "theirs")
    with pytest.raises(actions.BoardRefused):
        actions.add_to_board(board, [mine, theirs], owner)
    assert not BoardItem.objects.exists()


def test_posting_another_teams_ids_adds_nothing(client_for, owner, team, outsider):
    board = make_board(team, owner)
    theirs = quick(outsider, outsider.teams.get(), "theirs")
    client = client_for(owner)
    client.post(reverse("board_add"), {"board": str(board.uuid), "ids": [str(theirs.uuid)]})
    client.post(reverse("bulk"), {"action": "board", "board": str(board.uuid), "ids": [str(theirs.uuid)]})
    assert not BoardItem.objects.exists()


def test_another_teams_board_is_404_for_adding(client_for, owner, team, outsider):
    theirs = make_board(outsider.teams.get(), outsider, name="Theirs")
    clip = quick(owner, team, "mine")
    client = client_for(owner)
    assert client.post(reverse("board_add"), {"board": str(theirs.uuid), "ids": [str(clip.uuid)]}).status_code == 404
    response = client.post(reverse("bulk"), {"action": "board", "board": str(theirs.uuid), "ids": [str(clip.uuid)]})
    assert response.status_code == 404
    assert client.post(reverse("board_add"), {"board": "<script>", "ids": [str(clip.uuid)]}).status_code == 404
    assert not BoardItem.objects.exists()


def test_a_viewer_cannot_add_to_a_board_from_history(client_for, owner, team):
    board = make_board(team, owner)
    clip = quick(owner, team, "mine")
    viewer = make_user("vera")
    Membership.objects.create(team=team, user=viewer, role=Role.VIEWER)
    response = client_for(viewer).post(
        reverse("bulk"), {"action": "board", "board": str(board.uuid), "ids": [str(clip.uuid)]}
    )
    assert response.status_code == 403 and not BoardItem.objects.exists()


def test_removing_from_the_board_keeps_the_video_and_clears_its_cover(client_for, owner, team, key, gateway):
    board = make_board(team, owner)
    cover = done(owner, team, key, "A lighthouse in a storm")
    actions.add_to_board(board, [cover], owner)
    board.refresh_from_db()
    assert board.cover == cover
    client = client_for(owner)
    response = client.post(reverse("board_remove", kwargs={"uuid": board.uuid}), {"ids": [str(cover.uuid)]})
    assert response.status_code == 302 and not BoardItem.objects.exists()
    board.refresh_from_db()
    assert board.cover is None and Generation.objects.filter(pk=cover.pk).exists()
    assert AuditEntry.objects.filter(action="board.items_removed").exists()


# --- spend and the ZIP -----------------------------------------------------------------------


def test_a_boards_spend_is_its_videos_billed_charges(client_for, owner, team, django_assert_max_num_queries):
    board, empty = make_board(team, owner), make_board(team, owner, name="Empty")
    a, b, c = quick(owner, team, "a"), quick(owner, team, "b"), quick(owner, team, "off the board")
    actions.add_to_board(board, [a, b], owner)
    charge(a, "0.30")
    charge(b, "0.20")
    charge(b, "9.00", billed=False)  # a sandbox rehearsal is not spend
    charge(c, "5.00")
    assert billing.board_spend(team, [board.pk, empty.pk]) == {board.pk: Decimal("0.50")}
    client = client_for(owner)
    client.get(reverse("boards"))
    with django_assert_max_num_queries(10):  # one query for every board's spend, whatever their number
        page = client.get(reverse("boards")).content.decode()
    assert "$0.50 spent" in page and "$0.00 spent" in page and "2 videos" in page
    detail = client_for(owner).get(reverse("board", kwargs={"uuid": board.uuid})).content.decode()
    assert "$0.50 spent" in detail


def test_the_boards_zip_holds_its_videos_and_manifest(client_for, owner, team, key, gateway):
    board = make_board(team, owner, name="Spring campaign")
    on = [done(owner, team, key, "A lighthouse in a storm"), done(owner, team, key, "A red kite")]
    off = done(owner, team, key, "Not on the board")
    actions.add_to_board(board, on, owner)
    response = client_for(owner).post(reverse("board_download", kwargs={"uuid": board.uuid}))
    assert response.status_code == 200 and response.streaming
    assert 'filename="board-spring-campaign-' in response["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        names = set(archive.namelist())
        manifest = archive.read("manifest.csv").decode()
    assert len(names - {"manifest.csv"}) == 2
    assert "A lighthouse in a storm" in manifest and "A red kite" in manifest and off.prompt not in manifest


def test_the_zip_of_a_board_without_finished_videos_says_so(client_for, owner, team):
    board = make_board(team, owner)
    actions.add_to_board(board, [quick(owner, team, "rendering", state=TaskState.PROCESSING)], owner)
    response = client_for(owner).post(reverse("board_download", kwargs={"uuid": board.uuid}), follow=True)
    assert "None of the selected videos is ready" in response.content.decode()


# --- tiles -------------------------------------------------------------------------------------


def test_each_tile_shows_its_cost_without_a_query_per_tile(client_for, owner, team):
    for i in range(5):
        clip = quick(owner, team, f"clip {i}")
        Generation.objects.filter(pk=clip.pk).update(billing="charged", cost_usd=Decimal("0.25") + i)
    client = client_for(owner)
    client.get(reverse("history"))  # the session, once
    html = client.get(reverse("history")).content.decode()
    costs = re.findall(r'<p class="meta tile-cost">(.*?)</p>', html, re.S)
    assert len(costs) == 5 and "Cost $4.25" in costs[0] and "Cost $0.25" in costs[-1]
    five = _queries(client)
    for i in range(5):
        held = quick(owner, team, f"held {i}")
        Generation.objects.filter(pk=held.pk).update(billing="held", estimate_usd=Decimal("1.5"))
    assert _queries(client) == five  # ten tiles cost what five did
    assert "Est. $1.50 held" in client.get(reverse("history")).content.decode()


def _queries(client) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(reverse("history"))
    return len(captured)


def test_a_finished_tile_previews_muted_on_hover_and_loads_nothing_before(client_for, owner, team, key, gateway):
    clip = done(owner, team, key, "A lighthouse in a storm")
    html = client_for(owner).get(reverse("history")).content.decode()
    video = re.search(r"<video[^>]*data-hover-preview[^>]*>", html)
    assert video, "the finished tile has a hover preview"
    tag = video.group(0)
    assert 'preload="none"' in tag and " muted" in tag and " loop" in tag
    assert f'poster="{reverse("poster_file", kwargs={"uuid": clip.uuid})}"' in tag
    assert "js/tiles.js" in html


def test_a_key_of_another_gateway_does_not_matter_to_a_tile(client_for, owner, team):
    add_key(owner, team, dialect="xai", secret="xai-sandbox-0003", label="xAI")
    quick(owner, team, "unpriced clip")
    html = client_for(owner).get(reverse("history")).content.decode()
    assert "Price unknown" in re.search(r'<p class="meta tile-cost">(.*?)</p>', html, re.S).group(1)


def test_the_audit_trail_tells_what_was_done_to_a_board(client_for, owner, team):
    board = make_board(team, owner)
    actions.add_to_board(board, [quick(owner, team, "a clip")], owner)
    from django.utils.html import strip_tags

    page = client_for(owner).get(reverse("audit_log")).content.decode()
    text = strip_tags(page)  # the board's name links to its page
    assert "made the board “Spring campaign”" in text and "added videos to the board “Spring campaign”" in text
    assert f'href="{reverse("board", kwargs={"uuid": board.uuid})}"' in page


def test_the_detail_page_takes_a_video_off_a_board(client_for, owner, team):
    board = make_board(team, owner)
    clip = quick(owner, team, "A paper boat")
    actions.add_to_board(board, [clip], owner)
    client = client_for(owner)
    back = reverse("generation", kwargs={"uuid": clip.uuid})
    page = client.get(back).content.decode()
    assert f'action="{reverse("board_remove", kwargs={"uuid": board.uuid})}"' in page
    response = client.post(
        reverse("board_remove", kwargs={"uuid": board.uuid}), {"ids": [str(clip.uuid)], "next": back}
    )
    assert response.status_code == 302 and response["Location"] == back
    assert not BoardItem.objects.exists() and Generation.objects.filter(pk=clip.pk).exists()

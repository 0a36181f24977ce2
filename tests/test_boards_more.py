"""Boards, continued (issue 13 item 5, issue 14 items 3–4): sequences on boards, Add to board
from a studio card, share links for a board, and the export gate on a board's ZIP."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role, Team
from tests.conftest import add_key, finished, join, make_user
from tests.test_boards import charge, make_board
from videos import actions, billing
from videos.models import AuditEntry, BoardItem, Generation, GuestNote, RenderState, Review, Sequence, ShareLink


@pytest.fixture
def two(owner, team, key, gateway):
    """Two finished, archived videos of the team, not reviewed."""
    return (
        finished(owner, team, key, prompt="A lighthouse in a storm", review=Review.NONE),
        finished(owner, team, key, prompt="A red kite over dunes", review=Review.NONE),
    )


@pytest.fixture
def board(owner, team):
    return make_board(team, owner)


@pytest.fixture
def sequence(owner, team, two):
    made = actions.create_sequence(team, owner, "The coast")
    for video in two:
        actions.add_shot(made, video, owner)
    return made


def rendered(sequence: Sequence) -> Sequence:
    """Mark ``sequence`` rendered with a small stand-in file (the render itself is tested in
    test_sequences)."""
    sequence.video.save("coast.mp4", ContentFile(b"\x00\x00\x00\x18ftypmp42rendered"), save=False)
    sequence.render_state = RenderState.DONE
    sequence.video_bytes = sequence.video.size
    sequence.rendered_at = timezone.now()
    sequence.save()
    return sequence


def zip_of(response) -> zipfile.ZipFile:
    assert response.status_code == 200, response
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def guest() -> Client:
    return Client(REMOTE_ADDR="203.0.113.9")


def board_link(board, actor, membership=None, **options):
    options.setdefault("expires_at", timezone.now() + timedelta(days=7))
    membership = membership or Membership.objects.get(team=board.team, user=actor)
    return actions.create_board_share_link(board, actor, membership, **options)


# --- 1. sequences on boards ---------------------------------------------------------------------


def test_a_sequence_is_put_on_a_board_from_its_page_and_shows_there(client_for, owner, board, sequence):
    client = client_for(owner)
    page = client.get(reverse("sequence", args=[sequence.uuid])).content.decode()
    assert "Add to board" in page and board.name in page
    back = reverse("sequence", args=[sequence.uuid])
    response = client.post(
        reverse("board_sequence_add"), {"board": str(board.uuid), "sequence": str(sequence.uuid), "next": back}
    )
    assert response.status_code == 302 and response["Location"] == back
    assert BoardItem.objects.filter(board=board, sequence=sequence).count() == 1
    assert AuditEntry.objects.filter(action="board.sequence_added", target=board.name).exists()
    again = client.post(reverse("board_sequence_add"), {"board": str(board.uuid), "sequence": str(sequence.uuid)})
    assert again.status_code == 302 and BoardItem.objects.filter(board=board, sequence=sequence).count() == 1
    shown = client.get(reverse("board", args=[board.uuid])).content.decode()
    assert "The coast" in shown and "Not rendered" in shown and "2 shots" in shown
    assert reverse("sequence_video", args=[sequence.uuid]) not in shown  # nothing to play yet
    rendered(sequence)
    shown = client.get(reverse("board", args=[board.uuid])).content.decode()
    assert "Rendered" in shown and reverse("sequence_video", args=[sequence.uuid]) in shown
    assert "On boards:" in client.get(back).content.decode()


def test_a_sequence_is_added_and_taken_off_from_the_board_page(client_for, owner, board, sequence):
    client = client_for(owner)
    page = client.get(reverse("board", args=[board.uuid])).content.decode()
    assert 'id="add-sequence"' in page and str(sequence.uuid) in page
    client.post(reverse("board_sequence_add"), {"board": str(board.uuid), "sequence": str(sequence.uuid)})
    response = client.post(reverse("board_sequence_remove", args=[board.uuid]), {"sequence": str(sequence.uuid)})
    assert response.status_code == 302
    assert not BoardItem.objects.filter(sequence=sequence).exists()
    assert Sequence.objects.filter(pk=sequence.pk).exists()  # the sequence stays
    assert AuditEntry.objects.filter(action="board.sequence_removed").exists()


def test_a_board_item_with_both_a_sequence_and_a_generation_is_refused_by_the_database(board, sequence, two):
    with pytest.raises(IntegrityError), transaction.atomic():
        BoardItem.objects.create(board=board, sequence=sequence, generation=two[0])
    with pytest.raises(IntegrityError), transaction.atomic():
        BoardItem.objects.create(board=board)
    BoardItem.objects.create(board=board, sequence=sequence)
    with pytest.raises(IntegrityError), transaction.atomic():
        BoardItem.objects.create(board=board, sequence=sequence)


def test_another_teams_sequence_or_board_is_404_and_nothing_is_added(client_for, owner, outsider, board, sequence):
    theirs = outsider.teams.get()
    their_board = make_board(theirs, outsider, name="Theirs")
    their_sequence = actions.create_sequence(theirs, outsider, "Their cut")
    client = client_for(owner)
    add = reverse("board_sequence_add")
    assert client.post(add, {"board": str(board.uuid), "sequence": str(their_sequence.uuid)}).status_code == 404
    assert client.post(add, {"board": str(their_board.uuid), "sequence": str(sequence.uuid)}).status_code == 404
    assert client.post(add, {"board": "not-a-uuid", "sequence": str(sequence.uuid)}).status_code == 404
    remove = reverse("board_sequence_remove", args=[their_board.uuid])
    assert client.post(remove, {"sequence": str(sequence.uuid)}).status_code == 404
    assert not BoardItem.objects.exists()
    with pytest.raises(actions.BoardRefused):
        actions.add_sequence_to_board(board, their_sequence, owner)


def test_a_viewer_cannot_put_a_sequence_on_a_board(client_for, team, board, sequence):
    viewer = make_user("vera")
    Membership.objects.create(team=team, user=viewer, role=Role.VIEWER)
    response = client_for(viewer).post(
        reverse("board_sequence_add"), {"board": str(board.uuid), "sequence": str(sequence.uuid)}
    )
    assert response.status_code == 403 and not BoardItem.objects.exists()


def test_the_spend_counts_a_video_on_the_board_and_in_its_sequence_once(owner, team, key, board, sequence, two):
    first, second = two
    charge(first, "0.50")
    charge(second, "0.30")
    lone = finished(owner, team, key, prompt="A lone heron", review=Review.NONE)
    charge(lone, "0.20")
    actions.add_to_board(board, [first, lone], owner)
    assert billing.board_spend(team, [board.pk])[board.pk] == Decimal("0.70")
    actions.add_sequence_to_board(board, sequence, owner)
    # first is on the board and a shot of its sequence: counted once; second only through the sequence
    assert billing.board_spend(team, [board.pk])[board.pk] == Decimal("1.00")


def test_the_boards_zip_holds_its_rendered_sequences_and_names_unrendered_ones(
    client_for, owner, team, board, sequence, two
):
    actions.add_to_board(board, [two[0]], owner)
    actions.add_sequence_to_board(board, sequence, owner)
    draft = actions.create_sequence(team, owner, "Draft cut")
    actions.add_shot(draft, two[1], owner)
    actions.add_sequence_to_board(board, draft, owner)
    archive = zip_of(client_for(owner).post(reverse("board_download", args=[board.uuid])))
    assert not any(n.startswith("sequence-") for n in archive.namelist())
    left_out = archive.read("left-out.txt").decode()
    assert "Not in this ZIP:" in left_out and "Draft cut: not rendered" in left_out
    rendered(sequence)
    archive = zip_of(client_for(owner).post(reverse("board_download", args=[board.uuid])))
    names = archive.namelist()
    assert f"sequence-the-coast-{sequence.uuid.hex[:8]}.mp4" in names
    assert archive.read(f"sequence-the-coast-{sequence.uuid.hex[:8]}.mp4").endswith(b"rendered")
    assert any(two[0].uuid.hex[:8] in n for n in names)


# --- 2. Add to board from a studio card -------------------------------------------------------------


def test_a_finished_studio_card_links_to_the_add_to_board_form(client_for, owner, board, two):
    client = client_for(owner)
    studio = client.get("/").content.decode()
    anchor = f"{reverse('generation', args=[two[0].uuid])}#add-board-{two[0].uuid}"
    assert anchor in studio
    detail = client.get(reverse("generation", args=[two[0].uuid])).content.decode()
    assert f'id="add-board-{two[0].uuid}"' in detail


# --- 3. share links for a board -----------------------------------------------------------------------


def test_the_boards_maker_shares_it_and_a_guest_sees_only_its_finished_videos(client_for, owner, team, key, board, two):
    elsewhere = finished(owner, team, key, prompt="Elsewhere", review=Review.NONE)  # not on the board
    actions.add_to_board(board, list(two), owner)
    client = client_for(owner)
    assert "Share" in client.get(reverse("board", args=[board.uuid])).content.decode()
    day = (timezone.localdate() + timedelta(days=3)).isoformat()
    response = client.post(reverse("board_share", args=[board.uuid]), {"expires_on": day, "allow_notes": "on"})
    assert response.status_code == 200
    link = ShareLink.objects.get(board=board)
    assert link.generation is None and AuditEntry.objects.filter(action="share.created", data__uuid=str(board.uuid))
    token = response.context["new_url"].rstrip("/").rsplit("/", 1)[1]
    page = guest().get(f"/s/{token}/").content.decode()
    assert board.name in page and two[0].prompt in page and two[1].prompt in page
    assert elsewhere.prompt not in page
    for video in two:
        played = guest().get(f"/s/{token}/{video.uuid}/video.mp4")
        assert played.status_code == 200 and played["Content-Type"] == "video/mp4"
    assert guest().get(f"/s/{token}/video.mp4").status_code == 404  # not a single video's link


def test_a_board_link_cannot_reach_a_video_not_on_the_board(owner, team, key, outsider, board, two):
    actions.add_to_board(board, [two[0]], owner)
    _link, token = board_link(board, owner)
    their_team = outsider.teams.get()
    theirs = finished(outsider, their_team, add_key(outsider, their_team, secret="sk-sandbox-olga-0001"), "Theirs")
    for video in (two[1], theirs):
        assert guest().get(f"/s/{token}/{video.uuid}/video.mp4").status_code == 404
        assert guest().get(f"/s/{token}/{video.uuid}/poster.jpg").status_code == 404
        assert guest().get(f"/s/{token}/", {"v": str(video.uuid)}).status_code == 404
        response = guest().post(f"/s/{token}/", {"video": str(video.uuid), "guest_name": "Ann", "body": "Hi"})
        assert response.status_code == 404
    assert not GuestNote.objects.exists()
    with pytest.raises(actions.ShareRefused):
        actions.add_guest_note(_link, "Ann", "Hi", None, "x" * 64, generation=two[1])


def test_a_guest_notes_one_video_of_a_board(owner, board, two):
    actions.add_to_board(board, list(two), owner)
    link, token = board_link(board, owner)
    response = guest().post(
        f"/s/{token}/", {"video": str(two[1].uuid), "guest_name": "<b>Ann</b>", "body": "Lovely kite", "time_s": "0.5"}
    )
    assert response.status_code == 302 and f"?v={two[1].uuid}" in response["Location"]
    note = GuestNote.objects.get()
    assert note.generation == two[1] and note.share_link == link and note.guest_name == "Ann"
    on_kite = guest().get(f"/s/{token}/", {"v": str(two[1].uuid)}).content.decode()
    assert "Lovely kite" in on_kite
    on_other = guest().get(f"/s/{token}/", {"v": str(two[0].uuid)}).content.decode()
    assert "Lovely kite" not in on_other


def test_only_the_boards_maker_or_an_admin_shares_a_board(client_for, team, board):
    member, membership = join(team, "mia", Role.MEMBER)
    assert client_for(member).get(reverse("board_share", args=[board.uuid])).status_code == 403
    admin, _admin_membership = join(team, "ada", Role.ADMIN)
    assert client_for(admin).get(reverse("board_share", args=[board.uuid])).status_code == 200
    with pytest.raises(actions.ShareRefused):
        board_link(board, member, membership)
    assert not ShareLink.objects.exists()


def test_a_board_link_with_a_password_asks_first_and_serves_no_file_before(owner, board, two):
    actions.add_to_board(board, [two[0]], owner)
    _link, token = board_link(board, owner, password="tide-9-pool")
    visitor = guest()
    page = visitor.get(f"/s/{token}/").content.decode()
    assert "Password" in page and two[0].prompt not in page
    assert visitor.get(f"/s/{token}/{two[0].uuid}/video.mp4").status_code == 404
    assert visitor.post(f"/s/{token}/", {"password": "tide-9-pool"}).status_code == 302
    assert two[0].prompt in visitor.get(f"/s/{token}/").content.decode()
    assert visitor.get(f"/s/{token}/{two[0].uuid}/video.mp4").status_code == 200


def test_a_revoked_board_link_is_404_for_its_page_and_videos(client_for, owner, board, two):
    actions.add_to_board(board, [two[0]], owner)
    link, token = board_link(board, owner)
    assert guest().get(f"/s/{token}/{two[0].uuid}/video.mp4").status_code == 200
    client_for(owner).post(reverse("board_share_revoke", args=[board.uuid]), {"link": str(link.uuid)})
    assert guest().get(f"/s/{token}/").status_code == 404
    assert guest().get(f"/s/{token}/{two[0].uuid}/video.mp4").status_code == 404


@pytest.mark.parametrize(
    ("day", "message"), [(-1, "Pick today or a later day."), (45, "A share link lasts at most 30 days.")]
)
def test_a_board_link_with_a_bad_expiry_is_refused_on_the_form_and_nothing_is_saved(
    client_for, owner, board, day, message
):
    expires_on = (timezone.localdate() + timedelta(days=day)).isoformat()
    response = client_for(owner).post(reverse("board_share", args=[board.uuid]), {"expires_on": expires_on})
    assert response.status_code == 400 and message in response.content.decode()
    assert not ShareLink.objects.exists()


def test_a_share_link_with_both_a_board_and_a_video_is_refused_by_the_database(owner, team, board, two):
    with pytest.raises(IntegrityError), transaction.atomic():
        ShareLink.objects.create(
            team=team,
            board=board,
            generation=two[0],
            token_hash="a" * 64,
            prefix="aaaaaa",
            expires_at=timezone.now() + timedelta(days=1),
        )


def test_under_the_gate_a_board_link_shows_approved_videos_only_and_says_so(owner, team, board, two):
    Team.objects.filter(pk=team.pk).update(export_approved_only=True)
    Generation.objects.filter(pk=two[0].pk).update(review=Review.ACCEPTED)
    actions.add_to_board(board, list(two), owner)
    _link, token = board_link(board, owner)
    page = guest().get(f"/s/{token}/").content.decode()
    assert two[0].prompt in page and two[1].prompt not in page
    assert "1 more video is not shown: only approved videos leave" in page
    assert guest().get(f"/s/{token}/{two[0].uuid}/video.mp4").status_code == 200
    assert guest().get(f"/s/{token}/{two[1].uuid}/video.mp4").status_code == 404


# --- 4. the export gate on a board's ZIP ----------------------------------------------------------------


def test_under_the_gate_the_boards_zip_carries_approved_videos_and_sequences_only(
    client_for, owner, team, board, sequence, two
):
    Team.objects.filter(pk=team.pk).update(export_approved_only=True)
    approved, pending = two
    Generation.objects.filter(pk=approved.pk).update(review=Review.ACCEPTED)
    actions.add_to_board(board, list(two), owner)
    actions.add_sequence_to_board(board, rendered(sequence), owner)  # one of its shots is not approved
    archive = zip_of(client_for(owner).post(reverse("board_download", args=[board.uuid])))
    names = archive.namelist()
    assert any(approved.uuid.hex[:8] in n for n in names if n.endswith(".mp4"))
    assert not any(pending.uuid.hex[:8] in n for n in names if n.endswith(".mp4"))
    assert not any(n.startswith("sequence-") for n in names)
    left_out = archive.read("left-out.txt").decode()
    assert "approved videos only" in left_out
    assert pending.uuid.hex[:8] in left_out and "not approved" in left_out
    assert "The coast: not approved" in left_out


def test_under_the_gate_a_board_of_unapproved_videos_gives_no_zip_but_a_message(client_for, owner, team, board, two):
    Team.objects.filter(pk=team.pk).update(export_approved_only=True)
    actions.add_to_board(board, list(two), owner)
    client = client_for(owner)
    response = client.post(reverse("board_download", args=[board.uuid]))
    assert response.status_code == 302
    assert "only approved videos leave the studio" in client.get(response["Location"]).content.decode()

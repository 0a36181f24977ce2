"""Share links (issue 14, item 3) and the review gate on export (item 4).

A guest opens ``/s/<token>/`` with no login: they see that one video, play it, download
it when the link allows, and leave notes under a name they type. A guessed, tampered,
revoked or expired token is a 404 at once; names with markup are stored as plain text; a
flood of notes from one address is refused; every view and note is in the audit trail.
Under the team's export gate only approved videos leave: ZIP, download, share link.
"""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Role, Team
from tests.conftest import finished, join
from videos import actions
from videos.models import AuditEntry, GuestNote, Notification, Review, ShareLink
from videos.web import share as share_views


@pytest.fixture
def video(owner, team, key, gateway):
    """A finished, archived video by the owner, not reviewed."""
    return finished(owner, team, key, prompt="A lighthouse in a storm", review=Review.NONE)


def make_link(video, actor, **options):
    options.setdefault("expires_at", timezone.now() + timedelta(days=7))
    return actions.create_share_link(video, actor, **options)


def guest() -> Client:
    return Client(REMOTE_ADDR="203.0.113.7")


def body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


# --- making a link ------------------------------------------------------------------------------------


def test_the_author_makes_a_link_shown_once_and_only_its_hash_is_kept(video, owner, client_for):
    client = client_for(owner)
    day = (timezone.localdate() + timedelta(days=3)).isoformat()
    response = client.post(f"/generations/{video.uuid}/share", {"expires_on": day, "allow_notes": "on"})
    assert response.status_code == 200
    link = ShareLink.objects.get()
    page = body(response)
    start = page.index("/s/")
    token = page[start + 3 : page.index("/", start + 3)]
    assert ShareLink.hash_token(token) == link.token_hash and token not in link.token_hash
    assert link.prefix == token[:6] and link.allow_notes and not link.allow_download and not link.password_hash
    # Shown once: the form page afterwards lists the link by its prefix only.
    again = body(client.get(f"/generations/{video.uuid}/share"))
    assert token not in again and f"/s/{link.prefix}…" in again
    assert AuditEntry.objects.filter(action="share.created", actor=owner).exists()


@pytest.mark.parametrize(
    ("days", "message"),
    [(31, "at most 30 days"), (-1, "today or a later day")],
)
def test_an_expiry_beyond_30_days_or_in_the_past_is_refused_on_the_form(video, owner, client_for, days, message):
    day = (timezone.localdate() + timedelta(days=days)).isoformat()
    response = client_for(owner).post(f"/generations/{video.uuid}/share", {"expires_on": day})
    assert message in body(response)
    assert not ShareLink.objects.exists()


def test_an_expiry_is_required(video, owner, client_for):
    response = client_for(owner).post(f"/generations/{video.uuid}/share", {"expires_on": ""})
    assert "This field is required" in body(response)
    assert not ShareLink.objects.exists()


def test_the_action_refuses_more_than_30_days_too(video, owner):
    with pytest.raises(actions.ShareRefused, match="30 days"):
        make_link(video, owner, expires_at=timezone.now() + timedelta(days=31))
    assert not ShareLink.objects.exists()


def test_a_plain_member_cannot_share_someone_elses_video_but_an_admin_can(video, team, client_for):
    member, _m = join(team, "carol", Role.MEMBER)
    day = (timezone.localdate() + timedelta(days=3)).isoformat()
    assert client_for(member).post(f"/generations/{video.uuid}/share", {"expires_on": day}).status_code == 403
    assert not ShareLink.objects.exists()
    admin, _m = join(team, "dana", Role.ADMIN)
    assert client_for(admin).post(f"/generations/{video.uuid}/share", {"expires_on": day}).status_code == 200
    assert ShareLink.objects.filter(created_by=admin).exists()


# --- the guest page ---------------------------------------------------------------------------------------


def test_a_guest_sees_the_video_plays_it_and_the_page_links_nowhere_else(video, owner):
    link, token = make_link(video, owner)
    response = guest().get(f"/s/{token}/")
    page = body(response)
    assert response.status_code == 200 and "A lighthouse in a storm" in page
    assert f"/s/{token}/video.mp4" in page
    assert "/history/" not in page and 'href="/"' not in page and f"/generations/{video.uuid}" not in page
    assert response["Cache-Control"] == "no-store" and response["Referrer-Policy"] == "same-origin"
    played = guest().get(f"/s/{token}/video.mp4", HTTP_RANGE="bytes=0-99")
    assert played.status_code == 206 and len(b"".join(played.streaming_content)) == 100
    assert AuditEntry.objects.filter(action="share.viewed", team=video.team).count() == 1


def test_download_only_when_the_link_allows_it(video, owner):
    _l, no = make_link(video, owner)
    _l, yes = make_link(video, owner, allow_download=True)
    assert guest().get(f"/s/{no}/video.mp4", {"download": "1"}).status_code == 404
    assert "Download MP4" not in body(guest().get(f"/s/{no}/"))
    allowed = guest().get(f"/s/{yes}/video.mp4", {"download": "1"})
    assert allowed.status_code == 200 and allowed["Content-Disposition"].startswith("attachment")


def test_guessed_tampered_and_malformed_tokens_are_404(video, owner):
    _link, token = make_link(video, owner)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in [tampered, "x" * 43, "short", token + "x", "%3Cscript%3E" + token[:30], token.upper()]:
        for suffix in ["", "video.mp4", "poster.jpg"]:
            response = guest().get(f"/s/{bad}/{suffix}")
            assert response.status_code == 404, (bad, suffix)
            assert "lighthouse" not in body(response)
    assert not AuditEntry.objects.filter(action="share.viewed").exists()


def test_a_revoked_link_is_404_at_once_also_for_its_video_and_stays_revoked(video, owner, client_for):
    link, token = make_link(video, owner)
    visitor = guest()
    assert visitor.get(f"/s/{token}/").status_code == 200
    client = client_for(owner)
    response = client.post(f"/generations/{video.uuid}/share/revoke", {"link": str(link.uuid)})
    assert response.status_code == 302
    for suffix in ["", "video.mp4", "poster.jpg"]:
        assert visitor.get(f"/s/{token}/{suffix}").status_code == 404
    assert visitor.post(f"/s/{token}/", {"guest_name": "Eve", "body": "still here?"}).status_code == 404
    assert not GuestNote.objects.exists()
    assert AuditEntry.objects.filter(action="share.revoked", actor=owner).count() == 1
    # Revoking again changes nothing and says so.
    client.post(f"/generations/{video.uuid}/share/revoke", {"link": str(link.uuid)})
    assert AuditEntry.objects.filter(action="share.revoked").count() == 1


def test_an_expired_link_is_404_at_once(video, owner):
    link, token = make_link(video, owner)
    assert guest().get(f"/s/{token}/").status_code == 200
    ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert guest().get(f"/s/{token}/").status_code == 404
    assert guest().get(f"/s/{token}/video.mp4").status_code == 404


def test_a_password_link_asks_first_and_throttles_guesses(video, owner):
    _link, token = make_link(video, owner, password="open sesame")
    visitor = guest()
    first = visitor.get(f"/s/{token}/")
    assert "needs a password" in body(first) and "lighthouse" not in body(first)
    assert visitor.get(f"/s/{token}/video.mp4").status_code == 404
    wrong = visitor.post(f"/s/{token}/", {"password": "nope"})
    assert "not the password" in body(wrong)
    assert visitor.post(f"/s/{token}/", {"password": "open sesame"}).status_code == 302
    assert "lighthouse" in body(visitor.get(f"/s/{token}/"))
    assert visitor.get(f"/s/{token}/video.mp4").status_code == 200

    guesser = Client(REMOTE_ADDR="198.51.100.9")
    answers = [guesser.post(f"/s/{token}/", {"password": f"guess {n}"}).status_code for n in range(12)]
    assert answers[:10] == [200] * 10 and answers[10:] == [429, 429]
    # Refused before the password is checked: even the right one waits.
    assert guesser.post(f"/s/{token}/", {"password": "open sesame"}).status_code == 429


# --- guest notes ----------------------------------------------------------------------------------------


def test_a_guest_note_is_kept_marked_as_a_guests_audited_and_shown_in_the_studio(video, owner, client_for):
    _link, token = make_link(video, owner)
    response = guest().post(
        f"/s/{token}/", {"guest_name": "Client Carla", "body": "Warmer light, please", "time_s": "0.5"}
    )
    assert response.status_code == 302
    note = GuestNote.objects.get()
    assert (note.guest_name, note.body, note.time_s, note.generation_id) == (
        "Client Carla",
        "Warmer light, please",
        0.5,
        video.pk,
    )
    assert "203.0.113.7" not in note.address_hash and len(note.address_hash) == 64
    assert AuditEntry.objects.filter(action="share.guest_note", data__guest_name="Client Carla").exists()
    assert Notification.objects.filter(user=owner, message__contains="Client Carla (guest)").exists()
    shown = body(guest().get(f"/s/{token}/"))
    assert "Client Carla" in shown and "guest" in shown
    detail = body(client_for(owner).get(f"/generations/{video.uuid}/"))
    assert "Warmer light, please" in detail and 'class="badge guest-badge"' in detail


def test_a_guest_name_with_markup_is_stored_as_plain_text_and_shown_escaped(video, owner, client_for):
    _link, token = make_link(video, owner)
    guest().post(
        f"/s/{token}/",
        {"guest_name": "<script>alert(1)</script><b>Bob</b>\u202e", "body": "<img src=x onerror=alert(2)>hi"},
    )
    note = GuestNote.objects.get()
    assert note.guest_name == "alert(1)Bob"
    assert note.body == "<img src=x onerror=alert(2)>hi"  # kept as typed, always rendered escaped
    for page in [body(guest().get(f"/s/{token}/")), body(client_for(owner).get(f"/generations/{video.uuid}/"))]:
        assert "<img src=x" not in page and "&lt;img src=x onerror=alert(2)&gt;hi" in page
        assert "<script>alert(1)" not in page


def test_a_name_that_is_only_markup_is_refused_and_nothing_is_stored(video, owner):
    _link, token = make_link(video, owner)
    response = guest().post(f"/s/{token}/", {"guest_name": "<b></b>  ", "body": "hello"})
    assert response.status_code == 400 and "Type your name" in body(response)
    assert not GuestNote.objects.exists()
    assert not AuditEntry.objects.filter(action="share.guest_note").exists()


def test_a_time_code_outside_the_video_is_refused(video, owner):
    _link, token = make_link(video, owner)
    response = guest().post(f"/s/{token}/", {"guest_name": "Carla", "body": "late", "time_s": "999"})
    assert response.status_code == 400 and "outside the video" in body(response)
    response = guest().post(f"/s/{token}/", {"guest_name": "Carla", "body": "early", "time_s": "-1"})
    assert response.status_code == 400
    assert not GuestNote.objects.exists()


def test_a_link_without_notes_takes_none(video, owner):
    _link, token = make_link(video, owner, allow_notes=False)
    assert "Leave a note" not in body(guest().get(f"/s/{token}/"))
    assert guest().post(f"/s/{token}/", {"guest_name": "Carla", "body": "hi"}).status_code == 403
    assert not GuestNote.objects.exists()


def test_a_flood_of_notes_from_one_address_is_refused_after_30_an_hour(video, owner, monkeypatch):
    monkeypatch.setattr(share_views, "NOTE_LIMIT", (5, 3600))
    _link, token = make_link(video, owner)
    flooder = guest()
    statuses = [flooder.post(f"/s/{token}/", {"guest_name": "Spam", "body": f"note {n}"}).status_code for n in range(8)]
    assert statuses == [302] * 5 + [429] * 3
    assert GuestNote.objects.count() == 5
    refused = flooder.post(f"/s/{token}/", {"guest_name": "Spam", "body": "more"})
    assert "Too many notes" in body(refused) and int(refused["Retry-After"]) > 0
    # Another address is not refused for the flooder's notes.
    assert (
        Client(REMOTE_ADDR="192.0.2.44").post(f"/s/{token}/", {"guest_name": "Ok", "body": "fine"}).status_code == 302
    )


def test_a_guest_may_leave_30_notes_an_hour_from_one_address():
    assert share_views.NOTE_LIMIT == (30, 3600)


def test_views_are_rate_limited_per_address(video, owner, monkeypatch):
    monkeypatch.setattr(share_views, "VIEW_LIMIT", (3, 600))
    _link, token = make_link(video, owner)
    statuses = [guest().get(f"/s/{token}/").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    assert AuditEntry.objects.filter(action="share.viewed").count() == 3


# --- the export gate (item 4) ---------------------------------------------------------------------------


@pytest.fixture
def gated(team):
    Team.objects.filter(pk=team.pk).update(export_approved_only=True)
    team.refresh_from_db()
    return team


def test_an_owner_turns_the_gate_on_from_the_team_page_and_a_member_cannot(team, owner, teammate, client_for):
    assert client_for(teammate).post("/teams/export-gate", {"approved_only": "on"}).status_code == 403
    team.refresh_from_db()
    assert not team.export_approved_only
    client = client_for(owner)
    assert "Only approved videos leave the studio" in body(client.get("/teams/"))
    client.post("/teams/export-gate", {"approved_only": "on"})
    team.refresh_from_db()
    assert team.export_approved_only
    assert AuditEntry.objects.filter(action="team.export_gate", data__approved_only=True).exists()
    client.post("/teams/export-gate", {})
    team.refresh_from_db()
    assert not team.export_approved_only


def test_under_the_gate_an_unapproved_video_cannot_be_shared_or_downloaded(video, owner, gated, client_for):
    client = client_for(owner)
    day = (timezone.localdate() + timedelta(days=3)).isoformat()
    response = client.post(f"/generations/{video.uuid}/share", {"expires_on": day})
    assert "only approved videos leave the studio" in body(response)
    assert not ShareLink.objects.exists()
    download = client.get(f"/generations/{video.uuid}/video.mp4", {"download": "1"})
    assert download.status_code == 302
    assert "only approved videos" in body(client.get(download["Location"]))
    assert client.get(f"/generations/{video.uuid}/video.mp4").status_code == 200  # still plays in the studio


def test_an_existing_link_to_a_no_longer_approved_video_shows_not_available(video, owner, gated):
    from videos.models import Generation

    Generation.objects.filter(pk=video.pk).update(review=Review.ACCEPTED)
    video.refresh_from_db()
    _link, token = make_link(video, owner)
    assert guest().get(f"/s/{token}/video.mp4").status_code == 200
    Generation.objects.filter(pk=video.pk).update(review=Review.CHANGES)
    page = body(guest().get(f"/s/{token}/"))
    assert "not available" in page and "video.mp4" not in page
    assert guest().get(f"/s/{token}/video.mp4").status_code == 404


def test_under_the_gate_the_zip_carries_approved_videos_only_and_says_so(owner, team, key, gateway, gated, client_for):
    approved = finished(owner, team, key, prompt="Approved heron", review=Review.ACCEPTED)
    pending = finished(owner, team, key, prompt="Pending tram", review=Review.AWAITING)
    response = client_for(owner).post(
        "/history/bulk", {"action": "zip", "ids": [str(approved.uuid), str(pending.uuid)]}
    )
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = archive.namelist()
    assert any(approved.uuid.hex[:8] in n for n in names if n.endswith(".mp4"))
    assert not any(pending.uuid.hex[:8] in n for n in names if n.endswith(".mp4"))
    left_out = archive.read("left-out.txt").decode()
    assert "approved videos only" in left_out and "not approved" in left_out and pending.uuid.hex[:8] in left_out


def test_under_the_gate_a_zip_of_only_unapproved_videos_is_refused_with_a_message(video, owner, gated, client_for):
    client = client_for(owner)
    response = client.post("/history/bulk", {"action": "zip", "ids": [str(video.uuid)]})
    assert response.status_code == 302
    assert "None of the selected videos is approved" in body(client.get(response["Location"]))


def test_an_outsider_cannot_make_or_revoke_links_to_another_teams_video(video, owner, outsider, client_for):
    link, token = make_link(video, owner)
    client = client_for(outsider)
    day = (timezone.localdate() + timedelta(days=3)).isoformat()
    assert client.get(f"/generations/{video.uuid}/share").status_code == 404
    assert client.post(f"/generations/{video.uuid}/share", {"expires_on": day}).status_code == 404
    assert client.post(f"/generations/{video.uuid}/share/revoke", {"link": str(link.uuid)}).status_code == 404
    link.refresh_from_db()
    assert link.revoked_at is None and ShareLink.objects.count() == 1


def test_a_note_posted_to_a_password_link_without_the_password_is_not_kept(video, owner):
    _link, token = make_link(video, owner, password="open sesame")
    response = guest().post(f"/s/{token}/", {"guest_name": "Eve", "body": "sneaky"})
    assert "needs a password" in body(response)
    assert not GuestNote.objects.exists() and not AuditEntry.objects.filter(action="share.guest_note").exists()


def test_the_audit_trail_reads_each_guest_view_and_note_as_a_sentence(video, owner, client_for):
    link, token = make_link(video, owner)
    guest().get(f"/s/{token}/")
    guest().post(f"/s/{token}/", {"guest_name": "Carla", "body": "Nice"})
    actions.revoke_share_link(link, owner)
    page = body(client_for(owner).get("/audit/"))
    for words in [
        "made a share link to",
        "A guest opened a share link to",
        "A guest left a note on",
        "revoked a share link to",
    ]:
        assert words in page, words

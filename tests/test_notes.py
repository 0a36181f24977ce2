"""Notes on a finished video's timeline (issue 14, item 1): pinned to a time code, listed and
marked on the page, replies, resolve and reopen, @mentions, the author told, and the
"changes requested" verdict listing the open notes. Bad input: nothing stored."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from django.urls import reverse

from accounts.models import Role
from tests.conftest import awaiting, join, make_generation
from videos import actions
from videos.lib.timecode import format_tc, parse_tc
from videos.models import Asset, AuditEntry, Generation, Note, Notification, Review

HTMX = {"HTTP_HX_REQUEST": "true"}


def done_video(author, team, key, prompt="A heron lifting off a misty pond", duration=4.0) -> Generation:
    """A completed generation awaiting review with a ``duration``-second asset (no rendering)."""
    generation = awaiting(author, team, key, prompt=prompt)
    Asset.objects.create(
        generation=generation, file="assets/x.mp4", duration_s=duration, width=64, height=36, bytes=1, sha256="0" * 64
    )
    return Generation.objects.select_related("task", "asset", "author", "team").get(pk=generation.pk)


def pin(client, generation, time="0:02.5", body="The sky flickers here", end="", **extra):
    return client.post(reverse("note_add", args=[generation.uuid]), {"time": time, "end": end, "body": body}, **extra)


def markers(html: str) -> list[dict]:
    found = re.search(r'data-markers="([^"]*)"', html)
    return json.loads(unescape(found.group(1)))


@pytest.fixture
def video(db, teammate, team, bob_key) -> Generation:
    """Bob's finished 4-second video, awaiting review."""
    return done_video(teammate, team, bob_key)


# --- pinning a note ------------------------------------------------------------------------------


def test_a_reviewer_pins_a_note_and_the_author_sees_it_marked_and_is_told(client_for, owner, teammate, video):
    response = pin(client_for(owner), video, time="0:02.5")
    assert response.status_code == 302 and response["Location"].endswith("#notes")

    note = Note.objects.get(generation=video)
    assert (note.time_s, note.end_s, note.author, note.body) == (2.5, None, owner, "The sky flickers here")
    told = Notification.objects.get(user=teammate)
    assert "0:02.5" in told.message and "The sky flickers here" in told.message and told.generation_id == video.pk
    assert not Notification.objects.filter(user=owner).exists()
    assert AuditEntry.objects.filter(action="note.added", actor=owner, data__note=str(note.uuid)).exists()

    html = client_for(teammate).get(reverse("generation", args=[video.uuid])).content.decode()
    assert markers(html) == [{"id": str(note.uuid), "t": 2.5, "end": None, "open": True, "text": note.body}]
    assert 'data-seek="2.5"' in html and "0:02.5" in html and 'data-duration="4.0"' in html
    assert "js/notes.js" in html


def test_a_note_may_cover_a_range_and_htmx_gets_the_panel_back(client_for, owner, video):
    response = pin(client_for(owner), video, time="1", end="3.4", **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="notes-area" id="notes"')
    assert "0:01.0–0:03.4" in html
    note = Note.objects.get()
    assert (note.time_s, note.end_s) == (1.0, 3.4)


def test_a_mention_tells_that_teammate_once_and_nobody_outside_the_team(
    client_for, owner, team, key, teammate, outsider
):
    mine = done_video(owner, team, key, prompt="Alice's own video")
    pin(client_for(owner), mine, body="@bob and @Bob: look here. @mallory too.")
    assert Notification.objects.filter(user=teammate).count() == 1
    assert not Notification.objects.filter(user=outsider).exists()
    assert not Notification.objects.filter(user=owner).exists()  # her own video, her own note


@pytest.mark.parametrize(
    ("time", "end", "field", "words"),
    [
        ("4.1", "", "time", "within the video"),
        ("-1", "", "time", "Type a time code"),
        ("soon", "", "time", "Type a time code"),
        ("0:75", "", "time", "Type a time code"),
        ("", "", "time", "required"),
        ("2", "1.5", "end", "end after it starts"),
        ("2", "9", "end", "end after it starts"),
    ],
)
def test_a_time_code_outside_the_video_is_refused_next_to_its_field(
    client_for, owner, teammate, video, time, end, field, words
):
    client = client_for(owner)
    response = pin(client, video, time=time, end=end)
    assert response.status_code == 400
    html = response.content.decode()
    assert words in html and f'id="note-{field}"' in html
    assert f'value="{time}"' in html or not time  # what they typed stays in the field
    assert not Note.objects.exists() and not Notification.objects.filter(user=teammate).exists()

    again = pin(client, video, time=time, end=end, **HTMX)  # htmx: the panel with the message, swapped in
    assert again.status_code == 200 and words in again.content.decode() and not Note.objects.exists()


@pytest.mark.parametrize(
    "body",
    ["<script>alert(1)</script>", "nice <b>bold</b>", "</textarea><img src=x onerror=alert(1)>", "<!-- hidden -->"],
)
def test_markup_in_a_note_is_refused_and_nothing_is_stored(client_for, owner, teammate, video, body):
    response = pin(client_for(owner), video, body=body)
    assert response.status_code == 400
    assert "Notes are plain text" in response.content.decode()
    assert "<script>alert" not in response.content.decode()
    assert not Note.objects.exists() and not Notification.objects.exists()


def test_plain_text_with_a_less_than_sign_is_kept_and_shown_escaped(client_for, owner, video):
    pin(client_for(owner), video, body="keep a < b & c > d")
    assert Note.objects.get().body == "keep a < b & c > d"
    html = client_for(owner).get(reverse("generation", args=[video.uuid])).content.decode()
    assert "keep a &lt; b &amp; c &gt; d" in html


def test_an_empty_note_or_one_on_an_unfinished_video_is_refused(client_for, owner, team, key, video):
    assert pin(client_for(owner), video, body="   ").status_code == 400
    running = make_generation(owner, team, key, prompt="Still rendering")
    response = pin(client_for(owner), Generation.objects.get(pk=running.pk))
    assert response.status_code == 400 and "finished video" in response.content.decode()
    assert not Note.objects.exists()


def test_another_teams_video_takes_no_note(client_for, outsider, video):
    assert pin(client_for(outsider), video).status_code == 404
    assert not Note.objects.exists()


# --- replies, resolve, reopen ----------------------------------------------------------------------


def test_the_author_replies_and_resolves_and_the_reviewer_is_told(client_for, owner, teammate, video):
    note = actions.add_note(video, owner, "Too dark at the end", 2.5)
    client = client_for(teammate)
    url = reverse("note_reply", args=[video.uuid, note.uuid])
    assert client.post(url, {"body": "Brightened in the next version", "resolve": "1"}).status_code == 302

    note.refresh_from_db()
    assert note.resolved_by == teammate and note.resolved_at is not None
    answer = note.replies.get()
    assert (answer.author, answer.body, answer.time_s) == (teammate, "Brightened in the next version", None)
    assert Notification.objects.filter(user=owner, message__contains="Brightened").exists()
    assert {"note.replied", "note.resolved"} <= set(AuditEntry.objects.values_list("action", flat=True))
    html = client.get(reverse("generation", args=[video.uuid])).content.decode()
    assert "Resolved by bob" in html and "0 open" in html and markers(html)[0]["open"] is False

    client.post(reverse("note_reopen", args=[video.uuid, note.uuid]))
    note.refresh_from_db()
    assert note.resolved_at is None and AuditEntry.objects.filter(action="note.reopened").exists()
    client.post(reverse("note_resolve", args=[video.uuid, note.uuid]))
    note.refresh_from_db()
    assert note.resolved_at is not None


def test_a_teammate_who_is_neither_author_may_reply_but_not_resolve(client_for, owner, team, video):
    carol, _ = join(team, "carol", Role.MEMBER)
    note = actions.add_note(video, owner, "Cut here", 1.0)
    client = client_for(carol)
    assert client.post(reverse("note_resolve", args=[video.uuid, note.uuid])).status_code == 403
    reply_url = reverse("note_reply", args=[video.uuid, note.uuid])
    assert client.post(reply_url, {"body": "agreed", "resolve": "1"}).status_code == 403
    assert not note.replies.exists()  # refused whole: no reply without the resolve it asked for
    assert client.post(reply_url, {"body": "agreed"}).status_code == 302
    note.refresh_from_db()
    assert note.resolved_at is None and note.replies.count() == 1
    assert "Reply and resolve" not in client.get(reverse("generation", args=[video.uuid])).content.decode()


def test_a_reply_with_markup_is_refused_and_a_reply_cannot_be_replied_to(client_for, owner, video):
    note = actions.add_note(video, owner, "Cut here", 1.0)
    client = client_for(owner)
    response = client.post(reverse("note_reply", args=[video.uuid, note.uuid]), {"body": "<i>no</i>", "resolve": "1"})
    assert response.status_code == 400 and "Notes are plain text" in response.content.decode()
    note.refresh_from_db()
    assert not note.replies.exists() and note.resolved_at is None
    answer = actions.reply(note, owner, "ok")
    assert client.post(reverse("note_reply", args=[video.uuid, answer.uuid]), {"body": "x"}).status_code == 404


def test_a_note_of_another_video_is_404_through_this_one(client_for, owner, team, key, video):
    other = done_video(owner, team, key, prompt="Another video")
    note = actions.add_note(other, owner, "Elsewhere", 1.0)
    assert client_for(owner).post(reverse("note_resolve", args=[video.uuid, note.uuid])).status_code == 404
    note.refresh_from_db()
    assert note.resolved_at is None


# --- the verdict and the desk's count --------------------------------------------------------------


def test_changes_requested_lists_the_open_notes_to_the_author(client_for, owner, teammate, video):
    actions.add_note(video, owner, "The sky flickers", 2.5)
    done = actions.add_note(video, owner, "Fixed already", 0.5)
    actions.resolve(done, owner)
    Notification.objects.all().delete()
    response = client_for(owner).post(
        reverse("review_decide", args=[video.uuid]), {"decision": "changes", "comment": "See the notes"}
    )
    assert response.status_code == 302
    message = Notification.objects.get(user=teammate).message
    assert "needs changes" in message and "Open notes: 0:02.5 “The sky flickers”" in message
    assert "Fixed already" not in message

    html = client_for(teammate).get(reverse("generation", args=[video.uuid])).content.decode()
    block = html[html.index('class="notes-verdict') :]
    block = block[: block.index("</p>")]
    assert "Changes requested." in block and "0:02.5" in block and "0:00.5" not in block


def test_accepting_says_nothing_of_notes(owner, teammate, video):
    actions.add_note(video, owner, "Small thing", 1.0)
    Notification.objects.all().delete()
    actions.decide_review(video, owner, Review.ACCEPTED)
    assert "Open notes" not in Notification.objects.get(user=teammate).message


def test_open_note_counts_for_the_review_desk(owner, team, key, video):
    other = done_video(owner, team, key, prompt="Nothing noted")
    first = actions.add_note(video, owner, "one", 1.0)
    actions.add_note(video, owner, "two", 2.0)
    actions.resolve(actions.add_note(video, owner, "three", 3.0), owner)
    actions.reply(first, owner, "a reply is no note of its own")
    counts = dict(Generation.objects.for_team(team).awaiting_review().with_open_notes().values_list("pk", "open_notes"))
    assert counts == {video.pk: 2, other.pk: 0}


# --- time codes --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("2.5", 2.5), ("2,5", 2.5), ("0:02.5", 2.5), ("1:02", 62.0), ("1:00:03.25", 3603.2), (" 7 ", 7.0)],
)
def test_time_codes_read_as_seconds(text, seconds):
    assert parse_tc(text) == pytest.approx(seconds, abs=0.06)


@pytest.mark.parametrize("text", ["", "abc", "1:75", "-2", "1:2:3:4", "2.5s"])
def test_what_is_no_time_code_is_refused(text):
    with pytest.raises(ValueError):
        parse_tc(text)


def test_seconds_read_as_time_codes():
    assert [format_tc(s) for s in (0, 2.5, 62.04, 3725.0)] == ["0:00.0", "0:02.5", "1:02.0", "1:02:05.0"]


@pytest.mark.parametrize(
    ("body", "words"), [("x" * 2001, "at most 2000 characters"), ("null\x00byte", "Null characters are not allowed")]
)
def test_an_overlong_note_or_one_with_a_nul_is_refused(client_for, owner, video, body, words):
    response = pin(client_for(owner), video, body=body)
    assert response.status_code == 400 and words in response.content.decode()
    assert not Note.objects.exists()


def test_a_time_code_far_past_the_end_names_the_videos_length(client_for, owner, video):
    response = pin(client_for(owner), video, time="99999")
    assert response.status_code == 400 and "0:00.0 to 0:04.0" in response.content.decode()
    assert not Note.objects.exists()


def test_a_viewer_may_note_and_the_unfinished_page_shows_no_panel(client_for, owner, team, key, video):
    viewer, _ = join(team, "vera", Role.VIEWER)
    assert pin(client_for(viewer), video, body="From a viewer").status_code == 302
    running = make_generation(owner, team, key, prompt="Still rendering")
    html = client_for(owner).get(reverse("generation", args=[running.uuid])).content.decode()
    assert 'id="notes"' not in html and "js/notes.js" not in html

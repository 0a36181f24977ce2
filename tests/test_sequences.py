"""Sequences: shots in order, continue a shot from its last frame, render to one MP4 (issue 13, item 4)."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import av
import pytest
from django.urls import reverse

from accounts.models import Team
from tests.conftest import add_key, make_generation
from tests.test_frames import decoded_in_order, finished_from, write_clip
from videos import actions
from videos.billing import BudgetExceeded
from videos.lib import concat, media
from videos.models import AuditEntry, Generation, LedgerEntry, RenderState, Sequence, Shot, TaskState
from videos.worker.render import render_task

HTMX = {"HTTP_HX_REQUEST": "true"}


def duration_of(path) -> float:
    return media.probe_video(path).duration_s


def shots_of(sequence) -> list[str]:
    return [s.generation.prompt for s in Sequence.objects.get(pk=sequence.pk).shots.order_by("position")]


@pytest.fixture
def three(tmp_path, owner, team, key):
    """Three finished videos of the team: same codec, size and rate (1 s, 1.5 s, 0.5 s)."""
    made = []
    for n, seconds in enumerate((1.0, 1.5, 0.5)):
        path = tmp_path / f"s{n}.mp4"
        write_clip(path, seconds=seconds, fps=24, hue=n * 80)
        made.append(finished_from(path, owner, team, key, prompt=f"Shot {n + 1}"))
    return made


@pytest.fixture
def sequence(owner, team):
    return actions.create_sequence(team, owner, "The lighthouse")


def fill(sequence, videos, owner):
    for video in videos:
        actions.add_shot(sequence, video, owner)


def render_now(client, sequence, django_capture_on_commit_callbacks):
    """Press Render; the queued task runs (django-q2 runs inline in tests) once it commits."""
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("sequence_render", args=[sequence.uuid]))
    assert response.status_code == 302
    return Sequence.objects.get(pk=sequence.pk)


def stored_path(tmp_path, field) -> str:
    path = tmp_path / "out.mp4"
    with field.open("rb") as fh:
        path.write_bytes(fh.read())
    return str(path)


def test_three_shots_render_to_one_mp4_whose_duration_is_their_sum(
    client_for, owner, sequence, three, tmp_path, django_capture_on_commit_callbacks
):
    fill(sequence, three, owner)
    done = render_now(client_for(owner), sequence, django_capture_on_commit_callbacks)
    assert done.render_state == RenderState.DONE and done.render_progress == 100
    assert done.render_mode == "remux"  # same codec, size and rate: packets copied
    path = stored_path(tmp_path, done.video)
    data = open(path, "rb").read()
    assert done.video_sha256 == hashlib.sha256(data).hexdigest() and done.video_bytes == len(data)
    assert done.poster and done.video_width == 64 and done.video_height == 36
    total = sum(g.asset.duration_s for g in three)
    assert abs(duration_of(path) - total) <= 1 / 24 and abs(done.video_duration_s - total) <= 1 / 24
    every = decoded_in_order(path)  # every frame decodes
    assert len(every) == sum(len(decoded_in_order(stored_path(tmp_path, g.asset.file))) for g in three) == 72
    # Each shot's first frame is where the previous shots end.
    first_of_second = decoded_in_order(stored_path(tmp_path, three[1].asset.file))[0][1]
    assert every[24][1] == first_of_second
    assert AuditEntry.objects.filter(action="sequence.rendered").count() == 1


def test_shots_of_another_size_are_reencoded_with_sound_and_silence(tmp_path, owner, team, key, sequence):
    specs = [
        dict(seconds=1.0, fps=24, size=(64, 36)),  # no sound
        dict(seconds=1.0, fps=30, size=(96, 54), audio=True, sample_rate=48000, layout="stereo"),
        dict(seconds=0.5, fps=24, size=(64, 36), audio=True),
    ]
    for n, spec in enumerate(specs):
        path = tmp_path / f"m{n}.mp4"
        write_clip(path, hue=n * 60, **spec)
        actions.add_shot(sequence, finished_from(path, owner, team, key, prompt=f"Mixed {n}"), owner)
    actions.render_sequence(sequence, owner)
    sequence.refresh_from_db()
    assert render_task(sequence.pk, sequence.render_token)
    sequence.refresh_from_db()
    assert sequence.render_mode == "reencode"
    path = stored_path(tmp_path, sequence.video)
    with av.open(path) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert (video.codec_context.width, video.codec_context.height) == (64, 36)  # the first shot's size
        assert video.average_rate == 24
        assert audio.codec_context.name == "aac" and audio.codec_context.sample_rate == 48000
        audio_s = float(audio.duration * audio.time_base)
        frames = sum(1 for _ in container.decode(video=0))
    assert abs(duration_of(path) - 2.5) <= 1 / 24 and frames == 60
    assert abs(audio_s - 2.5) <= 0.05  # silence under the first shot, sound under the others


def test_shots_that_all_have_the_same_sound_are_remuxed_with_it(tmp_path):
    paths = []
    for n in range(3):
        path = tmp_path / f"a{n}.mp4"
        write_clip(path, seconds=1.0, audio=True, hue=n * 50)
        paths.append(str(path))
    dest = str(tmp_path / "joined.mp4")
    joined = concat.concatenate(paths, dest)
    assert (joined.mode, joined.audio) == ("remux", "copy")
    with av.open(dest) as container:
        assert container.streams.audio and sum(1 for _ in container.decode(video=0)) == 72
    assert abs(duration_of(dest) - 3.0) <= 1 / 24


def test_no_shot_with_sound_means_no_audio_track(tmp_path):
    paths = []
    for n, size in enumerate(((64, 36), (80, 46))):
        path = tmp_path / f"q{n}.mp4"
        write_clip(path, seconds=0.5, size=size)
        paths.append(str(path))
    dest = str(tmp_path / "quiet.mp4")
    assert concat.concatenate(paths, dest).audio == "none"
    with av.open(dest) as container:
        assert not container.streams.audio


def test_the_render_card_polls_until_the_render_ends(
    client_for, owner, sequence, three, django_capture_on_commit_callbacks
):
    fill(sequence, three, owner)
    client = client_for(owner)
    actions.render_sequence(sequence, owner)
    waiting = client.get(reverse("sequence_card", args=[sequence.uuid]), **HTMX)
    assert waiting.status_code == 200 and 'hx-trigger="every 2s"' in waiting.content.decode()
    sequence.refresh_from_db()
    render_task(sequence.pk, sequence.render_token)
    done = client.get(reverse("sequence_card", args=[sequence.uuid]), **HTMX)
    assert done.status_code == 286 and "sequence-player" in done.content.decode()
    video = client.get(reverse("sequence_video", args=[sequence.uuid]))
    assert video.status_code == 200 and video["Content-Type"] == "video/mp4"


def test_changing_the_shots_during_a_render_discards_its_result(owner, sequence, three):
    fill(sequence, three, owner)
    actions.render_sequence(sequence, owner)
    sequence.refresh_from_db()
    stale = sequence.render_token
    actions.move_shot(sequence, sequence.shots.last(), -1, owner)
    assert render_task(sequence.pk, stale) is False
    sequence.refresh_from_db()
    assert sequence.render_state == RenderState.NONE and not sequence.video


def test_rendering_an_empty_sequence_is_refused_where_it_was_asked(client_for, owner, sequence):
    response = client_for(owner).post(reverse("sequence_render", args=[sequence.uuid]))
    assert response.status_code == 400
    assert "no shots yet" in response.content.decode()
    sequence.refresh_from_db()
    assert sequence.render_state == RenderState.NONE and not sequence.render_token


def test_a_shot_still_running_cannot_be_added_or_rendered(client_for, owner, team, key, sequence, three):
    running = make_generation(owner, team, key, prompt="Still rendering")
    client = client_for(owner)
    response = client.post(
        reverse("add_to_sequence"), {"generation": str(running.uuid), "sequence": str(sequence.uuid)}
    )
    assert response.status_code == 400 and "not a finished video yet" in response.content.decode()
    assert not sequence.shots.exists()
    fill(sequence, three[:1], owner)
    Shot.objects.create(sequence=sequence, generation=running, position=1)  # e.g. a continued shot
    response = client.post(reverse("sequence_render", args=[sequence.uuid]))
    assert response.status_code == 400 and "shot 2" in response.content.decode()
    sequence.refresh_from_db()
    assert sequence.render_state == RenderState.NONE


def test_another_teams_generation_cannot_be_a_shot(client_for, owner, outsider, sequence, three):
    theirs_team = Team.objects.get(memberships__user=outsider)
    theirs_key = add_key(outsider, theirs_team, secret="sk-sandbox-mallory-7")
    theirs = make_generation(outsider, theirs_team, theirs_key, prompt="Not yours")
    client = client_for(owner)
    response = client.post(reverse("add_to_sequence"), {"generation": str(theirs.uuid), "sequence": str(sequence.uuid)})
    assert response.status_code == 404
    with pytest.raises(actions.Refused, match="another team"):
        actions.add_shot(sequence, theirs, owner)
    # And a team's video cannot be put into another team's sequence.
    foreign = actions.create_sequence(theirs_team, outsider, "Theirs")
    response = client.post(
        reverse("add_to_sequence"), {"generation": str(three[0].uuid), "sequence": str(foreign.uuid)}
    )
    assert response.status_code == 400 and "Pick one of the team" in response.content.decode()
    assert not Shot.objects.exists()


def test_every_sequence_url_is_404_to_another_team(client_for, owner, outsider, sequence, three):
    fill(sequence, three, owner)
    shot = sequence.shots.first()
    client = client_for(outsider)
    u = sequence.uuid
    for method, url in [
        ("get", reverse("sequence", args=[u])),
        ("get", reverse("sequence_card", args=[u])),
        ("get", reverse("sequence_video", args=[u])),
        ("get", reverse("sequence_poster", args=[u])),
        ("post", reverse("sequence_render", args=[u])),
        ("post", reverse("sequence_delete", args=[u])),
        ("post", reverse("shot_order", args=[u])),
        ("post", reverse("shot_move", args=[u, shot.pk])),
        ("post", reverse("shot_remove", args=[u, shot.pk])),
        ("post", reverse("shot_continue", args=[u, shot.pk])),
    ]:
        assert getattr(client, method)(url).status_code == 404, url
    assert "The lighthouse" not in client.get(reverse("sequences")).content.decode()
    assert Sequence.objects.filter(pk=sequence.pk).exists() and sequence.shots.count() == 3


def test_a_shot_of_another_sequence_is_404_in_this_one(client_for, owner, team, sequence, three):
    other = actions.create_sequence(team, owner, "Other")
    actions.add_shot(other, three[0], owner)
    elsewhere = other.shots.get()
    response = client_for(owner).post(reverse("shot_remove", args=[sequence.uuid, elsewhere.pk]))
    assert response.status_code == 404 and other.shots.count() == 1


def test_reorder_by_drag_and_drop_and_by_buttons(client_for, owner, sequence, three):
    fill(sequence, three, owner)
    client = client_for(owner)
    ids = list(sequence.shots.order_by("position").values_list("pk", flat=True))
    response = client.post(
        reverse("shot_order", args=[sequence.uuid]), {"order": f"{ids[2]},{ids[0]},{ids[1]}"}, **HTMX
    )
    assert response.status_code == 200 and 'id="shots"' in response.content.decode()
    assert shots_of(sequence) == ["Shot 3", "Shot 1", "Shot 2"]
    client.post(reverse("shot_move", args=[sequence.uuid, ids[1]]), {"direction": "up"})
    assert shots_of(sequence) == ["Shot 3", "Shot 2", "Shot 1"]
    client.post(reverse("shot_move", args=[sequence.uuid, ids[2]]), {"direction": "up"})  # first already: nothing
    assert shots_of(sequence) == ["Shot 3", "Shot 2", "Shot 1"]
    client.post(reverse("shot_remove", args=[sequence.uuid, ids[1]]))
    assert shots_of(sequence) == ["Shot 3", "Shot 1"]
    assert list(sequence.shots.values_list("position", flat=True).order_by("position")) == [0, 1]
    assert Generation.objects.filter(pk=three[1].pk).exists()  # the video itself stays


@pytest.mark.parametrize("order", ["1,2", "x,y,z", "{a},{a},{b}", "{a},{b},{c},{c}", "{a},{b},999999"])
def test_a_bad_order_is_refused_and_changes_nothing(client_for, owner, sequence, three, order):
    fill(sequence, three, owner)
    a, b, c = sequence.shots.order_by("position").values_list("pk", flat=True)
    response = client_for(owner).post(
        reverse("shot_order", args=[sequence.uuid]), {"order": order.format(a=a, b=b, c=c)}, **HTMX
    )
    assert response.status_code == 400 and "reload the page" in response.content.decode()
    assert shots_of(sequence) == ["Shot 1", "Shot 2", "Shot 3"]


def test_continue_this_shot_makes_the_next_one_from_its_last_frame(
    client_for, owner, sequence, three, tmp_path, priced
):
    fill(sequence, three, owner)
    client = client_for(owner)
    first = sequence.shots.order_by("position").first()
    response = client.post(reverse("shot_continue", args=[sequence.uuid, first.pk]))
    assert response.status_code == 302
    made = Generation.objects.exclude(pk__in=[g.pk for g in three]).get()
    source = three[0]
    every = decoded_in_order(stored_path(tmp_path, source.asset.file))
    assert made.frame_of == source and made.frame_time_s == pytest.approx(every[-1][0])
    assert made.options == source.options and made.prompt == source.prompt and made.model_name == source.model_name
    from PIL import Image

    with made.reference_images.get().image.open("rb") as fh:
        assert Image.open(fh).convert("RGB").tobytes() == every[-1][1]
    assert (
        made.task.state == TaskState.PENDING
        and LedgerEntry.objects.filter(generation=made, kind=LedgerEntry.Kind.HOLD).exists()
    )
    assert shots_of(sequence) == ["Shot 1", "Shot 1", "Shot 2", "Shot 3"]  # right after the shot it continues


def test_continue_from_the_detail_page_starts_a_new_sequence(client_for, owner, three):
    response = client_for(owner).post(
        reverse("add_to_sequence"), {"generation": str(three[1].uuid), "name": "From the page", "continue": "1"}
    )
    made = Sequence.objects.get(name="From the page")
    assert response.status_code == 302 and response["Location"] == reverse("sequence", args=[made.uuid])
    assert made.shots.count() == 2 and made.shots.order_by("position").first().generation == three[1]


def test_continue_over_the_budget_makes_nothing(client_for, owner, team, sequence, three, priced):
    fill(sequence, three, owner)
    team.monthly_budget_usd = Decimal("0.01")
    team.save()
    first = sequence.shots.order_by("position").first()
    before = Generation.objects.count()
    response = client_for(owner).post(reverse("shot_continue", args=[sequence.uuid, first.pk]))
    assert response.status_code == 400 and "Not continued" in response.content.decode()
    assert Generation.objects.count() == before and sequence.shots.count() == 3
    # From the detail page with a new sequence: not even the sequence is made.
    response = client_for(owner).post(
        reverse("add_to_sequence"), {"generation": str(three[0].uuid), "name": "Too dear", "continue": "1"}
    )
    assert response.status_code == 400 and not Sequence.objects.filter(name="Too dear").exists()
    with pytest.raises(BudgetExceeded):
        actions.continue_shot(sequence, first, owner, three[0].key)


def test_a_sequence_needs_a_name(client_for, owner):
    response = client_for(owner).post(reverse("sequences"), {"name": "   "})
    assert response.status_code == 400 and not Sequence.objects.exists()
    response = client_for(owner).post(reverse("sequences"), {"name": "<script>alert(1)</script>"})
    made = Sequence.objects.get()
    page = client_for(owner).get(reverse("sequence", args=[made.uuid])).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_viewer_sees_a_sequence_but_cannot_change_it(client_for, owner, team, sequence, three):
    from accounts.models import Role
    from tests.conftest import join

    fill(sequence, three, owner)
    viewer, _ = join(team, "vera", Role.VIEWER)
    client = client_for(viewer)
    assert client.get(reverse("sequence", args=[sequence.uuid])).status_code == 200
    assert client.post(reverse("sequence_render", args=[sequence.uuid])).status_code == 403
    assert client.post(reverse("shot_remove", args=[sequence.uuid, sequence.shots.first().pk])).status_code == 403
    assert sequence.shots.count() == 3


def test_a_second_render_waits_for_the_first_unless_it_was_lost(owner, sequence, three):
    from datetime import timedelta

    from django.utils import timezone

    fill(sequence, three[:1], owner)
    assert actions.render_sequence(sequence, owner) is True
    assert actions.render_sequence(sequence, owner) is False  # one render at a time
    Sequence.objects.filter(pk=sequence.pk).update(render_requested_at=timezone.now() - timedelta(hours=1))
    lost = Sequence.objects.get(pk=sequence.pk).render_token
    assert actions.render_sequence(sequence, owner) is True  # its queued message was lost: asked again
    sequence.refresh_from_db()
    assert sequence.render_token != lost and render_task(sequence.pk, lost) is False
    assert render_task(sequence.pk, sequence.render_token) is True


def test_deleting_a_sequence_asks_first_and_keeps_its_videos(client_for, owner, sequence, three):
    fill(sequence, three, owner)
    client = client_for(owner)
    asked = client.post(reverse("sequence_delete", args=[sequence.uuid]))
    assert asked.status_code == 200 and 'id="confirm-delete"' in asked.content.decode()
    assert Sequence.objects.filter(pk=sequence.pk).exists()
    done = client.post(reverse("sequence_delete", args=[sequence.uuid]), {"confirm": "1"})
    assert done.status_code == 302 and not Sequence.objects.filter(pk=sequence.pk).exists()
    assert not Shot.objects.exists() and Generation.objects.filter(pk__in=[g.pk for g in three]).count() == 3


def test_a_lost_render_message_is_queued_again_and_a_dead_render_ends_with_its_reason(
    owner, sequence, three, monkeypatch
):
    """The sweep loop's rescue: a render still waiting for a worker 2 minutes on is queued
    again (and renders once); one whose worker ended mid-render fails with the reason, so
    Render can be pressed at once instead of after 15 minutes."""
    from datetime import timedelta

    from django.utils import timezone

    from videos.models import RenderState
    from videos.worker import render

    queued = []
    monkeypatch.setattr(render.queue, "enqueue", lambda func, *args: queued.append((func, *args)))
    fill(sequence, three[:2], owner)
    assert actions.render_sequence(sequence, owner) is True  # its message is lost (never delivered here)
    sequence.refresh_from_db()
    now = timezone.now()
    assert render.rescue_renders(now + timedelta(seconds=30)) == (0, 0)  # not yet: it may just be in line
    assert render.rescue_renders(now + timedelta(minutes=3)) == (1, 0)
    assert queued == [(render.RENDER, sequence.pk, sequence.render_token)]
    assert render.rescue_renders(now + timedelta(minutes=3, seconds=30)) == (0, 0)  # once per interval
    assert render_task(*queued[0][1:]) is True
    assert Sequence.objects.get(pk=sequence.pk).render_state == RenderState.DONE

    assert actions.render_sequence(sequence, owner) is True
    Sequence.objects.filter(pk=sequence.pk).update(
        render_state=RenderState.RENDERING, render_requested_at=timezone.now() - timedelta(minutes=10)
    )
    assert render.rescue_renders() == (0, 1)
    ended = Sequence.objects.get(pk=sequence.pk)
    assert ended.render_state == RenderState.FAILED and "worker ended" in ended.render_error
    assert actions.render_sequence(ended, owner) is True  # Render again, at once

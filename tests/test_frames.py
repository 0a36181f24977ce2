"""A frame of a finished video as the reference image of a new generation (issue 13, item 3)."""

from __future__ import annotations

import base64
import io

import av
import pytest
from django.core.files import File
from django.urls import reverse
from PIL import Image

from accounts.models import Team
from tests.conftest import add_key, make_generation, run_until_done
from videos.lib import frames
from videos.models import Asset, AuditEntry, Frame, Generation, Task, TaskState


def write_clip(path, *, seconds=5.0, fps=24, size=(64, 36), audio=False, sample_rate=44100, layout="mono", hue=0):
    """A small H.264 MP4 whose frame ``i`` has its own colour (so frames can be told apart),
    optionally with a silent AAC track; a keyframe every 12 frames."""
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=fps, options={"preset": "ultrafast", "g": "12"})
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        sound = out.add_stream("aac", rate=sample_rate, layout=layout) if audio else None
        count = round(seconds * fps)
        for i in range(count):
            colour = ((i * 3 + hue) % 256, (i * 7) % 256, (255 - i * 2) % 256)
            frame = av.VideoFrame.from_image(Image.new("RGB", size, colour))
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
        if sound is not None:
            total, done = round(seconds * sample_rate), 0
            while done < total:
                n = min(1024, total - done)
                chunk = av.AudioFrame(format="fltp", layout=layout, samples=n)
                chunk.sample_rate = sample_rate
                for plane in chunk.planes:
                    plane.update(bytes(plane.buffer_size))
                chunk.pts = done
                done += n
                out.mux(sound.encode(chunk))
            out.mux(sound.encode(None))


def finished_from(path, author, team, key, prompt="A lighthouse at dusk") -> Generation:
    """A completed generation whose archived video is the MP4 at ``path`` (no rendering)."""
    from videos.lib import media

    generation = make_generation(author, team, key, prompt=prompt)
    info = media.probe_video(path)
    asset = Asset(
        generation=generation,
        duration_s=info.duration_s,
        width=info.width,
        height=info.height,
        bytes=path.stat().st_size,
        sha256="0" * 64,
    )
    with open(path, "rb") as fh:
        asset.file.save("video.mp4", File(fh), save=False)
    asset.save()
    Task.objects.filter(generation=generation).update(state=TaskState.COMPLETED)
    return Generation.objects.get(pk=generation.pk)


def decoded_in_order(path):
    """Every frame of the video, decoded from the start without seeking: (time, RGB bytes)."""
    with av.open(str(path)) as container:
        return [(f.time, f.to_image().tobytes()) for f in container.decode(video=0)]


@pytest.fixture
def clip(tmp_path):
    path = tmp_path / "shot.mp4"
    write_clip(path)
    return path


@pytest.fixture
def video(clip, owner, team, key):
    return finished_from(clip, owner, team, key)


def test_a_frame_taken_at_3_2_s_is_the_frame_pyav_decodes_there(client_for, owner, video, clip):
    response = client_for(owner).post(reverse("take_frame", args=[video.uuid]), {"time_s": "3.2"})
    frame = Frame.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{reverse('studio')}?frame={frame.uuid}"
    every = decoded_in_order(clip)
    expected = max(i for i, (t, _) in enumerate(every) if t <= 3.2 + 1e-6)
    assert expected == 76  # 24 fps: frame 76 is shown from 3.1667 s to 3.2083 s
    assert frame.index == expected and frame.time_s == pytest.approx(3.2)
    with frame.image.open("rb") as fh:
        taken = Image.open(io.BytesIO(fh.read()))
    assert taken.format == "PNG" and taken.convert("RGB").tobytes() == every[expected][1]
    assert AuditEntry.objects.filter(action="frame.taken", team=video.team).count() == 1


def test_the_last_frame_is_one_click(client_for, owner, video, clip):
    client_for(owner).post(reverse("take_frame", args=[video.uuid]), {"time_s": "", "last": "1"})
    frame = Frame.objects.get()
    every = decoded_in_order(clip)
    assert frame.index == len(every) - 1
    with frame.image.open("rb") as fh:
        assert Image.open(fh).convert("RGB").tobytes() == every[-1][1]


def test_the_generation_made_from_a_frame_reaches_the_gateway_with_that_image(gateway, client_for, owner, video, key):
    client = client_for(owner)
    compose = client.post(reverse("take_frame", args=[video.uuid]), {"time_s": "3.2"})["Location"]
    page = client.get(compose)
    frame = Frame.objects.get()
    assert page.status_code == 200
    assert "From frame 3.20 s of" in page.content.decode()
    assert page.context["form"].initial["prompt"] == video.prompt
    with frame.image.open("rb") as fh:
        png = fh.read()
    response = client.post(
        reverse("generate"),
        {
            "key": str(key.uuid),
            "model": video.model_name,
            "prompt": "The lighthouse beam sweeps on",
            "duration": str(video.options["duration"]),
            "aspect_ratio": video.options["aspect_ratio"],
            "resolution": video.options["resolution"],
            "frame": str(frame.uuid),
        },
    )
    assert response.status_code == 302
    made = Generation.objects.exclude(pk=video.pk).get()
    assert made.frame_of == video and made.frame_time_s == pytest.approx(frame.time_s)
    assert made.parent is None
    ref = made.reference_images.get()
    assert ref.content_type == "image/png"
    with ref.image.open("rb") as fh:
        assert fh.read() == png
    assert run_until_done(made.task.pk).state == TaskState.COMPLETED
    (body,) = [b for b in gateway.json_bodies("POST") if b.get("prompt") == "The lighthouse beam sweeps on"]
    assert body["image"] == "data:image/png;base64," + base64.b64encode(png).decode()
    detail = client.get(reverse("generation", args=[made.uuid])).content.decode()
    assert "from frame 3.20 s of" in detail and video.prompt[:20] in detail


@pytest.mark.parametrize("typed", ["5.5", "-1", "abc", "inf", "nan", ""])
def test_a_time_outside_the_video_is_refused_next_to_the_field(client_for, owner, video, typed):
    response = client_for(owner).post(reverse("take_frame", args=[video.uuid]), {"time_s": typed})
    assert response.status_code == 400
    form = response.context["frame_form"]
    assert form.errors.get("time_s"), form.errors
    assert 'id="frame-time-error"' in response.content.decode()
    assert not Frame.objects.exists()


def test_the_message_for_a_time_past_the_end_names_the_range(client_for, owner, video):
    response = client_for(owner).post(reverse("take_frame", args=[video.uuid]), {"time_s": "9"})
    assert "Pick a time from 0 to 5.00 s" in response.context["frame_form"].errors["time_s"][0]


def test_a_video_still_running_has_no_frame_to_take(client_for, owner, team, key):
    running = make_generation(owner, team, key)
    response = client_for(owner).post(reverse("take_frame", args=[running.uuid]), {"last": "1"})
    assert response.status_code == 400 and "not a finished video yet" in response.content.decode()
    assert not Frame.objects.exists()


def test_another_teams_video_and_frames_are_404(client_for, owner, outsider, video):
    client_for(owner).post(reverse("take_frame", args=[video.uuid]), {"time_s": "1"})
    frame = Frame.objects.get()
    client = client_for(outsider)
    assert client.post(reverse("take_frame", args=[video.uuid]), {"time_s": "1"}).status_code == 404
    assert client.get(reverse("frame_file", args=[frame.uuid])).status_code == 404
    # The compose form ignores another team's frame.
    page = client.get(f"{reverse('studio')}?frame={frame.uuid}")
    assert page.status_code == 200 and "From frame" not in page.content.decode()
    assert Frame.objects.count() == 1


def test_a_generate_post_naming_another_teams_frame_gets_no_image(client_for, owner, outsider, video):
    client_for(owner).post(reverse("take_frame", args=[video.uuid]), {"time_s": "1"})
    frame = Frame.objects.get()
    theirs = add_key(outsider, Team.objects.get(memberships__user=outsider), secret="sk-sandbox-mallory-9")
    client = client_for(outsider)
    response = client.post(
        reverse("generate"),
        {
            "key": str(theirs.uuid),
            "model": video.model_name,
            "prompt": "stolen",
            "duration": "1",
            "aspect_ratio": video.options["aspect_ratio"],
            "resolution": video.options["resolution"],
            "frame": str(frame.uuid),
        },
    )
    made = Generation.objects.filter(prompt="stolen").first()
    assert response.status_code in (302, 400)
    assert made is None or (made.frame_of is None and not made.reference_images.exists())


def test_frame_at_seeks_but_matches_a_full_decode_at_every_tenth_of_a_second(clip):
    every = decoded_in_order(clip)
    for tenth in range(0, 51):
        t = tenth / 10
        expected = max(i for i, (ft, _) in enumerate(every) if ft <= t + 1e-6)
        grabbed = frames.frame_at(str(clip), t)
        assert grabbed.index == expected, t
        assert Image.open(io.BytesIO(grabbed.png)).convert("RGB").tobytes() == every[expected][1], t

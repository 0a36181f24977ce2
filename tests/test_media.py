"""The sandbox's video renderer and the archive's probe and poster (PyAV, Pillow)."""

from __future__ import annotations

import io

import av
import pytest
from PIL import Image

from tests.conftest import png_bytes
from videos import media
from videos.sandbox.render import frame_size, render_video


@pytest.mark.parametrize(
    "ratio, short, size",
    [("16:9", 720, (1280, 720)), ("9:16", 720, (720, 1280)), ("16:9", 480, (854, 480)), ("1:1", 480, (480, 480))],
)
def test_frame_size_puts_the_resolution_on_the_short_side(ratio, short, size):
    assert frame_size(ratio, short) == size


@pytest.mark.parametrize("ratio", ["wide", "16-9", "0:9", "16:", "-4:3"])
def test_frame_size_refuses_malformed_ratios(ratio):
    with pytest.raises(ValueError):
        frame_size(ratio, 480)


def frames(path):
    with av.open(str(path)) as container:
        return [frame.to_image() for frame in container.decode(video=0)]


def test_it_renders_an_h264_mp4_of_the_requested_size_and_duration(tmp_path):
    path = tmp_path / "clip.mp4"
    render_video(path, width=320, height=180, seconds=1, prompt="a lighthouse", fps=24)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.codec_context.width, stream.codec_context.height) == (320, 180)
    info = media.probe_video(path)
    assert (info.width, info.height) == (320, 180)
    assert info.duration_s == pytest.approx(1.0, abs=1 / 24 + 0.01)
    assert len(frames(path)) == 24


def test_a_reference_image_is_pushed_into(tmp_path):
    path = tmp_path / "push.mp4"
    image = Image.new("RGB", (320, 180), (200, 30, 30))
    for x in range(0, 320, 40):  # stripes, so a zoom changes the picture
        image.paste((30, 30, 200), (x, 0, x + 20, 180))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    render_video(path, width=320, height=180, seconds=1, prompt="push in", image=buffer.getvalue())
    clip = frames(path)
    first, last = clip[0], clip[-1]
    assert first.tobytes() != last.tobytes()
    red, green, blue = first.resize((1, 1)).getpixel((0, 0))
    assert red > green and blue > green  # the picture's colours, not a placeholder


def test_it_is_deterministic_for_the_same_input(tmp_path):
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    for path in (a, b):
        render_video(path, width=160, height=90, seconds=0.5, prompt="same prompt", image=png_bytes((64, 36)))
    assert [f.tobytes() for f in frames(a)] == [f.tobytes() for f in frames(b)]


def test_probe_refuses_what_is_not_a_video(tmp_path):
    text, empty = tmp_path / "notes.mp4", tmp_path / "empty.mp4"
    text.write_text("this is not a video")
    empty.write_bytes(b"")
    for path in (text, empty):
        with pytest.raises(media.InvalidVideo):
            media.probe_video(path)
        with pytest.raises(media.InvalidVideo):
            media.extract_poster(path)


def test_the_poster_is_a_jpeg_with_the_videos_aspect(tmp_path):
    path = tmp_path / "tall.mp4"
    render_video(path, width=180, height=320, seconds=1, prompt="tall")
    poster = Image.open(io.BytesIO(media.extract_poster(path)))
    assert poster.format == "JPEG"
    assert poster.size == (180, 320)


def test_a_wide_poster_is_scaled_down(tmp_path):
    path = tmp_path / "wide.mp4"
    render_video(path, width=640, height=360, seconds=0.5, prompt="wide")
    poster = Image.open(io.BytesIO(media.extract_poster(path, max_width=320)))
    assert poster.size == (320, 180)

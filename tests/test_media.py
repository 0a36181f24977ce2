"""The sandbox's video renderer and the archive's probe and poster (PyAV, Pillow).

No database and no Django: run alone with
``.venv/bin/python -m pytest tests/test_media.py -p no:django --noconftest -q``.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path

import av
import pytest
from PIL import Image

from videos.lib import media
from videos.sandbox.render import frame_size, render_video

# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def image_bytes(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def frames(path) -> list[Image.Image]:
    with av.open(str(path)) as container:
        return [frame.to_image() for frame in container.decode(video=0)]


def frame_digests(path) -> list[str]:
    """SHA-256 of every decoded frame's RGB pixels, in order."""
    return [hashlib.sha256(frame.tobytes()).hexdigest() for frame in frames(path)]


def close(pixel, expected, tolerance=24) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=True))


def write_video(path, colours, *, fps=20, size=(160, 90)) -> None:
    """A plain H.264 MP4 whose frame ``i`` is filled with ``colours[i]``."""
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for i, colour in enumerate(colours):
            frame = av.VideoFrame.from_image(Image.new("RGB", size, colour))
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


def remux(src, dst, fmt, *, rotation=None) -> None:
    """Copy the video packets of ``src`` into ``dst`` (container ``fmt``)."""
    with av.open(str(src)) as inp, av.open(str(dst), "w", format=fmt) as out:
        in_stream = inp.streams.video[0]
        out_stream = out.add_stream_from_template(in_stream)
        if rotation is not None:
            out_stream.set_display_rotation(rotation)
        for packet in inp.demux(in_stream):
            if packet.dts is None:
                continue
            packet.stream = out_stream
            out.mux(packet)


def top_level_boxes(path) -> list[str]:
    boxes = []
    with open(path, "rb") as fh:
        while header := fh.read(8):
            size, kind = struct.unpack(">I4s", header)
            if size == 1:
                size = struct.unpack(">Q", fh.read(8))[0] - 8
            boxes.append(kind.decode("latin-1"))
            fh.seek(size - 8, os.SEEK_CUR)
    return boxes


# --------------------------------------------------------------------------
# frame_size
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ratio, short, size",
    [
        ("16:9", 720, (1280, 720)),
        ("9:16", 720, (720, 1280)),
        ("16:9", 480, (854, 480)),
        ("1:1", 480, (480, 480)),
        ("4:3", 480, (640, 480)),
        ("3:4", 720, (720, 960)),
        ("19.5:9", 720, (1560, 720)),
        ("2.39:1", 480, (1148, 480)),
        (" 16 : 9 ", 720, (1280, 720)),
    ],
)
def test_frame_size_puts_the_resolution_on_the_short_side(ratio, short, size):
    assert frame_size(ratio, short) == size


@pytest.mark.parametrize("ratio", ["16:9", "9:16", "19.5:9", "2.39:1", "7:5", "1:1.3", "21:9"])
@pytest.mark.parametrize("short", [480, 720])
def test_frame_size_is_always_even(ratio, short):
    width, height = frame_size(ratio, short)
    assert width % 2 == 0 and height % 2 == 0
    assert min(width, height) == short


def test_frame_size_caps_the_long_side_at_four_times_the_short_side():
    assert frame_size("10:1", 480) == (1920, 480)
    assert frame_size("1:10", 720) == (720, 2880)


@pytest.mark.parametrize(
    "ratio", ["wide", "16-9", "0:9", "16:", ":9", "-4:3", "16:9:1", "inf:1", "nan:1", "", "16:0", "a:b"]
)
def test_frame_size_refuses_malformed_ratios(ratio):
    with pytest.raises(ValueError):
        frame_size(ratio, 480)


@pytest.mark.parametrize("resolution", [0, -720, 1])
def test_frame_size_refuses_a_silly_resolution(resolution):
    with pytest.raises(ValueError):
        frame_size("16:9", resolution)


# --------------------------------------------------------------------------
# render_video
# --------------------------------------------------------------------------


def test_it_renders_an_h264_mp4_of_the_requested_size_and_duration(tmp_path):
    path = tmp_path / "clip.mp4"
    render_video(path, width=320, height=180, seconds=1, prompt="a lighthouse", fps=24)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert (stream.codec_context.width, stream.codec_context.height) == (320, 180)
    info = media.probe_video(path)
    assert (info.width, info.height) == (320, 180)
    assert info.duration_s == pytest.approx(1.0, abs=1 / 24 + 0.001)
    assert len(frames(path)) == 24


def test_the_frame_count_follows_seconds_times_fps(tmp_path):
    path = tmp_path / "clip.mp4"
    render_video(path, width=160, height=90, seconds=1.5, prompt="count", fps=10)
    assert len(frames(path)) == 15
    assert media.probe_video(path).duration_s == pytest.approx(1.5, abs=0.1 + 0.001)


def test_the_moov_box_comes_first_so_browsers_can_stream_it(tmp_path):
    path = tmp_path / "fast.mp4"
    render_video(path, width=160, height=90, seconds=0.5, prompt="faststart")
    boxes = top_level_boxes(path)
    assert boxes.index("moov") < boxes.index("mdat")


def test_it_leaves_only_the_finished_file_behind(tmp_path):
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"an older, broken render")
    render_video(path, width=160, height=90, seconds=0.5, prompt="replace")
    assert os.listdir(tmp_path) == ["clip.mp4"]
    assert media.probe_video(path).width == 160


def test_a_failed_render_leaves_nothing_behind(tmp_path):
    path = tmp_path / "clip.mp4"
    with pytest.raises(ValueError):
        render_video(path, width=160, height=90, seconds=1, prompt="x", image=b"not an image")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"width": 161, "height": 90, "seconds": 1},
        {"width": 160, "height": 0, "seconds": 1},
        {"width": 160, "height": 90, "seconds": 0},
        {"width": 160, "height": 90, "seconds": 0.01},
        {"width": 160, "height": 90, "seconds": float("nan")},
    ],
)
def test_it_refuses_impossible_parameters(tmp_path, kwargs):
    with pytest.raises(ValueError):
        render_video(tmp_path / "clip.mp4", prompt="x", **kwargs)
    assert os.listdir(tmp_path) == []


def test_a_reference_image_is_pushed_into(tmp_path):
    path = tmp_path / "push.mp4"
    image = Image.new("RGB", (320, 180), (200, 30, 30))
    for x in range(0, 320, 40):  # stripes, so a zoom changes the picture
        image.paste((30, 30, 200), (x, 0, x + 20, 180))
    render_video(path, width=320, height=180, seconds=1, prompt="push in", image=image_bytes(image))
    clip = frames(path)
    first, last = clip[0], clip[-1]
    assert first.tobytes() != last.tobytes()
    red, green, blue = first.resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))
    assert red > green and blue > green  # the picture's colours, not a placeholder


def test_the_push_in_zooms_towards_the_centre(tmp_path):
    # A red picture with a thin blue frame: the frame is visible at the start
    # and has been zoomed out of view by the end.
    image = Image.new("RGB", (640, 360), (30, 30, 200))
    image.paste((210, 40, 40), (16, 9, 624, 351))  # a 2.5 % border
    path = tmp_path / "push.mp4"
    render_video(path, width=320, height=180, seconds=1, prompt="zoom", image=image_bytes(image, "JPEG"))
    clip = frames(path)
    first, last = clip[0], clip[-1]
    assert close(first.getpixel((2, 90)), (30, 30, 200), 40)
    assert close(last.getpixel((2, 90)), (210, 40, 40), 40)
    assert close(first.getpixel((160, 90)), (210, 40, 40))
    assert close(last.getpixel((160, 90)), (210, 40, 40))


def test_the_image_is_cover_cropped_not_stretched_or_letterboxed(tmp_path):
    # A square image with green bands at the top and bottom 15 %: cropped to
    # 16:9 (which keeps the middle 56 %) no green may show, and no black bars.
    image = Image.new("RGB", (400, 400), (40, 40, 210))
    image.paste((30, 200, 30), (0, 0, 400, 60))
    image.paste((30, 200, 30), (0, 340, 400, 400))
    path = tmp_path / "cover.mp4"
    render_video(path, width=320, height=180, seconds=0.5, prompt="cover", image=image_bytes(image, "WEBP"))
    first = frames(path)[0]
    assert first.size == (320, 180)
    for xy in [(160, 2), (160, 177), (2, 90), (317, 90), (160, 90)]:
        assert close(first.getpixel(xy), (40, 40, 210)), xy


def test_the_image_dominant_colour_fills_a_720p_frame(tmp_path):
    size = frame_size("16:9", 720)
    image = Image.new("RGB", (1024, 768), (20, 160, 90))
    path = tmp_path / "hd.mp4"
    render_video(path, width=size[0], height=size[1], seconds=0.5, prompt="hd", image=image_bytes(image, "JPEG"))
    info = media.probe_video(path)
    assert (info.width, info.height) == (1280, 720)
    assert info.duration_s == pytest.approx(0.5, abs=1 / 24 + 0.001)
    average = frames(path)[-1].resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))
    assert close(average, (20, 160, 90), 8)


def test_without_an_image_it_animates_a_card_with_the_prompt(tmp_path):
    path = tmp_path / "card.mp4"
    render_video(path, width=320, height=180, seconds=1, prompt="A lighthouse at dusk")
    clip = frames(path)
    first, last = clip[0], clip[-1]
    assert first.tobytes() != last.tobytes()  # the shapes move
    # White text near the bottom, over a darker background.
    bottom = first.crop((0, 120, 320, 180)).convert("L")
    lo, hi = bottom.getextrema()
    assert hi > 200 and lo < 80
    # The picture is not a flat colour.
    assert len(first.resize((16, 9)).getcolors(16 * 9)) > 10


def test_the_card_colours_come_from_the_prompt(tmp_path):
    averages = []
    for n, prompt in enumerate(["a red fox in the snow", "a submarine at night"]):
        path = tmp_path / f"{n}.mp4"
        render_video(path, width=160, height=90, seconds=0.25, prompt=prompt)
        averages.append(frames(path)[0].resize((1, 1), Image.Resampling.BOX).getpixel((0, 0)))
    assert averages[0] != averages[1]


@pytest.mark.parametrize("prompt", ["", "   ", "word " * 400, "x" * 2000, "émoji 🎬 and ünïcode\nnew line\ttab"])
def test_odd_prompts_still_render(tmp_path, prompt):
    path = tmp_path / "odd.mp4"
    render_video(path, width=180, height=320, seconds=0.25, prompt=prompt)
    assert (media.probe_video(path).width, media.probe_video(path).height) == (180, 320)


# 160 px is 10 macroblocks: not a multiple of 8, the widths for which x264's
# AVX-512 macroblock-tree code reads uninitialised memory (hence mbtree=0).
SAME_INPUT = {"width": 160, "height": 90, "seconds": 0.5, "prompt": "same prompt"}
SAME_IMAGE = image_bytes(Image.radial_gradient("L").resize((64, 36)).convert("RGB"))


def assert_identical(paths) -> None:
    """Every file in ``paths`` decodes to the same frames, all of them, and has the same bytes."""
    expected = frame_digests(paths[0])
    assert len(expected) == 12
    for path in paths[1:]:
        digests = frame_digests(path)
        assert len(digests) == len(expected), path.name
        assert [i for i, (a, b) in enumerate(zip(digests, expected, strict=True)) if a != b] == [], path.name
        assert path.read_bytes() == paths[0].read_bytes(), path.name


@pytest.mark.parametrize("with_image", [False, True])
def test_it_is_deterministic_for_the_same_input(tmp_path, with_image):
    # Two renders one after the other, then four at once in threads of this
    # process (as the sandbox renders in the background): all identical.
    kwargs = {**SAME_INPUT, "image": SAME_IMAGE if with_image else None}
    paths = [tmp_path / f"{n}.mp4" for n in range(6)]
    for path in paths[:2]:
        render_video(path, **kwargs)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda path: render_video(path, **kwargs), paths[2:]))
    assert_identical(paths)


RENDER_ONE = """
import sys
from videos.sandbox.render import render_video
image = open(sys.argv[2], "rb").read() if len(sys.argv) > 2 else None
render_video(sys.argv[1], width=160, height=90, seconds=0.5, prompt="same prompt", image=image)
"""


@pytest.mark.parametrize("with_image", [False, True])
def test_the_output_depends_on_neither_leftover_memory_nor_the_hash_seed(tmp_path, with_image):
    # Each render in a fresh interpreter whose allocations glibc pre-fills
    # with a different byte (MALLOC_PERTURB_; ignored by other C libraries)
    # and with a different hash seed: a renderer or encoder that read memory
    # it never wrote, or used hash(), would give different frames here every
    # time, not once in a while.
    args = []
    if with_image:
        (tmp_path / "in.png").write_bytes(SAME_IMAGE)
        args.append(str(tmp_path / "in.png"))
    paths = [tmp_path / f"{n}.mp4" for n in range(3)]
    children = [
        subprocess.Popen(
            [sys.executable, "-c", RENDER_ONE, str(path), *args],
            cwd=Path(__file__).resolve().parent.parent,
            env={**os.environ, "MALLOC_PERTURB_": fill, "PYTHONHASHSEED": str(n)},
        )
        for n, (path, fill) in enumerate(zip(paths, ("1", "165", "200"), strict=True))
    ]
    assert [child.wait(timeout=120) for child in children] == [0, 0, 0]
    render_video(tmp_path / "here.mp4", **SAME_INPUT, image=SAME_IMAGE if with_image else None)
    assert_identical([tmp_path / "here.mp4", *paths])


def test_a_transparent_image_is_accepted(tmp_path):
    image = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    image.paste((250, 250, 250, 255), (16, 16, 48, 48))
    path = tmp_path / "alpha.mp4"
    render_video(path, width=160, height=90, seconds=0.25, prompt="alpha", image=image_bytes(image))
    assert media.probe_video(path).width == 160


# --------------------------------------------------------------------------
# probe_video
# --------------------------------------------------------------------------


def test_probe_refuses_what_is_not_a_video(tmp_path):
    text, empty = tmp_path / "notes.mp4", tmp_path / "empty.mp4"
    text.write_text("this is not a video")
    empty.write_bytes(b"")
    for path in (text, empty):
        with pytest.raises(media.InvalidVideo):
            media.probe_video(path)
        with pytest.raises(media.InvalidVideo):
            media.extract_poster(path)


def test_probe_says_why_in_a_short_message(tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(media.InvalidVideo, match="empty"):
        media.probe_video(empty)


def test_a_still_image_is_not_a_video(tmp_path):
    path = tmp_path / "error-page.mp4"
    path.write_bytes(image_bytes(Image.new("RGB", (64, 36), (1, 2, 3))))
    with pytest.raises(media.InvalidVideo):
        media.probe_video(path)


def test_a_file_cut_off_before_any_frame_is_invalid(tmp_path):
    whole, head = tmp_path / "whole.mp4", tmp_path / "head.mp4"
    render_video(whole, width=160, height=90, seconds=0.5, prompt="cut")
    head.write_bytes(whole.read_bytes()[:1500])
    with pytest.raises(media.InvalidVideo):
        media.probe_video(head)
    with pytest.raises(media.InvalidVideo):
        media.extract_poster(head)


def test_an_audio_only_file_has_no_video_stream(tmp_path):
    path = tmp_path / "sound.m4a"
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=44100)
        for k in range(10):
            frame = av.AudioFrame(format="fltp", layout="mono", samples=1024)
            frame.sample_rate = 44100
            for plane in frame.planes:
                plane.update(bytes(plane.buffer_size))
            frame.pts = k * 1024
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    with pytest.raises(media.InvalidVideo, match="no video stream"):
        media.probe_video(path)


def test_a_missing_file_is_not_an_invalid_video(tmp_path):
    with pytest.raises(FileNotFoundError):
        media.probe_video(tmp_path / "nowhere.mp4")


def test_probe_falls_back_to_the_packets_without_a_duration_header(tmp_path):
    mp4, raw = tmp_path / "clip.mp4", tmp_path / "clip.h264"
    render_video(mp4, width=160, height=90, seconds=1, prompt="raw")
    remux(mp4, raw, "h264")
    with av.open(str(raw)) as container:  # the premise: no duration anywhere
        assert not container.duration and not container.streams.video[0].duration
    info = media.probe_video(raw)
    assert (info.width, info.height) == (160, 90)
    assert info.duration_s == pytest.approx(1.0, abs=1 / 24 + 0.001)


def test_probe_reads_other_containers(tmp_path):
    mp4, mkv = tmp_path / "clip.mp4", tmp_path / "clip.mkv"
    render_video(mp4, width=160, height=90, seconds=1, prompt="mkv")
    remux(mp4, mkv, "matroska")
    assert media.probe_video(mkv) == media.VideoInfo(duration_s=pytest.approx(1.0, abs=0.05), width=160, height=90)


def test_a_rotated_phone_clip_reports_its_displayed_size(tmp_path):
    mp4, rotated = tmp_path / "clip.mp4", tmp_path / "rotated.mp4"
    render_video(mp4, width=320, height=180, seconds=0.5, prompt="phone")
    remux(mp4, rotated, "mp4", rotation=90)
    info = media.probe_video(rotated)
    assert (info.width, info.height) == (180, 320)
    assert Image.open(io.BytesIO(media.extract_poster(rotated))).size == (180, 320)


def test_non_square_pixels_are_shown_at_their_displayed_width(tmp_path):
    path = tmp_path / "anamorphic.mp4"
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=24, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = 160, 180, "yuv420p"
        stream.codec_context.sample_aspect_ratio = Fraction(2, 1)
        for i in range(6):
            frame = av.VideoFrame.from_image(Image.new("RGB", (160, 180), (90, 90, 90)))
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    info = media.probe_video(path)
    assert (info.width, info.height) == (320, 180)
    assert Image.open(io.BytesIO(media.extract_poster(path))).size == (320, 180)


# --------------------------------------------------------------------------
# extract_poster
# --------------------------------------------------------------------------


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
    assert poster.format == "JPEG"
    assert poster.size == (320, 180)


def test_a_narrow_poster_is_not_scaled_up(tmp_path):
    path = tmp_path / "small.mp4"
    render_video(path, width=160, height=90, seconds=0.5, prompt="small")
    assert Image.open(io.BytesIO(media.extract_poster(path, max_width=1280))).size == (160, 90)


def test_the_poster_comes_from_a_tenth_of_the_way_in(tmp_path):
    # 40 frames at 20 fps (2 s), one keyframe only: grey level 6*i.  A tenth
    # of the way in is 0.2 s = frame 4 (grey 24), not the black first frame.
    path = tmp_path / "ramp.mp4"
    write_video(path, [(6 * i,) * 3 for i in range(40)], fps=20)
    poster = Image.open(io.BytesIO(media.extract_poster(path)))
    grey = poster.convert("L").resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))
    assert 18 <= grey <= 32


def test_a_single_frame_video_still_has_a_poster(tmp_path):
    path = tmp_path / "one.mp4"
    write_video(path, [(200, 200, 40)], fps=20)
    poster = Image.open(io.BytesIO(media.extract_poster(path)))
    assert close(poster.getpixel((80, 45)), (200, 200, 40))


def test_the_poster_quality_changes_the_size(tmp_path):
    path = tmp_path / "card.mp4"
    render_video(path, width=320, height=180, seconds=0.5, prompt="quality makes a difference")
    assert len(media.extract_poster(path, quality=30)) < len(media.extract_poster(path, quality=95))

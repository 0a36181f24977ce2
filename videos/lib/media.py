"""Probe MP4 (and other FFmpeg-readable) video files and extract a poster frame.

Used when archiving a downloaded video.  No Django dependency; only PyAV and
Pillow (no numpy).  Files are read through FFmpeg's demuxer, never loaded
into memory as a whole, and only the frames that are needed are decoded.

Public API
----------
``InvalidVideo``
    Exception raised when a file is not a decodable video.  Its message is a
    short, human-readable reason (e.g. ``"file is empty"``,
    ``"no video stream"``); the underlying PyAV error, if any, is chained as
    ``__cause__``.

``VideoInfo(duration_s, width, height)``
    Frozen dataclass: duration in seconds (float), width and height in pixels
    (int) as the video is meant to be displayed - the same size a browser
    reports as ``videoWidth``/``videoHeight``: swapped for clips with a 90/270
    degree rotation flag, width scaled for non-square pixels.  For ordinary
    files this is simply the coded frame size.

``probe_video(path) -> VideoInfo``
    Opens the file, takes the first video stream, decodes its first frame to
    make sure it is decodable, and works out the duration from the stream
    (``stream.duration * time_base``), falling back to the container duration
    and finally to the end of the last demuxed packet.  Raises
    ``InvalidVideo`` for an empty file, a file FFmpeg cannot open or decode, a
    file without a video stream, a still image (PNG/JPEG/... which FFmpeg would
    read as a one-frame video) or a file without a usable duration.  A path that
    does not exist raises ``FileNotFoundError`` (it is not a "bad video",
    it is a missing file).

``extract_poster(path, *, max_width=1280, quality=85) -> bytes``
    JPEG bytes of a representative frame: the frame at ~10 % of the duration
    (seek to the preceding keyframe, decode forward), falling back to the
    first decodable frame.  Rotation flags and non-square pixels are applied
    so the poster has the displayed aspect ratio; it is downscaled (aspect
    kept) if wider than ``max_width`` pixels.  ``quality`` is the JPEG quality
    (1-95).  Raises ``InvalidVideo`` when no frame can be decoded (and for the
    same reasons as ``probe_video``); ``FileNotFoundError`` for a missing
    path.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import av
from django.utils.translation import gettext as _
from PIL import Image

__all__ = ["IMAGE_EXTENSIONS", "InvalidVideo", "VideoInfo", "extension_for", "extract_poster", "probe_video"]

#: The reference-image types the studio accepts, and each one's file name ending.
IMAGE_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}


def extension_for(content_type: str) -> str:
    """The file name ending for an image ``content_type`` (``"png"``), ``"bin"`` if unknown."""
    return IMAGE_EXTENSIONS.get(content_type, "bin")


#: Which fraction of the duration the poster frame is taken from.
POSTER_POSITION = 0.10

# PyAV >= 14 only has av.error.FFmpegError; older releases also had av.AVError.
_AV_ERRORS: tuple[type[BaseException], ...] = tuple(
    {getattr(av, "AVError", av.error.FFmpegError), av.error.FFmpegError}
)


class InvalidVideo(Exception):
    """The file is not a decodable video."""


@dataclass(frozen=True)
class VideoInfo:
    """Basic facts about a video file."""

    duration_s: float  # seconds
    width: int  # pixels, as displayed (rotation and pixel aspect applied)
    height: int  # pixels, as displayed


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def _check_file(path: str | os.PathLike) -> str:
    """Return ``path`` as str; FileNotFoundError if missing, InvalidVideo if empty."""
    path = os.fspath(path)
    st = os.stat(path)  # FileNotFoundError / PermissionError propagate
    if st.st_size == 0:
        raise InvalidVideo(_("file is empty"))
    return path


def _open(path: str):
    try:
        return av.open(path, mode="r")
    except _AV_ERRORS as exc:
        raise InvalidVideo(_("not a readable video file")) from exc


def _video_stream(container):
    fmt = (container.format.name or "").split(",")
    if any(name == "image2" or name.endswith("_pipe") for name in fmt):
        # FFmpeg reads a PNG/JPEG/WebP as a one-frame "video"; it is not one.
        raise InvalidVideo(_("file is a still image, not a video"))
    if not container.streams.video:
        raise InvalidVideo(_("no video stream"))
    stream = container.streams.video[0]
    return stream


def _decode(container, stream) -> Iterator[av.VideoFrame]:
    """Decode ``stream`` packet by packet, skipping packets that fail to decode."""
    failures = 0
    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except _AV_ERRORS:
            # A damaged packet: skip it, but give up on a file that is all garbage.
            failures += 1
            if failures > 50:
                return
            continue
        yield from frames


def _stream_duration(container, stream) -> float | None:
    """Duration in seconds from the stream header, then the container header."""
    if stream.duration and stream.time_base:
        d = float(stream.duration * stream.time_base)
        if d > 0:
            return d
    if container.duration:
        d = container.duration / av.time_base  # microseconds
        if d > 0:
            return d
    return None


def _scan_duration(container, stream) -> float | None:
    """Duration in seconds from the packets themselves (demux only, no decode):
    the end of the last packet, else the sum of packet durations, else the
    packet count divided by the frame rate."""
    rate = stream.guessed_rate or stream.average_rate
    # Raw streams often carry no packet durations: assume one frame interval.
    interval = 1 / Fraction(rate) if rate else Fraction(0)
    start = end = None
    count = 0
    total = Fraction(0)
    for packet in container.demux(stream):
        if packet.size == 0:  # flush packet
            continue
        count += 1
        tb = packet.time_base
        length = packet.duration * tb if packet.duration and tb else interval
        total += length
        if packet.pts is None or tb is None:
            continue
        t0 = packet.pts * tb
        start = t0 if start is None else min(start, t0)
        end = t0 + length if end is None else max(end, t0 + length)
    if start is not None and end is not None and end > start:
        return float(end - start)
    if total > 0:
        return float(total)
    return None


def _sar(stream) -> Fraction | None:
    """The stream's sample (pixel) aspect ratio, if it is known and not square."""
    for owner in (stream, stream.codec_context):
        try:
            sar = owner.sample_aspect_ratio
        except AttributeError:
            continue
        if sar and sar > 0 and sar != 1:
            return Fraction(sar)
    return None


def _rotation(frame: av.VideoFrame) -> int:
    """Counter-clockwise display rotation in degrees, normalised to 0/90/180/270."""
    try:
        angle = frame.rotation or 0
    except (AttributeError, *_AV_ERRORS):  # old PyAV, or odd side data
        angle = 0
    return round(angle / 90) * 90 % 360


# --------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------


def probe_video(path: str | os.PathLike) -> VideoInfo:
    """Return a :class:`VideoInfo` (seconds, pixels) for the video at ``path``.

    Raises :class:`InvalidVideo` if the file is empty, unreadable by FFmpeg,
    a still image, has no video stream, cannot be decoded or has no usable
    duration;
    ``FileNotFoundError`` if ``path`` does not exist.
    """
    path = _check_file(path)
    try:
        with _open(path) as container:
            stream = _video_stream(container)
            first = next(_decode(container, stream), None)
            if first is None:
                raise InvalidVideo(_("no decodable video frame"))
            width = first.width or stream.codec_context.width
            height = first.height or stream.codec_context.height
            if not width or not height:
                raise InvalidVideo(_("video has no frame size"))
            sar = _sar(stream)
            if sar:  # non-square pixels: report the displayed width
                width = max(1, round(width * sar))
            if _rotation(first) in (90, 270):
                width, height = height, width
            duration = _stream_duration(container, stream)
        if duration is None:
            # No duration in the headers (a raw or streamed file): walk the
            # packets from the start.  Reopen rather than seek, since not
            # every demuxer can seek.
            with _open(path) as container:
                duration = _scan_duration(container, _video_stream(container))
        if not duration or duration <= 0:
            raise InvalidVideo(_("could not determine the video duration"))
    except _AV_ERRORS as exc:
        raise InvalidVideo(_("video could not be decoded")) from exc
    return VideoInfo(duration_s=float(duration), width=int(width), height=int(height))


def _frame_at(path: str, fraction: float) -> tuple[av.VideoFrame, Fraction | None] | None:
    """(frame, pixel aspect) for the first frame at or after ``fraction`` of the
    duration (else the last frame decoded before the end), or None if that fails."""
    try:
        with _open(path) as container:
            stream = _video_stream(container)
            duration = _stream_duration(container, stream)
            if not duration or not stream.time_base:
                return None
            start = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
            target = start + duration * fraction
            container.seek(int(target / stream.time_base), stream=stream, backward=True)
            candidate = None
            for frame in _decode(container, stream):
                candidate = frame
                if frame.time is None or frame.time >= target - 1e-3:
                    break
            return (candidate, _sar(stream)) if candidate is not None else None
    except (InvalidVideo, *_AV_ERRORS):
        return None


def _first_frame(path: str) -> tuple[av.VideoFrame, Fraction | None]:
    try:
        with _open(path) as container:
            stream = _video_stream(container)
            frame = next(_decode(container, stream), None)
            sar = _sar(stream)
    except _AV_ERRORS as exc:
        raise InvalidVideo(_("video could not be decoded")) from exc
    if frame is None:
        raise InvalidVideo(_("no decodable video frame"))
    return frame, sar


def _to_display_image(frame: av.VideoFrame, sar: Fraction | None) -> Image.Image:
    """RGB Pillow image of ``frame`` with rotation and pixel aspect applied."""
    img = frame.to_image()  # rgb24, no numpy
    if sar:
        img = img.resize((max(1, round(img.width * sar)), img.height), Image.Resampling.BICUBIC)
    rotation = _rotation(frame)
    if rotation == 90:
        img = img.transpose(Image.Transpose.ROTATE_90)
    elif rotation == 180:
        img = img.transpose(Image.Transpose.ROTATE_180)
    elif rotation == 270:
        img = img.transpose(Image.Transpose.ROTATE_270)
    return img


def extract_poster(path: str | os.PathLike, *, max_width: int = 1280, quality: int = 85) -> bytes:
    """Return JPEG bytes of a representative frame of the video at ``path``.

    The frame at ~10 % of the duration, falling back to the first decodable
    frame; downscaled (aspect kept) to at most ``max_width`` pixels wide.
    Raises :class:`InvalidVideo` when no frame decodes; ``FileNotFoundError``
    if ``path`` does not exist; ``ValueError`` for ``max_width < 1``.
    """
    if max_width < 1:
        raise ValueError("max_width must be at least 1 pixel")
    path = _check_file(path)
    frame, sar = _frame_at(path, POSTER_POSITION) or _first_frame(path)
    img = _to_display_image(frame, sar)
    if img.width > max_width:
        height = max(1, round(img.height * max_width / img.width))
        img = img.resize((max_width, height), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=max(1, min(int(quality), 95)), optimize=True)
    return buf.getvalue()

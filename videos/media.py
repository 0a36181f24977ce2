"""Probing archived MP4 files and extracting their poster frames (PyAV, Pillow).

Both functions read from a path and decode only what they need, so memory stays
flat whatever the file's size. They raise ``InvalidVideo`` for anything that is
not a decodable video.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass

import av


class InvalidVideo(Exception):
    """The file is not a decodable video."""


@dataclass(frozen=True)
class VideoInfo:
    """What probing found: ``duration_s`` in seconds, ``width``/``height`` in pixels."""

    duration_s: float
    width: int
    height: int


def _open(path):
    if os.path.getsize(path) == 0:
        raise InvalidVideo("the file is empty")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        raise InvalidVideo(f"cannot be opened as a video ({type(exc).__name__})") from None
    if not container.streams.video:
        container.close()
        raise InvalidVideo("it has no video stream")
    return container


def probe_video(path: str | os.PathLike) -> VideoInfo:
    """Duration (s), width and height (px) of the first video stream. Raises InvalidVideo."""
    container = _open(path)
    try:
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        duration = None
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / av.time_base
        try:
            frame = next(iter(container.decode(stream)), None)
        except av.error.FFmpegError:
            frame = None
        if frame is None:
            raise InvalidVideo("no frame could be decoded")
        if not width or not height:
            width, height = frame.width, frame.height
        if not duration or duration <= 0:
            raise InvalidVideo("it has no duration")
        return VideoInfo(duration_s=round(duration, 3), width=width, height=height)
    finally:
        container.close()


def extract_poster(path: str | os.PathLike, *, max_width: int = 1280, quality: int = 85) -> bytes:
    """JPEG bytes of a frame about a tenth of the way in (or the first), at most ``max_width`` wide.

    Raises InvalidVideo when no frame decodes.
    """
    container = _open(path)
    try:
        stream = container.streams.video[0]
        target = None
        if stream.duration and stream.time_base:
            target = int(stream.duration * 0.1)
        image = None
        try:
            if target:
                container.seek(target, stream=stream, backward=True, any_frame=False)
            for frame in container.decode(stream):
                image = frame.to_image()
                if target is None or frame.pts is None or frame.pts >= target:
                    break
        except av.error.FFmpegError:
            pass
        if image is None:
            raise InvalidVideo("no frame could be decoded")
        if image.width > max_width:
            image = image.resize((max_width, round(image.height * max_width / image.width)))
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=quality, optimize=True)
        return out.getvalue()
    finally:
        container.close()

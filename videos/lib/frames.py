"""One frame of a video, decoded exactly at a time, as a PNG (a frame taken as the next
reference image).

No Django dependency; PyAV and Pillow only. The file is read through FFmpeg's demuxer
(a path or a seekable binary file object) and only the frames between the keyframe
before the wanted time and that time are decoded.

``frame_at(source, time_s)`` returns a :class:`Frame`: the frame whose presentation
interval covers ``time_s`` (the last frame whose timestamp is at or before it), its
0-based index in decode order of presentation, its own time, and its pixels as PNG
bytes. ``last_frame(source)`` is the final decoded frame. Both raise
:class:`videos.lib.media.InvalidVideo` for a file that is not a decodable video and
:class:`OutsideVideo` for a time before 0 or after the video's duration.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from fractions import Fraction

import av
from django.utils.translation import gettext as _

from videos.lib import media

__all__ = ["Frame", "OutsideVideo", "frame_at", "last_frame"]

#: Slack (seconds) when comparing a frame's timestamp with the wanted time: float
#: times such as 3.2 are not exact in a 1/12800 time base.
EPSILON = 1e-6


class OutsideVideo(ValueError):
    """The wanted time is before the start or after the end of the video (seconds)."""

    def __init__(self, time_s: float, duration_s: float):
        self.time_s, self.duration_s = time_s, duration_s
        super().__init__(
            _("%(time).2f s is outside the video (0 to %(duration).2f s)") % {"time": time_s, "duration": duration_s}
        )


@dataclass(frozen=True)
class Frame:
    """A decoded frame: ``png`` bytes, ``index`` (0-based), ``time_s`` (its own timestamp
    from the start of the video, seconds), ``width``/``height`` in pixels."""

    png: bytes
    index: int
    time_s: float
    width: int
    height: int


def _open(source):
    try:
        return av.open(source, mode="r")
    except media._AV_ERRORS as exc:
        raise media.InvalidVideo(_("not a readable video file")) from exc


def _png(frame: av.VideoFrame, sar) -> bytes:
    img = media._to_display_image(frame, sar)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def _grab(source, time_s: float | None) -> Frame:
    """The frame covering ``time_s`` (None: the last frame)."""
    with _open(source) as container:
        stream = media._video_stream(container)
        tb = stream.time_base or Fraction(1, 90000)
        start = float(stream.start_time * tb) if stream.start_time else 0.0
        duration = media._stream_duration(container, stream)
        if time_s is not None:
            if not math.isfinite(time_s) or time_s < 0 or (duration is not None and time_s > duration + EPSILON):
                raise OutsideVideo(time_s, duration or 0.0)
            target = start + time_s
            container.seek(max(0, int(target / tb)), stream=stream, backward=True, any_frame=False)
        else:
            target = math.inf
            if duration:  # the last keyframe's group is enough: seek near the end first
                container.seek(max(0, int((start + duration - 1.0) / tb)), stream=stream, backward=True)
        chosen = None
        for frame in media._decode(container, stream):
            if frame.time is None:
                continue
            if chosen is not None and frame.time > target + EPSILON:
                break
            if chosen is None or frame.time >= chosen.time:
                chosen = frame
        if chosen is None:
            raise media.InvalidVideo(_("no decodable video frame"))
        rate = stream.average_rate or stream.guessed_rate
        index = round((chosen.time - start) * float(rate)) if rate else 0
        img_png = _png(chosen, media._sar(stream))
        return Frame(
            png=img_png,
            index=int(index),
            time_s=float(chosen.time - start),
            width=chosen.width,
            height=chosen.height,
        )


def frame_at(source, time_s: float) -> Frame:
    """The frame shown at ``time_s`` seconds of the video ``source`` (a path or a seekable
    binary file): seek to the keyframe before it, decode forward to the last frame whose
    timestamp is at or before ``time_s``. ``time_s`` equal to the duration gives the last
    frame. Raises OutsideVideo (time below 0, above the duration, not a number) and
    media.InvalidVideo."""
    try:
        return _grab(source, float(time_s))
    except media._AV_ERRORS as exc:
        raise media.InvalidVideo(_("video could not be decoded")) from exc


def last_frame(source) -> Frame:
    """The final decoded frame of the video ``source``. Raises media.InvalidVideo."""
    try:
        return _grab(source, None)
    except media._AV_ERRORS as exc:
        raise media.InvalidVideo(_("video could not be decoded")) from exc

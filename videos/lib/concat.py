"""Join videos end to end into one MP4 (a sequence's render), streaming, with PyAV.

No Django dependency. The sources are opened one at a time (a path, or a callable that
returns a seekable binary file, closed after use), so memory holds one shot's decoder
and muxer buffers, never a whole video.

Video: when every source shares codec, frame size, frame rate, pixel format and codec
set-up (H.264's SPS/PPS), its packets are copied (*remux*), their timestamps rebased to
follow the previous shot. Otherwise every frame is decoded and encoded again to the
first source's codec (H.264 through libx264 when the codec has no encoder here), frame
size and rate, each output frame showing the source frame on screen at its time.

Audio: no track when no source has one; the sources' packets copied when every source
has audio with the same codec, sample rate and layout; otherwise AAC at the first audio
source's rate and layout: a source's own sound decoded and cut or padded to its video's
length, silence for a source without sound.

``concatenate(sources, dest, on_progress=None) -> Joined`` writes ``dest`` and returns
what it did. Raises ``media.InvalidVideo`` (naming the source, 1-based) for a source that
is not a decodable video and ``ValueError`` for no sources.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
from django.utils.translation import gettext as _

from videos.lib import media

__all__ = ["Joined", "concatenate"]

#: Encoders for codecs whose decoder name has no encoder of its own in FFmpeg.
ENCODERS = {"h264": "libx264", "hevc": "libx265", "vp9": "libvpx-vp9", "av1": "libaom-av1"}
AUDIO_CHUNK = 1024  # samples per AAC frame


@dataclass(frozen=True)
class _Facts:
    video: tuple  # codec, width, height, rate, pix_fmt, extradata
    audio: tuple | None  # codec, sample_rate, layout
    duration_s: float


@dataclass(frozen=True)
class Joined:
    """What ``concatenate`` did: ``mode`` ``"remux"`` or ``"reencode"`` (video),
    ``audio`` ``"none"``, ``"copy"`` or ``"encode"``, ``duration_s`` the sum of the
    sources' durations (seconds), ``frames`` the video frames written."""

    mode: str
    audio: str
    duration_s: float
    frames: int


Source = Any  # a path, or a callable returning a seekable binary file object


@contextlib.contextmanager
def _opened(source: Source, number: int) -> Iterator[Any]:
    handle = source() if callable(source) else None
    try:
        try:
            container = av.open(handle if handle is not None else source, mode="r")
        except media._AV_ERRORS as exc:
            raise media.InvalidVideo(_("shot %(n)d is not a readable video file") % {"n": number}) from exc
        with container:
            yield container
    finally:
        if handle is not None:
            handle.close()


def _facts(container, number: int) -> _Facts:
    try:
        stream = media._video_stream(container)
    except media.InvalidVideo as exc:
        raise media.InvalidVideo(_("shot %(n)d: %(why)s") % {"n": number, "why": exc}) from exc
    ctx = stream.codec_context
    duration = media._stream_duration(container, stream)
    if not duration:
        raise media.InvalidVideo(_("shot %(n)d has no duration") % {"n": number})
    rate = stream.average_rate or stream.guessed_rate
    video = (ctx.name, ctx.width, ctx.height, Fraction(rate) if rate else None, ctx.format.name if ctx.format else "")
    video += (bytes(ctx.extradata or b""),)
    audio = None
    if container.streams.audio:
        a = container.streams.audio[0].codec_context
        audio = (a.name, a.sample_rate, a.layout.name if a.layout else "")
    return _Facts(video=video, audio=audio, duration_s=duration)


def _silence(layout: str, rate: int, samples: int) -> av.AudioFrame:
    frame = av.AudioFrame(format="fltp", layout=layout, samples=samples)
    frame.sample_rate = rate
    for plane in frame.planes:
        plane.update(bytes(plane.buffer_size))
    return frame


class _AudioOut:
    """AAC encoding with a global sample clock: each shot's sound is cut or padded so the
    next shot's sound starts with its picture."""

    def __init__(self, out, rate: int, layout: str):
        self.out, self.rate, self.layout = out, rate, layout
        self.stream = out.add_stream("aac", rate=rate, layout=layout)
        self.fifo = av.AudioFifo()
        self.written = 0  # samples put in the fifo
        self.encoded = 0  # samples sent to the encoder

    def resampler(self) -> av.AudioResampler:
        return av.AudioResampler(format="fltp", layout=self.layout, rate=self.rate)

    def push(self, frame: av.AudioFrame, until: int) -> None:
        """Queue ``frame`` (already resampled), cut at global sample ``until``."""
        room = until - self.written
        if room <= 0 or frame.samples == 0:
            return
        frame.pts = None
        if frame.samples > room:
            cut = av.AudioFifo()
            cut.write(frame)
            frame = cut.read(room)
            frame.pts = None
        self.fifo.write(frame)
        self.written += frame.samples
        self._drain(final=False)

    def pad(self, until: int) -> None:
        """Queue silence up to global sample ``until``."""
        while self.written < until:
            n = min(until - self.written, AUDIO_CHUNK * 16)
            self.fifo.write(_silence(self.layout, self.rate, n))
            self.written += n
        self._drain(final=False)

    def _drain(self, *, final: bool) -> None:
        while self.fifo.samples >= AUDIO_CHUNK or (final and self.fifo.samples):
            frame = self.fifo.read(min(AUDIO_CHUNK, self.fifo.samples))
            frame.pts = self.encoded
            frame.time_base = Fraction(1, self.rate)
            self.encoded += frame.samples
            self.out.mux(self.stream.encode(frame))

    def close(self) -> None:
        self._drain(final=True)
        self.out.mux(self.stream.encode(None))


class _Rebase:
    """Copied packets of one output stream with strictly increasing timestamps."""

    def __init__(self, stream):
        self.stream = stream
        self.last_dts: Fraction | None = None  # seconds

    def mux(self, out, packet, shift: Fraction) -> None:
        tb = packet.time_base
        if packet.dts is None or tb is None:
            return
        dts = packet.dts + round(shift / tb)
        pts = (packet.pts if packet.pts is not None else packet.dts) + round(shift / tb)
        if self.last_dts is not None and dts * tb <= self.last_dts:
            bump = math.floor(self.last_dts / tb) + 1 - dts
            dts, pts = dts + bump, pts + bump
        pts = max(pts, dts)
        packet.dts, packet.pts = dts, pts
        self.last_dts = Fraction(dts) * tb
        packet.stream = self.stream
        out.mux(packet)


def concatenate(sources: Sequence[Source], dest: str, on_progress: Callable[[float], None] | None = None) -> Joined:
    """Write the ``sources`` (paths, or callables returning seekable binary files), one
    after the other, to the MP4 at ``dest``. ``on_progress(fraction)`` (0 to 1) is called
    as shots are done and about every second of video within one. Raises
    media.InvalidVideo (which shot, why) and ValueError for no sources."""
    if not sources:
        raise ValueError("nothing to join")
    facts = []
    for number, source in enumerate(sources, 1):
        with _opened(source, number) as container:
            try:
                facts.append(_facts(container, number))
            except media._AV_ERRORS as exc:
                raise media.InvalidVideo(_("shot %(n)d could not be decoded") % {"n": number}) from exc
    first = facts[0].video
    remux = all(f.video == first for f in facts) and first[3] is not None
    audios = [f.audio for f in facts]
    if all(a is None for a in audios):
        audio_mode = "none"
    elif all(a is not None and a == audios[0] for a in audios) and remux:
        audio_mode = "copy"
    else:
        audio_mode = "encode"
    total = sum(f.duration_s for f in facts)
    try:
        with av.open(dest, mode="w", format="mp4", options={"movflags": "+faststart"}) as out:
            frames = _join(out, sources, facts, remux, audio_mode, total, on_progress)
    except media._AV_ERRORS as exc:
        raise media.InvalidVideo(_("the shots could not be joined")) from exc
    return Joined("remux" if remux else "reencode", audio_mode, total, frames)


def _join(out, sources, facts, remux: bool, audio_mode: str, total: float, on_progress) -> int:
    first = facts[0].video
    rate = first[3] or Fraction(24)
    out_v = None
    video_copy = audio_copy = None
    audio_out: _AudioOut | None = None
    frames = 0
    offset = Fraction(0)  # where this shot starts in the output (seconds)
    n_out = 0  # re-encode: next output frame number (time n_out / rate)
    reported = 0.0
    for number, (source, fact) in enumerate(zip(sources, facts, strict=True), 1):
        with _opened(source, number) as container:
            v = container.streams.video[0]
            a = container.streams.audio[0] if container.streams.audio else None
            if out_v is None:  # the output's streams, from the first shot
                if remux:
                    out_v = out.add_stream_from_template(v)
                    video_copy = _Rebase(out_v)
                else:
                    name = first[0]
                    try:
                        av.codec.Codec(name, "w")
                    except Exception:  # no encoder by the decoder's name
                        name = ENCODERS.get(name, "libx264")
                    out_v = out.add_stream(name, rate=rate)
                    out_v.width, out_v.height = first[1], first[2]
                    out_v.pix_fmt = "yuv420p"
                    out_v.time_base = 1 / rate
                    out_v.codec_context.time_base = 1 / rate
                    if name == "libx264":
                        out_v.options = {"preset": "veryfast", "crf": "20"}
                if audio_mode == "copy":
                    audio_copy = _Rebase(out.add_stream_from_template(a))
                elif audio_mode == "encode":
                    first_audio = next(f.audio for f in facts if f.audio is not None)
                    audio_out = _AudioOut(out, first_audio[1], first_audio[2] or "stereo")
            vstart = Fraction(v.start_time) * v.time_base if v.start_time is not None else Fraction(0)
            duration = Fraction(fact.duration_s)
            shot_end = offset + duration
            audio_until = round(shot_end * audio_out.rate) if audio_out else 0
            resampler = audio_out.resampler() if audio_out and a is not None else None
            streams = [v] + ([a] if a is not None and audio_mode != "none" else [])
            prev = None
            end_seen = Fraction(0)
            for packet in container.demux(*streams):
                if packet.stream is v:
                    if remux:
                        if packet.dts is None:
                            continue
                        if packet.pts is not None:
                            end = Fraction(packet.pts + (packet.duration or 0)) * packet.time_base - vstart
                            end_seen = max(end_seen, end)
                        video_copy.mux(out, packet, offset - vstart)
                        frames += 1
                        here = offset + end_seen
                    else:
                        for frame in _decoded(packet):
                            t = Fraction(frame.pts) * frame.time_base - vstart if frame.pts is not None else None
                            if t is None:
                                continue
                            while prev is not None and Fraction(n_out) / rate < offset + t:
                                n_out = _emit(out, out_v, prev, n_out, rate)
                            prev = frame.reformat(width=first[1], height=first[2], format="yuv420p")
                        here = Fraction(n_out) / rate
                    if on_progress and total and float(here) - reported >= 1.0:
                        reported = float(here)
                        on_progress(min(0.99, reported / total))
                else:
                    if audio_copy is not None:
                        if packet.dts is not None:
                            astart = Fraction(a.start_time) * a.time_base if a.start_time is not None else Fraction(0)
                            audio_copy.mux(out, packet, offset - astart)
                    elif audio_out is not None:
                        for frame in _decoded(packet):
                            for resampled in resampler.resample(frame):
                                audio_out.push(resampled, audio_until)
            if remux:
                shot_end = offset + (end_seen if end_seen > 0 else duration)
            else:
                while prev is not None and Fraction(n_out) / rate < shot_end:
                    n_out = _emit(out, out_v, prev, n_out, rate)
            if audio_out is not None:
                if resampler is not None:
                    for resampled in resampler.resample(None):
                        audio_out.push(resampled, round(shot_end * audio_out.rate))
                audio_out.pad(round(shot_end * audio_out.rate))
            offset = shot_end
        if on_progress:
            on_progress(min(0.99, float(offset) / total) if total else 0.99)
    if not remux:
        out.mux(out_v.encode(None))
        frames = n_out
    if audio_out is not None:
        audio_out.close()
    return frames


def _decoded(packet) -> list:
    try:
        return packet.decode()
    except media._AV_ERRORS:
        return []  # a damaged packet: skip it, as the probe does


def _emit(out, stream, frame: av.VideoFrame, n: int, rate: Fraction) -> int:
    frame.pts = n
    frame.time_base = 1 / rate
    out.mux(stream.encode(frame))
    return n + 1

"""Render a real H.264 MP4 for the built-in sandbox gateway.

This module stands in for the video *model* in the built-in sandbox gateway:
instead of calling a paid provider, the sandbox renders a short, genuine
H.264/MP4 clip locally so that the whole pipeline (download, archive, probe,
poster, playback in the browser) can be exercised end to end without any
credentials.

It has no Django dependency; only PyAV and Pillow (no numpy).

Public functions
----------------
``frame_size(aspect_ratio, resolution) -> (width, height)``
    Pixel dimensions for an aspect ratio such as ``"16:9"`` where
    ``resolution`` is the *short* side in pixels (e.g. 480 or 720).  Both
    returned numbers are even (H.264 with yuv420p needs even dimensions) and
    the long side is capped at 4x the short side.  Raises ``ValueError`` for a
    malformed ratio (not ``"a:b"`` with finite positive numbers) or a
    resolution that is not an integer >= 2.

``render_video(dest, *, width, height, seconds, prompt, image=None, fps=24) -> None``
    Writes an H.264 (libx264, yuv420p, BT.709 tagged) MP4 of ``width`` x ``height`` pixels and
    ``round(seconds * fps)`` frames (i.e. ``seconds`` long) at ``dest``, with
    ``movflags=+faststart`` so browsers can start playing before the whole
    file has arrived.  The file is written to a temporary file in the same
    directory and moved into place with ``os.replace()`` at the end, so a
    reader never sees a half-written file; on failure the temporary file is
    removed and ``dest`` is left untouched.

    * With ``image`` (PNG/JPEG/WebP/... bytes): a slow "Ken Burns" push-in;
      the image is cover-cropped to the target aspect and zoomed smoothly from
      1.0x to 1.15x towards its centre over the duration.
    * Without ``image``: an animated card derived from the prompt - a gradient
      whose hues come from a hash of the prompt, a few soft shapes drifting
      across it, the prompt text (wrapped, at most 3 lines) near the bottom and
      a small "sandbox" label.

    Output is deterministic: the same inputs give the same bytes, and so the
    same decoded frames, on a given machine and PyAV build, whatever else the
    process is doing (see *Determinism* below).  Raises ``ValueError`` for
    invalid dimensions (not positive even integers), a duration that yields
    fewer than one frame, a non-positive fps or ``image`` bytes that Pillow
    cannot decode.  Errors from the encoder propagate as
    ``av.error.FFmpegError``; ``OSError`` if ``dest``'s directory is not
    writable.

Determinism
-----------
Nothing random goes into a clip: the prompt card's palette and shapes come
from a ``random.Random`` seeded with the SHA-256 of the prompt (not
``hash()``, which changes per process); the drawing thread hands frames over
in order through a FIFO queue; fonts are Pillow's built-in ones.  Two encoder
settings matter:

* ``mbtree=0``.  With x264's macroblock-tree rate control on, the AVX-512
  version of its propagation step (used on CPUs that have AVX-512) handles
  macroblock rows eight at a time and does not mask the tail of a row whose
  width is not a multiple of 8 macroblocks, i.e. of 128 px (160, 320, 480,
  720 and 854 px wide frames are all affected; 1280 is not).  Whatever
  happens to lie in the uninitialised buffer memory past the row's end then
  changes the quantisers, so two renders of the same input gave different
  bytes and different decoded frames whenever the heap looked different (for
  instance another render running in the same process).  Without mbtree the
  encoder reads no such memory; ``_X264_CRF`` is 3 higher than it was with
  mbtree, which keeps the picture quality (PSNR within ~0.3 dB) and the
  encoding time about the same.
* A fixed number of slice threads.  x264 cuts every frame into one slice per
  thread and, left to choose, takes as many threads as there are CPUs, so the
  bitstream would depend on the machine (or on its CPU affinity).
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import math
import os
import queue
import random
import secrets
import threading
from collections.abc import Iterator
from fractions import Fraction

import av
from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

__all__ = ["frame_size", "render_video"]

#: Final zoom factor of the image push-in.
ZOOM_END = 1.15
#: Maximum long side / short side ratio accepted by :func:`frame_size`.
MAX_ASPECT = 4
#: libx264 settings: fast to encode, good enough for a placeholder clip.
_X264_PRESET = "veryfast"
_X264_CRF = "26"
#: No macroblock-tree rate control: its AVX-512 code reads uninitialised
#: memory for most frame widths, which made the output vary between renders.
_X264_PARAMS = "mbtree=0"
#: Slice threads (= slices per frame), fixed so the bitstream does not depend
#: on how many CPUs the machine has; 4 is as fast as x264's own choice on 2 CPUs.
_X264_THREADS = 4
_MAX_TEXT_LINES = 3


# --------------------------------------------------------------------------
# frame_size
# --------------------------------------------------------------------------


def _even(x: float) -> int:
    """Nearest even integer >= 2."""
    return max(2, 2 * round(x / 2))


def _parse_ratio(aspect_ratio: str) -> float:
    if not isinstance(aspect_ratio, str):
        raise ValueError(f"aspect ratio must be a string like '16:9', got {aspect_ratio!r}")
    parts = aspect_ratio.strip().split(":")
    if len(parts) != 2:
        raise ValueError(f"malformed aspect ratio {aspect_ratio!r}; expected 'a:b', e.g. '16:9'")
    try:
        a, b = (float(p.strip()) for p in parts)
    except ValueError:
        raise ValueError(f"malformed aspect ratio {aspect_ratio!r}; expected 'a:b', e.g. '16:9'") from None
    if not (math.isfinite(a) and math.isfinite(b)) or a <= 0 or b <= 0:
        raise ValueError(f"aspect ratio {aspect_ratio!r} must use finite positive numbers")
    return a / b


def frame_size(aspect_ratio: str, resolution: int) -> tuple[int, int]:
    """Return ``(width, height)`` in pixels for ``aspect_ratio`` at ``resolution``.

    ``resolution`` is the short side in pixels.  Both values are even; the long
    side is capped at ``4 * short side``.  Raises ``ValueError`` for malformed
    ratios or a resolution that is not an integer >= 2.

    >>> frame_size("16:9", 720)
    (1280, 720)
    >>> frame_size("9:16", 720)
    (720, 1280)
    >>> frame_size("16:9", 480)
    (854, 480)
    """
    ratio = _parse_ratio(aspect_ratio)
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"resolution must be an integer >= 2 (short side in pixels), got {resolution!r}")
    short = _even(resolution)
    long_ = _even(short * max(ratio, 1 / ratio))
    long_ = min(long_, MAX_ASPECT * short)
    return (long_, short) if ratio >= 1 else (short, long_)


# --------------------------------------------------------------------------
# Frame sources
# --------------------------------------------------------------------------


def _ease_in_out(t: float) -> float:
    """Smooth (sinusoidal) ease, 0 -> 0, 1 -> 1, zero velocity at both ends."""
    return 0.5 - 0.5 * math.cos(math.pi * min(max(t, 0.0), 1.0))


class _KenBurns:
    """Slow push-in on a still image, cover-cropped to ``width x height``."""

    def __init__(self, data: bytes, width: int, height: int, frames: int):
        self.width, self.height, self.frames = width, height, frames
        # Work at ZOOM_END x the output size so the most zoomed-in frame is
        # still sampled 1:1 (never upscaled), and the per-frame resize works on
        # a small, fixed-size source no matter how large the input image was.
        bw = math.ceil(width * ZOOM_END)
        bh = math.ceil(height * ZOOM_END)
        try:
            img = Image.open(io.BytesIO(data))
            # JPEG: decode at a reduced scale when the image is large; both sides
            # stay >= the larger target side, whatever the EXIF orientation.
            img.draft("RGB", (max(bw, bh), max(bw, bh)))
            img = ImageOps.exif_transpose(img)
            img = _to_rgb(img)
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
            raise ValueError(f"image could not be decoded: {exc}") from exc
        self.base = ImageOps.fit(img, (bw, bh), method=Image.Resampling.LANCZOS, centering=(0.5, 0.5))
        img.close()

    def frame(self, i: int) -> Image.Image:
        t = i / (self.frames - 1) if self.frames > 1 else 0.0
        # Exponential interpolation of the zoom looks like constant speed;
        # the ease avoids a jolt at the start and end.
        zoom = ZOOM_END ** _ease_in_out(t)
        bw, bh = self.base.size
        # Visible region of the base image (in base pixels) at this zoom.
        vw, vh = bw / zoom, bh / zoom
        x0, y0 = (bw - vw) / 2, (bh - vh) / 2
        # Float box -> sub-pixel accurate crop, so the zoom does not jitter.
        return self.base.resize(
            (self.width, self.height),
            Image.Resampling.BILINEAR,
            box=(x0, y0, x0 + vw, y0 + vh),
        )


def _to_rgb(img: Image.Image) -> Image.Image:
    """Convert to RGB, flattening any transparency onto a dark background."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
        bg = Image.new("RGBA", img.size, (16, 16, 20, 255))
        bg.alpha_composite(img)
        return bg.convert("RGB")
    return img.convert("RGB")


def _hsv(h: float, s: float, v: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return round(r * 255), round(g * 255), round(b * 255)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ValueError, OSError, ImportError):  # Pillow < 10.1 or no FreeType
        return ImageFont.load_default()


def _wrap(text: str, font, max_width: float, max_lines: int) -> list[str]:
    """Greedy word wrap to ``max_width`` pixels; at most ``max_lines`` lines,
    the last one ending in an ellipsis if text was cut."""
    words = " ".join(text.split()).split(" ")
    lines: list[str] = []
    current = ""
    truncated = False
    i = 0
    while i < len(words):
        word = words[i]
        candidate = f"{current} {word}" if current else word
        if font.getlength(candidate) <= max_width:
            current = candidate
            i += 1
            continue
        if not current:
            # A single word longer than the line: hard-break it.
            cut = len(word)
            while cut > 1 and font.getlength(word[:cut]) > max_width:
                cut -= 1
            current = word[:cut]
            words[i] = word[cut:]
        lines.append(current)
        current = ""
        if len(lines) == max_lines:
            truncated = True
            break
    if current and not truncated:
        lines.append(current)
    if truncated or len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1].rstrip(" .,;:")
        while last and font.getlength(last + "…") > max_width:
            last = last[:-1].rstrip()
        lines[-1] = last + "…"
    return [ln for ln in lines if ln]


class _PromptCard:
    """Animated gradient + drifting soft shapes + the prompt text."""

    def __init__(self, prompt: str, width: int, height: int, frames: int):
        self.width, self.height, self.frames = width, height, frames
        digest = hashlib.sha256(prompt.encode("utf-8")).digest()
        rng = random.Random(digest)  # deterministic per prompt
        short = min(width, height)

        # Palette: two background hues ~1/6-1/3 apart, shapes in between/complement.
        h1 = rng.random()
        h2 = h1 + rng.choice((-1, 1)) * rng.uniform(0.12, 0.3)
        c_top = _hsv(h1, rng.uniform(0.6, 0.8), rng.uniform(0.42, 0.55))
        c_bottom = _hsv(h2, rng.uniform(0.65, 0.85), rng.uniform(0.14, 0.22))

        # Background: a slightly oversized diagonal gradient which pans slowly
        # (cheap parallax: the per-frame cost is one crop).
        self.pan = max(8, short // 10)
        gw, gh = width + self.pan, height + self.pan
        small = Image.new("RGB", (2, 2))
        mid = tuple((a + b) // 2 for a, b in zip(c_top, c_bottom, strict=True))
        small.putdata([c_top, mid, mid, c_bottom])
        grad = small.resize((gw, gh), Image.Resampling.BILINEAR, box=(0.5, 0.5, 1.5, 1.5))
        # Vignette darkens the edges a little, which makes it look less flat.
        vig_small = Image.radial_gradient("L").resize((gw, gh), Image.Resampling.BILINEAR)
        black = Image.new("RGB", (gw, gh), (0, 0, 0))
        self.background = Image.composite(black, grad, vig_small.point(lambda v: int(v * 0.45)))

        # Soft shapes: pre-blurred masks pasted with a solid colour per frame.
        self.blobs = []
        for k in range(4):
            d = int(short * rng.uniform(0.28, 0.5))
            pad = d // 4
            mask = Image.new("L", (d + 2 * pad, d + 2 * pad), 0)
            draw = ImageDraw.Draw(mask)
            if k % 2 == 0:
                draw.ellipse((pad, pad, pad + d, pad + d), fill=255)
            else:
                r = d // 4
                draw.rounded_rectangle((pad, pad + d // 6, pad + d, pad + d - d // 6), radius=r, fill=255)
            # Blur on a downscaled copy (much faster), then scale back up.
            s = max(1, d // 48)
            mask = (
                mask.resize((mask.width // s, mask.height // s), Image.Resampling.BILINEAR)
                .filter(ImageFilter.GaussianBlur(max(1, pad / s / 1.6)))
                .resize(mask.size, Image.Resampling.BICUBIC)
            )
            alpha = rng.uniform(0.3, 0.5)
            mask = mask.point(lambda v, a=alpha: int(v * a))
            hue = h1 + rng.choice((0.5, 0.08, -0.08, 0.33)) + rng.uniform(-0.04, 0.04)
            colour = _hsv(hue, rng.uniform(0.35, 0.6), rng.uniform(0.85, 1.0))
            self.blobs.append(
                {
                    "mask": mask,
                    "colour": colour,
                    # Start somewhere across the frame, drift horizontally by
                    # 0.4-0.9 of the width over the clip, bob vertically.
                    "x0": rng.uniform(-0.2, 0.9) * width,
                    "dx": rng.choice((-1, 1)) * rng.uniform(0.4, 0.9) * width,
                    "y0": rng.uniform(0.05, 0.6) * height,
                    "amp": rng.uniform(0.03, 0.08) * height,
                    "phase": rng.uniform(0, 2 * math.pi),
                    "cycles": rng.uniform(0.5, 1.2),
                }
            )

        # Static overlay (scrim, text, label): rendered once as RGBA patches.
        self.patches = self._overlay(prompt, width, height, short)

    def _overlay(self, prompt: str, width: int, height: int, short: int):
        patches = []
        margin = max(12, round(short * 0.06))

        # Prompt text, wrapped to at most 3 lines near the bottom.
        text = " ".join(prompt.split()) or "(empty prompt)"
        size = max(12, round(short * 0.055))
        font = _font(size)
        lines = _wrap(text, font, width - 2 * margin, _MAX_TEXT_LINES)
        line_h = round(size * 1.3)
        block_h = line_h * len(lines)
        # Scrim: transparent -> dark towards the bottom, behind the text.
        scrim_h = min(height, block_h + 2 * margin + margin)
        scrim = Image.linear_gradient("L").resize((1, scrim_h), Image.Resampling.BILINEAR)
        scrim = scrim.point(lambda v: int(v * 0.55)).resize((width, scrim_h), Image.Resampling.NEAREST)
        layer = Image.new("RGBA", (width, scrim_h), (0, 0, 0, 0))
        layer.putalpha(scrim)
        # Shadow: text in black, blurred, slightly offset.
        shadow = Image.new("L", (width, scrim_h), 0)
        sd = ImageDraw.Draw(shadow)
        off = max(1, size // 16)
        top = scrim_h - margin - block_h
        for n, line in enumerate(lines):
            sd.text((margin + off, top + n * line_h + off), line, font=font, fill=200)
        shadow = shadow.filter(ImageFilter.GaussianBlur(max(1, size / 10)))
        layer.alpha_composite(Image.merge("RGBA", (*Image.new("RGB", layer.size, (0, 0, 0)).split(), shadow)))
        draw = ImageDraw.Draw(layer)
        for n, line in enumerate(lines):
            draw.text((margin, top + n * line_h), line, font=font, fill=(255, 255, 255, 245))
        patches.append(self._patch(layer, (0, height - scrim_h)))

        # "sandbox" pill in the top-left corner.
        lsize = max(10, round(short * 0.03))
        lfont = _font(lsize)
        label = "sandbox"
        tw = round(lfont.getlength(label))
        pad_x, pad_y = round(lsize * 0.7), round(lsize * 0.35)
        pw, ph = tw + 2 * pad_x, lsize + 2 * pad_y + 2
        pill = Image.new("RGBA", (pw, ph), (0, 0, 0, 0))
        pd = ImageDraw.Draw(pill)
        pd.rounded_rectangle(
            (0, 0, pw - 1, ph - 1), radius=ph // 2, fill=(0, 0, 0, 110), outline=(255, 255, 255, 90), width=1
        )
        pd.text((pw / 2, ph / 2), label, font=lfont, fill=(255, 255, 255, 225), anchor="mm")
        lm = max(8, round(short * 0.035))
        patches.append(self._patch(pill, (lm, lm)))
        return patches

    @staticmethod
    def _patch(rgba: Image.Image, pos: tuple[int, int]):
        """Pre-split an RGBA layer into (RGB, alpha mask, position) for paste()."""
        return rgba.convert("RGB"), rgba.getchannel("A"), pos

    def frame(self, i: int) -> Image.Image:
        t = i / (self.frames - 1) if self.frames > 1 else 0.0
        w, h = self.width, self.height
        px = round(self.pan * t)
        py = round(self.pan * _ease_in_out(t))
        img = self.background.crop((px, py, px + w, py + h))
        for b in self.blobs:
            mask = b["mask"]
            x = b["x0"] + b["dx"] * t - mask.width / 2
            y = b["y0"] + b["amp"] * math.sin(b["phase"] + 2 * math.pi * b["cycles"] * t) - mask.height / 2
            img.paste(b["colour"], (round(x), round(y), round(x) + mask.width, round(y) + mask.height), mask)
        for rgb, alpha, pos in self.patches:
            img.paste(rgb, pos, alpha)
        return img


# --------------------------------------------------------------------------
# render_video
# --------------------------------------------------------------------------


_DONE = object()
# BT.709, limited ("MPEG") range: what browsers assume for HD video.  The
# frames are converted with that matrix and the stream is tagged with it, so
# players do not have to guess (an untagged BT.601 conversion shifts colours).
_BT709 = 1  # AVCOL_SPC/PRI/TRC_BT709
_MPEG_RANGE = 1  # AVCOL_RANGE_MPEG


def _to_yuv(frame: av.VideoFrame) -> av.VideoFrame:
    try:
        return frame.reformat(
            format="yuv420p",
            dst_colorspace="ITU709",
            dst_color_range="MPEG",
            dst_color_trc=_BT709,
            dst_color_primaries=_BT709,
        )
    except TypeError:  # older PyAV without the tagging arguments
        return frame.reformat(format="yuv420p", dst_colorspace="ITU709")


def _frames(source, count: int, fps: int) -> Iterator[av.VideoFrame]:
    """Yield ``count`` yuv420p frames of ``source``, drawn in a helper thread.

    Pillow releases the GIL while it pastes/resizes, so drawing frame ``n+1``
    overlaps with x264 encoding frame ``n``; this roughly halves the wall time
    on a 2-core machine.  The queue is bounded, so at most a handful of frames
    are held in memory.  Exceptions in the helper thread are re-raised here;
    if the consumer stops early, the helper thread is told to stop.
    """
    frames: queue.Queue = queue.Queue(maxsize=4)
    stop = threading.Event()
    time_base = Fraction(1, fps)

    def put(item) -> bool:
        while not stop.is_set():
            try:
                frames.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for i in range(count):
                frame = _to_yuv(av.VideoFrame.from_image(source.frame(i)))
                frame.pts = i
                frame.time_base = time_base
                if not put(frame):
                    return
            put(_DONE)
        except BaseException as exc:  # handed over to the consumer
            put(exc)

    worker = threading.Thread(target=produce, name="sandbox-render", daemon=True)
    worker.start()
    try:
        while True:
            item = frames.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


def _temp_path(dest: str) -> str:
    directory, name = os.path.split(dest)
    return os.path.join(directory, f".{name}.{secrets.token_hex(6)}.part")


def render_video(
    dest: str | os.PathLike,
    *,
    width: int,
    height: int,
    seconds: float,
    prompt: str,
    image: bytes | None = None,
    fps: int = 24,
) -> None:
    """Write a ``width`` x ``height`` pixel, ``seconds``-long H.264 MP4 to ``dest``.

    The clip has ``round(seconds * fps)`` frames at ``fps`` frames per second.
    With ``image`` (encoded image bytes) it is a slow push-in on that image;
    otherwise an animated card showing ``prompt``.  Returns ``None``.  The
    file appears atomically (temp file + ``os.replace``).  Raises
    ``ValueError`` for odd/non-positive dimensions, fewer than one frame,
    non-positive ``fps`` or undecodable ``image`` bytes.
    """
    for name, value in (("width", width), ("height", height)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 2 or value % 2:
            raise ValueError(f"{name} must be a positive even integer (pixels), got {value!r}")
    if isinstance(fps, bool) or not isinstance(fps, int) or fps <= 0:
        raise ValueError(f"fps must be a positive integer, got {fps!r}")
    try:
        seconds = float(seconds)
    except (TypeError, ValueError):
        raise ValueError(f"seconds must be a number, got {seconds!r}") from None
    if not math.isfinite(seconds):
        raise ValueError(f"seconds must be finite, got {seconds!r}")
    frames = round(seconds * fps)
    if frames < 1:
        raise ValueError(f"{seconds} s at {fps} fps is less than one frame")

    source = (
        _KenBurns(image, width, height, frames)
        if image is not None
        else _PromptCard(prompt or "", width, height, frames)
    )

    dest = os.fspath(dest)
    tmp = _temp_path(dest)
    # Create the temp file ourselves (O_EXCL, umask-respecting 0o666 mode) so
    # the final file gets the same permissions a plain open() would give.
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        with av.open(tmp, mode="w", format="mp4", container_options={"movflags": "+faststart"}) as out:
            stream = out.add_stream(
                "libx264",
                rate=Fraction(fps, 1),
                options={"preset": _X264_PRESET, "crf": _X264_CRF, "x264-params": _X264_PARAMS},
            )
            stream.codec_context.thread_type = "SLICE"
            stream.codec_context.thread_count = _X264_THREADS
            stream.width = width
            stream.height = height
            stream.pix_fmt = "yuv420p"
            stream.time_base = Fraction(1, fps)
            stream.codec_context.time_base = Fraction(1, fps)
            stream.codec_context.colorspace = _BT709
            stream.codec_context.color_primaries = _BT709
            stream.codec_context.color_trc = _BT709
            stream.codec_context.color_range = _MPEG_RANGE
            for frame in _frames(source, frames, fps):
                out.mux(stream.encode(frame))
            out.mux(stream.encode(None))
        os.replace(tmp, dest)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise

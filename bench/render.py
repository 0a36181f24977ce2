"""Memory of rendering a sequence: peak memory while ``videos.lib.concat`` joins 3 and 12
shots, remuxed (all shots alike) and re-encoded (the first shot a different size).

    .venv/bin/python bench/render.py [--shots 3 12] [--seconds 4] [--width 640 --height 360]

Each shot is a generated H.264 MP4 (libx264 ultrafast, 24 fps, a colour per frame, a
silent AAC track on every other shot, so the audio is encoded with silence filled in).
Measured per run: the sampled RSS growth over the baseline before the join (FFmpeg's
buffers included, every 5 ms), tracemalloc's Python peak, the shots' total size, and
the output's duration. The goal: RSS growth independent of the number of shots (one shot
open at a time), a few shots' worth at most. No Django; never asserts anything.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import threading
import time
import tracemalloc

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import av  # noqa: E402
from PIL import Image  # noqa: E402

from videos.lib import concat, media  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def write_shot(path: str, seconds: float, size: tuple[int, int], audio: bool, hue: int) -> None:
    fps = 24
    with av.open(path, "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        video.width, video.height = size
        video.pix_fmt = "yuv420p"
        sound = out.add_stream("aac", rate=48000, layout="stereo") if audio else None
        for i in range(round(seconds * fps)):
            frame = av.VideoFrame.from_image(Image.new("RGB", size, ((hue + i * 3) % 256, (i * 5) % 256, 90)))
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if sound is not None:
            done, total = 0, round(seconds * 48000)
            while done < total:
                n = min(1024, total - done)
                chunk = av.AudioFrame(format="fltp", layout="stereo", samples=n)
                chunk.sample_rate = 48000
                for plane in chunk.planes:
                    plane.update(bytes(plane.buffer_size))
                chunk.pts, done = done, done + n
                out.mux(sound.encode(chunk))
            out.mux(sound.encode(None))


def measure(paths: list[str], dest: str) -> dict:
    peak = [rss_mb()]
    base = peak[0]
    running = True

    def sample() -> None:
        while running:
            peak[0] = max(peak[0], rss_mb())
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    tracemalloc.start()
    sampler.start()
    started = time.perf_counter()
    joined = concat.concatenate(paths, dest)
    seconds = time.perf_counter() - started
    running = False
    sampler.join()
    _, py_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "mode": f"{joined.mode}/{joined.audio}",
        "rss_growth_mb": peak[0] - base,
        "python_peak_mb": py_peak / 2**20,
        "wall_s": seconds,
        "duration_s": media.probe_video(dest).duration_s,
        "expected_s": joined.duration_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shots", type=int, nargs="+", default=[3, 12])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--one", nargs=2, metavar=("SHOTS", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is None:  # each run in a fresh process, so one run's allocator cannot hide another's
        import subprocess

        print(
            f"# {platform.node()} · {os.cpu_count()} CPUs · Python {platform.python_version()} · PyAV {av.__version__}"
        )
        for count in args.shots:
            for mode in ("remux", "reencode"):
                extra = ["--seconds", str(args.seconds), "--width", str(args.width), "--height", str(args.height)]
                subprocess.run([sys.executable, __file__, "--one", str(count), mode, *extra], check=True)
        return
    size = (args.width, args.height)
    with tempfile.TemporaryDirectory(prefix="studio-bench-render-") as tmp:
        for count in [int(args.one[0])]:
            for mode in [args.one[1]]:
                paths = []
                for n in range(count):
                    shot_size = (
                        (size[0] // 2 * 2 + 64, size[1] // 2 * 2 + 36) if mode == "reencode" and n == 0 else size
                    )
                    path = os.path.join(tmp, f"{mode}-{count}-{n}.mp4")
                    write_shot(path, args.seconds, shot_size, audio=(n % 2 == 1 and mode == "reencode"), hue=n * 40)
                    paths.append(path)
                shot_mb = sum(os.path.getsize(p) for p in paths) / 2**20
                result = measure(paths, os.path.join(tmp, f"out-{mode}-{count}.mp4"))
                print(
                    f"{count:>3} shots of {args.seconds:g} s {mode:<8} ({result['mode']}): "
                    f"RSS +{result['rss_growth_mb']:.1f} MB, Python peak {result['python_peak_mb']:.2f} MB, "
                    f"shots {shot_mb:.1f} MB in total, {result['wall_s']:.1f} s, "
                    f"duration {result['duration_s']:.3f} s (sum {result['expected_s']:.3f} s)"
                )
                for p in paths:
                    os.unlink(p)


if __name__ == "__main__":
    main()

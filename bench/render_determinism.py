"""Render the same sandbox clip many times and check that every copy is identical.

Run by hand from the project root::

    .venv/bin/python bench/render_determinism.py [--renders 60] [--threads 4] [--processes 2]
        [--load 2] [--image] [--width 160 --height 90 --seconds 0.5] [--renderer path/to/render.py]

The first render (alone, no load) is the reference.  Then ``--renders`` more are
made in each of four ways, all while ``--load`` busy-looping processes keep the
CPUs saturated (as a full test-suite run on a small machine does):

1. one after the other in this process;
2. from ``--threads`` threads of this process at once;
3. from ``--processes`` worker processes at once (each with its own hash seed);
4. each in a fresh interpreter whose heap is pre-filled with a different byte
   (glibc's ``MALLOC_PERTURB_``) and with a different ``PYTHONHASHSEED``, which
   exposes any read of uninitialised memory (elsewhere the variable is ignored).

Every render is decoded and compared with the reference frame by frame, and its
file byte for byte.  Prints how many differed (and which frames), then the wall
and CPU time of one render alone, without load.  ``--renderer`` loads the
renderer from another file (e.g. an older copy) instead of
``videos/sandbox/render.py``.  Exit status 1 if any render differed.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import io
import json
import multiprocessing as mp
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROMPT = "same prompt"

_renderer = None


def renderer(path: str | None):
    """The ``render_video`` function, from ``path`` or from the project."""
    global _renderer
    if _renderer is None:
        if path:
            spec = importlib.util.spec_from_file_location("_render_under_test", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        else:
            sys.path.insert(0, str(ROOT))
            from videos.sandbox import render as module
        _renderer = module.render_video
    return _renderer


def _image(with_image: bool) -> bytes | None:
    if not with_image:
        return None
    from PIL import Image

    buffer = io.BytesIO()  # not a flat colour: a flat picture hides rate-control differences
    Image.radial_gradient("L").resize((64, 36)).convert("RGB").save(buffer, "PNG")
    return buffer.getvalue()


def render_once(directory: str, n: int, shape: tuple, renderer_path: str | None):
    """Render one clip; return (file sha256, per-frame sha256 list, wall seconds)."""
    import av

    width, height, seconds, with_image = shape
    path = os.path.join(directory, f"r{os.getpid()}-{n}.mp4")
    image = _image(with_image)
    start = time.perf_counter()
    renderer(renderer_path)(path, width=width, height=height, seconds=seconds, prompt=PROMPT, image=image)
    wall = time.perf_counter() - start
    with open(path, "rb") as fh:
        file_hash = hashlib.sha256(fh.read()).hexdigest()
    with av.open(path) as container:
        frame_hashes = [hashlib.sha256(f.to_image().tobytes()).hexdigest() for f in container.decode(video=0)]
    os.unlink(path)
    return file_hash, frame_hashes, wall


def render_in_fresh_interpreter(directory: str, n: int, shape: tuple, renderer_path: str | None):
    fill = 1 + (37 * n) % 255
    env = {**os.environ, "MALLOC_PERTURB_": str(fill), "PYTHONHASHSEED": str(n)}
    command = [sys.executable, __file__, "--child", json.dumps([directory, n, shape, renderer_path])]
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True, timeout=120).stdout
    return tuple(json.loads(out))


def _burn(stop_at: float) -> None:
    x = 0
    while time.time() < stop_at:
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF


def compare(label: str, reference, results) -> int:
    ref_file, ref_frames, _ = reference
    frames_bad = bytes_bad = 0
    for file_hash, frame_hashes, _ in results:
        bytes_bad += file_hash != ref_file
        if frame_hashes != ref_frames:
            frames_bad += 1
            diff = [i for i, (a, b) in enumerate(zip(frame_hashes, ref_frames, strict=False)) if a != b]
            count = (
                ""
                if len(frame_hashes) == len(ref_frames)
                else f" (and {len(frame_hashes)} frames, not {len(ref_frames)})"
            )
            print(f"    differs at frames {diff}{count}")
    print(
        f"  {label}: {len(results)} renders, {frames_bad} with different decoded frames, {bytes_bad} with different bytes"
    )
    return frames_bad + bytes_bad


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=60, help="renders per way (default 60)")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--load", type=int, default=os.cpu_count() or 2, help="busy-looping processes")
    parser.add_argument("--image", action="store_true", help="render the image push-in instead of the card")
    parser.add_argument("--width", type=int, default=160)
    parser.add_argument("--height", type=int, default=90)
    parser.add_argument("--seconds", type=float, default=0.5)
    parser.add_argument("--timing", type=int, default=15, help="renders timed alone, without load")
    parser.add_argument("--renderer", help="a render.py to load instead of the project's")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        directory, n, shape, renderer_path = json.loads(args.child)
        print(json.dumps(render_once(directory, n, tuple(shape), renderer_path)))
        return 0

    import av

    shape = (args.width, args.height, args.seconds, args.image)
    print(
        f"cpus={os.cpu_count()} python={platform.python_version()} av={av.__version__} "
        f"libavcodec={'.'.join(map(str, av.library_versions['libavcodec']))} renderer={args.renderer or 'project'} "
        f"size={args.width}x{args.height} seconds={args.seconds} image={args.image} "
        f"date={time.strftime('%Y-%m-%d %H:%M')}"
    )
    failures = 0
    with tempfile.TemporaryDirectory() as directory:
        reference = render_once(directory, 0, shape, args.renderer)
        walls, cpus = [], []
        for k in range(args.timing):
            cpu = _cpu_seconds()
            walls.append(render_once(directory, 1000 + k, shape, args.renderer)[2])
            cpus.append(_cpu_seconds() - cpu)  # includes decoding and hashing
        burners = []
        if args.load:
            stop_at = time.time() + 3600
            ctx = mp.get_context("spawn")
            burners = [ctx.Process(target=_burn, args=(stop_at,), daemon=True) for _ in range(args.load)]
            for p in burners:
                p.start()
        print(f"under load from {args.load} busy processes:")
        try:
            results = [render_once(directory, k, shape, args.renderer) for k in range(1, args.renders + 1)]
            failures += compare("one after the other", reference, results)
            with ThreadPoolExecutor(args.threads) as pool:
                futures = [
                    pool.submit(render_once, directory, 10_000 + k, shape, args.renderer) for k in range(args.renders)
                ]
                results = [f.result() for f in futures]
            failures += compare(f"{args.threads} threads at once", reference, results)
            with ProcessPoolExecutor(args.processes, mp_context=mp.get_context("spawn")) as pool:
                futures = [
                    pool.submit(render_once, directory, 20_000 + k, shape, args.renderer) for k in range(args.renders)
                ]
                results = [f.result() for f in futures]
            failures += compare(f"{args.processes} processes at once", reference, results)
            with ThreadPoolExecutor(args.processes) as pool:
                futures = [
                    pool.submit(render_in_fresh_interpreter, directory, 30_000 + k, shape, args.renderer)
                    for k in range(args.renders)
                ]
                results = [f.result() for f in futures]
            failures += compare("fresh interpreters, each heap pre-filled differently", reference, results)
        finally:
            for p in burners:
                p.terminate()
                p.join()
    print(
        f"one render alone, no load ({args.timing} renders): wall median {statistics.median(walls) * 1000:.1f} ms, "
        f"min {min(walls) * 1000:.1f} ms; CPU median {statistics.median(cpus) * 1000:.1f} ms (with decoding)"
    )
    print("IDENTICAL" if not failures else "DIFFERENT")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""The sandbox's pretend model: task timelines and the rendered videos.

A sandbox task is ``queued`` for the first tenth of its run time, then
``processing`` with progress rising, then ``completed`` once its video is
rendered (a real H.264 MP4 from ``render.render_video``). Words in the prompt
script the outcome, so a newcomer can try the unhappy paths:

- ``[fail]`` — the task fails halfway with the gateway's error message;
- ``[slow]`` — the task takes ``STUDIO_SANDBOX_SLOW_SECONDS`` (default 60 s).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from videos.sandbox.models import SandboxJob
from videos.sandbox.render import frame_size, render_video

log = logging.getLogger(__name__)

FAIL_WORD = "[fail]"
SLOW_WORD = "[slow]"
FAILURE_MESSAGE = "The sandbox failed this task because the prompt asked it to ([fail])."

_render_lock = threading.Lock()
_rendering: set[str] = set()


def mode_for(prompt: str) -> str:
    lowered = prompt.lower()
    if FAIL_WORD in lowered:
        return "fail"
    if SLOW_WORD in lowered:
        return "slow"
    return "normal"


def key_hash(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def new_job_id(prefix: str = "video_") -> str:
    return prefix + secrets.token_hex(12)


def run_seconds(job: SandboxJob) -> float:
    if job.mode == "slow":
        return float(settings.STUDIO_SANDBOX_SLOW_SECONDS)
    return float(settings.STUDIO_SANDBOX_RUN_SECONDS)


def video_path(job: SandboxJob) -> Path:
    return Path(settings.MEDIA_ROOT) / "sandbox" / f"{job.id}.mp4"


def create_job(
    *,
    dialect: str,
    model: str,
    api_key: str,
    prompt: str,
    params: dict,
    image: bytes | None,
    id_prefix: str = "video_",
) -> SandboxJob:
    """Save a new sandbox task and start rendering its video in the background.

    ``params`` must hold ``seconds`` (int) and ``width``/``height`` (even pixels),
    and may hold whatever else the dialect echoes back (``resolution``,
    ``aspect_ratio``, ``audio``…). ``image`` is the reference image's bytes.
    """
    job = SandboxJob.objects.create(
        id=new_job_id(id_prefix),
        dialect=dialect,
        model=model,
        key_hash=key_hash(api_key),
        prompt=prompt,
        params=params,
        mode=mode_for(prompt),
        image=image,
        created_at=timezone.now(),
    )
    if job.mode != "fail" and settings.STUDIO_SANDBOX_BACKGROUND_RENDER:
        threading.Thread(target=ensure_video, args=(job,), daemon=True, name=f"render-{job.id}").start()
    return job


def ensure_video(job: SandboxJob) -> Path:
    """Render the job's video unless it exists or is being rendered; returns its path."""
    path = video_path(job)
    with _render_lock:
        if path.exists() or job.id in _rendering:
            return path
        _rendering.add(job.id)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        render_video(
            path,
            width=job.params["width"],
            height=job.params["height"],
            seconds=job.params["seconds"],
            prompt=job.prompt,
            image=bytes(job.image) if job.image else None,
        )
    except Exception:
        log.exception("sandbox: rendering %s failed", job.id)
    finally:
        with _render_lock:
            _rendering.discard(job.id)
    return path


def snapshot(job: SandboxJob) -> tuple[str, int]:
    """The job's (status, progress) now: ``queued``, ``processing``, ``completed``,
    ``failed`` or ``cancelled``; progress 0–100."""
    if job.cancelled_at:
        return "cancelled", 0
    total = run_seconds(job)
    elapsed = (timezone.now() - job.created_at).total_seconds()
    fraction = 1.0 if total <= 0 else elapsed / total
    if job.mode == "fail" and fraction >= 0.5:
        return "failed", 50
    if fraction < 0.1:
        return "queued", 0
    if fraction < 1.0:
        return "processing", max(1, min(99, int(fraction * 100)))
    if not video_path(job).exists():
        if settings.STUDIO_SANDBOX_BACKGROUND_RENDER and job.id in _rendering:
            return "processing", 99
        ensure_video(job)
        if not video_path(job).exists():
            return "processing", 99
    return "completed", 100


def dimensions(aspect_ratio: str, resolution: int) -> tuple[int, int]:
    """Frame width and height in pixels for an aspect ratio and a short side."""
    return frame_size(aspect_ratio, resolution)

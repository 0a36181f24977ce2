"""Rendering a sequence to one MP4 in the background (django-q2 task ``render_task``).

The shots are joined by ``videos.lib.concat`` into a temporary file, streaming, one shot
open at a time; the result is verified and probed with PyAV, hashed (SHA-256), given a
poster, stored through the project's storage like an archived video, and written to the
sequence only if the render's token is still the sequence's (a change to the shots or a
newer render clears or replaces it; the stale result is deleted). Progress is written as
a percentage at most every 5 points, for the sequence card's polling.

``rescue_renders`` (run by the sweep loop about once a minute) finds what a lost queue
message or a dead worker left: a render still queued after ``REQUEUE_AFTER`` is queued
again (a second message is harmless: the token is claimed once), and one that has been
rendering for longer than django-q2 lets a task live ends as failed, with its reason, so
the sequence page offers Render again instead of waiting.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from datetime import timedelta

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from videos.lib import concat, media
from videos.models import RenderState, Sequence
from videos.worker import queue

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024
#: The task ``render_sequence`` queues (its dotted path).
RENDER = "videos.worker.render.render_task"
#: A render still waiting for a worker this long after it was asked for is queued again.
REQUEUE_AFTER = timedelta(minutes=2)


def pending() -> bool:
    """Whether any render is waiting or running (the sweep loop keeps going while one is)."""
    return Sequence.objects.filter(render_state__in=(RenderState.QUEUED, RenderState.RENDERING)).exists()


def rescue_renders(now=None) -> tuple[int, int]:
    """Queue again the renders waiting longer than ``REQUEUE_AFTER`` (their message was
    lost), and fail those rendering for longer than django-q2's task ``timeout`` plus a
    minute (their worker ended: killed, restarted or out of time). Returns (queued again,
    failed). Each change is conditional on the state and token it read."""
    now = now or timezone.now()
    requeued = 0
    waiting = Sequence.objects.filter(render_state=RenderState.QUEUED, render_requested_at__lt=now - REQUEUE_AFTER)
    for pk, token in waiting.values_list("pk", "render_token"):
        mine = Sequence.objects.filter(pk=pk, render_token=token, render_state=RenderState.QUEUED)
        if mine.update(render_requested_at=now):
            queue.enqueue(RENDER, pk, token)
            requeued += 1
    lifetime = timedelta(seconds=settings.Q_CLUSTER.get("timeout", 300) + 60)
    failed = Sequence.objects.filter(render_state=RenderState.RENDERING, render_requested_at__lt=now - lifetime).update(
        render_state=RenderState.FAILED,
        render_error=_("The render stopped before it finished (its worker ended). Render it again."),
    )
    if requeued or failed:
        log.warning("renders: %d queued again (lost messages), %d failed (their worker ended)", requeued, failed)
    return requeued, failed


def _sha256(path: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _opener(field):
    return lambda: field.storage.open(field.name, "rb")


def render_task(sequence_id: int, token: str) -> bool:
    """Render sequence ``sequence_id`` if ``token`` is still its render's; True when the
    result was stored. Safe to run twice: the second run finds the token used up."""
    claimed = Sequence.objects.filter(pk=sequence_id, render_token=token, render_state=RenderState.QUEUED).update(
        render_state=RenderState.RENDERING, render_progress=0, render_requested_at=timezone.now()
    )
    if not claimed:
        return False
    sequence = Sequence.objects.get(pk=sequence_id)
    shots = list(sequence.shots.select_related("generation__asset").order_by("position", "pk"))
    mine = Sequence.objects.filter(pk=sequence_id, render_token=token)
    sources = []
    for shot in shots:
        asset = getattr(shot.generation, "asset", None)
        if asset is None:
            mine.update(
                render_state=RenderState.FAILED, render_error=_("Shot %(n)d has no video.") % {"n": shot.position + 1}
            )
            return False
        sources.append(_opener(asset.file))
    fd, path = tempfile.mkstemp(prefix="studio-render-", suffix=".mp4")
    os.close(fd)
    try:
        return _render(sequence, mine, sources, path)
    finally:
        os.unlink(path)


def _render(sequence: Sequence, mine, sources, path: str) -> bool:
    last = [0]

    def progress(fraction: float) -> None:
        percent = int(fraction * 100)
        if percent - last[0] >= 5:
            last[0] = percent
            mine.update(render_progress=percent)

    try:
        joined = concat.concatenate(sources, path, on_progress=progress)
        info = media.probe_video(path)
    except (media.InvalidVideo, ValueError, OSError) as exc:
        log.warning("sequence %s: render failed: %s", sequence.pk, exc)
        mine.update(
            render_state=RenderState.FAILED, render_error=(_("The render failed: %(why)s.") % {"why": exc})[:300]
        )
        return False
    sha256, size = _sha256(path)
    try:
        poster = media.extract_poster(path)
    except media.InvalidVideo:
        poster = None
    old = [f.name for f in (sequence.video, sequence.poster) if f]
    with open(path, "rb") as fh:
        sequence.video.save("render.mp4", File(fh), save=False)
    if poster:
        sequence.poster.save("poster.jpg", ContentFile(poster), save=False)
    with transaction.atomic():
        stored = mine.update(
            render_state=RenderState.DONE,
            render_progress=100,
            render_mode=joined.mode,
            render_error="",
            video=sequence.video.name,
            poster=sequence.poster.name if poster else "",
            video_bytes=size,
            video_sha256=sha256,
            video_duration_s=info.duration_s,
            video_width=info.width,
            video_height=info.height,
            rendered_at=timezone.now(),
        )
    storage = sequence.video.storage
    if not stored:  # the shots changed or a newer render started: drop this result
        storage.delete(sequence.video.name)
        if poster:
            storage.delete(sequence.poster.name)
        return False
    for name in old:
        storage.delete(name)
    return True

"""The archive step: fetch the finished video at once (gateway URLs expire within
days), verify and probe it, store it with a poster, then charge.

The file goes to storage first; the Asset row, the ``completed`` state and the
charge are written together only if we still hold the lease, so an interrupted
archive is redone from scratch and never leaves a half file as the asset.
"""

from __future__ import annotations

import logging
import os

from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from videos import audit, billing, webhooks
from videos.gateways.base import GatewayStatus, PollResult
from videos.lib import http, media
from videos.models import Asset, Task, TaskState, WebhookEvent
from videos.timeline import record
from videos.worker.adapters import StepError, adapter_for
from videos.worker.leases import LeaseLost, release, renewer, reschedule
from videos.worker.outcomes import backoff, fail

log = logging.getLogger(__name__)

MAX_ARCHIVE_ATTEMPTS = 6


def step_archive(task: Task, token: str) -> None:
    """Download the finished video, verify and probe it, store it with a poster."""
    generation = task.generation
    try:
        gateway = adapter_for(generation)
    except StepError as exc:
        fail(task, token, str(exc))
        return
    try:
        url, headers = gateway.result_download(
            task.external_id,
            PollResult(GatewayStatus.SUCCEEDED, task.status_word, 100, None, video_url=task.result_url),
        )
        download = http.download_to_tempfile(url, headers=headers, on_chunk=renewer(task, token))
    except LeaseLost:
        log.warning("task %s: lease lost during the download; another worker has it", task.pk)
        return
    except http.DownloadError as exc:
        _archive_failed(task, token, exc.message, permanent=exc.permanent)
        return
    except ValueError:  # a URL the adapter could not read (an unclosed IPv6 bracket, say)
        _archive_failed(task, token, _("the video URL is not a valid URL"), permanent=True)
        return
    try:
        _store(task, token, download, url)
    finally:
        os.unlink(download.path)


def _store(task: Task, token: str, download: http.Download, url: str) -> None:
    """Probe the downloaded file and, if it plays, save it as the generation's asset."""
    generation = task.generation
    try:
        info = media.probe_video(download.path)
    except media.InvalidVideo as exc:
        # A gateway that answers an error page with 200, or a download cut short, is
        # tried again; only a file that stays unplayable fails the task.
        _archive_failed(
            task, token, _("the gateway's file is not a playable video (%(why)s)") % {"why": exc}, permanent=False
        )
        return
    try:
        poster = media.extract_poster(download.path)
    except media.InvalidVideo:
        poster = None
    asset = Asset(
        generation=generation,
        duration_s=info.duration_s,
        width=info.width,
        height=info.height,
        bytes=download.bytes,
        sha256=download.sha256,
        source_url=url[:2000],
    )
    with open(download.path, "rb") as fh:
        asset.file.save("video.mp4", File(fh), save=False)
    if poster:
        asset.poster.save("poster.jpg", ContentFile(poster), save=False)
    with transaction.atomic():
        if release(task, token, state=TaskState.COMPLETED, attempts=0, last_error=""):
            Asset.objects.filter(generation=generation).delete()
            asset.save()
            billing.charge(generation, task.delivered_seconds)
            audit.notify(
                generation.author,
                generation.team,
                _("Your video %(video)s is ready.") % {"video": audit.describe(generation)},
                generation=generation,
            )
            record(
                generation.pk,
                "archived",
                _("Saved %(width)s×%(height)s, %(duration).1f s, %(bytes)s bytes.")
                % {"width": info.width, "height": info.height, "duration": info.duration_s, "bytes": download.bytes},
                state=TaskState.COMPLETED,
                data={"sha256": download.sha256, "bytes": download.bytes},
            )
            webhooks.generation_event(generation, WebhookEvent.GENERATION_COMPLETED)
            return
    # Lost the lease: another worker owns this task now; drop our copy.
    asset.file.delete(save=False)
    if poster:
        asset.poster.delete(save=False)


def _archive_failed(task: Task, token: str, message: str, *, permanent: bool) -> None:
    """Fail the task (permanent, or too many tries), else try the archive again later."""
    attempts = task.attempts + 1
    if permanent or attempts >= MAX_ARCHIVE_ATTEMPTS:
        fail(task, token, _("The finished video could not be saved: %(why)s.") % {"why": message})
        return
    delay = backoff(attempts, 10.0)
    if reschedule(task, token, delay, attempts=attempts, last_error=message):
        record(
            task.generation_id,
            "retry",
            _("Saving the video failed: %(why)s. Trying again in %(delay).0f s.") % {"why": message, "delay": delay},
        )

"""django-q2 entry points. Each takes ids, is safe to run twice, and can be called
directly in tests; the database decides what actually happens (``videos.pipeline``).
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections
from django.db.models import Q
from django.utils import timezone

from videos import pipeline
from videos.models import TaskState, WorkerLease

log = logging.getLogger(__name__)

SWEEPER = "sweeper"
SWEEP_LOOP_SECONDS = 10.0
SWEEPER_LEASE = timedelta(seconds=45)


def submit_task(task_id: int) -> bool:
    """Send a pending task to its gateway; then make sure the poller is running."""
    done = pipeline.process_task(task_id, [TaskState.PENDING])
    ensure_sweeper()
    return done


def archive_task(task_id: int) -> bool:
    """Archive a task whose video is ready."""
    # The lease is short and renewed while the video streams (pipeline.lease_keeper).
    return pipeline.process_task(task_id, [TaskState.ARCHIVING])


def sweep() -> int:
    """One pass over every due task (also usable as a plain django-q2 schedule)."""
    return pipeline.sweep_once()


def sweeper_slots() -> list[str]:
    """The names of the sweep loops' leases: ``STUDIO_SWEEPERS`` of them, so that many
    loops (on one machine or several) share the polling; ``claim_due`` keeps them off
    each other's tasks."""
    return [SWEEPER] + [f"{SWEEPER}-{n}" for n in range(2, settings.STUDIO_SWEEPERS + 1)]


def _take_lease(token: str, name: str) -> bool:
    """Take or renew the lease ``name`` for ``token``; True if we hold it now."""
    now = timezone.now()
    WorkerLease.objects.get_or_create(name=name)
    return (
        WorkerLease.objects.filter(
            Q(leased_until__isnull=True) | Q(leased_until__lt=now) | Q(token=token), name=name
        ).update(token=token, leased_until=now + SWEEPER_LEASE)
        == 1
    )


def sweepers_running() -> int:
    """How many sweep loops hold a lease now."""
    return WorkerLease.objects.filter(name__in=sweeper_slots(), leased_until__gte=timezone.now()).count()


def ensure_sweeper() -> None:
    """Queue sweep loops until ``STUDIO_SWEEPERS`` run (cheap; called after each submit).
    A surplus loop finds every lease held and returns at once."""
    from django_q.conf import Conf

    if Conf.SYNC:
        return
    for _ in range(settings.STUDIO_SWEEPERS - sweepers_running()):
        pipeline.enqueue("videos.tasks.sweep_loop")


def sweep_loop(seconds: float = SWEEP_LOOP_SECONDS, *, requeue: bool = True) -> int:
    """Poll due tasks for about ``seconds``, then hand over to a fresh queued run.

    At most ``STUDIO_SWEEPERS`` loops run at a time (one lease each, see
    ``sweeper_slots``); a loop that finds every lease held returns at once. Each run is short so that the cluster shuts down
    promptly, and it re-queues itself while tasks are in flight; a django-q2
    schedule (see the migration) restarts the chain if it was ever lost. The
    gateway cadence, not this loop, decides when each task is polled.
    Returns the number of task steps run.
    """
    from django_q.conf import Conf

    token = uuid.uuid4().hex
    slot = next((name for name in sweeper_slots() if _take_lease(token, name)), None)
    if slot is None:
        return 0
    handled = 0
    deadline = time.monotonic() + seconds
    try:
        renew_at = time.monotonic() + SWEEPER_LEASE.total_seconds() / 3
        while time.monotonic() < deadline:
            swept = pipeline.sweep_once()
            handled += swept
            if time.monotonic() >= renew_at:
                if not _take_lease(token, slot):
                    return handled
                renew_at = time.monotonic() + SWEEPER_LEASE.total_seconds() / 3
            if swept >= settings.STUDIO_SWEEP_BATCH:
                continue  # a full batch: more may be due already, so no pause
            remaining = deadline - time.monotonic()
            time.sleep(max(0.05, min(1.0, remaining, pipeline.seconds_until_next_due(1.0))))
    finally:
        close_old_connections()
        active = pipeline.Task.objects.filter(state__in=pipeline.SWEEP_STATES).exists()
        WorkerLease.objects.filter(name=slot, token=token).update(token="", leased_until=None)
        if requeue and active and not Conf.SYNC:
            pipeline.enqueue("videos.tasks.sweep_loop")
    return handled

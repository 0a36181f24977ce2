"""Leases: how a worker claims a task, keeps it, and lets it go.

A worker claims a task by writing a fresh ``lease_token`` with an UPDATE that
repeats the whole "due and free" condition, and writes its result with an UPDATE
guarded by that token. So two workers never act on one task (a worker with a stale
list of ids cannot re-claim a row another just released), and a crashed worker's
lease simply expires after ``STUDIO_LEASE_SECONDS``.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from videos.models import FINAL_STATES, Task, ending_fields
from videos.timeline import clean_text

log = logging.getLogger(__name__)


class LeaseLost(Exception):
    """Another worker has taken over the task (our lease expired)."""


def lease_length() -> timedelta:
    """How long a worker's claim on a task lasts (``STUDIO_LEASE_SECONDS``); a worker that
    dies mid-step loses the task to the next sweep after this long."""
    return timedelta(seconds=settings.STUDIO_LEASE_SECONDS)


def claim(task_id: int, states: Iterable[str], *, lease: timedelta | None = None) -> str | None:
    """Claim task ``task_id`` if it is in one of ``states`` and no one holds it; the lease
    token (32 hex characters), or None when it was not free."""
    now = timezone.now()
    token = uuid.uuid4().hex
    changed = (
        Task.objects.free(now)
        .filter(pk=task_id, state__in=list(states))
        .update(lease_token=token, leased_until=now + (lease or lease_length()), updated_at=now)
    )
    return token if changed == 1 else None


def claim_due(limit: int) -> tuple[str, list[Task]]:
    """Claim up to ``limit`` due tasks, oldest due first; return the lease token and the
    tasks (with their generation and key loaded).

    Any number of workers may call this at once, on any machine; none gets a task another
    holds. On PostgreSQL the candidates are picked with ``SELECT … FOR UPDATE SKIP
    LOCKED``, so concurrent sweeps take different rows instead of queueing behind each
    other's locks. Everywhere (SQLite, whose writers are serialised by ``BEGIN
    IMMEDIATE``, included) the claiming UPDATE repeats the whole due condition, so a row
    another worker claimed after our SELECT is skipped, never claimed twice.
    """
    now = timezone.now()
    token = uuid.uuid4().hex
    due = Task.objects.due(now).order_by("next_poll_at")
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("pk", flat=True)[:limit])
        if not ids:
            return token, []
        Task.objects.due(now).filter(pk__in=ids).update(
            lease_token=token, leased_until=now + lease_length(), updated_at=now
        )
    tasks = list(
        Task.objects.filter(pk__in=ids, lease_token=token)
        .select_related("generation", "generation__key")
        .order_by("next_poll_at")
    )
    return token, tasks


def release(task: Task, token: str, *, state: str | None = None, **fields) -> bool:
    """Write ``fields`` (and ``state``) and let the lease go, only if we still hold it;
    False (and nothing written) when another worker has taken the task over.

    Ending states (``FINAL_STATES``) also clear the next poll and set ``finished_at``;
    to act again later, pass ``next_poll_at`` (see ``reschedule``). Text fields are
    cleaned (``clean_text``): they may carry a gateway's words. ``task`` is updated in
    memory to match.
    """
    now = timezone.now()
    fields = {name: clean_text(value) if isinstance(value, str) else value for name, value in fields.items()}
    updates = {**fields, "leased_until": None, "lease_token": "", "updated_at": now}
    if state is not None:
        updates["state"] = state
        if state in FINAL_STATES:
            updates.update(ending_fields(now))
    changed = Task.objects.filter(pk=task.pk, lease_token=token).update(**updates)
    if changed != 1:
        log.warning("task %s: lease %s lost before writing %s", task.pk, token[:8], state)
        return False
    old_state = task.state
    for name, value in updates.items():
        setattr(task, name, value)
    if state is not None and state != old_state:
        log.info("task %s: %s → %s", task.pk, old_state, state)
    return True


def reschedule(task: Task, token: str, delay_s: float, **fields) -> bool:
    """Let the lease go and have the sweep act on the task again in ``delay_s`` seconds,
    writing ``fields`` too; False when the lease was lost (see ``release``)."""
    return release(task, token, next_poll_at=timezone.now() + timedelta(seconds=delay_s), **fields)


def renewer(task: Task, token: str):
    """A download callback (called with the bytes received so far) that renews the
    task's lease about every third of its length, so a long download keeps its claim
    while a dead worker's claim still expires fast. Raises LeaseLost when the lease was
    taken over (the download then stops)."""
    every = lease_length().total_seconds() / 3
    renewed = time.monotonic()

    def renew(_bytes_so_far: int) -> None:
        nonlocal renewed
        if time.monotonic() - renewed < every:
            return
        now = timezone.now()
        if Task.objects.filter(pk=task.pk, lease_token=token).update(leased_until=now + lease_length()) != 1:
            raise LeaseLost(task.pk)
        renewed = time.monotonic()

    return renew

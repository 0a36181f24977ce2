"""The sweep: one pass over every due task (``sweep_once``), and the loop that
repeats it for a few seconds at a time (``sweep_loop``).

At most ``STUDIO_SWEEPERS`` loops run at once, each holding one named
``WorkerLease``; a surplus loop returns at once. Each run is short so that the
cluster shuts down promptly; it re-queues itself while tasks are in flight, and a
django-q2 schedule (migration ``0002_sweep_schedule``) restarts the chain if it is
ever lost. The gateway's cadence, not this loop, decides when each task is polled.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections
from django.db.models import Q
from django.utils import timezone

from videos.gateways import Gateway
from videos.models import SWEEP_STATES, Task, TaskState, WorkerLease
from videos.worker import circuit, queue
from videos.worker.archive import step_archive
from videos.worker.leases import claim, claim_due, release, reschedule
from videos.worker.poll import ARCHIVE_RESCUE_S, apply_poll, fetch_poll, prepare_poll, step_poll
from videos.worker.submit import step_stale_submit, step_submit

log = logging.getLogger(__name__)

SWEEPER = "sweeper"
SWEEP_LOOP_SECONDS = 10.0
SWEEPER_LEASE = timedelta(seconds=45)

STEPS = {
    TaskState.PENDING: step_submit,
    TaskState.SUBMITTING: step_stale_submit,
    TaskState.QUEUED: step_poll,
    TaskState.PROCESSING: step_poll,
    TaskState.ARCHIVING: step_archive,
}


def run_step(task: Task, token: str) -> None:
    """Run the step for the task's state; never raises (see ``guarded``)."""
    guarded(STEPS.get(task.state, lambda task, token: release(task, token)), task, token)


def guarded(step, task: Task, token: str, *args) -> None:
    """Run ``step(task, token, *args)``; if it raises (a bug, a broken row), log it and
    push the task's next attempt a minute forward, so one task can never stop a sweep."""
    try:
        step(task, token, *args)
    except Exception:
        log.exception("task %s: step %s raised; trying again later", task.pk, getattr(step, "__name__", step))
        reschedule(task, token, 60.0)


def process_task(task_id: int, states: Iterable[str], *, lease: timedelta | None = None) -> bool:
    """Claim one task in ``states`` and run its step. Returns False when it was not ours."""
    token = claim(task_id, states, lease=lease)
    if token is None:
        return False
    task = Task.objects.select_related("generation", "generation__key").get(pk=task_id)
    run_step(task, token)
    return True


def sweep_once(limit: int | None = None) -> int:
    """Claim and advance every due task (up to ``limit``, default ``STUDIO_SWEEP_BATCH``);
    returns how many were handled.

    Status queries go out concurrently (``STUDIO_POLL_CONCURRENCY`` threads sharing
    the one HTTP client); their answers are applied here, in this thread. Archives
    are queued for a worker of their own, so one large download never holds up
    polling. A gateway host whose circuit is open is not polled: its tasks wait
    until it closes.
    """
    token, tasks = claim_due(limit or settings.STUDIO_SWEEP_BATCH)
    to_poll: list[tuple[Task, Gateway]] = []
    for task in tasks:
        if task.state == TaskState.ARCHIVING:
            reschedule(task, token, ARCHIVE_RESCUE_S)
            queue.enqueue(queue.ARCHIVE, task.pk)
        elif task.state in (TaskState.QUEUED, TaskState.PROCESSING):
            gateway = prepare_poll(task, token)
            if gateway is not None:
                to_poll.append((task, gateway))
        else:
            run_step(task, token)
    to_poll = _hold_paused(to_poll, token)
    if to_poll:
        _poll_all(to_poll, token)
    return len(tasks)


def _hold_paused(to_poll: list[tuple[Task, Gateway]], token: str) -> list[tuple[Task, Gateway]]:
    """Reschedule the tasks whose host's circuit is open to when it closes; the rest."""
    paused = circuit.open_hosts({circuit.host_of(gateway.base_url) for _, gateway in to_poll})
    if not paused:
        return to_poll
    kept = []
    for task, gateway in to_poll:
        until = paused.get(circuit.host_of(gateway.base_url))
        if until is None:
            kept.append((task, gateway))
        else:
            release(task, token, next_poll_at=until)
    return kept


def _poll_all(to_poll: list[tuple[Task, Gateway]], token: str) -> None:
    """Fetch every status (in threads when there are several), apply each answer here,
    and tell the circuit breaker how each host did."""
    fetch = lambda pair: fetch_poll(pair[1], pair[0])  # noqa: E731
    parallel = len(to_poll) > 1 and settings.STUDIO_POLL_CONCURRENCY > 1
    outcomes = _poll_pool().map(fetch, to_poll) if parallel else map(fetch, to_poll)
    tally: dict[str, list[int]] = {}
    for (task, gateway), outcome in zip(to_poll, outcomes, strict=True):
        guarded(apply_poll, task, token, gateway, outcome)
        transient = isinstance(outcome, Exception) and not getattr(outcome, "permanent", False)
        counts = tally.setdefault(circuit.host_of(gateway.base_url), [0, 0])
        counts[1 if transient else 0] += 1
    for host, (successes, failures) in tally.items():
        circuit.record(host, successes=successes, failures=failures)


_pool: ThreadPoolExecutor | None = None


def _poll_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=settings.STUDIO_POLL_CONCURRENCY, thread_name_prefix="poll")
    return _pool


def seconds_until_next_due(default: float) -> float:
    """Seconds until the earliest due task (0 if one is due now), at most ``default``."""
    nxt = (
        Task.objects.filter(state__in=SWEEP_STATES, next_poll_at__isnull=False)
        .order_by("next_poll_at")
        .values_list("next_poll_at", flat=True)
        .first()
    )
    if nxt is None:
        return default
    return max(0.0, min(default, (nxt - timezone.now()).total_seconds()))


# --- the loop and its leases ------------------------------------------------------------


def sweeper_slots() -> list[str]:
    """The names of the sweep loops' leases: ``STUDIO_SWEEPERS`` of them, so that many
    loops (on one machine or several) share the polling; ``claim_due`` keeps them off
    each other's tasks."""
    return [SWEEPER] + [f"{SWEEPER}-{n}" for n in range(2, settings.STUDIO_SWEEPERS + 1)]


def take_lease(token: str, name: str) -> bool:
    """Take or renew the loop lease ``name`` for ``token``; True if we hold it now."""
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
        queue.enqueue(queue.SWEEP_LOOP)


def sweep_loop(seconds: float = SWEEP_LOOP_SECONDS, *, requeue: bool = True) -> int:
    """Poll due tasks for about ``seconds``, then hand over to a fresh queued run (see
    the module's docstring). Returns the number of task steps run."""
    from django_q.conf import Conf

    token = uuid.uuid4().hex
    slot = next((name for name in sweeper_slots() if take_lease(token, name)), None)
    if slot is None:
        return 0
    handled = 0
    deadline = time.monotonic() + seconds
    try:
        renew_at = time.monotonic() + SWEEPER_LEASE.total_seconds() / 3
        while time.monotonic() < deadline:
            swept = sweep_once()
            handled += swept
            if time.monotonic() >= renew_at:
                if not take_lease(token, slot):
                    return handled
                renew_at = time.monotonic() + SWEEPER_LEASE.total_seconds() / 3
            if swept >= settings.STUDIO_SWEEP_BATCH:
                continue  # a full batch: more may be due already, so no pause
            remaining = deadline - time.monotonic()
            time.sleep(max(0.05, min(1.0, remaining, seconds_until_next_due(1.0))))
    finally:
        close_old_connections()
        active = Task.objects.filter(state__in=SWEEP_STATES).exists()
        WorkerLease.objects.filter(name=slot, token=token).update(token="", leased_until=None)
        if requeue and active and not Conf.SYNC:
            queue.enqueue(queue.SWEEP_LOOP)
    return handled

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
import os
import socket
import time
import uuid
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections
from django.db.models import Q
from django.utils import timezone

from videos.gateways import Gateway
from videos.models import SWEEP_STATES, Task, TaskState, WorkerLease
from videos.worker import circuit, queue, render
from videos.worker.archive import step_archive
from videos.worker.leases import claim, claim_due, lease_length, release, reschedule
from videos.worker.poll import prepare_poll, step_poll
from videos.worker.poller import Poller
from videos.worker.submit import step_stale_submit, step_submit

log = logging.getLogger(__name__)

SWEEPER = "sweeper"
SWEEP_LOOP_SECONDS = 10.0

STEPS = {
    TaskState.PENDING: step_submit,
    TaskState.SUBMITTING: step_stale_submit,
    TaskState.QUEUED: step_poll,
    TaskState.PROCESSING: step_poll,
    TaskState.ARCHIVING: step_archive,
}


def run_step(task: Task, token: str) -> None:
    """Run the step for the task's state, writing its messages in the request's language
    (``Generation.speaking``); never raises (see ``guarded``)."""
    with task.generation.speaking():
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


def sweep_once(limit: int | None = None, *, poller: Poller | None = None) -> int:
    """Claim and advance every due task (up to ``limit``, default ``STUDIO_SWEEP_BATCH``);
    returns how many were claimed.

    Status queries go to ``poller`` (see ``videos.worker.poller``): without one, a poller
    of this sweep's own, whose answers are all applied before it returns; the sweep loop
    passes its own and collects answers as they arrive, so a slow host never holds up
    the others. Archives are queued for a worker of their own, so one large download
    never holds up polling. A host or key whose circuit is open is not polled: its tasks
    wait until it closes.
    """
    own = poller is None
    poller = Poller() if own else poller
    token, tasks = claim_due(limit or settings.STUDIO_SWEEP_BATCH)
    to_poll: list[tuple[Task, Gateway]] = []
    for task in tasks:
        if task.state == TaskState.ARCHIVING:
            # Due again only if no archive claims it within a lease (its nudge was lost).
            reschedule(task, token, lease_length().total_seconds())
            queue.enqueue(queue.ARCHIVE, task.pk)
        elif task.state in (TaskState.QUEUED, TaskState.PROCESSING):
            gateway = prepare_poll(task, token)
            if gateway is not None:
                to_poll.append((task, gateway))
        else:
            run_step(task, token)
    for task, gateway in _hold_paused(to_poll, token):
        poller.send(task, token, gateway, wait=own)
    if own:
        poller.drain()
    return len(tasks)


def _hold_paused(to_poll: list[tuple[Task, Gateway]], token: str) -> list[tuple[Task, Gateway]]:
    """Reschedule the tasks whose host's or key's circuit is open to when it closes; the rest."""
    scopes = {task.pk: circuit.scopes_for(gateway, task.generation.key) for task, gateway in to_poll}
    paused = circuit.open_scopes(set().union(*scopes.values()) if scopes else set())
    if not paused:
        return to_poll
    kept = []
    for task, gateway in to_poll:
        until = max((paused[s] for s in scopes[task.pk] if s in paused), default=None)
        if until is None:
            kept.append((task, gateway))
        else:
            release(task, token, next_poll_at=until)
    return kept


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


def this_process() -> str:
    """``host:pid`` of this process, as a loop lease's ``holder``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _dead_here(holder: str) -> bool:
    """Whether ``holder`` (``host:pid``) is a process of this host that no longer runs."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, another user's
        return False
    return False


def take_lease(token: str, name: str) -> bool:
    """Take or renew the loop lease ``name`` for ``token`` (``STUDIO_LEASE_SECONDS``
    long, like a task's: a dead loop's slot frees up as fast as its tasks do); True if
    we hold it now."""
    now = timezone.now()
    WorkerLease.objects.get_or_create(name=name)
    return (
        WorkerLease.objects.filter(
            Q(leased_until__isnull=True) | Q(leased_until__lt=now) | Q(token=token), name=name
        ).update(token=token, leased_until=now + lease_length(), holder=this_process())
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


def _take_a_slot(token: str, *, takeover: bool) -> str | None:
    """A free loop slot, taken for ``token``; None when every slot is held. With
    ``takeover`` (a worker process that just started), also a slot whose holder was a
    process of this host that has died (a crash, ``kill -9``): taken at once instead of
    after its lease runs out, so polling resumes as soon as the tasks' own leases do."""
    slot = next((name for name in sweeper_slots() if take_lease(token, name)), None)
    if slot is not None or not takeover:
        return slot
    now = timezone.now()
    held = WorkerLease.objects.filter(name__in=sweeper_slots(), leased_until__gte=now)
    for name, old_token, holder in held.values_list("name", "token", "holder"):
        if _dead_here(holder):
            taken = WorkerLease.objects.filter(name=name, token=old_token).update(
                token=token, leased_until=now + lease_length(), holder=this_process()
            )
            if taken == 1:
                log.warning("took over sweep slot %s from %s, which is no longer running", name, holder)
                return name
    return None


def sweep_loop(seconds: float = SWEEP_LOOP_SECONDS, *, requeue: bool = True, takeover: bool = False) -> int:
    """Poll due tasks for about ``seconds``, then hand over to a fresh queued run (see
    the module's docstring); ``takeover``: see ``_take_a_slot``. Returns the number of
    tasks claimed.

    One poller serves the whole run: answers are applied as they arrive, between
    claims, so a slow host delays only its own tasks.
    """
    from django_q.conf import Conf

    token = uuid.uuid4().hex
    slot = _take_a_slot(token, takeover=takeover)
    if slot is None:
        return 0
    handled = 0
    poller = Poller()
    render.rescue_renders()
    deadline = time.monotonic() + seconds
    renew_every = lease_length().total_seconds() / 3
    try:
        renew_at = time.monotonic() + renew_every
        while time.monotonic() < deadline:
            swept = sweep_once(poller=poller)
            handled += swept
            if time.monotonic() >= renew_at:
                if not take_lease(token, slot):
                    return handled
                renew_at = time.monotonic() + renew_every
                render.rescue_renders()  # renders a lost message or a dead worker left
            if swept >= settings.STUDIO_SWEEP_BATCH:
                poller.collect()
                continue  # a full batch: more may be due already, so no pause
            remaining = deadline - time.monotonic()
            pause = max(0.05, min(1.0, remaining, seconds_until_next_due(1.0)))
            if len(poller):
                poller.collect(timeout=pause)  # wakes as soon as an answer arrives
            else:
                time.sleep(pause)
            poller.collect()
    finally:
        poller.drain()
        close_old_connections()
        active = Task.objects.filter(state__in=SWEEP_STATES).exists() or render.pending()
        WorkerLease.objects.filter(name=slot, token=token).update(token="", leased_until=None)
        if requeue and active and not Conf.SYNC:
            queue.enqueue(queue.SWEEP_LOOP)
    return handled

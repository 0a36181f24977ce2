"""django-q2 entry points (queued as ``videos.worker.tasks.<name>``). Each takes ids,
is safe to run twice, and can be called directly in tests; the database decides
what actually happens."""

from __future__ import annotations

from videos.models import TaskState
from videos.worker import queue
from videos.worker import sweep as sweeping


def submit_task(task_id: int) -> bool:
    """Send a pending task to its gateway; then make sure the poller is running."""
    done = sweeping.process_task(task_id, [TaskState.PENDING])
    sweeping.ensure_sweeper()
    return done


def archive_task(task_id: int) -> bool:
    """Archive a task whose video is ready (its lease is renewed while the video streams)."""
    return sweeping.process_task(task_id, [TaskState.ARCHIVING])


def sweep() -> int:
    """One pass over every due task (also usable as a plain django-q2 schedule)."""
    return sweeping.sweep_once()


def sweep_loop(seconds: float = sweeping.SWEEP_LOOP_SECONDS, *, requeue: bool = True) -> int:
    """Poll due tasks for about ``seconds``, then hand over to a fresh queued run."""
    return sweeping.sweep_loop(seconds, requeue=requeue)


def take_over_sweep() -> int:
    """A sweep loop that may take the slot of a loop that died on this host (queued when a
    worker process starts, ``on_worker_start``)."""
    return sweeping.sweep_loop(takeover=True)


def on_worker_start(sender=None, proc_name: str = "", **kwargs) -> None:
    """django-q2's ``post_spawn`` receiver: a worker process started (the cluster, after a
    crash perhaps), so queue a loop that takes over a dead loop's slot right away."""
    from django_q.conf import Conf

    if not Conf.SYNC:
        queue.enqueue(queue.TAKE_OVER)

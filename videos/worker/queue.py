"""Queueing django-q2 tasks: the one place the studio hands work to the cluster.

A queued message is only a nudge. The ORM broker delivers at least once and the
Redis broker may lose a message in a crash, so every task is safe to run twice and
the sweep (``videos.worker.sweep``) finds whatever a lost message left due.
"""

from __future__ import annotations

import logging

from django.db import transaction

log = logging.getLogger(__name__)


def enqueue(func: str, *args) -> None:
    """Queue the django-q2 task ``func`` (a dotted path, e.g.
    ``"videos.worker.tasks.submit_task"``) with ``args`` (ids) now. A broker that is
    down is logged, not raised: the sweep picks the task up anyway."""
    from django_q.tasks import async_task

    try:
        async_task(func, *args, q_options={"group": func.rsplit(".", 1)[-1]})
    except Exception:  # the broker is down: the sweep will find the task anyway
        log.exception("could not queue %s%r; the sweep will pick it up", func, args)


def enqueue_on_commit(func: str, *args) -> None:
    """Queue ``func(*args)`` once the current transaction commits (at once outside
    one), so a worker never looks for a row that is not committed yet, and a rolled
    back change queues nothing. Every caller that changes state queues this way."""
    transaction.on_commit(lambda: enqueue(func, *args))


SUBMIT = "videos.worker.tasks.submit_task"
ARCHIVE = "videos.worker.tasks.archive_task"
SWEEP_LOOP = "videos.worker.tasks.sweep_loop"
TAKE_OVER = "videos.worker.tasks.take_over_sweep"

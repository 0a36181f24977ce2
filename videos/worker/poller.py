"""Status queries in flight: many at once, each answer applied as it arrives.

A sweep hands each due task's query to ``Poller.send``; a pool of threads (sharing the
one HTTP client, touching no database) fetches the answers, and ``Poller.collect``
applies the finished ones in the caller's thread. The sweep loop keeps one poller for
its whole run and collects between claims, so a host that answers slowly, or trickles
its answer until its wall-clock deadline (``STUDIO_STATUS_SECONDS``), delays only its own
tasks: at most ``STUDIO_POLL_PER_HOST`` of its queries are in flight at once, and the
rest of the pool serves every other host. A task whose query is in flight keeps its
lease (much longer than the deadline), so no other sweep claims it meanwhile.
"""

from __future__ import annotations

import logging
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from django.conf import settings

from videos.gateways import Gateway
from videos.models import Task
from videos.worker import circuit
from videos.worker.leases import reschedule
from videos.worker.poll import apply_poll, fetch_poll

log = logging.getLogger(__name__)

_pool: ThreadPoolExecutor | None = None


def _threads() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=settings.STUDIO_POLL_CONCURRENCY, thread_name_prefix="poll")
    return _pool


class Poller:
    """The status queries one sweep (or one sweep loop) has in flight."""

    def __init__(self) -> None:
        self._flying: dict[Future, tuple[Task, str, Gateway]] = {}
        self._per_host: Counter[str] = Counter()

    def __len__(self) -> int:
        return len(self._flying)

    def send(self, task: Task, token: str, gateway: Gateway, *, wait: bool = False) -> bool:
        """Query the gateway about ``task`` (claimed under ``token``) in the pool.

        When its host already has ``STUDIO_POLL_PER_HOST`` queries in flight: with
        ``wait``, first collect answers until one of them is back; without, put the task
        back a little later and return False. With one thread (or tests'
        ``STUDIO_POLL_CONCURRENCY = 1``) the query runs here, at once.
        """
        if settings.STUDIO_POLL_CONCURRENCY <= 1:  # no pool: ask and apply here, one by one
            self._apply([(task, token, gateway, fetch_poll(gateway, task))])
            return True
        host = circuit.host_of(gateway.base_url)
        cap = min(settings.STUDIO_POLL_PER_HOST, settings.STUDIO_POLL_CONCURRENCY)
        while wait and self._per_host[host] >= cap:
            self.collect(timeout=None, first=True)
        if self._per_host[host] >= cap:
            # Behind the host's own queries; pushed past the head of the due queue so the
            # next claims reach other hosts' tasks.
            reschedule(task, token, min(5.0, settings.STUDIO_STATUS_SECONDS))
            return False
        future = _threads().submit(fetch_poll, gateway, task)
        self._flying[future] = (task, token, gateway)
        self._per_host[host] += 1
        return True

    def collect(self, timeout: float | None = 0.0, *, first: bool = False) -> int:
        """Apply every answer that has arrived, waiting up to ``timeout`` seconds (None:
        no limit) for the first one, or, without ``first`` and with no timeout, for all
        in flight; how many were applied. Each host's and key's outcomes go to the circuit
        breakers (``circuit.tally``)."""
        if not self._flying:
            return 0
        if timeout is None and not first:
            done, _ = wait(list(self._flying))
        else:
            done, _ = wait(list(self._flying), timeout=timeout, return_when=FIRST_COMPLETED)
        answered = []
        for future in done:
            task, token, gateway = self._flying.pop(future)
            self._per_host[circuit.host_of(gateway.base_url)] -= 1
            answered.append((task, token, gateway, future.result()))  # fetch_poll returns exceptions
        self._apply(answered)
        return len(done)

    @staticmethod
    def _apply(answered: list) -> None:
        """Apply ``[(task, token, gateway, outcome)]`` and tell the circuit breakers."""
        for task, token, gateway, outcome in answered:
            _guarded_apply(task, token, gateway, outcome)
        circuit.tally([(gateway, task, outcome) for task, _, gateway, outcome in answered])

    def drain(self) -> int:
        """Wait for and apply every query still in flight (each ends by its deadline)."""
        return self.collect(timeout=None)


def _guarded_apply(task: Task, token: str, gateway: Gateway, outcome) -> None:
    """``apply_poll``, with a bug in it logged and the task tried a minute later."""
    try:
        with task.generation.speaking():
            apply_poll(task, token, gateway, outcome)
    except Exception:
        log.exception("task %s: applying its poll raised; trying again later", task.pk)
        reschedule(task, token, 60.0)

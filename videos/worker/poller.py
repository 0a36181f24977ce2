"""Status queries in flight: many at once, each answer applied as it arrives.

A sweep hands each due task's query to ``Poller.send``; a pool of threads (sharing the
one HTTP client, touching no database) fetches the answers, and ``Poller.collect``
applies the finished ones in the caller's thread. The sweep loop keeps one poller for
its whole run and collects between claims, so a host that answers slowly, or trickles
its answer until its wall-clock deadline (``STUDIO_STATUS_SECONDS``), delays only its own
tasks: at most ``STUDIO_POLL_PER_HOST`` of its queries are in flight at once, and the
rest of the pool serves every other host. A host's further tasks wait in line here and
go out as its answers come back, as many as can go out within their lease; beyond
that, a task is put back a little later. A task whose query is in flight or in line
keeps its lease, so no other sweep claims it meanwhile.
"""

from __future__ import annotations

import logging
from collections import Counter, deque
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
        self._in_line: dict[str, deque[tuple[Task, str, Gateway]]] = {}

    def __len__(self) -> int:
        """The queries in flight and in line."""
        return len(self._flying) + sum(len(line) for line in self._in_line.values())

    @staticmethod
    def _cap() -> int:
        return min(settings.STUDIO_POLL_PER_HOST, settings.STUDIO_POLL_CONCURRENCY)

    @classmethod
    def line_length(cls) -> int:
        """How many of one host's tasks may wait here behind its queries in flight: as many
        as are sure to go out within their lease when every answer takes the whole deadline
        (``cap × (lease ÷ deadline − 1)``)."""
        rounds = int(settings.STUDIO_LEASE_SECONDS // max(1, settings.STUDIO_STATUS_SECONDS)) - 1
        return max(0, cls._cap() * rounds)

    def send(self, task: Task, token: str, gateway: Gateway, *, wait: bool = False) -> bool:
        """Query the gateway about ``task`` (claimed under ``token``) in the pool.

        When its host already has ``STUDIO_POLL_PER_HOST`` queries in flight: with
        ``wait``, first collect answers until one of them is back; without, the task
        waits in line for the host's next answer (``line_length``), or, when the line is
        full, is put back a little later and False is returned. With one thread (or tests'
        ``STUDIO_POLL_CONCURRENCY = 1``) the query runs here, at once.
        """
        if settings.STUDIO_POLL_CONCURRENCY <= 1:  # no pool: ask and apply here, one by one
            self._apply([(task, token, gateway, fetch_poll(gateway, task))])
            return True
        host = circuit.host_of(gateway.base_url)
        while wait and self._per_host[host] >= self._cap():
            self.collect(timeout=None, first=True)
        if self._per_host[host] >= self._cap():
            line = self._in_line.setdefault(host, deque())
            if len(line) < self.line_length():
                line.append((task, token, gateway))
                return True
            # The host's line is full; pushed past the head of the due queue so the next
            # claims reach other hosts' tasks.
            reschedule(task, token, min(5.0, settings.STUDIO_STATUS_SECONDS))
            return False
        self._fly(host, task, token, gateway)
        return True

    def _fly(self, host: str, task: Task, token: str, gateway: Gateway) -> None:
        future = _threads().submit(fetch_poll, gateway, task)
        self._flying[future] = (task, token, gateway)
        self._per_host[host] += 1

    def _next_in_line(self, host: str) -> None:
        """Send the host's waiting tasks while it has free slots."""
        line = self._in_line.get(host)
        while line and self._per_host[host] < self._cap():
            self._fly(host, *line.popleft())
        if line is not None and not line:
            del self._in_line[host]

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
        hosts = set()
        for future in done:
            task, token, gateway = self._flying.pop(future)
            host = circuit.host_of(gateway.base_url)
            self._per_host[host] -= 1
            hosts.add(host)
            answered.append((task, token, gateway, future.result()))  # fetch_poll returns exceptions
        for host in hosts:
            self._next_in_line(host)
        self._apply(answered)
        return len(done)

    @staticmethod
    def _apply(answered: list) -> None:
        """Apply ``[(task, token, gateway, outcome)]`` and tell the circuit breakers."""
        for task, token, gateway, outcome in answered:
            _guarded_apply(task, token, gateway, outcome)
        circuit.tally([(gateway, task, outcome) for task, _, gateway, outcome in answered])

    def drain(self) -> int:
        """Wait for and apply every query in flight or in line (each ends by its deadline)."""
        applied = 0
        while self._flying:
            applied += self.collect(timeout=None)
        return applied


def _guarded_apply(task: Task, token: str, gateway: Gateway, outcome) -> None:
    """``apply_poll``, with a bug in it logged and the task tried a minute later."""
    try:
        with task.generation.speaking():
            apply_poll(task, token, gateway, outcome)
    except Exception:
        log.exception("task %s: applying its poll raised; trying again later", task.pk)
        reschedule(task, token, 60.0)

"""Status queries in flight: many at once, each answer applied as it arrives.

A sweep hands each due task's query to ``Poller.send``; a pool of threads (sharing the
one HTTP client, touching no database) fetches the answers, and ``Poller.collect``
applies the finished ones in the caller's thread. The sweep loop keeps one poller for
its whole run and collects between claims, so a host that answers slowly, or trickles
its answer until its wall-clock deadline (``STUDIO_STATUS_SECONDS``), delays only its own
tasks: at most ``STUDIO_POLL_PER_HOST`` of its queries are in flight at once, and the
rest of the pool serves every other host. A host that answers fast (``FAST_ANSWER_S``,
measured on its recent answers) may use the whole pool, since a thread it holds is free
again within that time; a host not yet measured counts as slow. A host's further tasks
wait in line here and go out as its answers come back, as many as can go out within
their lease; beyond that, a task is put back a little later. A task whose query is in
flight or in line keeps its lease, so no other sweep claims it meanwhile.
"""

from __future__ import annotations

import logging
import time
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

#: A host whose recent answers took less than this (seconds, a moving average) may use
#: every thread of the pool; a slower one, or one not measured yet, ``STUDIO_POLL_PER_HOST``.
FAST_ANSWER_S = 1.0


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
        self._answer_s: dict[str, float] = {}  # per host: moving average of its answers' time

    def __len__(self) -> int:
        """The queries in flight and in line."""
        return len(self._flying) + sum(len(line) for line in self._in_line.values())

    def limit(self, host: str) -> int:
        """How many queries ``host`` may have in flight: the whole pool while it answers
        fast, else ``STUDIO_POLL_PER_HOST``."""
        if self._answer_s.get(host, FAST_ANSWER_S) < FAST_ANSWER_S:
            return settings.STUDIO_POLL_CONCURRENCY
        return min(settings.STUDIO_POLL_PER_HOST, settings.STUDIO_POLL_CONCURRENCY)

    def line_length(self, host: str) -> int:
        """How many of ``host``'s tasks may wait here behind its queries in flight: as many
        as are sure to go out within their lease even if every answer took the whole
        deadline (``limit × (lease ÷ deadline − 1)``)."""
        rounds = int(settings.STUDIO_LEASE_SECONDS // max(1, settings.STUDIO_STATUS_SECONDS)) - 1
        return max(0, self.limit(host) * rounds)

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
        while wait and self._per_host[host] >= self.limit(host):
            self.collect(timeout=None, first=True)
        if self._per_host[host] >= self.limit(host):
            line = self._in_line.setdefault(host, deque())
            if len(line) < self.line_length(host):
                line.append((task, token, gateway))
                return True
            # The host's line is full; pushed past the head of the due queue so the next
            # claims reach other hosts' tasks.
            reschedule(task, token, min(5.0, settings.STUDIO_STATUS_SECONDS))
            return False
        self._fly(host, task, token, gateway)
        return True

    def _fly(self, host: str, task: Task, token: str, gateway: Gateway) -> None:
        future = _threads().submit(_timed_fetch, gateway, task)
        self._flying[future] = (task, token, gateway)
        self._per_host[host] += 1

    def _next_in_line(self, host: str) -> None:
        """Send the host's waiting tasks while it has free slots."""
        line = self._in_line.get(host)
        while line and self._per_host[host] < self.limit(host):
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
            outcome, took = future.result()  # fetch_poll returns exceptions
            before = self._answer_s.get(host)
            self._answer_s[host] = took if before is None else 0.7 * before + 0.3 * took
            answered.append((task, token, gateway, outcome))
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


def _timed_fetch(gateway: Gateway, task: Task) -> tuple:
    """``fetch_poll``'s outcome and how long it took (seconds), in a pool thread."""
    started = time.monotonic()
    outcome = fetch_poll(gateway, task)
    return outcome, time.monotonic() - started


def _guarded_apply(task: Task, token: str, gateway: Gateway, outcome) -> None:
    """``apply_poll``, with a bug in it logged and the task tried a minute later."""
    try:
        with task.generation.speaking():
            apply_poll(task, token, gateway, outcome)
    except Exception:
        log.exception("task %s: applying its poll raised; trying again later", task.pk)
        reschedule(task, token, 60.0)

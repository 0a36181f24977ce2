"""One host's status queries beyond its share of the pool wait in line and go out as its
answers come back, instead of being pushed seconds later; other hosts are not held up,
and a line that could outlive the tasks' leases is not allowed to grow. A host that answers
fast may use the whole pool; one not measured yet, or slow, only its share."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from videos.worker import circuit
from videos.worker import poller as poller_module

FAST = "https://fast.example/v1"
OTHER = "https://other.example/v1"


@pytest.fixture
def fake_pool(monkeypatch, settings):
    """A poller whose queries take ``delay`` seconds each and touch no database; records
    the most queries in flight per host, when each started, what was applied and what
    was put back."""
    settings.STUDIO_POLL_CONCURRENCY = 4
    settings.STUDIO_POLL_PER_HOST = 2
    settings.STUDIO_STATUS_SECONDS = 10
    settings.STUDIO_LEASE_SECONDS = 120
    monkeypatch.setattr(poller_module, "_pool", None)
    monkeypatch.setattr(poller_module, "FAST_ANSWER_S", 0.1)  # the fake host's 0.2 s answers count as slow
    seen = SimpleNamespace(started={}, applied=[], put_back=[], flying={}, most={}, lock=threading.Lock(), delay=0.2)

    def fetch(gateway, task):
        with seen.lock:
            seen.started[task.pk] = time.monotonic()
            seen.flying[gateway.base_url] = seen.flying.get(gateway.base_url, 0) + 1
            seen.most[gateway.base_url] = max(seen.most.get(gateway.base_url, 0), seen.flying[gateway.base_url])
        time.sleep(seen.delay)
        with seen.lock:
            seen.flying[gateway.base_url] -= 1
        return "answer"

    monkeypatch.setattr(poller_module, "fetch_poll", fetch)
    monkeypatch.setattr(
        poller_module, "_guarded_apply", lambda task, token, gateway, outcome: seen.applied.append(task.pk)
    )
    monkeypatch.setattr(poller_module.circuit, "tally", lambda outcomes: None)
    monkeypatch.setattr(poller_module, "reschedule", lambda task, token, delay: seen.put_back.append((task.pk, delay)))
    yield seen
    if poller_module._pool is not None:
        poller_module._pool.shutdown(wait=True)
    poller_module._pool = None


def task(pk: int, url: str):
    return SimpleNamespace(pk=pk), "token", SimpleNamespace(base_url=url)


def test_a_hosts_extra_tasks_wait_for_its_next_answer_not_five_seconds(fake_pool):
    poller = poller_module.Poller()
    started = time.monotonic()
    assert all(poller.send(*task(pk, FAST)) for pk in range(6))
    assert len(poller) == 6 and fake_pool.put_back == []
    poller.drain()
    assert sorted(fake_pool.applied) == list(range(6))
    assert fake_pool.most[FAST] == 2  # never more than the host's share at once
    # Three rounds of two, each right after the last: about 0.6 s, not 5 s per round.
    assert time.monotonic() - started < 2.5
    assert max(fake_pool.started.values()) - started < 1.5


def test_another_hosts_task_goes_out_at_once_behind_a_busy_host(fake_pool):
    poller = poller_module.Poller()
    for pk in range(6):
        poller.send(*task(pk, FAST))
    sent = time.monotonic()
    poller.send(*task(99, OTHER))
    poller.drain()
    assert fake_pool.started[99] - sent < 0.15  # it did not wait in the fast host's line
    assert sorted(fake_pool.applied) == [*range(6), 99]


def test_a_line_that_could_outlive_the_lease_is_not_allowed(fake_pool, settings):
    settings.STUDIO_LEASE_SECONDS = 30  # three rounds of 10 s fit: two in flight, four in line
    poller = poller_module.Poller()
    assert poller.line_length(circuit.host_of(FAST)) == 4
    results = [poller.send(*task(pk, FAST)) for pk in range(8)]
    assert results == [True] * 6 + [False] * 2
    assert [pk for pk, _ in fake_pool.put_back] == [6, 7]
    poller.drain()
    assert sorted(fake_pool.applied) == list(range(6))


def test_a_host_that_answers_fast_may_use_the_whole_pool_and_a_slow_one_only_its_share(fake_pool):
    fake_pool.delay = 0.02  # under FAST_ANSWER_S (0.1 s here)
    poller = poller_module.Poller()
    assert poller.limit(circuit.host_of(FAST)) == 2  # not measured yet: counted as slow
    for pk in range(2):
        poller.send(*task(pk, FAST))
    poller.drain()
    assert poller.limit(circuit.host_of(FAST)) == 4
    for pk in range(2, 14):
        poller.send(*task(pk, FAST))
    poller.drain()
    assert fake_pool.most[FAST] == 4 and sorted(fake_pool.applied) == list(range(14))
    fake_pool.delay = 0.5  # it turns slow: back to its share once its answers show it
    for pk in range(14, 18):
        poller.send(*task(pk, FAST))
    poller.drain()
    assert poller.limit(circuit.host_of(FAST)) == 2

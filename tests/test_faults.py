"""The whole pipeline against a gateway that misbehaves, with a worker killed mid-flight.

The studio's sandbox is served by pytest-django's live server with every kind of
fault switched on (5xx, 429, HTML instead of JSON, slow answers, connection resets,
and "ghost" 500s that create the task anyway). A separate worker process runs the
sweep; it is killed with SIGKILL twice and restarted. Afterwards every generation
must have ended completed, failed with a reason, or needing attention; nothing was
submitted twice; every archived video matches the sandbox's file byte for byte
(sha256); and the ledger balances.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import socketserver
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pytest
from django.utils import timezone

from tests.conftest import add_key, database_env, make_generation
from videos.models import ACTIVE_STATES, Billing, GatewayCircuit, Generation, LedgerEntry, Price, Task, TaskState
from videos.sandbox import engine
from videos.sandbox.models import SandboxJob
from videos.worker import queue, tasks

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parent.parent
FAULTS = "5xx=0.08,429=0.05,garbage=0.05,slow=0.03,ghost=0.04,reset=0.05"
WORKER = """
import django, time
django.setup()
from videos.worker import tasks
while True:
    tasks.sweep()
    time.sleep(0.2)
"""


def start_worker(env):
    return subprocess.Popen([sys.executable, "-c", WORKER], cwd=ROOT, env=env, start_new_session=True)


def kill(worker):
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)


def test_nothing_is_lost_or_paid_twice_when_the_gateway_and_the_worker_fail(
    live_server, owner, team, settings, tmp_path
):
    settings.STUDIO_SANDBOX_FAULTS = FAULTS
    settings.STUDIO_SANDBOX_RUN_SECONDS = 1
    Price.objects.create(
        dialect="openai-preview", model="grok-imagine-video-1.5-preview", resolution="480p",
        usd_per_second=Decimal("0.05"), source="test", read_on=date(2026, 11, 1),
    )  # fmt: skip
    key = add_key(owner, team, secret="sk-faults-0001", base_url=f"{live_server.url}/sandbox/openai")
    with mock.patch.object(queue, "enqueue"):  # the worker process does every step
        generations = [make_generation(owner, team, key, prompt=f"fault run {i:02d}", duration=1) for i in range(24)]
    Task.objects.update(next_poll_at=timezone.now())

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",  # the production settings, on the test's database
        **database_env(),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "STUDIO_LEASE_SECONDS": "3",
        "STUDIO_HTTP_TIMEOUT": "3",  # a reset or a hung answer costs seconds, not half a minute
        "STUDIO_POLL_CONCURRENCY": "8",
        "Q_SYNC": "true",
        "STUDIO_SANDBOX_URL": f"{live_server.url}/sandbox",
        # The gateway under test is on loopback: allowed explicitly, like a self-hosted one.
        "STUDIO_ALLOWED_PRIVATE_HOSTS": live_server.url,
    }
    worker = start_worker(env)
    try:
        deadline = time.monotonic() + 150
        kills = 0
        while time.monotonic() < deadline and Task.objects.filter(state__in=ACTIVE_STATES).exists():
            time.sleep(1.5)
            if kills < 2 and time.monotonic() > deadline - 150 + 3 * (kills + 1):
                kill(worker)  # mid-flight: leases held, maybe mid-download
                kills += 1
                worker = start_worker(env)
            # Don't wait out backoffs, cadences and cooldowns: make everything due again.
            Task.objects.filter(state__in=ACTIVE_STATES).exclude(state=TaskState.SUBMITTING).update(
                next_poll_at=timezone.now()
            )
            GatewayCircuit.objects.update(open_until=None, failures=0)
        assert kills == 2
    finally:
        kill(worker)

    states = Counter(Task.objects.values_list("state", flat=True))
    assert set(states) <= {TaskState.COMPLETED, TaskState.FAILED, TaskState.NEEDS_ATTENTION}, states
    assert states[TaskState.COMPLETED] >= 1
    for task in Task.objects.exclude(state=TaskState.COMPLETED):
        assert task.last_error, f"{task.generation.prompt} ended {task.state} without a reason"

    # Nothing was submitted twice: at most one sandbox task per generation.
    per_prompt = Counter(SandboxJob.objects.values_list("prompt", flat=True))
    assert max(per_prompt.values()) == 1, per_prompt.most_common(3)

    # Every archived video is the sandbox's file, byte for byte.
    for generation in Generation.objects.filter(task__state=TaskState.COMPLETED).select_related("asset", "task"):
        job = SandboxJob.objects.get(pk=generation.task.external_id)
        sandbox_sha = hashlib.sha256(engine.video_path(job).read_bytes()).hexdigest()
        with generation.asset.file.open("rb") as fh:
            assert hashlib.sha256(fh.read()).hexdigest() == generation.asset.sha256 == sandbox_sha

    # The ledger balances: charges are exactly the completed costs; failures were not
    # charged; only tasks that need a member's decision still hold money.
    completed = Generation.objects.filter(task__state=TaskState.COMPLETED)
    charges = LedgerEntry.objects.filter(kind=LedgerEntry.Kind.CHARGE)
    assert sum(e.amount_usd for e in charges) == sum(g.cost_usd for g in completed)
    assert charges.count() == completed.count()
    assert set(Generation.objects.filter(task__state=TaskState.FAILED).values_list("billing", flat=True)) <= {
        Billing.RELEASED
    }
    held = set(Generation.objects.filter(billing=Billing.HELD).values_list("task__state", flat=True))
    assert held <= {TaskState.NEEDS_ATTENTION}
    assert len(generations) == Generation.objects.count()


# --- one slow gateway, another team's tasks ----------------------------------------------------


class TrickleHandler(socketserver.BaseRequestHandler):
    """A gateway that promises a 100,000-byte answer and sends one byte a second: far slower
    than any whole answer should take, yet never slow enough for a per-read timeout."""

    def handle(self):
        self.request.settimeout(5)
        with contextlib.suppress(OSError):
            self.request.recv(65536)
            self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
            for _ in range(60):  # bounded: at most a minute per connection
                if self.server.stopping.is_set():
                    return
                self.request.sendall(b" ")
                time.sleep(1)


@contextlib.contextmanager
def trickling_gateway():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), TrickleHandler)
    server.daemon_threads = True
    server.stopping = threading.Event()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()


def follow_polls(task_pk: int, seconds: float, stop=lambda task: False) -> list[float]:
    """Watch a task for up to ``seconds``: the lag of each poll (its time past the task's
    ``next_poll_at``), in seconds."""
    lags, last = [], Task.objects.get(pk=task_pk)
    end = time.monotonic() + seconds
    while time.monotonic() < end and not stop(last):
        time.sleep(0.05)
        now = timezone.now()
        task = Task.objects.get(pk=task_pk)
        if task.polls > last.polls and last.next_poll_at is not None:
            lags.append((now - last.next_poll_at).total_seconds())
        last = task
    return lags


def test_a_trickling_gateway_does_not_delay_another_teams_tasks(live_server, owner, team, outsider, settings):
    """Team B's own gateway trickles its status answers; team A's sandbox task is still
    polled on its cadence (lag under 2 s), and B's queries are cut off at their deadline."""
    from django.db import connections

    from videos.lib import http
    from videos.worker import sweep

    settings.STUDIO_STATUS_SECONDS = 3
    settings.STUDIO_POLL_CONCURRENCY = 4
    settings.STUDIO_POLL_PER_HOST = 2
    settings.STUDIO_SANDBOX_RUN_SECONDS = 9
    settings.STUDIO_SANDBOX_URL = f"{live_server.url}/sandbox"
    http.use_transport(None)  # the real network stack, loopback only
    with trickling_gateway() as slow_url:
        settings.STUDIO_ALLOWED_PRIVATE_HOSTS = [live_server.url, slow_url]
        other_team = outsider.teams.get()
        slow_key = add_key(outsider, other_team, secret="sk-team-b-0001", base_url=f"{slow_url}/v1")
        with mock.patch.object(queue, "enqueue"):
            slow = [make_generation(outsider, other_team, slow_key, prompt=f"b {i}") for i in range(6)]
            healthy_key = add_key(owner, team, secret="sk-team-a-0001", base_url=f"{live_server.url}/sandbox/openai")
            healthy = make_generation(owner, team, healthy_key, prompt="a lighthouse", duration=1)
            Task.objects.filter(generation__in=slow).update(
                state=TaskState.PROCESSING, external_id="video_slow", submitted_at=timezone.now()
            )
            tasks.submit_task(healthy.task.pk)
            Task.objects.update(next_poll_at=timezone.now())

            def loop():
                try:
                    sweep.sweep_loop(20, requeue=False)
                finally:
                    connections.close_all()

            worker = threading.Thread(target=loop)
            started = time.monotonic()
            worker.start()
            lags = follow_polls(healthy.task.pk, 25, stop=lambda task: not task.is_active or task.state == "archiving")
            worker.join(timeout=60)
    print(f"healthy task: {len(lags)} polls, lags {[round(lag, 2) for lag in lags]} s")
    task = Task.objects.get(pk=healthy.task.pk)
    assert task.state == TaskState.ARCHIVING, (task.state, task.last_error)  # the sandbox finished it
    assert len(lags) >= 2 and max(lags) < 2.0, lags  # on its cadence (3 s) + under 2 s
    assert time.monotonic() - started < 40
    slow_tasks = Task.objects.filter(generation__in=slow)
    assert set(slow_tasks.values_list("state", flat=True)) == {TaskState.PROCESSING}  # never failed for it
    cut_off = [t for t in slow_tasks if "did not answer in full (DeadlineExceeded)" in t.last_error]
    assert len(cut_off) >= 2  # each query ended at its 3 s deadline, to be retried later


# --- a worker killed mid-flight: how soon polling resumes --------------------------------------


LOOP = """
import os, django
django.setup()
from videos.worker import sweep
open(os.environ["STUDIO_TEST_READY_FILE"], "w").close()  # started: what follows is the loop's own time
sweep.sweep_loop(600, requeue=False, takeover={takeover})
"""


def test_polling_resumes_within_a_lease_and_a_cadence_after_kill_9(live_server, owner, team, settings, tmp_path):
    """The sweep loop is killed with SIGKILL while its tasks are in flight; a new worker
    process takes over the dead loop's slot at once (its holder is gone), and every task is
    polled again within STUDIO_LEASE_SECONDS + its cadence, counted from the moment the new
    process is up (its start-up, Django and imports, depends on the machine's load)."""
    lease_s, cadence_s = 3, 3.0
    settings.STUDIO_SANDBOX_RUN_SECONDS = 120  # the tasks stay in flight for the whole test
    key = add_key(owner, team, secret="sk-resume-0001", base_url=f"{live_server.url}/sandbox/openai")
    with mock.patch.object(queue, "enqueue"):
        generations = [make_generation(owner, team, key, prompt=f"resume {i}", duration=1) for i in range(6)]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        **database_env(),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "STUDIO_LEASE_SECONDS": str(lease_s),
        "STUDIO_POLL_CONCURRENCY": "4",  # all six tasks on one host: two wait in line at first
        "Q_SYNC": "true",
        "STUDIO_SANDBOX_URL": f"{live_server.url}/sandbox",
        "STUDIO_ALLOWED_PRIVATE_HOSTS": live_server.url,
        "STUDIO_TEST_READY_FILE": str(tmp_path / "ready"),
    }
    start = lambda takeover: subprocess.Popen(  # noqa: E731
        [sys.executable, "-c", LOOP.format(takeover=takeover)], cwd=ROOT, env=env, start_new_session=True
    )
    ids = [g.task.pk for g in generations]
    worker = start(False)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and Task.objects.filter(pk__in=ids, polls__lt=2).exists():
            time.sleep(0.2)
        assert not Task.objects.filter(pk__in=ids, polls__lt=2).exists(), "the first worker never polled"
        kill(worker)
        killed_at = time.monotonic()
        polls_then = dict(Task.objects.filter(pk__in=ids).values_list("pk", "polls"))
        (tmp_path / "ready").unlink()
        worker = start(True)
        while not (tmp_path / "ready").exists() and time.monotonic() < killed_at + 60:
            time.sleep(0.05)
        up_at = max(time.monotonic(), killed_at)
        resumed: dict[int, float] = {}
        while time.monotonic() < killed_at + 60 and len(resumed) < len(ids):
            for pk, polls in Task.objects.filter(pk__in=ids).values_list("pk", "polls"):
                if polls > polls_then[pk] and pk not in resumed:
                    resumed[pk] = time.monotonic() - up_at
            time.sleep(0.1)
    finally:
        kill(worker)
    slowest = max(resumed.values(), default=float("inf"))
    print(f"polling resumed {slowest:.1f} s after the new worker was up (lease {lease_s} s, cadence {cadence_s:g} s)")
    assert len(resumed) == len(ids)
    # A second of slack for the first sweep's own queries and the test's 0.1 s sampling.
    assert slowest <= lease_s + cadence_s + 1.0, resumed

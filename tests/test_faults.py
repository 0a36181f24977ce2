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

import hashlib
import os
import signal
import subprocess
import sys
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
from videos.worker import queue

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

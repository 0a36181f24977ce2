"""Many workers sharing the work: the sweep's claims, the sweeper leases, a worker
cluster on the configured broker.

These run on whatever database the suite runs on: SQLite by default, PostgreSQL (where
the claim is ``SELECT … FOR UPDATE SKIP LOCKED``) and Redis in CI's second run.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path
from unittest import mock

import httpx
import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from tests.conftest import add_key, database_env, make_generation
from tests.test_history import insert_rows
from videos.gateways.openai_preview import MODEL
from videos.lib import http
from videos.models import GatewayKey, Generation, Task, TaskState, WorkerLease
from videos.worker import leases, queue, sweep, tasks

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parent.parent
BASE_URL = "https://gateway.scale.test"


def in_flight(owner, team, n: int) -> GatewayKey:
    """``n`` openai-preview tasks at the gateway (PROCESSING), all due now."""
    key = GatewayKey(team=team, owner=owner, dialect="openai-preview", label="Scale", base_url=BASE_URL)
    key.set_secret("sk-scale-0001")
    key.save()
    now = timezone.now()
    insert_rows(
        Generation,
        [
            {"team": team.pk, "author": owner.pk, "key": key.pk, "dialect": "openai-preview", "model_name": MODEL,
             "key_label": "Scale", "prompt": f"Clip {i}", "uuid": uuid.uuid4(), "created_at": now}
            for i in range(n)
        ],
    )  # fmt: skip
    pks = Generation.objects.filter(team=team).order_by("pk").values_list("pk", flat=True)
    insert_rows(
        Task,
        [
            {"generation": pk, "state": TaskState.PROCESSING, "external_id": f"video_{pk}", "status_word": "in_progress",
             "submitted_at": now, "next_poll_at": now}
            for pk in pks
        ],
    )  # fmt: skip
    return key


class CountingGateway(httpx.BaseTransport):
    """Answers every status query "in_progress" and notes which worker asked for which video."""

    def __init__(self):
        self.lock = threading.Lock()
        self.polls: list[tuple[str, str]] = []  # (worker, external id)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        external = request.url.path.rsplit("/", 1)[-1]
        with self.lock:
            self.polls.append((threading.current_thread().name, external))
        body = {"id": external, "object": "video", "status": "in_progress", "progress": 40}
        return httpx.Response(200, content=json.dumps(body).encode(), headers={"content-type": "application/json"})


def run_workers(count: int, batch: int) -> None:
    """``count`` workers (threads with their own database connections) sweeping at once
    until nothing is due; a worker stops after a sweep that found nothing."""
    start = threading.Barrier(count)
    errors: list[BaseException] = []

    def work():
        try:
            start.wait()
            while sweep.sweep_once(limit=batch):
                pass
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=work, name=f"worker-{n}") for n in range(count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert not errors, errors


def test_two_workers_share_1000_tasks_polling_each_once_per_cycle(owner, team, settings):
    """A cycle is one set of due tasks: the clock stands still while the workers sweep, so
    a task polled in it is not due again in it, however long the machine takes."""
    settings.STUDIO_POLL_CONCURRENCY = 1  # each worker polls in its own thread
    in_flight(owner, team, 1000)
    expected = {f"video_{pk}" for pk in Task.objects.values_list("generation_id", flat=True)}
    gateway = CountingGateway()
    http.use_transport(gateway)
    clock = timezone.now()
    try:
        for _cycle in range(2):
            # The next cycle: the gateway's cadence has come round for every task.
            clock += timedelta(hours=1)
            gateway.polls.clear()
            with mock.patch("django.utils.timezone.now", return_value=clock):
                run_workers(2, batch=25)
            per_task = Counter(external for _, external in gateway.polls)
            assert set(per_task) == expected  # none missed
            assert max(per_task.values()) == 1  # none polled twice, by one worker or both
            by_worker = Counter(worker for worker, _ in gateway.polls)
            assert set(by_worker) == {"worker-0", "worker-1"} and min(by_worker.values()) >= 100
            assert not Task.objects.exclude(lease_token="").exists()  # every claim let go
            assert not Task.objects.filter(next_poll_at__lte=clock).exists()
    finally:
        http.use_transport(None)
    assert Task.objects.filter(state=TaskState.PROCESSING).count() == 1000


def test_a_claim_takes_only_due_tasks_nobody_holds(owner, team):
    in_flight(owner, team, 10)
    Task.objects.filter(pk__in=Task.objects.order_by("pk").values("pk")[:3]).update(
        next_poll_at=timezone.now() + timedelta(minutes=5)
    )
    first_token, first = leases.claim_due(4)
    second_token, second = leases.claim_due(100)
    assert len(first) == 4 and len(second) == 3
    assert not {t.pk for t in first} & {t.pk for t in second}
    assert leases.claim_due(100)[1] == []
    assert Task.objects.filter(lease_token=first_token).count() == 4


@pytest.mark.skipif(
    not connection.features.has_select_for_update_skip_locked, reason="SKIP LOCKED is PostgreSQL's (CI's second run)"
)
def test_a_sweep_skips_rows_another_worker_has_locked_instead_of_waiting(owner, team):
    in_flight(owner, team, 6)
    locked = list(Task.objects.order_by("next_poll_at", "pk").values_list("pk", flat=True)[:2])
    holding, release = threading.Event(), threading.Event()

    def hold_locks():  # another worker, mid-claim: its rows are locked until it commits
        try:
            with transaction.atomic():
                list(Task.objects.select_for_update().filter(pk__in=locked))
                holding.set()
                release.wait(30)
        finally:
            connections.close_all()

    other = threading.Thread(target=hold_locks)
    other.start()
    try:
        assert holding.wait(10)
        began = time.monotonic()
        _token, claimed = leases.claim_due(100)
        waited = time.monotonic() - began
    finally:
        release.set()
        other.join()
    assert {t.pk for t in claimed} == set(Task.objects.values_list("pk", flat=True)) - set(locked)
    assert waited < 5  # it did not queue behind the other worker's locks


def test_sweep_loops_run_up_to_the_configured_number_at_once(settings):
    settings.STUDIO_SWEEPERS = 2
    assert sweep.sweeper_slots() == ["sweeper", "sweeper-2"]
    assert sweep.take_lease("a" * 32, "sweeper") and sweep.take_lease("b" * 32, "sweeper-2")
    assert sweep.sweepers_running() == 2
    assert tasks.sweep_loop(seconds=1, requeue=False) == 0  # a third finds both held: returns at once
    WorkerLease.objects.filter(name="sweeper-2").update(leased_until=timezone.now() - timedelta(seconds=1))
    assert sweep.sweepers_running() == 1
    queued = []
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(queue, "enqueue", lambda func, *args: queued.append(func))
        patch.setattr("django_q.conf.Conf.SYNC", False)
        sweep.ensure_sweeper()
    assert queued == ["videos.worker.tasks.sweep_loop"]  # one more, to make two


def test_a_worker_cluster_on_the_configured_broker_takes_a_generation_to_the_end(live_server, owner, team, settings):
    """The web side queues through django-q2 (Redis when REDIS_URL is set, else the
    database); a separate ``qcluster`` process with the production settings does the rest."""
    from django_q.brokers import get_broker

    settings.STUDIO_SANDBOX_RUN_SECONDS = 1
    key = add_key(owner, team, secret="sk-cluster-0001", base_url=f"{live_server.url}/sandbox/openai")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        **database_env(),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "Q_SYNC": "false",
        "Q_WORKERS": "2",
        "STUDIO_SANDBOX_URL": f"{live_server.url}/sandbox",
        "STUDIO_ALLOWED_PRIVATE_HOSTS": live_server.url,
    }
    broker = get_broker()
    assert type(broker).__name__ == ("Redis" if settings.REDIS_URL else "ORM")
    cluster = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("django_q.conf.Conf.SYNC", False)
            generation = make_generation(owner, team, key, duration=1)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            task = Task.objects.get(generation=generation)
            if not task.is_active:
                break
            time.sleep(0.5)
        assert task.state == TaskState.COMPLETED, task.last_error
        assert generation.asset.bytes > 1000
    finally:
        stopping = time.monotonic()
        cluster.send_signal(signal.SIGTERM)  # to the cluster's main process, as runstudio does
        try:
            cluster.wait(timeout=30)
        finally:
            print(f"cluster stopped in {time.monotonic() - stopping:.1f} s")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(cluster.pid, signal.SIGKILL)  # any leftover child
            cluster.wait()

"""Polling under a failing gateway: the circuit breaker and each gateway's time limit."""

from __future__ import annotations

from datetime import timedelta

import httpx
from django.utils import timezone

from tests.conftest import add_key, make_generation
from videos.models import GatewayCircuit, Task, TaskState
from videos.worker import circuit, tasks


def running(owner, team, key, n=1, prompt="clip"):
    generations = [make_generation(owner, team, key, prompt=f"{prompt} {i}") for i in range(n)]
    for i, generation in enumerate(generations):
        Task.objects.filter(generation=generation).update(
            state=TaskState.PROCESSING,
            external_id=f"{prompt}-{i}",
            submitted_at=timezone.now(),
            next_poll_at=timezone.now(),
        )
    return generations


def due_now():
    Task.objects.filter(state__in=[TaskState.QUEUED, TaskState.PROCESSING]).update(next_poll_at=timezone.now())


def gets(gateway, host):
    return sum(1 for r in gateway.requests if r.method == "GET" and r.url.host == host)


def test_a_gateway_that_keeps_failing_is_paused_and_resumes_by_itself(gateway, owner, team, key):
    other = add_key(
        owner, team, secret="sk-other-0001", base_url="http://other-gateway.test/sandbox/openai", label="Other"
    )
    running(owner, team, key, n=5, prompt="flaky")
    healthy = running(owner, team, other, n=1, prompt="fine")[0]
    gateway.faults.append(
        (lambda r: r.url.host == "sandbox.test" and r.method == "GET", lambda r: httpx.Response(503, text="down"))
    )
    gateway.faults.append(
        (
            lambda r: r.url.host == "other-gateway.test",
            lambda r: httpx.Response(200, json={"id": "fine-0", "status": "processing", "progress": 10}),
        )
    )
    tasks.sweep()  # five transient failures at sandbox.test: the circuit opens
    state = GatewayCircuit.objects.get(scope="http://sandbox.test:80")
    assert state.open_until is not None and state.open_until > timezone.now()
    before = gets(gateway, "sandbox.test")
    due_now()
    tasks.sweep()
    assert gets(gateway, "sandbox.test") == before  # paused: not asked again
    paused = Task.objects.filter(external_id__startswith="flaky")
    assert all(
        t.state == TaskState.PROCESSING and t.next_poll_at >= state.open_until - timedelta(seconds=1) for t in paused
    )
    assert Task.objects.get(generation=healthy).progress == 10  # other gateways go on
    # The cooldown passes and the gateway answers again: polling resumes and the circuit closes.
    GatewayCircuit.objects.update(open_until=timezone.now() - timedelta(seconds=1))
    gateway.faults.pop(0)
    gateway.faults.append(
        (
            lambda r: r.url.host == "sandbox.test",
            lambda r: httpx.Response(200, json={"id": "x", "status": "processing", "progress": 50}),
        )
    )
    due_now()
    tasks.sweep()
    assert gets(gateway, "sandbox.test") == before + 5
    assert GatewayCircuit.objects.get(scope="http://sandbox.test:80").open_until is None
    assert not Task.objects.filter(state=TaskState.FAILED).exists()


def test_the_cooldown_doubles_and_is_capped():
    assert [circuit.cooldown(t).total_seconds() for t in range(6)] == [30, 60, 120, 240, 300, 300]


def test_a_few_failures_do_not_open_the_circuit(gateway, owner, team, key):
    running(owner, team, key, n=2, prompt="blip")
    gateway.faults.append((lambda r: r.method == "GET", lambda r: httpx.Response(502)))
    tasks.sweep()
    assert GatewayCircuit.objects.get().open_until is None


def test_a_task_past_its_gateways_limit_fails_with_the_reason(gateway, owner, team, key):
    (generation,) = running(owner, team, key, prompt="stuck")
    Task.objects.filter(generation=generation).update(submitted_at=timezone.now() - timedelta(hours=25))
    tasks.sweep()
    task = Task.objects.get(generation=generation)
    assert task.state == TaskState.FAILED and "within 24 hours" in task.last_error
    assert gateway.requests == []


def test_reapi_tasks_get_48_hours(gateway, owner, team):
    reapi = add_key(owner, team, dialect="reapi", secret="sk-reapi-0001")
    young, old = running(owner, team, reapi, n=2, prompt="long")
    Task.objects.filter(generation=young).update(submitted_at=timezone.now() - timedelta(hours=30))
    Task.objects.filter(generation=old).update(submitted_at=timezone.now() - timedelta(hours=49))
    gateway.faults.append(
        (lambda r: r.method == "GET", lambda r: httpx.Response(200, json={"id": "long-0", "status": "processing"}))
    )
    tasks.sweep()
    assert Task.objects.get(generation=young).state == TaskState.PROCESSING
    failed = Task.objects.get(generation=old)
    assert failed.state == TaskState.FAILED and "within 48 hours" in failed.last_error


# --- one key's bad luck is that key's -----------------------------------------------------------


def test_429s_on_one_teams_key_pause_that_key_only(gateway, owner, team, outsider):
    """Six 429s on team B's key open B's key circuit; team A's task on the same host is
    polled on its cadence all along, and the host's own circuit stays closed."""
    other_team = outsider.teams.get()
    a_key = add_key(owner, team, secret="sk-team-a-0001")
    b_key = add_key(outsider, other_team, secret="sk-team-b-0001", label="B")
    b_tasks = running(outsider, other_team, b_key, n=6, prompt="busy")
    (a_generation,) = running(owner, team, a_key, prompt="calm")
    b_auth = f"Bearer {b_key.reveal()}"
    gateway.faults.append(
        (lambda r: r.method == "GET" and r.headers.get("Authorization") == b_auth, lambda r: httpx.Response(429))
    )
    gateway.faults.append(
        (
            lambda r: r.method == "GET",
            lambda r: httpx.Response(200, json={"id": "calm-0", "status": "processing", "progress": 20}),
        )
    )

    tasks.sweep()
    due_now()
    before = Task.objects.get(generation=a_generation).polls
    tasks.sweep()

    assert Task.objects.get(generation=a_generation).polls == before + 1  # not paused
    host = GatewayCircuit.objects.filter(scope="http://sandbox.test:80").first()
    assert host is None or (host.open_until is None and host.failures == 0)  # the host answered
    key_circuit = GatewayCircuit.objects.get(scope=circuit.key_scope(b_key))
    assert key_circuit.open_until is not None and key_circuit.open_until > timezone.now()
    b_polls = sum(t.polls for t in Task.objects.filter(generation__in=b_tasks))
    tasks.sweep()  # B's key is paused: its tasks are not asked again
    assert sum(t.polls for t in Task.objects.filter(generation__in=b_tasks)) == b_polls


def test_timeouts_and_5xx_count_against_the_host_for_everyone(gateway, owner, team, outsider):
    other_team = outsider.teams.get()
    a_key = add_key(owner, team, secret="sk-team-a-0002")
    b_key = add_key(outsider, other_team, secret="sk-team-b-0002", label="B")
    running(outsider, other_team, b_key, n=3, prompt="down")
    running(owner, team, a_key, n=3, prompt="also")
    gateway.faults.append((lambda r: r.method == "GET", lambda r: httpx.Response(503)))
    tasks.sweep()
    host = GatewayCircuit.objects.get(scope="http://sandbox.test:80")
    assert host.open_until is not None  # six failures from two teams: the host is down for all
    assert not GatewayCircuit.objects.filter(scope__startswith="key:", open_until__isnull=False).exists()


# --- a worker that dies: its sweep slot is taken over ----------------------------------------------


def test_a_starting_worker_takes_the_slot_of_a_loop_that_died_here(db, settings):
    import os
    import subprocess
    import sys

    from videos.models import WorkerLease
    from videos.worker import sweep

    settings.STUDIO_SWEEPERS = 1
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    here = sweep.this_process().rpartition(":")[0]
    lease = timezone.now() + timedelta(seconds=60)
    for holder, taken in [(f"{here}:{os.getpid()}", False), ("elsewhere:1", False), (f"{here}:{gone.pid}", True)]:
        WorkerLease.objects.update_or_create(
            name="sweeper", defaults={"token": "old", "leased_until": lease, "holder": holder}
        )
        assert (sweep._take_a_slot("new", takeover=True) == "sweeper") is taken, holder
        assert sweep._take_a_slot("newer", takeover=False) is None  # without takeover: held is held


def test_a_worker_process_that_starts_queues_a_takeover(settings, monkeypatch):
    from videos.worker import queue

    queued = []
    monkeypatch.setattr(queue, "enqueue", lambda func, *args: queued.append(func))
    monkeypatch.setattr("django_q.conf.Conf.SYNC", False)
    from django_q.signals import post_spawn

    post_spawn.send(sender="django_q", proc_name="Process-1")
    assert queued == ["videos.worker.tasks.take_over_sweep"]

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
    state = GatewayCircuit.objects.get(host="http://sandbox.test:80")
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
    assert GatewayCircuit.objects.get(host="http://sandbox.test:80").open_until is None
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

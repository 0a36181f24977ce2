"""The worker from submit to archived asset (videos/worker/), against the in-process sandbox."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import timedelta
from unittest import mock

import av
import httpx
import pytest
from django.utils import timezone

from tests.conftest import add_key, make_generation, png_bytes, run_until_done
from videos.models import Asset, Event, NewReference, Task, TaskState
from videos.worker import archive, leases, submit, sweep, tasks


def test_it_archives_a_text_to_video_generation(gateway, owner, team, key):
    generation = make_generation(owner, team, key, aspect_ratio="9:16")
    task = run_until_done(generation.task.pk)
    assert task.state == TaskState.COMPLETED
    asset = Asset.objects.get(generation=generation)
    with asset.file.open("rb") as fh:
        data = fh.read()
    assert hashlib.sha256(data).hexdigest() == asset.sha256
    assert asset.bytes == len(data)
    assert (asset.width, asset.height) == (480, 854)  # 9:16 at 480p
    assert asset.duration_s == pytest.approx(1.0, abs=0.1)
    with av.open(asset.file.path) as container:
        assert container.streams.video[0].codec_context.name == "h264"
    assert asset.poster and asset.poster.size > 0


def test_it_sends_reference_images_as_data_uris(gateway, owner, team, key):
    generation = make_generation(owner, team, key, references=[NewReference("image/png", png_bytes(), 64, 36)])
    task = run_until_done(generation.task.pk)
    assert task.state == TaskState.COMPLETED
    (body,) = gateway.json_bodies("POST")
    assert body["image"].startswith("data:image/png;base64,")
    assert generation.kind == "image-to-video"


def test_it_sends_only_documented_fields_to_any_host_of_the_dialect(gateway, owner, team):
    """A key pointing at another server that speaks openai-preview works the same."""
    seen = []

    def other_server(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            seen.append(json.loads(request.content))
            return httpx.Response(
                200, json={"id": "vid_42", "object": "video", "status": "queued", "progress": 0, "video_url": ""}
            )
        if request.url.path == "/v1/videos/vid_42":
            return httpx.Response(200, json={"id": "vid_42", "status": "completed", "progress": 100, "video_url": ""})
        if request.url.path == "/v1/videos/vid_42/content":
            assert request.headers["Authorization"] == "Bearer sk-other-gateway-key"
            return httpx.Response(200, content=sandbox_mp4(gateway))
        return httpx.Response(404, json={"error": {"message": "no such path"}})

    gateway.hosts.add("gw.other.test")
    gateway.faults.append((lambda r: r.url.host == "gw.other.test", other_server))
    other = add_key(owner, team, secret="sk-other-gateway-key", base_url="http://gw.other.test", label="Other host")
    generation = make_generation(owner, team, other, duration=6, resolution="720p")
    task = run_until_done(generation.task.pk)
    assert task.state == TaskState.COMPLETED, task.last_error
    assert seen == [
        {
            "model": "grok-imagine-video-1.5-preview",
            "prompt": generation.prompt,
            "seconds": "6",
            "aspect_ratio": "16:9",
            "resolution": "720P",
        }
    ]


def sandbox_mp4(gateway) -> bytes:
    import os
    import tempfile

    from videos.sandbox.render import render_video

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "v.mp4")
        render_video(path, width=320, height=180, seconds=1, prompt="other server")
        with open(path, "rb") as fh:
            return fh.read()


def test_a_gateway_failure_ends_the_task_with_its_message(gateway, owner, team, key):
    generation = make_generation(owner, team, key, prompt="please [fail] this one")
    task = run_until_done(generation.task.pk)
    assert task.state == TaskState.FAILED
    assert "[fail]" in task.last_error
    assert not Asset.objects.filter(generation=generation).exists()


def test_a_400_at_submit_ends_the_task_with_the_gateways_message(gateway, owner, team, key):
    gateway.faults.append(
        (
            lambda r: r.method == "POST",
            lambda r: httpx.Response(400, json={"error": {"message": "aspect_ratio is not supported"}}),
        )
    )
    generation = make_generation(owner, team, key)
    task = run_until_done(generation.task.pk)
    assert task.state == TaskState.FAILED
    assert task.last_error == "aspect_ratio is not supported"


def test_a_5xx_at_submit_is_not_resent_and_needs_attention(gateway, owner, team, key):
    gateway.faults.append((lambda r: r.method == "POST", lambda r: httpx.Response(500, text="oops")))
    generation = make_generation(owner, team, key)
    task = run_until_done(generation.task.pk)
    assert task.state == TaskState.NEEDS_ATTENTION
    assert "not sent again" in task.last_error
    assert sum(1 for r in gateway.requests if r.method == "POST") == 1


def test_a_refused_connection_at_submit_is_retried_later(gateway, owner, team, key):
    def refuse(request):
        raise httpx.ConnectError("refused", request=request)

    fault = (lambda r: r.method == "POST", refuse)
    gateway.faults.append(fault)
    generation = make_generation(owner, team, key)
    tasks.submit_task(generation.task.pk)
    task = Task.objects.get(pk=generation.task.pk)
    assert task.state == TaskState.PENDING and task.attempts == 1
    assert task.next_poll_at > timezone.now()
    gateway.faults.remove(fault)
    assert run_until_done(task.pk).state == TaskState.COMPLETED


@pytest.mark.parametrize(
    "fault",
    [
        lambda r: httpx.Response(503, text="busy"),
        lambda r: httpx.Response(200, text="<html>not json</html>"),
        lambda r: httpx.Response(429, headers={"Retry-After": "30"}, json={"error": {"message": "rate limited"}}),
        "timeout",
    ],
)
def test_polling_faults_are_retried_without_failing_the_task(gateway, owner, team, key, fault):
    def answer(request):
        if fault == "timeout":
            raise httpx.ReadTimeout("slow", request=request)
        return fault(request)

    generation = make_generation(owner, team, key)
    tasks.submit_task(generation.task.pk)
    entry = (lambda r: r.method == "GET" and "/content" not in r.url.path, answer)
    gateway.faults.append(entry)
    Task.objects.filter(pk=generation.task.pk).update(next_poll_at=timezone.now())
    tasks.sweep()
    task = Task.objects.get(pk=generation.task.pk)
    assert task.is_active and task.attempts == 1 and task.last_error
    assert task.next_poll_at > timezone.now() + timedelta(seconds=1)
    gateway.faults.remove(entry)
    assert run_until_done(task.pk).state == TaskState.COMPLETED


def test_a_429_waits_at_least_retry_after(gateway, owner, team, key):
    generation = make_generation(owner, team, key)
    tasks.submit_task(generation.task.pk)
    gateway.faults.append((lambda r: r.method == "GET", lambda r: httpx.Response(429, headers={"Retry-After": "120"})))
    Task.objects.filter(pk=generation.task.pk).update(next_poll_at=timezone.now())
    tasks.sweep()
    task = Task.objects.get(pk=generation.task.pk)
    assert task.next_poll_at >= timezone.now() + timedelta(seconds=115)


def test_a_claimed_task_cannot_be_claimed_again(gateway, owner, team, key):
    generation = make_generation(owner, team, key)
    first = leases.claim(generation.task.pk, [TaskState.PENDING])
    assert first is not None
    assert leases.claim(generation.task.pk, [TaskState.PENDING]) is None
    assert tasks.submit_task(generation.task.pk) is False
    assert gateway.requests == []


def test_an_expired_lease_is_picked_up_again(gateway, owner, team, key):
    generation = make_generation(owner, team, key)
    leases.claim(generation.task.pk, [TaskState.PENDING])
    Task.objects.filter(pk=generation.task.pk).update(
        leased_until=timezone.now() - timedelta(seconds=1), next_poll_at=timezone.now()
    )
    tasks.sweep()
    assert Task.objects.get(pk=generation.task.pk).state in (TaskState.QUEUED, TaskState.PROCESSING)


def test_a_worker_that_died_while_sending_leaves_the_task_needing_attention(gateway, owner, team, key):
    generation = make_generation(owner, team, key)
    Task.objects.filter(pk=generation.task.pk).update(
        state=TaskState.SUBMITTING, next_poll_at=timezone.now(), leased_until=timezone.now() - timedelta(seconds=5)
    )
    tasks.sweep()
    task = Task.objects.get(pk=generation.task.pk)
    assert task.state == TaskState.NEEDS_ATTENTION
    assert gateway.requests == []


def test_a_task_whose_step_raises_does_not_stop_the_sweep(gateway, owner, team, key, monkeypatch):
    broken = make_generation(owner, team, key, prompt="broken")
    healthy = make_generation(owner, team, key, prompt="healthy")
    real = submit.step_submit

    def flaky(task, token):
        if task.generation.prompt == "broken":
            raise RuntimeError("bug")
        return real(task, token)

    monkeypatch.setitem(sweep.STEPS, TaskState.PENDING, flaky)
    Task.objects.update(next_poll_at=timezone.now())
    tasks.sweep()
    assert Task.objects.get(pk=healthy.task.pk).state in (TaskState.QUEUED, TaskState.PROCESSING)
    stuck = Task.objects.get(pk=broken.task.pk)
    assert stuck.state == TaskState.PENDING and stuck.next_poll_at > timezone.now() + timedelta(seconds=30)


def test_a_deleted_key_fails_the_task_with_a_reason(gateway, owner, team, key):
    generation = make_generation(owner, team, key)
    key.delete()
    task = run_until_done(generation.task.pk)
    assert task.state == TaskState.FAILED and "deleted" in task.last_error


def test_the_event_log_records_each_state_change_without_the_key(gateway, owner, team, key):
    generation = make_generation(owner, team, key, references=[NewReference("image/png", png_bytes(), 64, 36)])
    run_until_done(generation.task.pk)
    events = list(Event.objects.filter(generation=generation))
    assert [e.kind for e in events][:2] == ["created", "submitted"]
    assert events[-1].kind == "archived"
    dump = json.dumps([[e.message, e.data] for e in events])
    assert "sk-sandbox-alice-0001" not in dump
    assert "base64,iVBOR" not in dump  # reference images are not copied into the log


def test_an_undecodable_download_is_retried_then_fails_instead_of_saving_garbage(gateway, owner, team, key):
    gateway.faults.append(
        (lambda r: r.url.path.endswith("/content"), lambda r: httpx.Response(200, content=b"not a video"))
    )
    generation = make_generation(owner, team, key)
    task = run_until_done(generation.task.pk)
    assert task.state == TaskState.FAILED and "not a playable video" in task.last_error
    assert sum(1 for r in gateway.requests if r.url.path.endswith("/content")) == archive.MAX_ARCHIVE_ATTEMPTS
    assert not Asset.objects.exists()


def test_an_error_page_in_place_of_the_video_is_retried(gateway, owner, team, key):
    pages = iter([httpx.Response(200, text="<html>502 Bad Gateway</html>")])
    fault = (lambda r: r.url.path.endswith("/content"), lambda r: next(pages))
    gateway.faults.append(fault)
    generation = make_generation(owner, team, key)
    tasks.submit_task(generation.task.pk)
    for _ in range(3):
        Task.objects.filter(pk=generation.task.pk).update(next_poll_at=timezone.now())
        tasks.sweep()
    tasks.archive_task(generation.task.pk)  # gets the error page: tried again later
    assert Task.objects.get(pk=generation.task.pk).state == TaskState.ARCHIVING
    gateway.faults.remove(fault)
    assert run_until_done(generation.task.pk).state == TaskState.COMPLETED


def test_a_sweep_polls_many_tasks_concurrently_and_applies_each_answer(gateway, owner, team, key, settings):
    settings.STUDIO_POLL_CONCURRENCY = 8
    generations = [make_generation(owner, team, key, prompt=f"clip {i}") for i in range(20)]
    for i, generation in enumerate(generations):
        Task.objects.filter(pk=generation.task.pk).update(
            state=TaskState.PROCESSING, external_id=f"ext-{i}", submitted_at=timezone.now(), next_poll_at=timezone.now()
        )

    def answer(request):
        ext = request.url.path.rsplit("/", 1)[-1]
        number = int(ext.split("-")[1])
        return httpx.Response(200, json={"id": ext, "status": "processing", "progress": number})

    gateway.faults.append((lambda r: r.method == "GET", answer))
    assert tasks.sweep() == 20
    progress = dict(Task.objects.values_list("external_id", "progress"))
    assert progress == {f"ext-{i}": i for i in range(20)}
    assert sum(1 for r in gateway.requests if r.method == "GET") == 20
    assert not Task.objects.exclude(lease_token="").exists()


def test_a_long_download_renews_its_lease_and_stops_when_it_is_taken_over(gateway, owner, team, key, settings):
    settings.STUDIO_LEASE_SECONDS = 3
    generation = make_generation(owner, team, key)
    token = leases.claim(generation.task.pk, [TaskState.PENDING])
    start = time.monotonic()  # the clock since boot: patched values must be later than it
    keep = leases.renewer(generation.task, token)
    Task.objects.filter(pk=generation.task.pk).update(leased_until=timezone.now())  # about to expire
    with mock.patch("videos.worker.leases.time.monotonic", return_value=start + 10_000):
        keep(1024)
    renewed = Task.objects.get(pk=generation.task.pk).leased_until
    assert renewed > timezone.now() + timedelta(seconds=2)
    Task.objects.filter(pk=generation.task.pk).update(lease_token="someone-else")
    with (
        mock.patch("videos.worker.leases.time.monotonic", return_value=start + 20_000),
        pytest.raises(leases.LeaseLost),
    ):
        keep(2048)

"""Every dialect against a separate gateway server, over real HTTP on loopback.

A second process serves the sandbox (the studio's own, strict about each
dialect's documented rules) on its own port and database; the studio under test
runs on pytest-django's live server so that URL-only gateways can fetch the
signed reference-image URLs from it. One key per dialect points at that server,
and one generation per gateway (text-to-video where the model allows it, and
image-to-video everywhere) must complete and be archived. The server refuses any
field, type or value its documentation forbids, so a completed task is the proof
that none was sent.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from django.utils import timezone

from tests.conftest import add_key, make_generation, png_bytes
from videos.gateways import REGISTRY
from videos.models import ACTIVE_STATES, Asset, NewReference, Task, TaskState
from videos.worker import tasks

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


#: The keys the test's gateway "sold": it answers no other (videos/sandbox/keys.py).
SECRETS = [f"sk-{dialect}-separate" for dialect in REGISTRY]


@pytest.fixture
def gateway_server(tmp_path, live_server):
    """A separate process serving the sandbox gateway; yields its base URL. It shares the
    studio's SECRET_KEY (from this process's environment) and public address, so that it
    can verify the studio's signed reference links, the only URLs it fetches."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DEBUG": "true",
        "STUDIO_SANDBOX_ENABLED": "true",
        "STUDIO_PUBLIC_URL": live_server.url,
        "STUDIO_SANDBOX_RUN_SECONDS": "1",
        "SQLITE_PATH": str(tmp_path / "gateway.sqlite3"),
        "DATABASE_URL": "",  # the gateway keeps its own SQLite file, whatever the studio uses
        "REDIS_URL": "",
        "MEDIA_ROOT": str(tmp_path / "gateway-media"),
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    keys = "".join(f"{secret}\n" for secret in SECRETS)
    subprocess.run([sys.executable, "manage.py", "sandbox_key"], cwd=ROOT, env=env, input=keys, text=True, check=True)
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail("the gateway server did not start")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_every_dialect_completes_against_a_separate_gateway(gateway_server, live_server, poller, owner, team, settings):
    settings.STUDIO_PUBLIC_URL = live_server.url
    # The gateway server is on loopback: allowed like a self-hosted gateway (SSRF guard).
    settings.STUDIO_ALLOWED_PRIVATE_HOSTS = [gateway_server.removeprefix("http://")]
    started = []
    for dialect, gateway in REGISTRY.items():
        key = add_key(
            owner,
            team,
            dialect=dialect,
            secret=f"sk-{dialect}-separate",  # one of SECRETS
            base_url=gateway_server + "/sandbox" + gateway.sandbox_path,
            label=dialect,
        )
        for spec in gateway.models:
            image = NewReference("image/png", png_bytes((320, 180), (20, 140, 90)), 320, 180)
            started.append(
                (
                    dialect,
                    spec.model,
                    "image",
                    make_generation(owner, team, key, prompt=f"{dialect} image", references=[image], model=spec.model),
                )
            )
            if spec.text_to_video:
                started.append(
                    (
                        dialect,
                        spec.model,
                        "text",
                        make_generation(owner, team, key, prompt=f"{dialect} text", model=spec.model),
                    )
                )
    for *_, generation in started:
        tasks.submit_task(generation.task.pk)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and Task.objects.filter(state__in=ACTIVE_STATES).exists():
        # Skip the gateways' real cadences (up to 5 s): poll whatever is running now.
        Task.objects.filter(state__in=[TaskState.QUEUED, TaskState.PROCESSING]).update(next_poll_at=timezone.now())
        time.sleep(0.5)
    outcome = {(d, m, kind): Task.objects.get(generation=g).state for d, m, kind, g in started}
    errors = {
        (d, m, kind): Task.objects.get(generation=g).last_error
        for d, m, kind, g in started
        if outcome[(d, m, kind)] != TaskState.COMPLETED
    }
    assert errors == {}
    assert Asset.objects.count() == len(started)
    assert {d for d, *_ in started} == set(REGISTRY)

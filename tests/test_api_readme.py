"""The README's "API from zero", run as written: a token made on the account page, then
the curl sequence and docs/api_example.py against the live server with the sandbox
gateway and the worker's poller, each downloading a playable MP4."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import av
import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Team, User
from tests.conftest import issued
from videos.models import GatewayKey, Generation, LedgerEntry, Price

ROOT = Path(__file__).resolve().parent.parent


def curl_sequence() -> str:
    """The README's curl block, without its placeholder ``export`` line."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- api-from-zero:curl -->\n```sh\n(.*?)```\n<!-- /api-from-zero:curl -->", readme, re.S)
    assert block, "README has no api-from-zero curl block"
    return re.sub(r"^export STUDIO=.*\n", "", block.group(1), flags=re.M)


@pytest.fixture
def studio(live_server, settings):
    """A member with a sandbox key on the live server, and a token made on the account page."""
    settings.STUDIO_SANDBOX_URL = f"{live_server.url}/sandbox"
    Price.objects.create(
        dialect="openai-preview", model="grok-imagine-video-1.5-preview", resolution="480p",
        usd_per_second=Decimal("0.05"), source="test", read_on=date(2026, 11, 1),
    )  # fmt: skip
    user = User.objects.create_user("demo", password="demo-pass-123")
    team = Team.create_personal(user)
    key = GatewayKey(
        team=team, owner=user, dialect="openai-preview", label="Sandbox", base_url=f"{live_server.url}/sandbox/openai"
    )
    key.set_secret(issued("sk-sandbox-readme-test"))
    key.save()
    browser = Client()
    browser.force_login(user)
    page = browser.post(
        "/account/tokens",
        {"team": str(team.uuid), "name": "README", "scopes": ["read", "generate"], "expires": "2099-01-01"},
    )
    assert page.status_code == 400  # past a year is refused
    expires = (timezone.now().date() + timedelta(days=30)).isoformat()
    page = browser.post(
        "/account/tokens",
        {"team": str(team.uuid), "name": "README", "scopes": ["read", "generate"], "expires": expires},
    )
    return {"STUDIO": f"{live_server.url}/api/v1", "TOKEN": page.context["new_token"]}


def assert_playable(path: Path) -> None:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
    assert stream.codec_context.name == "h264" and frames > 0


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")), reason="the README's sequence needs curl and jq")
def test_the_readmes_curl_sequence_downloads_a_playable_mp4(studio, poller, tmp_path):
    env = {"PATH": "/usr/bin:/bin", **studio}
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", curl_sequence()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 s × $0.05/s at 480p = $0.10" in done.stdout and "completed" in done.stdout
    assert_playable(tmp_path / "boat.mp4")
    assert Generation.objects.count() == 1 and LedgerEntry.objects.filter(kind="hold").count() == 1
    assert LedgerEntry.objects.filter(kind="charge").count() == 1


def test_the_python_example_downloads_a_playable_mp4(studio, poller, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "STUDIO_API": studio["STUDIO"], "STUDIO_TOKEN": studio["TOKEN"]}
    done = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "api_example.py"), str(tmp_path / "boat.mp4")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "estimate:" in done.stdout and "saved" in done.stdout
    assert_playable(tmp_path / "boat.mp4")
    assert Generation.objects.get().task.state == "completed"


def test_a_create_whose_connection_dropped_is_sent_again_safely(studio, live_server):
    """The script's connection drops after sending a create, before the answer: sending it
    again with the same Idempotency-Key makes one generation and one hold."""
    import json
    import socket
    from urllib.parse import urlsplit

    import httpx

    key = GatewayKey.objects.get()
    body = json.dumps({"key": str(key.uuid), "prompt": "A paper boat", "duration": 2, "resolution": "480p"})
    headers = {"Authorization": f"Bearer {studio['TOKEN']}", "Idempotency-Key": "drop-1"}
    address = urlsplit(live_server.url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        sock.sendall(
            f"POST /api/v1/generations HTTP/1.1\r\nHost: {address.netloc}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{head}Connection: close\r\n\r\n{body}".encode()
        )
        sock.recv(1)  # the server has begun answering; the client goes away without the rest
    again = httpx.post(
        f"{studio['STUDIO']}/generations", content=body, headers=headers | {"Content-Type": "application/json"}
    )
    assert again.status_code == 200 and again.json()["repeated"] is True
    assert Generation.objects.count() == 1 and LedgerEntry.objects.filter(kind="hold").count() == 1

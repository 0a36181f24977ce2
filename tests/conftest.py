"""Shared fixtures: three people (owner, teammate, outsider), keys, and the sandbox
gateway reached in-process through the one HTTP client (``videos.http``)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest
from django.core.handlers.wsgi import WSGIHandler
from PIL import Image

from accounts.models import Membership, Role, Team, User
from videos import http
from videos.models import GatewayKey

SANDBOX_HOST = "sandbox.test"


@dataclass
class Recorder(httpx.BaseTransport):
    """Routes requests for the sandbox hosts to the Django app in-process and records them.

    ``faults`` maps a predicate on the request to a callable that answers (or raises)
    instead, to play a misbehaving gateway. Any other host raises ConnectError:
    tests never reach the network.
    """

    hosts: set[str] = field(default_factory=lambda: {SANDBOX_HOST, "other-gateway.test"})
    requests: list[httpx.Request] = field(default_factory=list)
    faults: list[tuple[Callable[[httpx.Request], bool], Callable[[httpx.Request], httpx.Response]]] = field(
        default_factory=list
    )

    def __post_init__(self):
        self._wsgi = httpx.WSGITransport(app=WSGIHandler())

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        for matches, answer in self.faults:
            if matches(request):
                return answer(request)
        if request.url.host not in self.hosts:
            raise httpx.ConnectError(f"no network in tests ({request.url.host})", request=request)
        return self._wsgi.handle_request(request)

    def json_bodies(self, method: str = "POST") -> list[dict]:
        return [json.loads(r.content) for r in self.requests if r.method == method and r.content]


@pytest.fixture
def gateway(db) -> Recorder:
    """The in-process sandbox, installed as the studio's HTTP transport."""
    recorder = Recorder()
    http.use_transport(recorder)
    yield recorder
    http.use_transport(None)


def make_user(username: str) -> User:
    return User.objects.create_user(username=username, password="pw-" + username + "-123")


@pytest.fixture
def owner(db) -> User:
    user = make_user("alice")
    Team.create_personal(user)
    return user


@pytest.fixture
def team(owner) -> Team:
    return owner.teams.get()


@pytest.fixture
def teammate(team) -> User:
    user = make_user("bob")
    Membership.objects.create(team=team, user=user, role=Role.MEMBER)
    return user


@pytest.fixture
def outsider(db) -> User:
    user = make_user("mallory")
    Team.create_personal(user)
    return user


def add_key(
    user: User,
    team: Team,
    *,
    secret: str = "sk-sandbox-alice-0001",
    base_url: str | None = None,
    label: str = "Sandbox",
) -> GatewayKey:
    key = GatewayKey(
        team=team,
        owner=user,
        dialect="openai-preview",
        label=label,
        base_url=base_url or f"http://{SANDBOX_HOST}/sandbox/openai",
    )
    key.set_secret(secret)
    key.save()
    return key


@pytest.fixture
def key(owner, team) -> GatewayKey:
    return add_key(owner, team)


def png_bytes(size=(64, 36), color=(200, 40, 40)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def client_for(client):
    """Log ``user`` in on the test client and return it."""

    def login(user: User):
        client.force_login(user)
        return client

    return login

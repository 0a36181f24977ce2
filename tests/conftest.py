"""Shared fixtures: three people (owner, teammate, outsider), keys, and the sandbox
gateway reached in-process through the one HTTP client (``videos.lib.http``)."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.utils import timezone, translation
from PIL import Image

from accounts.models import Membership, Role, Team, User
from videos.lib import http
from videos.models import GatewayKey, Generation, Review, Task, TaskState

SANDBOX_HOST = "sandbox.test"
STUDIO_HOST = "studio.test"  # STUDIO_PUBLIC_URL in tests: signed reference URLs live here


@dataclass
class Recorder(httpx.BaseTransport):
    """Routes requests for the sandbox hosts to the Django app in-process and records them.

    ``faults`` maps a predicate on the request to a callable that answers (or raises)
    instead, to play a misbehaving gateway. Any other host raises ConnectError:
    tests never reach the network.
    """

    hosts: set[str] = field(default_factory=lambda: {SANDBOX_HOST, STUDIO_HOST, "other-gateway.test"})
    requests: list[httpx.Request] = field(default_factory=list)
    faults: list[tuple[Callable[[httpx.Request], bool], Callable[[httpx.Request], httpx.Response]]] = field(
        default_factory=list
    )

    def __post_init__(self):
        self._wsgi = httpx.WSGITransport(app=WSGIHandler())
        self._depth = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        for matches, answer in self.faults:
            if matches(request):
                return answer(request)
        if request.url.host not in self.hosts:
            raise httpx.ConnectError(f"no network in tests ({request.url.host})", request=request)
        # As Django's test client does: the in-process request must not close the
        # test's database connection (and with it the test's transaction) when it ends.
        # A request may nest (a sandbox fetching a signed reference URL): only the
        # outermost one reconnects the closer.
        if self._depth == 0:
            signals.request_started.disconnect(close_old_connections)
            signals.request_finished.disconnect(close_old_connections)
        self._depth += 1
        try:
            # A gateway is another process: its request (through LocaleMiddleware and the
            # member-preferences middleware) must not change the caller's language or zone.
            with translation.override(translation.get_language()), timezone.override(timezone.get_current_timezone()):
                response = self._wsgi.handle_request(request)
                content = b"".join(response.stream)
                response.stream.close()  # Django sends request_finished here
            return httpx.Response(response.status_code, headers=response.headers, content=content, request=request)
        finally:
            self._depth -= 1
            if self._depth == 0:
                signals.request_started.connect(close_old_connections)
                signals.request_finished.connect(close_old_connections)

    def json_bodies(self, method: str = "POST") -> list[dict]:
        return [json.loads(r.content) for r in self.requests if r.method == method and r.content]


def database_env() -> dict[str, str]:
    """Environment variables that point a subprocess running the production settings
    at this test's own database (the SQLite file, or PostgreSQL's test database)."""
    from urllib.parse import quote

    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return {"DATABASE_URL": "", "SQLITE_PATH": db["NAME"]}
    user, password = quote(db["USER"] or "", safe=""), quote(db["PASSWORD"] or "", safe="")
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or "5432"
    return {"DATABASE_URL": f"postgres://{user}:{password}@{host}:{port}/{db['NAME']}"}


@pytest.fixture(autouse=True)
def _site_language():
    """Each test starts in the site's language: a request the test client made in another
    test (LocaleMiddleware activates the page's language and leaves it) must not carry over."""
    from django.conf import settings

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


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
    dialect: str = "openai-preview",
    secret: str = "sk-sandbox-alice-0001",
    base_url: str | None = None,
    label: str = "Sandbox",
) -> GatewayKey:
    """A key for ``dialect``, pointing at the in-process sandbox unless ``base_url`` is given.

    A key on a sandbox (the in-process one, or a live server's ``…/sandbox/…``) is issued
    to it, as ``videos.actions.add_key`` issues a member's: the sandbox answers no other."""
    from urllib.parse import urlsplit

    from videos.gateways import get_gateway_class
    from videos.sandbox import keys as sandbox_keys

    sandbox = f"http://{SANDBOX_HOST}/sandbox{get_gateway_class(dialect).sandbox_path}"
    key = GatewayKey(team=team, owner=user, dialect=dialect, label=label, base_url=base_url or sandbox)
    key.set_secret(secret)
    key.save()
    if urlsplit(key.base_url).path.startswith("/sandbox/"):
        sandbox_keys.issue(secret)
    return key


@pytest.fixture
def key(owner, team) -> GatewayKey:
    return add_key(owner, team)


def issued(secret: str) -> str:
    """``secret``, issued to the in-process sandbox (it answers no other key); for tests
    that call the sandbox directly rather than through a key made by ``add_key``."""
    from videos.sandbox import keys as sandbox_keys

    sandbox_keys.issue(secret)
    return secret


def studio_image_url(name: str) -> str:
    """A signed reference link of the studio, signed as ``videos.lib.references`` signs
    them but carrying the file ``name`` (e.g. ``"cup.png"``) instead of a reference id:
    the sandbox fetches only such links, and ``studio_images`` serves them."""
    from django.core import signing

    from videos.lib import references

    stem, _, ext = name.rpartition(".")
    return f"http://{STUDIO_HOST}/r/{signing.dumps(stem, salt=references.SALT, compress=True)}.{ext}"


@dataclass
class StudioImages:
    """Files at ``studio_image_url`` links: ``files`` maps a name to (content type, bytes);
    any other name answers 404, as the studio does for a reference that is gone."""

    files: dict[str, tuple[str, bytes]]

    def url(self, name: str) -> str:
        return studio_image_url(name)

    def name(self, request: httpx.Request) -> str | None:
        from django.core import signing

        from videos.lib import references

        if request.url.host != STUDIO_HOST or not request.url.path.startswith("/r/"):
            return None
        token, _, ext = request.url.path.removeprefix("/r/").rpartition(".")
        try:
            stem = signing.loads(token, salt=references.SALT)
        except signing.BadSignature:
            return None
        return f"{stem}.{ext}" if isinstance(stem, str) else None  # a real reference's id is an int

    def answer(self, request: httpx.Request) -> httpx.Response:
        if self.name(request) not in self.files:
            return httpx.Response(404, text="not found")
        content_type, data = self.files[self.name(request)]
        return httpx.Response(200, content=data, headers={"Content-Type": content_type})


@pytest.fixture
def studio_images(gateway) -> StudioImages:
    """The studio serving a landscape and a portrait PNG, a text file and an HTML page at
    signed links (``studio_images.url("landscape.png")``); add more to ``files``."""
    images = StudioImages(
        {
            "landscape.png": ("image/png", png_bytes((320, 180))),
            "portrait.png": ("image/png", png_bytes((180, 320))),
            "notes.txt": ("text/plain", b"not an image"),
            "page.png": ("text/html", b"<html></html>"),
        }
    )
    gateway.faults.append((lambda r: images.name(r) is not None, images.answer))
    return images


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


def make_generation(owner, team, key, prompt="A paper boat on a rainy street", references=(), **options):
    """Save a generation through ``key`` as the compose form would (without queueing it).

    ``options`` override the key's first model's defaults (``model``, ``duration``
    in seconds, ``aspect_ratio``, ``resolution``, ``audio``); tests default to a
    1 s clip at the lowest resolution so the sandbox renders fast. ``references``
    are ``videos.models.NewReference`` items.
    """
    from videos import actions
    from videos.gateways.base import GenerationInput

    spec = key.gateway_class.spec(options.get("model"))
    shortest = min(spec.durations)
    choices = GenerationInput(
        model=spec.model,
        prompt=prompt,
        duration=options.get("duration", 1 if 1 in spec.durations else shortest),
        aspect_ratio=options.get("aspect_ratio", spec.default_aspect_ratio),
        resolution=options.get("resolution", spec.resolutions[0] if spec.resolutions else None),
        audio=options.get("audio", spec.default_audio if spec.audio else None),
    )
    return actions.create_generation(team=team, author=owner, key=key, choices=choices, references=references)


def run_until_done(task_id: int, rounds: int = 10):
    """Drive a task the way the worker does (the queued submit, then sweeps and the
    archive) until it ends or ``rounds`` run out; returns the Task."""
    from django.utils import timezone

    from videos.models import Task, TaskState
    from videos.worker import tasks

    tasks.submit_task(task_id)
    for _ in range(rounds):
        task = Task.objects.get(pk=task_id)
        if not task.is_active:
            return task
        Task.objects.filter(pk=task_id).update(next_poll_at=timezone.now())
        if task.state == TaskState.ARCHIVING:
            tasks.archive_task(task_id)
        else:
            tasks.sweep()
    return Task.objects.get(pk=task_id)


@pytest.fixture
def poller():
    """The worker's poller as a thread on the real network stack (loopback only), for
    tests that run the studio on pytest-django's live server: sweeps due tasks every
    0.3 s until the test ends."""
    import threading

    from django.db import connection

    from videos.worker import tasks

    http.use_transport(None)
    stop = threading.Event()

    def loop():
        try:
            while not stop.is_set():
                tasks.sweep()
                stop.wait(0.3)
        finally:
            connection.close()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=10)


def _hypothesis_profiles() -> None:
    """CI replays the same examples every run (a new random find must not block a landing);
    local runs keep exploring with fresh examples."""
    import os

    from hypothesis import settings as hypothesis_settings

    hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
    if os.environ.get("CI"):
        hypothesis_settings.load_profile("ci")


_hypothesis_profiles()


# --- media in an S3 bucket (tests/test_storage_s3.py, the signed-delivery browser test) -------

S3_REGION = "us-east-1"


@pytest.fixture(scope="session")
def s3_endpoint():
    """A real S3 server on loopback: moto's server mode, at STUDIO_TEST_S3_ENDPOINT when
    CI started one (``.ci/services``), otherwise started here in a thread."""
    url = os.environ.get("STUDIO_TEST_S3_ENDPOINT")
    if url:
        yield url.rstrip("/")
        return
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per S3 request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def bucket_storage(bucket: str, endpoint: str, **client) -> dict:
    """The STORAGES["default"] entry project/settings.py builds for S3_BUCKET."""
    from videos.lib.storage import bucket_options

    options = bucket_options(bucket, endpoint_url=endpoint, region=S3_REGION, addressing_style="path", **client)
    return {"BACKEND": "videos.lib.storage.BucketStorage", "OPTIONS": options}


@pytest.fixture
def bucket(s3_endpoint, settings, monkeypatch):
    """A fresh bucket, made the default storage for this test."""
    import types
    import uuid

    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", S3_REGION)
    name = f"studio-test-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name=S3_REGION)
    s3.create_bucket(Bucket=name)
    settings.STORAGES = {**settings.STORAGES, "default": bucket_storage(name, s3_endpoint)}
    return types.SimpleNamespace(name=name, s3=s3, endpoint=s3_endpoint)


# --- review and team helpers shared by several modules ---------------------------------------


def finished(author, team, key, prompt="A paper boat on a rainy street", *, review=Review.AWAITING) -> Generation:
    """A completed generation (rendered by the sandbox, with its video and poster) in ``review``."""
    generation = make_generation(author, team, key, prompt=prompt)
    assert run_until_done(generation.task.pk).state == TaskState.COMPLETED
    Generation.objects.filter(pk=generation.pk).update(review=review)
    return Generation.objects.get(pk=generation.pk)


def awaiting(author, team, key, prompt="A paper boat on a rainy street") -> Generation:
    """A generation marked completed and awaiting review, without rendering (fast)."""
    generation = make_generation(author, team, key, prompt=prompt)
    Task.objects.filter(pk=generation.task.pk).update(state=TaskState.COMPLETED)
    Generation.objects.filter(pk=generation.pk).update(review=Review.AWAITING)
    return Generation.objects.get(pk=generation.pk)


def join(team, username: str, role: Role):
    user = make_user(username)
    membership = Membership.objects.create(team=team, user=user, role=role)
    return user, membership


@pytest.fixture
def bob_key(teammate, team):
    return add_key(teammate, team, secret="sk-sandbox-bob-0002", label="Bob's sandbox")


@pytest.fixture
def priced(db):
    """A price for the openai-preview sandbox at 480p ($0.05 a second), as a site admin would add it."""
    from datetime import date
    from decimal import Decimal

    from videos.models import Price

    return Price.objects.create(
        dialect="openai-preview",
        model="grok-imagine-video-1.5-preview",
        resolution="480p",
        usd_per_second=Decimal("0.05"),
        source="test",
        read_on=date(2026, 11, 1),
    )

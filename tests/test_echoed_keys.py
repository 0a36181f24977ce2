"""A key its gateway echoes back never reaches a page, a notification, an email, a log line
or a database column.

A gateway that refuses a key often quotes it ("Incorrect API key provided: sk-…", the usual
OpenAI wording), whole, cut short, URL-encoded or inside a JSON snippet. The adapter
(``videos.gateways.base.Gateway``) masks its key's secret, and any prefix of it of more than
8 characters, as ``••••last4`` in everything the gateway says, before the worker stores or
shows any of it; ``videos.lib.vault.redact`` catches the generic shapes (``Bearer%20…``,
``?key=…``, ``"key": "…"``) of any other secret.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import unquote

import httpx
import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.models import Membership, Role
from tests.conftest import add_key, make_generation, make_user, png_bytes, run_until_done
from videos.gateways import REGISTRY, GatewayError, get_gateway_class
from videos.gateways.base import GatewayStatus, GenerationInput, ReferenceImageData
from videos.lib import http, vault
from videos.models import AuditEntry, Event, Notification, Task, TaskState

SECRET = "sk-echo-Q7f3a9c2e71b4d05e8"
LAST4 = SECRET[-4:]
MASK = vault.mask(LAST4)
#: The longest prefix that may stay (8 characters: ``sk-echo-``); one more is a leak.
LEAK = SECRET[:9]


def percent_encoded(text: str) -> str:
    """Every character of ``text`` as ``%XX``, as an over-eager gateway encodes it."""
    return "".join(f"%{byte:02X}" for byte in text.encode())


def leaks(text: str) -> bool:
    """True when ``text`` holds the secret or a prefix of it of more than 8 characters, in
    any case, plain or percent-encoded."""
    text = str(text).lower()
    return LEAK.lower() in text or LEAK.lower() in unquote(text) or percent_encoded(LEAK).lower() in text


# --- what the gateway echoes -------------------------------------------------------------

#: The echo in the gateway's message (None: the message is plain, and the secret sits
#: elsewhere in the answer's JSON body, the ``raw`` the studio keeps).
ECHOES = {
    "whole": f"Incorrect API key provided: {SECRET}.",
    "prefix-12": f"Incorrect API key provided: {SECRET[:12]}…{LAST4}.",
    "bearer-url": f"Incorrect API key provided: header Bearer%20{SECRET} refused.",
    "query-key": f"Incorrect API key provided: https://gw.example/v1/videos?key={SECRET}&v=1 refused.",
    "json-key": f'Incorrect API key provided: {{"key": "{SECRET}"}}.',
    "percent-encoded": f"Incorrect API key provided: {percent_encoded(SECRET)}.",
    "upper-case": f"Incorrect API key provided: {SECRET.upper()}.",
    "raw-body": None,
}
PLAIN = "Incorrect API key provided."


def error_body(dialect: str, echo: str | None) -> dict:
    """A refusal in the dialect's own envelope, echoing the key as ``echo`` says."""
    message = echo or PLAIN
    if dialect == "xai":  # docs/gateways.md §6.3: {"code": …, "error": "…"}
        body = {"code": "Client specified an invalid argument", "error": message}
    else:  # the OpenAI envelope: {"error": {"message", "type", "code"}}
        body = {"error": {"message": message, "type": "invalid_request_error", "code": "invalid_api_key"}}
    if echo is None:
        body["received"] = SECRET
        body["trace"] = {"headers": [f"Authorization: Bearer {SECRET}"], "seen": SECRET[:12]}
    return body


def failed_task_body(dialect: str, echo: str | None) -> dict:
    """A status answer reporting the task failed, its reason echoing the key."""
    message = echo or PLAIN
    if dialect == "xai":
        body = {"status": "failed", "error": message}
    else:
        body = {"id": "vid_echo", "status": "failed", "progress": 0, "error": {"message": message}}
    if echo is None:
        body["received"] = SECRET
    return body


def accepted_body(dialect: str) -> dict:
    if dialect == "xai":
        return {"request_id": "req-echo"}
    return {"id": "vid_echo", "object": "video", "status": "queued", "progress": 0}


class EchoingGateway:
    """A fake gateway wire for ``dialect`` that echoes the key at ``phase``.

    ``submit``: the submit is refused with 401; ``submit-unknown``: it answers 500 (the
    task may exist: needs attention); ``poll``: the submit is accepted and the poll refused
    with 401; ``poll-retry``: the first poll answers 503, the next 401; ``failed-status``:
    the poll reports the task failed with the echo as its reason. ``echoed`` counts the
    answers that carried the key.
    """

    def __init__(self, dialect: str, phase: str, echo: str | None):
        self.dialect, self.phase, self.echo = dialect, phase, echo
        self.echoed = 0
        self.polls = 0

    def _echo(self, status: int, body: dict) -> httpx.Response:
        self.echoed += 1
        return httpx.Response(status, json=body)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == f"Bearer {SECRET}"  # the key does go out
        refusal = error_body(self.dialect, self.echo)
        if request.method == "POST":
            if self.phase == "submit":
                return self._echo(401, refusal)
            if self.phase == "submit-unknown":
                return self._echo(500, refusal)
            return httpx.Response(200, json=accepted_body(self.dialect))
        self.polls += 1
        if self.phase == "poll-retry" and self.polls == 1:
            return self._echo(503, refusal)
        if self.phase == "failed-status":
            return self._echo(200, failed_task_body(self.dialect, self.echo))
        return self._echo(401, refusal)


# --- the places the text can land ----------------------------------------------------------


@pytest.fixture
def author(owner):
    owner.email = "alice@example.com"
    owner.save()
    return owner


@pytest.fixture
def viewer(team):
    user = make_user("vera")
    Membership.objects.create(team=team, user=user, role=Role.VIEWER)
    return user


def pages_seen_by(user, generation) -> dict[str, str]:
    """The pages where a generation's state and messages show, as ``user`` sees them."""
    client = Client()
    client.force_login(user)
    urls = {
        "detail": reverse("generation", args=[generation.uuid]),
        "card": reverse("card", args=[generation.uuid]),
        "studio": reverse("studio"),
        "history": reverse("history"),
        "notifications": reverse("notifications"),
    }
    seen = {}
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code in (200, 286), (name, response.status_code)
        seen[f"{user.username} {name}"] = response.content.decode()
    return seen


def every_row() -> str:
    """Every column of every row of every table in the database, as text: none may hold it."""
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            rows += [f"{table}: {row!r}" for row in cursor.fetchall()]
    assert any(row.startswith("videos_task:") for row in rows)
    return "\n".join(rows)


def drive(dialect: str, phase: str, echo: str | None, author, team, viewer, caplog, capture) -> dict[str, str]:
    """Run one generation against the echoing gateway to its end; every place its text
    can land, by name."""
    key = add_key(author, team, dialect=dialect, secret=SECRET, base_url=get_gateway_class(dialect).default_base_url)
    wire = EchoingGateway(dialect, phase, echo)
    generation = make_generation(author, team, key, prompt="A lighthouse in a storm")
    caplog.set_level(logging.DEBUG)
    http.use_transport(httpx.MockTransport(wire))
    try:
        with capture(execute=True):  # the notification's email goes out on commit
            task = run_until_done(generation.task.pk)
    finally:
        http.use_transport(None)
    assert wire.echoed >= 1  # the gateway did answer with the key in it
    expected = TaskState.NEEDS_ATTENTION if phase == "submit-unknown" else TaskState.FAILED
    assert task.state == expected, task.last_error
    assert "Incorrect API key provided" in task.last_error  # the gateway's words still reach the member

    places = {"Task.last_error": task.last_error, "Task.last_raw": json.dumps(task.last_raw)}
    task_row = Task.objects.filter(pk=task.pk).values().get()
    places["Task (every column)"] = json.dumps(task_row, default=str)
    for event in Event.objects.filter(generation=generation):
        places[f"Event {event.kind} message"] = event.message
        places[f"Event {event.kind} data"] = json.dumps(event.data)
    for note in Notification.objects.all():
        places[f"Notification {note.pk}"] = note.message
    for entry in AuditEntry.objects.all():
        places[f"AuditEntry {entry.action}"] = json.dumps([entry.target, entry.data], default=str)
    for n, message in enumerate(mail.outbox):
        places[f"email {n}"] = f"{message.subject}\n{message.body}"
    places.update(pages_seen_by(author, generation))
    places.update(pages_seen_by(viewer, generation))
    places["every row"] = every_row()
    places["log"] = caplog.text + "\n".join(record.getMessage() for record in caplog.records)
    if phase != "submit-unknown":
        # A failure tells its author, in the studio and by email.
        assert Notification.objects.filter(user=author, generation=generation).exists()
        assert len(mail.outbox) == 1 and mail.outbox[0].to == ["alice@example.com"]
        assert "Incorrect API key provided" in mail.outbox[0].body
    return places


DIALECTS = ("openai-preview", "xai")


@pytest.mark.parametrize("echo", ECHOES.values(), ids=ECHOES.keys())
@pytest.mark.parametrize("phase", ["submit", "poll"])
@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_key_echoed_in_a_refusal_lands_nowhere(
    dialect, phase, echo, author, team, viewer, caplog, django_capture_on_commit_callbacks
):
    places = drive(dialect, phase, echo, author, team, viewer, caplog, django_capture_on_commit_callbacks)
    leaked = [name for name, text in places.items() if leaks(text)]
    assert leaked == []
    if echo is not None:
        # The echo is shown masked, as the keys page shows the key; the generic patterns
        # then take the value of a ``key=`` or ``"key":`` whole.
        shown = "[redacted]" if echo in (ECHOES["query-key"], ECHOES["json-key"]) else MASK
        assert shown in places["Task.last_error"]


@pytest.mark.parametrize("echo", [ECHOES["whole"], ECHOES["prefix-12"], None], ids=["whole", "prefix-12", "raw-body"])
@pytest.mark.parametrize("phase", ["submit-unknown", "poll-retry", "failed-status"])
@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_key_echoed_on_the_other_paths_lands_nowhere(
    dialect, phase, echo, author, team, viewer, caplog, django_capture_on_commit_callbacks
):
    """A 5xx on submit (needs attention), a 503 then a 401 on polls (a retry line on the
    timeline first), a task the gateway reports failed with the echo as its reason."""
    places = drive(dialect, phase, echo, author, team, viewer, caplog, django_capture_on_commit_callbacks)
    leaked = [name for name, text in places.items() if leaks(text)]
    assert leaked == []
    if phase == "poll-retry":
        assert any(name.startswith("Event retry") for name in places)


# --- the adapters themselves, every dialect ---------------------------------------------------


def choices_for(dialect: str) -> GenerationInput:
    """The model's defaults; a reference image where the model makes video only from one."""
    spec = get_gateway_class(dialect).spec()
    references = []
    if not spec.text_to_video:
        references = [ReferenceImageData("image/png", data=png_bytes(), url="https://img.example/ref.png")]
    return GenerationInput(
        model=spec.model,
        prompt="A lighthouse in a storm",
        duration=spec.default_duration,
        aspect_ratio=spec.default_aspect_ratio,
        resolution=spec.default_resolution,
        audio=spec.default_audio if spec.audio else None,
        references=references,
    )


def adapter_answering(dialect: str, handler):
    cls = get_gateway_class(dialect)
    return cls(cls.default_base_url, SECRET, client=httpx.Client(transport=httpx.MockTransport(handler)))


def assert_error_clean(exc: GatewayError) -> None:
    assert not leaks(exc.message) and not leaks(str(exc)) and not leaks(repr(exc.args))
    assert not leaks(json.dumps(exc.raw, default=str))


@pytest.mark.parametrize("status", [400, 401, 403, 429, 500])
@pytest.mark.parametrize("dialect", sorted(REGISTRY))
def test_every_adapter_masks_its_key_in_an_error_answer(dialect, status):
    body = {
        "error": {"message": f"Incorrect API key provided: {SECRET}", "param": SECRET[:12]},
        "code": 40100,
        "msg": f"bad key {SECRET}",
        "detail": {"key": SECRET},
    }
    gateway = adapter_answering(dialect, lambda request: httpx.Response(status, json=body))
    with pytest.raises(GatewayError) as submitted:
        gateway.submit(choices_for(dialect))
    assert_error_clean(submitted.value)
    with pytest.raises(GatewayError) as polled:
        gateway.poll("task-1")
    assert_error_clean(polled.value)
    assert MASK in polled.value.message or "[redacted]" in polled.value.message


@pytest.mark.parametrize("dialect", sorted(REGISTRY))
def test_every_adapter_masks_its_key_in_an_answer_that_is_not_json(dialect):
    text = f"<html>401: the key {SECRET} is unknown</html>"
    for status in (200, 401, 502):
        gateway = adapter_answering(dialect, lambda request, status=status: httpx.Response(status, text=text))
        with pytest.raises(GatewayError) as polled:
            gateway.poll("task-1")
        assert_error_clean(polled.value)


def test_a_status_answer_echoing_the_key_is_masked_in_what_the_adapter_hands_back(caplog):
    """xAI's answer quoting the key as its status word, its error and an extra field: the
    PollResult, and the warning about the unknown word, carry only the mask."""
    caplog.set_level(logging.DEBUG)
    answer = {"status": SECRET, "progress": 10, "note": f"for {SECRET}", SECRET: "as a field name"}
    gateway = adapter_answering("xai", lambda request: httpx.Response(200, json=answer))
    result = gateway.poll("req-1")
    assert result.status == GatewayStatus.RUNNING
    assert not leaks(result.status_word) and not leaks(json.dumps(result.raw))
    assert result.raw["note"] == f"for {MASK}" and MASK in result.raw
    assert "unknown status" in caplog.text and not leaks(caplog.text)


def test_a_failed_tasks_reason_echoing_the_key_is_masked():
    answer = {"id": "vid_1", "status": "failed", "error": {"message": f"key {SECRET} was revoked"}}
    gateway = adapter_answering("openai-preview", lambda request: httpx.Response(200, json=answer))
    result = gateway.poll("vid_1")
    assert result.status == GatewayStatus.FAILED and result.error == f"key {MASK} was revoked"
    assert not leaks(json.dumps(result.raw))


def test_a_video_url_carrying_the_key_is_not_kept_with_it():
    answer = {"status": "done", "video": {"url": f"https://vidgen.x.ai/clip.mp4?sig={SECRET}"}}
    gateway = adapter_answering("xai", lambda request: httpx.Response(200, json=answer))
    result = gateway.poll("req-1")
    assert result.status == GatewayStatus.SUCCEEDED
    assert not leaks(result.video_url) and result.video_url.startswith("https://vidgen.x.ai/clip.mp4?sig=")


def test_a_task_id_carrying_the_key_is_refused_as_maybe_created():
    gateway = adapter_answering("xai", lambda request: httpx.Response(200, json={"request_id": SECRET}))
    with pytest.raises(GatewayError) as refused:
        gateway.submit(choices_for("xai"))
    assert refused.value.maybe_created and not refused.value.permanent
    assert_error_clean(refused.value)


def test_an_accepted_submissions_raw_answer_is_masked():
    answer = {"id": "vid_1", "status": "queued", "progress": 0, "echo": {"auth": f"Bearer {SECRET}"}}
    gateway = adapter_answering("openai-preview", lambda request: httpx.Response(200, json=answer))
    submission = gateway.submit(choices_for("openai-preview"))
    assert submission.external_id == "vid_1" and not leaks(json.dumps(submission.raw))


def test_an_adapter_never_masks_an_answer_without_its_key():
    answer = {"status": "done", "video": {"url": "https://vidgen.x.ai/clip.mp4?token=abc&v=1", "duration": 6}}
    gateway = adapter_answering("xai", lambda request: httpx.Response(200, json=answer))
    result = gateway.poll("req-1")
    # A signed CDN link keeps its token: the generic patterns are not applied to the URL.
    assert result.video_url == "https://vidgen.x.ai/clip.mp4?token=abc&v=1"
    assert result.raw["video"]["duration"] == 6


# --- vault.redact: the generic patterns ---------------------------------------------------------

OTHER = "tok-0123456789abcdefXYZ"  # a secret the studio does not know: only the patterns catch it


@pytest.mark.parametrize(
    "text",
    [
        f"Authorization: Bearer {OTHER}",
        f"header Bearer%20{OTHER} refused",
        f"header Bearer+{OTHER} refused",
        f"Bearer%20{OTHER.replace('-', '%2D')}",
        f"GET https://gw.example/v1/videos?key={OTHER}",
        f"GET https://gw.example/v1/videos?v=1&key={OTHER}&x=2",
        f"GET https://gw.example/v1/videos?api_key={OTHER}",
        f"GET https://gw.example/v1/videos?apikey={OTHER}#top",
        f"GET https://gw.example/v1/videos?token={OTHER}",
        f"GET https://gw.example/v1/videos?access_token={OTHER}",
        f"next=https%3A%2F%2Fgw.example%2Fv%3Fkey%3D{OTHER}%26v%3D1",
        f'bad credentials {{"key": "{OTHER}"}}',
        f"bad credentials {{'key': '{OTHER}'}}",
        f'bad credentials {{"api_key": "{OTHER}"}}',
        f'bad credentials {{\\"key\\": \\"{OTHER}\\"}}',
        f'bad credentials {{\\"api_key\\":\\"{OTHER}\\"}}',
        f"x-api-key: {OTHER}",
        f"password={OTHER}",
    ],
)
def test_redact_catches_each_generic_pattern(text):
    redacted = vault.redact(text)
    assert OTHER not in redacted and OTHER[:9] not in redacted
    assert "[redacted]" in redacted
    assert vault.redact(redacted) == redacted  # a second pass changes nothing


def test_redact_keeps_what_is_around_a_query_secret():
    assert vault.redact(f"https://gw.example/v?a=1&key={OTHER}&b=2#frag") == (
        "https://gw.example/v?a=1&key=[redacted]&b=2#frag"
    )


@pytest.mark.parametrize(
    "text",
    [
        "monkey=banana",
        "https://gw.example/v?keyword=lighthouse",
        "the key: a paper boat",
        "Incorrect API key provided.",
        '{"keys": "none"}',
        "max_tokens=800",
    ],
)
def test_redact_leaves_ordinary_text_alone(text):
    assert vault.redact(text) == text


def test_the_log_filter_catches_the_new_patterns_and_tracebacks():
    logger = logging.getLogger("videos.test_echoed_keys")
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    handler.addFilter(vault.RedactSecretsFilter())
    logger.addHandler(handler)
    try:
        logger.warning("upstream said: header Bearer%%20%s", OTHER)
        logger.warning("fetched %s", f"https://gw.example/v?key={OTHER}")
        logger.warning("answer %s", f'{{"key": "{OTHER}"}}')
        try:
            raise ValueError(f"failed with ?key={OTHER}")
        except ValueError:
            logger.exception("a step raised")
    finally:
        logger.removeHandler(handler)
    assert len(records) == 4
    formatter = logging.Formatter()
    for record in records:
        assert OTHER not in formatter.format(record)
    assert "ValueError: failed with ?key=[redacted]" in records[-1].exc_text


# --- vault.KeyRedactor: the key's own secret -----------------------------------------------------


@pytest.mark.parametrize(
    ("echo", "masked"),
    [
        (SECRET, MASK),
        (f"provided: {SECRET}.", f"provided: {MASK}."),
        (f"provided: {SECRET[:12]}…{LAST4}", f"provided: {MASK}…{LAST4}"),
        (SECRET[:9], MASK),  # 9 characters: masked
        (SECRET[:9] + " and more", MASK + " and more"),
        (SECRET.upper(), MASK),
        (percent_encoded(SECRET), MASK),
        (percent_encoded(SECRET).lower(), MASK),
        (SECRET.replace("-", "%2D"), MASK),
        (SECRET.replace("-", "\\u002d"), MASK),
        (f"{SECRET}{SECRET[:10]}", MASK + MASK),
        (f"a {SECRET[:10]} b {SECRET} c", f"a {MASK} b {MASK} c"),
    ],
)
def test_the_key_and_its_long_prefixes_are_masked(echo, masked):
    assert vault.KeyRedactor(SECRET)(echo) == masked


@pytest.mark.parametrize("prefix", [SECRET[:n] for n in range(1, 9)])
def test_a_prefix_of_eight_characters_or_fewer_is_left_alone(prefix):
    """``sk-echo-`` could be ordinary text (every key of the gateway starts so)."""
    assert vault.KeyRedactor(SECRET)(f"keys look like {prefix}…") == f"keys look like {prefix}…"


def test_a_piece_from_the_middle_of_the_key_is_not_a_prefix():
    middle = SECRET[5:17]
    assert vault.KeyRedactor(SECRET)(middle) == middle


def test_a_short_secret_is_masked_only_whole_and_standing_alone():
    redactor = vault.KeyRedactor("abc12345")
    assert redactor("key abc12345, abc1234 and xabc12345") == f"key {vault.mask('2345')}, abc1234 and xabc12345"
    assert vault.KeyRedactor("k")("the task k: grok") == f"the task {vault.mask('k')}: grok"


def test_an_empty_secret_masks_nothing():
    assert vault.KeyRedactor("")("anything at all") == "anything at all"


def test_the_redactor_never_shows_its_secret():
    redactor = vault.KeyRedactor(SECRET)
    assert repr(redactor) == f"<KeyRedactor {MASK}>" and SECRET not in str(redactor)
    gateway = get_gateway_class("xai")("https://api.x.ai", SECRET)
    assert SECRET not in repr(gateway) and SECRET not in repr(vars(gateway).get("_mask_key"))


def test_redact_value_masks_every_string_and_key_at_any_depth():
    redactor = vault.KeyRedactor(SECRET)
    data = {"a": [SECRET, {"b": (f"x {SECRET}",)}], SECRET: 1, "n": 2.5, "none": None}
    assert vault.redact_value(data, redactor) == {"a": [MASK, {"b": [f"x {MASK}"]}], MASK: 1, "n": 2.5, "none": None}
    deep: list = [SECRET]
    for _ in range(5000):  # deeper than the recursion limit
        deep = [deep]
    redacted = vault.redact_value(deep, redactor)
    for _ in range(5000):
        redacted = redacted[0]
    assert redacted == [MASK]

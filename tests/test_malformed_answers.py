"""Malformed gateway answers, for every dialect in ``videos.gateways.REGISTRY``.

Two properties, over a corpus of broken answers (non-JSON, HTML error pages, empty
bodies, the wrong JSON type, every field of the wrong type, broken envelopes, error
envelopes on a 200, truncated and huge bodies, junk headers) and over
hypothesis-generated JSON:

* the adapter: ``poll`` (and ``submit``) return a sound ``PollResult`` /
  ``Submission`` or raise ``GatewayError``, never any other exception; a 2xx answer
  is never a *permanent* error (a glitch must not fail a paid task), and a junk 2xx
  answer to a submit is ``maybe_created`` (it must not be sent again and paid twice);
* the pipeline: a sweep over tasks whose gateway answers the junk (through the
  ``gateway`` fixture's ``faults``) never raises, and leaves each task with its lease
  released, either still active with a trace of what happened (a poll or a retry
  counted, or a message) or ended with a message, never stuck.

The pipeline tests run with ``transaction=True``: the sweep then writes in autocommit,
as in production, so a write the database refuses shows as it would there.

Answers that once broke the studio (a progress no float holds, NaN/Infinity, lone
surrogates, deep nesting, a huge ``Retry-After``, a video URL httpx cannot parse) are
kept as regression tests with minimal answers, and are in the corpus and the
hypothesis strategies too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.conftest import add_key
from videos import billing
from videos.gateways import REGISTRY
from videos.gateways.base import (
    GatewayError,
    GatewayStatus,
    GenerationInput,
    PollResult,
    ReferenceImageData,
    Submission,
)
from videos.models import ACTIVE_STATES, Billing, Generation, ReferenceImage, Task, TaskState
from videos.worker.sweep import sweep_once

DIALECTS = list(REGISTRY)
BASE = "http://gw.test"  # a host the test transport does not serve: no sandbox, no network
MISSING = object()


def examples(n: int):
    return hypothesis_settings(
        max_examples=n,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# --- answers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """One HTTP answer a gateway might give: status, raw body bytes and headers."""

    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()

    def response(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(self.status, content=self.body, headers=list(self.headers), request=request)


def js(value: Any) -> bytes:
    """``value`` as JSON the way a sloppy server writes it: NaN and Infinity allowed."""
    return json.dumps(value, allow_nan=True).encode()


def ok(value: Any, status: int = 200, headers=()) -> Answer:
    return Answer(status, js(value), (("content-type", "application/json"), *headers))


# A well-formed poll answer per dialect for a task still rendering, the one for a finished
# task, and the submit answer: the corpus breaks them one field at a time.
RUNNING: dict[str, dict] = {
    "openai-preview": {"id": "t1", "object": "video", "status": "processing", "progress": 40},
    "multipart": {"id": "t1", "object": "video", "status": "processing", "progress": 40},
    "aijisu": {"id": "t1", "task_id": "t1", "object": "video.generation.job", "status": "in_progress", "progress": 40},
    "jimmyai": {"code": "20000", "msg": "ok", "data": {"task_id": "t1", "status": "processing", "progress": 40}},
    "reapi": {"id": "t1", "model": "grok-imagine-video-1.5-official", "status": "processing", "output": None},
    "xai": {"status": "pending", "progress": 40},
}
DONE_WORD = {d: "completed" for d in DIALECTS} | {"xai": "done"}
FAILED_WORD = {d: "failed" for d in DIALECTS}
SUBMITTED: dict[str, dict] = {
    "openai-preview": {"id": "t1", "object": "video", "status": "queued", "progress": 0},
    "multipart": {"id": "t1", "object": "video", "status": "queued", "progress": 0},
    "aijisu": {"id": "t1", "task_id": "t1", "object": "video.generation.job", "status": "queued", "progress": 0},
    "jimmyai": {"code": "20000", "msg": "ok", "data": {"task_id": "t1", "status": "queued"}},
    "reapi": {"id": "t1", "model": "grok-imagine-video-1.5-official", "status": "processing"},
    "xai": {"request_id": "t1"},
}
# Where each dialect keeps the task's id in a poll answer (xAI's poll answer carries none).
ID_FIELDS = {
    "openai-preview": ["id"],
    "multipart": ["id"],
    "aijisu": ["id", "task_id"],
    "jimmyai": ["task_id"],
    "reapi": ["id"],
    "xai": [],
}


def task_part(dialect: str, answer: dict) -> dict:
    """The dict holding the task's fields: jimmyai wraps it in ``data``."""
    return answer["data"] if dialect == "jimmyai" else answer


def changed(dialect: str, template: dict, **fields) -> dict:
    """A deep copy of ``template`` with the task's ``fields`` replaced (MISSING deletes)."""
    answer = json.loads(json.dumps(template))
    part = task_part(dialect, answer)
    for name, value in fields.items():
        if value is MISSING:
            part.pop(name, None)
        else:
            part[name] = value
    return answer


def done(dialect: str, url: Any) -> dict:
    """A finished task whose video URL (wherever the dialect puts it) is ``url``."""
    word = DONE_WORD[dialect]
    if dialect == "xai":
        return {"status": word, "video": {"url": url, "duration": 1}}
    if dialect == "reapi":
        return changed(dialect, RUNNING[dialect], status=word, output={"video_urls": [url]})
    if dialect == "jimmyai":
        return changed(dialect, RUNNING[dialect], status=word, progress=100, result={"video_url": url})
    return changed(dialect, RUNNING[dialect], status=word, progress=100, video_url=url)


HTML = b"<!doctype html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
HTML_HEADERS = (("content-type", "text/html; charset=utf-8"),)


def generic(template: dict) -> list[tuple[str, Answer]]:
    """Broken answers whatever the dialect: wrong bodies, wrong types, junk headers."""
    body = js(template)
    return [
        ("not-json", Answer(200, b"Internal error, please retry later")),
        ("html-200", Answer(200, HTML, HTML_HEADERS)),
        ("html-404", Answer(404, HTML, HTML_HEADERS)),
        ("html-500", Answer(500, HTML, HTML_HEADERS)),
        ("html-502", Answer(502, HTML, HTML_HEADERS)),
        ("empty-200", Answer(200)),
        ("empty-204", Answer(204)),
        ("empty-500", Answer(500)),
        ("json-array", ok([])),
        ("json-array-of-the-task", ok([template])),
        ("json-null", ok(None)),
        ("json-string", ok("processing")),
        ("json-number", ok(42)),
        ("json-true", ok(True)),
        ("json-empty-object", ok({})),
        ("truncated-half", Answer(200, body[: len(body) // 2])),
        ("truncated-last-byte", Answer(200, body[:-1])),
        ("huge-string-field", ok({**template, "padding": "x" * 2_000_000})),
        ("many-fields", ok({**template, **{f"k{i}": i for i in range(20_000)}})),
        ("nested-fifty-deep", ok({**template, "x": json.loads("[" * 50 + "]" * 50)})),
        ("nested-beyond-recursion", Answer(200, deep())),
        ("nested-beyond-recursion-400", Answer(400, deep())),
        ("nan-elsewhere", ok({**template, "eta": float("nan"), "cost": float("inf"), "debt": float("-inf")})),
        ("surrogate-elsewhere", ok({**template, "note": "\udfff", "nested": {"\ud800": 1}})),
        ("invalid-utf8", Answer(200, b'{"status": "\xff\xfe", "id": "\xc0\xaf"}')),
        ("utf8-bom", Answer(200, b"\xef\xbb\xbf" + body)),
        ("utf16", Answer(200, json.dumps(template).encode("utf-16"))),
        ("error-envelope-200", ok({"error": {"message": "upstream exploded", "code": 500}})),
        ("error-string-200", ok({"error": "quota exceeded"})),
        ("code-envelope-200", ok({"code": "50000", "msg": "internal error", "data": None})),
        ("code-envelope-junk-200", ok({"code": [], "msg": {"x": 1}, "data": "t1"})),
        ("error-envelope-400", ok({"error": {"message": "bad request", "code": 20003}}, 400)),
        ("error-envelope-code-infinite", ok({"error": {"message": "bad", "code": 1e309}}, 400)),
        ("error-envelope-code-nan-200", ok({"error": {"message": "bad", "code": float("nan")}})),
        ("error-envelope-surrogate-400", ok({"error": {"message": "bad \ud800", "code": 20003}}, 400)),
        ("error-envelope-401-junk", ok({"error": {"message": [], "code": {"x": 1}, "request_id": 5}}, 401)),
        ("error-envelope-422-list", ok({"detail": [{"loc": ["body"], "msg": "bad"}]}, 422)),
        ("redirect", Answer(302, b"", (("location", "http://evil.test/"),))),
        ("retry-after-junk", Answer(429, b"slow down", (("retry-after", "soon"),))),
        ("retry-after-negative", Answer(429, b"", (("retry-after", "-5"),))),
        ("retry-after-nan", Answer(429, b"", (("retry-after", "nan"),))),
        ("retry-after-past-date", Answer(429, b"", (("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"),))),
        ("retry-after-infinite", Answer(429, b"", (("retry-after", "1e309"),))),
        ("retry-after-huge", Answer(429, b"", (("retry-after", "1e12"),))),
        ("retry-after-naive-date", Answer(429, b"", (("retry-after", "Wed, 21 Oct 2099 07:28:00 -0000"),))),
        ("retry-after-empty", Answer(429, b"", (("retry-after", ""),))),
        ("503-retry-after", Answer(503, b"", (("retry-after", "3"),))),
        ("gzip-that-is-not", Answer(200, body, (("content-encoding", "gzip"),))),
        ("json-as-text-plain", Answer(200, body, (("content-type", "text/plain"),))),
    ]


STATUS_VALUES = [
    123,
    0,
    True,
    None,
    [],
    ["completed"],
    {},
    {"value": "completed"},
    "",
    "   ",
    "x" * 100_000,
    "\U0001f642",
    "completed\x00",
    "COMPLETED",
    " Failed ",
    "cancelled",
    "expired",
    "in_progress",
    "\ud800",
    "completed\udfff",
    MISSING,
]
PROGRESS_VALUES = ["abc", -5, None, [], {}, "50%", 1e308, -1e308, 0.5, "0.5", True, 10**18, "", "½", 99.9999]
PROGRESS_VALUES += [1e309, -1e309, float("nan"), "inf", "nan", "-Infinity", 10**400, -(10**400)]
ID_VALUES = [MISSING, "", None, 123, 1.5, True, [], {"id": 1}, "x" * 100_000, "../../etc/passwd", "t1\r\nX-Evil: 1"]
ERROR_VALUES = [5, [], {}, {"message": 5}, {"code": []}, None, "", "x" * 100_000, {"message": {"nested": True}}]
ERROR_VALUES += ["bad \ud800", {"message": "bad \udc00"}, {"code": 1e309}, {"code": float("nan")}, float("inf")]
# Video URLs httpx cannot parse: a poll reads them as text; the archive fails the task for good.
UNPARSABLE_URLS = ["http://[::1", "https://exa\x00mple.com/v.mp4", "http://\u202eexample.com/v.mp4"]
UNPARSABLE_URLS += ["http://\ud800.example/v.mp4", "https://cdn.example/\ud800.mp4"]
URL_VALUES = [
    "not a url",
    12345,
    None,
    "",
    [],
    {"url": "x"},
    "javascript:alert(1)",
    "ftp://example.com/v.mp4",
    "http://" + "a" * 5000,
    "data:video/mp4;base64,AAAA",
    "https://cdn.example/v.mp4",
    *UNPARSABLE_URLS,
]


def envelope_cases(dialect: str) -> list[tuple[str, dict]]:
    """Each dialect's own nesting, broken."""
    run = RUNNING[dialect]
    if dialect == "jimmyai":
        cases = [(f"data-{i}", {**run, "data": v}) for i, v in enumerate([[], "t1", None, 5, {}, [run["data"]]])]
        cases += [(f"code-{i}", {**run, "code": v}) for i, v in enumerate([20000, "20000 ", None, "", [], {}])]
        cases += [("msg-dict", {**run, "code": "40001", "msg": {"x": 1}}), ("bare-task", run["data"])]
        results = ["x", [], 5, {"video_url": 5}, {"video_url": ["u"]}]
        cases += [(f"result-{i}", changed(dialect, run, status="completed", result=v)) for i, v in enumerate(results)]
        return cases
    if dialect == "reapi":
        cases = [
            ("data-wrapper", {"data": run}),
            ("data-wrapper-list", {"data": [run]}),
            ("data-wrapper-junk", {"data": "t1"}),
            ("task-id-int", {**{k: v for k, v in run.items() if k != "id"}, "task_id": 123}),
            ("task-id-only", {**{k: v for k, v in run.items() if k != "id"}, "task_id": "t1"}),
        ]
        outputs = [
            "x",
            5,
            {"video_urls": "x"},
            {"video_urls": [1, None, {}]},
            {"video_urls": [{"url": 5}]},
            {"video_url": []},
            [],
            [{"url": "https://cdn.example/v.mp4"}],
        ]
        cases += [(f"output-{i}", changed(dialect, run, status="completed", output=v)) for i, v in enumerate(outputs)]
        return cases
    if dialect == "aijisu":
        results = ["x", [], 5, {"outputs": "x"}, {"outputs": [1, None, {}, {"url": 5}]}, {"video_url": 5}]
        cases = [(f"result-{i}", changed(dialect, run, status="completed", result=v)) for i, v in enumerate(results)]
        cases += [
            ("task-id-null", changed(dialect, run, task_id=None)),
            ("ids-gone", changed(dialect, run, id=MISSING, task_id=MISSING)),
        ]
        return cases
    if dialect == "xai":
        videos = ["x", [], 5, {"url": 5}, {"url": None, "respect_moderation": False}, {"duration": "abc"}]
        cases = [(f"video-{i}", {"status": "done", "video": v}) for i, v in enumerate(videos)]
        cases += [
            ("no-status-with-url", {"video": {"url": "https://cdn.example/v.mp4"}}),
            ("error-code-only", {"code": 5}),
        ]
        return cases
    return [("object-not-video", changed(dialect, run, object=5, created_at="yesterday", seconds=[]))]


def poll_corpus(dialect: str) -> list[tuple[str, Answer]]:
    """Every malformed poll answer for ``dialect`` that the studio handles today."""
    run = RUNNING[dialect]
    corpus = generic(run)
    corpus += [(f"status-{i}", ok(changed(dialect, run, status=v))) for i, v in enumerate(STATUS_VALUES)]
    corpus += [(f"progress-{i}", ok(changed(dialect, run, progress=v))) for i, v in enumerate(PROGRESS_VALUES)]
    for name in ID_FIELDS[dialect]:
        corpus += [(f"{name}-{i}", ok(changed(dialect, run, **{name: v}))) for i, v in enumerate(ID_VALUES)]
    failed = changed(dialect, run, status=FAILED_WORD[dialect])
    corpus += [(f"failed-error-{i}", ok({**failed, "error": v})) for i, v in enumerate(ERROR_VALUES)]
    corpus += [(f"done-url-{i}", ok(done(dialect, v))) for i, v in enumerate(URL_VALUES)]
    corpus += [(f"envelope-{name}", ok(answer)) for name, answer in envelope_cases(dialect)]
    return corpus


def submit_corpus(dialect: str) -> list[tuple[str, Answer]]:
    accepted = SUBMITTED[dialect]
    corpus = generic(accepted)
    id_fields = ["request_id"] if dialect == "xai" else ID_FIELDS[dialect]
    for name in id_fields:
        corpus += [(f"{name}-{i}", ok(changed(dialect, accepted, **{name: v}))) for i, v in enumerate(ID_VALUES)]
    if dialect != "xai":
        corpus += [(f"status-{i}", ok(changed(dialect, accepted, status=v))) for i, v in enumerate(STATUS_VALUES)]
    return corpus


def deep(levels: int = 100_000) -> bytes:
    return b"[" * levels + b"]" * levels


# Regressions: a progress of Infinity (1e309 in JSON, or the string 'inf'), NaN, or an integer
# too big for a float once raised OverflowError/ValueError out of base.clamp_progress.
PROGRESS_NO_FLOAT_HOLDS = [
    pytest.param(1e309, id="progress-infinity"),
    pytest.param(float("nan"), id="progress-nan"),
    pytest.param("inf", id="progress-inf-string"),
    pytest.param("nan", id="progress-nan-string"),
    pytest.param(10**400, id="progress-huge-int"),
]


def progress_answer(dialect: str, value) -> Answer:
    return Answer(200, js(changed(dialect, RUNNING[dialect], progress=value)))


# --- the adapter, one answer at a time ----------------------------------------------------------


def adapter_answering(dialect: str, answer: Answer):
    client = httpx.Client(transport=httpx.MockTransport(answer.response))
    return REGISTRY[dialect](BASE, "sk-test-0001", client=client)


def choices_for(dialect: str) -> GenerationInput:
    """A valid request for the dialect's first model (a pasted reference URL where it needs one)."""
    spec = REGISTRY[dialect].spec()
    refs = [] if spec.text_to_video else [ReferenceImageData("", b"", "https://example.com/a.png")]
    choices = GenerationInput(
        model=spec.model,
        prompt="A paper boat",
        duration=spec.default_duration,
        aspect_ratio=spec.default_aspect_ratio,
        resolution=spec.default_resolution,
        audio=spec.default_audio if spec.audio else None,
        references=refs,
    )
    assert REGISTRY[dialect].validate_choices(choices) == {}
    return choices


def check_poll(adapter, answer: Answer) -> None:
    """``adapter.poll`` gives a sound PollResult or a GatewayError, nothing else."""
    try:
        result = adapter.poll("t1")
    except GatewayError as exc:
        assert isinstance(exc.message, str) and exc.message.strip()
        assert not (exc.permanent and 200 <= answer.status < 300), "a 2xx answer failed the task for good"
        return
    assert isinstance(result, PollResult)
    assert isinstance(result.status, GatewayStatus)
    assert isinstance(result.status_word, str)
    assert isinstance(result.progress, int) and 0 <= result.progress <= 100
    assert isinstance(result.video_url, str)
    assert isinstance(result.error, str)
    if result.status in (GatewayStatus.FAILED, GatewayStatus.CANCELLED):
        assert result.error.strip(), "a failure without a message"


def check_submit(adapter, dialect: str, answer: Answer) -> None:
    """``adapter.submit`` gives a sound Submission or a GatewayError; a junk 2xx is ``maybe_created``."""
    try:
        submission = adapter.submit(choices_for(dialect))
    except GatewayError as exc:
        assert isinstance(exc.message, str) and exc.message.strip()
        if 200 <= answer.status < 300:
            assert not exc.permanent, "a 2xx answer failed the task for good"
            assert exc.maybe_created, "a 2xx answer could be sent again and paid twice"
        return
    assert isinstance(submission, Submission)
    assert isinstance(submission.external_id, str) and submission.external_id
    assert isinstance(submission.status, GatewayStatus)
    assert isinstance(submission.progress, int) and 0 <= submission.progress <= 100


def params(build) -> list:
    return [pytest.param(d, answer, id=f"{d}-{name}") for d in DIALECTS for name, answer in build(d)]


@pytest.mark.parametrize("dialect, answer", params(poll_corpus))
def test_poll_reads_a_malformed_answer_or_raises_gateway_error(dialect, answer):
    check_poll(adapter_answering(dialect, answer), answer)


@pytest.mark.parametrize("dialect, answer", params(submit_corpus))
def test_submit_reads_a_malformed_answer_or_raises_gateway_error(dialect, answer):
    check_submit(adapter_answering(dialect, answer), dialect, answer)


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("url", UNPARSABLE_URLS, ids=["ipv6", "nul", "bidi", "surrogate-host", "surrogate-path"])
def test_poll_passes_an_odd_video_url_through_as_text(dialect, url):
    answer = ok(done(dialect, url))
    check_poll(adapter_answering(dialect, answer), answer)
    result = adapter_answering(dialect, answer).poll("task-1")
    # The adapter neither parses nor drops it: the archive step refuses it, with a reason.
    assert result.status == GatewayStatus.SUCCEEDED and result.video_url == url


@pytest.mark.parametrize("value", PROGRESS_NO_FLOAT_HOLDS)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_poll_survives_a_progress_no_float_can_hold(dialect, value):
    answer = progress_answer(dialect, value)
    check_poll(adapter_answering(dialect, answer), answer)


# Regression: json's RecursionError once escaped base._json_or_text (any status).
@pytest.mark.parametrize("status", [200, 400])
@pytest.mark.parametrize("call", ["poll", "submit"])
@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_deeply_nested_answer_is_a_gateway_error(dialect, call, status):
    answer = Answer(status, deep())
    adapter = adapter_answering(dialect, answer)
    if call == "poll":
        check_poll(adapter, answer)
    else:
        check_submit(adapter, dialect, answer)


# Regression: reapi._error_code's int(code) once raised OverflowError for an Infinity (1e309) code.
@pytest.mark.parametrize("call", ["poll", "submit"])
def test_reapi_survives_an_infinite_error_code(call):
    answer = ok({"error": {"code": 1e309, "message": "bad"}}, 400)
    adapter = adapter_answering("reapi", answer)
    if call == "poll":
        check_poll(adapter, answer)
    else:
        check_submit(adapter, "reapi", answer)


def test_xai_survives_a_surrogate_key():
    answer = ok({**RUNNING["xai"], "\ud800": 1})
    check_poll(adapter_answering("xai", answer), answer)


# --- the adapter, hypothesis-generated answers -------------------------------------------------

# Any JSON a sloppy server writes: NaN and Infinity, integers beyond a float, lone surrogates
# (a \ud800 escape), and (in ``answers``) nesting deeper than the decoder goes.
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**64), 2**64),
    st.integers(),
    st.sampled_from([10**400, -(10**400)]),
    st.floats(),
    st.text(max_size=30),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=30),
    st.sampled_from(["completed", "done", "failed", "processing", "queued", "https://cdn.example/v.mp4", "t1"]),
)
JSON = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=16,
)
FIELDS = [
    "id",
    "task_id",
    "request_id",
    "status",
    "progress",
    "video_url",
    "video",
    "result",
    "output",
    "error",
    "data",
    "code",
    "msg",
    "message",
    "detail",
]
HTTP_STATUSES = st.sampled_from([200, 200, 200, 201, 202, 204, 400, 401, 404, 408, 422, 429, 500, 502, 503])


@st.composite
def answers(draw, dialect: str, template: dict) -> Answer:
    """Arbitrary JSON, or the dialect's own answer with arbitrary values in its fields, or
    (now and then) a body nested deeper than the JSON decoder goes."""
    if draw(st.integers(0, 19)) == 0:
        return Answer(draw(HTTP_STATUSES), deep(draw(st.sampled_from([1_000, 100_000]))))
    if draw(st.booleans()):
        value = draw(JSON)
    else:
        value = json.loads(json.dumps(template))
        targets = [value] + ([value["data"]] if dialect == "jimmyai" else [])
        for _ in range(draw(st.integers(1, 4))):
            draw(st.sampled_from(targets))[draw(st.sampled_from(FIELDS))] = draw(JSON)
    return Answer(draw(HTTP_STATUSES), js(value), (("content-type", "application/json"),))


@examples(400)
@given(data=st.data(), dialect=st.sampled_from(DIALECTS))
def test_poll_survives_any_json(data, dialect):
    answer = data.draw(answers(dialect, RUNNING[dialect]))
    check_poll(adapter_answering(dialect, answer), answer)


@examples(300)
@given(data=st.data(), dialect=st.sampled_from(DIALECTS))
def test_submit_survives_any_json(data, dialect):
    answer = data.draw(answers(dialect, SUBMITTED[dialect]))
    check_submit(adapter_answering(dialect, answer), dialect, answer)


# --- the pipeline: a sweep over tasks whose gateway answers junk -----------------------------


def keys_by_dialect(owner, team) -> dict:
    return {d: add_key(owner, team, dialect=d, base_url=BASE, label=d) for d in DIALECTS}


def task_for(owner, team, key, case: str, *, state=TaskState.PROCESSING) -> Task:
    """A generation through ``key`` whose task is due now: at the gateway as ``case``
    (PROCESSING) or about to be sent with ``case`` in its prompt (PENDING)."""
    spec = key.gateway_class.spec()
    generation = Generation.objects.create(
        team=team,
        author=owner,
        key=key,
        dialect=key.dialect,
        model_name=spec.model,
        key_label=key.label,
        prompt=f"A paper boat {case}",
        options={
            "duration": spec.default_duration,
            "aspect_ratio": spec.default_aspect_ratio,
            "resolution": spec.default_resolution,
            "audio": spec.default_audio if spec.audio else None,
        },
    )
    if not spec.text_to_video:
        ReferenceImage.objects.create(generation=generation, position=0, source_url="https://example.com/a.png")
    now = timezone.now()
    sent = state != TaskState.PENDING
    return Task.objects.create(
        generation=generation,
        state=state,
        external_id=case if sent else "",
        submitted_at=now if sent else None,
        next_poll_at=now,
    )


CASE = re.compile(rb"case\d{5}x")


@dataclass
class Gateway:
    """Routes each request to the answer of its case: a poll by the task id that ends its
    path, a submit by the case named in its body. Anything else falls through (and, on a
    host the transport does not serve, fails to connect)."""

    answers: dict[str, Answer] = field(default_factory=dict)

    def case_of(self, request: httpx.Request) -> str | None:
        last = request.url.path.rsplit("/", 1)[-1]
        if last in self.answers:
            return last
        found = CASE.search(request.content or b"")
        return found.group().decode() if found and found.group().decode() in self.answers else None

    def install(self, recorder) -> None:
        recorder.faults.append(
            (lambda request: self.case_of(request) is not None, lambda r: self.answers[self.case_of(r)].response(r))
        )


def after_poll(task: Task) -> str | None:
    """What is wrong with ``task`` after a sweep polled it (None: nothing)."""
    task.refresh_from_db()
    if task.lease_token or task.leased_until:
        return "its lease is still held"
    if task.state in (TaskState.FAILED, TaskState.NEEDS_ATTENTION):
        return None if task.last_error.strip() else f"{task.state} without a message"
    if task.state == TaskState.CANCELLED:
        return None
    if task.state not in ACTIVE_STATES:
        return f"unexpected state {task.state}"
    if task.next_poll_at is None:
        return "active but never looked at again"
    if not 0 <= task.progress <= 100:
        return f"progress {task.progress}"
    if task.state == TaskState.ARCHIVING:
        # The archive ran at once (its queued nudge runs inline in tests): its outcome is recorded.
        return None if task.last_error.strip() else "archiving, with no trace of the archive attempt"
    if task.polls == 0 and task.attempts == 0:
        return (
            "the answer left no trace: no poll counted, no retry counted, no message (stuck until the task's age limit)"
        )
    if task.attempts and not task.last_error.strip():
        return "a retry without a message"
    return None


def after_submit(task: Task, answer: Answer) -> str | None:
    """What is wrong with ``task`` after a sweep sent it (None: nothing)."""
    task.refresh_from_db()
    if task.lease_token or task.leased_until:
        return "its lease is still held"
    if task.state == TaskState.SUBMITTING:
        return "left 'submitting': the next sweep will call it a crashed send"
    if task.state in (TaskState.FAILED, TaskState.NEEDS_ATTENTION):
        return None if task.last_error.strip() else f"{task.state} without a message"
    if task.state == TaskState.PENDING:
        if 200 <= answer.status < 300:
            return "a 2xx answer is sent again: it may be paid twice"
        return None if task.attempts and task.last_error.strip() else "pending again with no retry counted"
    if task.state in (TaskState.QUEUED, TaskState.PROCESSING):
        return None if task.external_id else "accepted without a task id"
    return f"unexpected state {task.state}"


def sweep(cases: dict[Task, Answer], recorder, *, check) -> None:
    """Answer each task's request with its case, sweep once, and check every task."""
    Gateway(
        {
            task.external_id or CASE.search(task.generation.prompt.encode()).group().decode(): a
            for task, a in cases.items()
        }
    ).install(recorder)
    sweep_once()  # must not raise
    problems = {task.generation.prompt: check(task, answer) for task, answer in cases.items()}
    problems = {
        case: problem and f"{problem} {described(task)}"
        for (case, problem), task in zip(problems.items(), cases, strict=True)
    }
    problems = {case: problem for case, problem in problems.items() if problem}
    assert not problems, "\n".join(f"{case}: {problem}" for case, problem in problems.items())


def described(task: Task) -> str:
    return (
        f"[{task.state}, polls={task.polls}, attempts={task.attempts}, "
        f"last_error={task.last_error[:80]!r}, next_poll_at={task.next_poll_at}]"
    )


def poll_cases(owner, team, keys, corpus: dict[str, list[tuple[str, Answer]]]) -> dict[Task, Answer]:
    cases, n = {}, 0
    for dialect, entries in corpus.items():
        for name, answer in entries:
            n += 1
            task = task_for(owner, team, keys[dialect], f"case{n:05d}x")
            task.generation.prompt = f"case{n:05d}x {dialect}-{name}"
            cases[task] = answer
    return cases


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_sweep_over_malformed_poll_answers_never_crashes_or_sticks(owner, team, gateway, dialect):
    keys = keys_by_dialect(owner, team)
    cases = poll_cases(owner, team, keys, {dialect: poll_corpus(dialect)})
    sweep(cases, gateway, check=lambda task, answer: after_poll(task))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_sweep_over_malformed_submit_answers_ends_each_send_clearly(owner, team, gateway, dialect):
    keys = keys_by_dialect(owner, team)
    cases, n = {}, 0
    for name, answer in submit_corpus(dialect):
        n += 1
        task = task_for(owner, team, keys[dialect], f"case{n:05d}x", state=TaskState.PENDING)
        task.generation.prompt = f"A paper boat case{n:05d}x ({name})"
        cases[task] = answer
    sweep(cases, gateway, check=after_submit)


# Regressions, each once swallowed by guarded() with nothing recorded and the task never ended:
# NaN/Infinity in an answer (SQLite's JSON_VALID refused last_raw / Event.data); a lone surrogate
# in the status word or error text (SQLite cannot encode it); a Retry-After of 1e309 or 1e12
# (OverflowError in now + timedelta(...), a submit left 'submitting'); a video URL httpx cannot
# parse (httpx.InvalidURL, or ValueError from base.same_origin, out of step_archive, forever).


def each_dialect(build) -> dict[str, list[tuple[str, Answer]]]:
    return {d: [("bug", build(d))] for d in DIALECTS}


def case(build, name: str):
    return pytest.param(build, id=name)


def failed_answer(dialect: str, **fields) -> Answer:
    return ok(changed(dialect, RUNNING[dialect], status=FAILED_WORD[dialect], **fields))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "build",
    [
        case(lambda d: progress_answer(d, 1e309), "progress-infinity"),
        case(lambda d: progress_answer(d, float("nan")), "progress-nan"),
        case(lambda d: progress_answer(d, 10**400), "progress-huge-int"),
        case(lambda d: Answer(200, deep()), "deep-nesting"),
        case(lambda d: ok({**RUNNING[d], "eta": float("nan")}), "nan-elsewhere"),
        case(
            lambda d: ok({**changed(d, RUNNING[d], status=FAILED_WORD[d]), "cost": float("inf")}),
            "failed-with-infinity",
        ),
        case(lambda d: failed_answer(d, error="bad \ud800"), "failed-with-surrogate"),
        case(lambda d: ok(changed(d, RUNNING[d], status="\ud800")), "surrogate-status"),
        case(lambda d: Answer(429, b"", (("retry-after", "1e309"),)), "retry-after-infinite"),
        case(lambda d: Answer(429, b"", (("retry-after", "1e12"),)), "retry-after-huge"),
        case(lambda d: ok(done(d, UNPARSABLE_URLS[0])), "video-url-ipv6"),
        case(lambda d: ok(done(d, UNPARSABLE_URLS[1])), "video-url-nul"),
        case(lambda d: ok(done(d, UNPARSABLE_URLS[2])), "video-url-bidi"),
        case(lambda d: ok(done(d, UNPARSABLE_URLS[3])), "video-url-surrogate-host"),
        case(lambda d: ok(done(d, UNPARSABLE_URLS[4])), "video-url-surrogate-path"),
    ],
)
def test_a_sweep_over_an_answer_that_once_broke_the_pipeline(owner, team, gateway, build):
    keys = keys_by_dialect(owner, team)
    cases = poll_cases(owner, team, keys, each_dialect(build))
    sweep(cases, gateway, check=lambda task, answer: after_poll(task))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "build, message",
    [
        *[
            pytest.param(lambda d, url=url: ok(done(d, url)), "not a valid URL", id=f"video-url-{i}")
            # The last one, a lone surrogate in the path, is stored as U+FFFD: a valid URL then.
            for i, url in enumerate(UNPARSABLE_URLS[:-1])
        ],
        pytest.param(lambda d: failed_answer(d, error="bad \ud800"), "bad \ufffd", id="failed-with-surrogate"),
        pytest.param(
            lambda d: ok({**changed(d, RUNNING[d], status=FAILED_WORD[d]), "cost": float("inf")}),
            "",
            id="failed-with-infinity",
        ),
    ],
)
def test_an_answer_that_ends_the_task_fails_it_and_releases_its_hold(owner, team, gateway, build, message):
    keys = keys_by_dialect(owner, team)
    cases = poll_cases(owner, team, keys, each_dialect(build))
    for task in cases:
        billing.place_hold(task.generation, Decimal("1.00"))
    Gateway({task.external_id: answer for task, answer in cases.items()}).install(gateway)
    sweep_once()
    for task in cases:
        task.refresh_from_db()
        task.generation.refresh_from_db()
        assert task.state == TaskState.FAILED, described(task)
        assert message in task.last_error and task.last_error.strip(), described(task)
        assert task.generation.billing == Billing.RELEASED
        assert not task.lease_token and task.leased_until is None
        assert task.generation.events.filter(kind="failed").exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("retry_after", ["1e309", "1e12"])
def test_a_submit_refused_with_an_overflowing_retry_after_is_retried(owner, team, gateway, retry_after):
    keys = keys_by_dialect(owner, team)
    cases = {}
    for n, dialect in enumerate(DIALECTS, 1):
        task = task_for(owner, team, keys[dialect], f"case{n:05d}x", state=TaskState.PENDING)
        cases[task] = Answer(429, b"", (("retry-after", retry_after),))
    sweep(cases, gateway, check=after_submit)


@pytest.mark.django_db(transaction=True)
@examples(40)
@given(data=st.data(), dialect=st.sampled_from(DIALECTS))
def test_a_sweep_over_any_json_answer_never_crashes_or_sticks(owner, team, gateway, data, dialect):
    n = Task.objects.count() + 1
    # A host of its own per example: the per-host circuit breaker (videos.worker.circuit) would
    # otherwise pause polling after a few junk answers and no example would be polled.
    key = add_key(owner, team, dialect=dialect, base_url=f"http://gw{n}.test", label=dialect)
    answer = data.draw(answers(dialect, RUNNING[dialect]))
    case = f"case{n:05d}x"
    Task.objects.update(next_poll_at=None)  # earlier examples' tasks are not due
    task = task_for(owner, team, key, case)
    gateway.faults.clear()
    sweep({task: answer}, gateway, check=lambda task, answer: after_poll(task))

"""The jimmyai adapter against jimmyai's "Create Grok 1.5 Video" and "Query Video Task"
pages, and against the strict sandbox (docs/gateways.md §4)."""

from __future__ import annotations

import json

import httpx
import pytest
from pydantic import ValidationError

from tests.conftest import (
    SANDBOX_HOST,
    STUDIO_HOST,
    add_key,
    issued,
    make_generation,
    png_bytes,
    run_until_done,
    studio_image_url,
)
from videos.gateways import REGISTRY
from videos.gateways.base import GatewayError, GatewayStatus, GenerationInput, PollResult, ReferenceImageData
from videos.gateways.jimmyai import JimmyaiGateway, VideoCreate
from videos.models import Asset, NewReference, TaskState
from videos.sandbox import engine
from videos.sandbox.models import SandboxJob

BASE = f"http://{SANDBOX_HOST}/sandbox/jimmyai"
CREATE = "/api/open-api/v1/grok/videos"
IMAGE_URL = studio_image_url("cup.png")  # a signed link of the studio: the only URLs the sandbox fetches


def test_it_is_registered_under_its_dialect():
    assert REGISTRY["jimmyai"] is JimmyaiGateway


@pytest.fixture
def image_host(gateway, studio_images):
    """The studio serving a PNG at IMAGE_URL (what jimmyai fetches image_urls from)."""
    studio_images.files["cup.png"] = ("image/png", png_bytes((320, 180)))
    return gateway


def choices(**overrides) -> GenerationInput:
    values = {
        "model": "grok-imagine-video-1.5",
        "prompt": "Hot tea slowly poured into a beautiful teacup, rising steam, macro photography",
        "duration": 10,
        "aspect_ratio": "16:9",
        "references": [ReferenceImageData("image/jpeg", url="https://example.com/cup.jpg")],
    }
    values.update(overrides)
    return GenerationInput(**values)


def _adapter(handler) -> JimmyaiGateway:
    return JimmyaiGateway("https://gw.example", "k", client=httpx.Client(transport=httpx.MockTransport(handler)))


def _answering(answer, status: int = 200, headers=None) -> JimmyaiGateway:
    return _adapter(lambda r: httpx.Response(status, json=answer, headers=headers or {}))


def test_jimmyai_reports_no_delivered_duration():
    # docs/gateways.md §4.4 / §7.9: the Query Video Task answer names no length of the video.
    data = {
        "task_id": "task_1",
        "status": "completed",
        "progress": 100,
        "duration": 10,
        "result": {"video_url": "https://cdn.example/v.mp4"},
    }
    result = _answering({"code": "20000", "msg": "ok", "data": data}).poll("task_1")
    assert result.status == GatewayStatus.SUCCEEDED and result.duration_s is None


# --- the request body, from jimmyai's examples (docs/gateways.md §4.2) ------------------------


@pytest.mark.parametrize(
    "prompt, url",
    [
        # jimmyai's "Create Grok 1.5 Video" page, "Example Request"
        (
            "Hot tea slowly poured into a beautiful teacup, rising steam, macro photography",
            "https://example.com/cup.jpg",
        ),
        # the same page, the curl at its top
        (
            "A beautiful butterfly flying among flowers, slow motion, hyper-detailed",
            "https://example.com/butterfly.jpg",
        ),
    ],
)
def test_it_builds_jimmyais_request_examples_exactly(prompt, url):
    body = JimmyaiGateway(BASE, "sk-x").build_request(
        choices(prompt=prompt, references=[ReferenceImageData("image/jpeg", url=url)])
    )
    assert body == {
        "model": "grok-imagine-video-1.5",
        "prompt": prompt,
        "ratio": "16:9",
        "duration": 10,
        "image_urls": [url],
    }
    assert type(body["duration"]) is int  # enum<integer>
    assert isinstance(body["image_urls"], list)


@pytest.mark.parametrize("ratio", ["16:9", "9:16", "1:1", "3:2", "2:3"])
@pytest.mark.parametrize("duration", [10, 15])
def test_it_maps_the_studios_aspect_ratio_onto_ratio_and_never_sends_orientation(ratio, duration):
    body = JimmyaiGateway(BASE, "sk-x").build_request(choices(aspect_ratio=ratio, duration=duration))
    assert body["ratio"] == ratio and body["duration"] == duration
    assert not {"orientation", "images", "aspect_ratio", "resolution", "seconds", "size"} & set(body)


@pytest.mark.parametrize("alias", ["grok-1.5", "grok_1_5"])
def test_it_normalises_the_documented_model_aliases(alias):
    assert JimmyaiGateway.spec(alias).model == "grok-imagine-video-1.5"
    assert JimmyaiGateway.validate_choices(choices(model=alias)) == {}
    assert JimmyaiGateway(BASE, "k").build_request(choices(model=alias))["model"] == "grok-imagine-video-1.5"


def test_it_offers_exactly_what_jimmyai_documents():
    spec = JimmyaiGateway.spec()
    assert spec.model == "grok-imagine-video-1.5"
    assert spec.durations == (10, 15) and spec.default_duration == 10
    assert spec.aspect_ratios == ("16:9", "9:16", "1:1", "3:2", "2:3") and spec.default_aspect_ratio == "16:9"
    assert spec.resolutions == () and not spec.audio
    assert not spec.text_to_video and spec.max_reference_images == 1
    assert spec.reference_form == "url"
    assert JimmyaiGateway.default_base_url == "https://www.jimmyai.cn"


@pytest.mark.parametrize(
    "field, overrides, words",
    [
        ("duration", {"duration": 8}, "10 or 15"),
        ("duration", {"duration": 1}, "10 or 15"),
        ("aspect_ratio", {"aspect_ratio": "4:3"}, "16:9, 9:16, 1:1, 3:2, 2:3"),
        ("resolution", {"resolution": "720p"}, "no resolution"),
        ("audio", {"audio": True}, "no audio"),
        ("prompt", {"prompt": "   "}, "needs a prompt"),
        ("references", {"references": []}, "exactly 1 reference image"),
        (
            "references",
            {
                "references": [
                    ReferenceImageData("image/png", url="https://example.com/a.png"),
                    ReferenceImageData("image/png", url="https://example.com/b.png"),
                ]
            },
            "exactly 1 reference image",
        ),
        (
            "references",
            {"references": [ReferenceImageData("image/png", url="data:image/png;base64,AAAA")]},
            "public http(s) URL",
        ),
        ("references", {"references": [ReferenceImageData("image/png", data=png_bytes())]}, "public http(s) URL"),
        ("model", {"model": "grok-video-1.5"}, "no model"),
    ],
)
def test_it_refuses_what_jimmyai_forbids_before_sending(field, overrides, words):
    problems = JimmyaiGateway.validate_choices(choices(**overrides))
    assert words in problems[field]


def test_it_accepts_an_upload_with_its_signed_url():
    ref = ReferenceImageData("image/png", data=png_bytes(), url=f"http://{STUDIO_HOST}/r/abc.png")
    assert JimmyaiGateway.validate_choices(choices(references=[ref])) == {}


@pytest.mark.parametrize(
    "body",
    [
        {"prompt": "p", "duration": "10", "ratio": "16:9", "image_urls": ["https://e.com/a.png"]},
        {"prompt": "p", "duration": 8, "ratio": "16:9", "image_urls": ["https://e.com/a.png"]},
        {"prompt": "p", "duration": 10, "ratio": "4:3", "image_urls": ["https://e.com/a.png"]},
        {"prompt": "p", "duration": 10, "ratio": "16:9", "image_urls": []},
        {"prompt": "p", "duration": 10, "ratio": "16:9", "image_urls": ["https://e.com/a.png", "https://e.com/b"]},
        {"prompt": "p", "duration": 10, "ratio": "16:9", "image_urls": ["data:image/png;base64,AAAA"]},
        {"prompt": "p", "duration": 10, "ratio": "16:9", "image_urls": ["https://e.com/a.png"], "orientation": "x"},
        {"prompt": "p", "duration": 10, "ratio": "16:9", "image_urls": ["https://e.com/a.png"], "resolution": "720p"},
        {"prompt": "", "duration": 10, "ratio": "16:9", "image_urls": ["https://e.com/a.png"]},
    ],
)
def test_it_refuses_undocumented_shapes_in_its_body_model(body):
    with pytest.raises(ValidationError):
        VideoCreate.model_validate(body)


# --- answers, from the Query Video Task page ---------------------------------------------------


def test_it_reads_jimmyais_create_answer():
    answer = {
        "code": "20000",
        "msg": "ok",
        "data": {"task_id": "t_1", "status": "queued", "model": "grok-imagine-video-1.5", "created_at": 123},
    }
    submission = _answering(answer).submit(choices())
    assert submission.external_id == "t_1"
    assert submission.status == GatewayStatus.QUEUED and submission.status_word == "queued"
    assert submission.raw == answer


def _task(status, **fields):
    data = {"task_id": "t_1", "status": status, "progress": 0, "model": "grok-imagine-video-1.5", "created_at": 1}
    data.update(fields)
    return data


@pytest.mark.parametrize(
    "word, status",
    [
        ("queued", GatewayStatus.QUEUED),
        ("pending", GatewayStatus.QUEUED),
        ("submitted", GatewayStatus.QUEUED),
        ("processing", GatewayStatus.RUNNING),
        ("PROCESSING", GatewayStatus.RUNNING),
        ("failed", GatewayStatus.FAILED),
        ("rendering-somehow", GatewayStatus.RUNNING),
        (None, GatewayStatus.RUNNING),
    ],
)
def test_it_maps_every_documented_status_word(word, status):
    result = _answering({"code": "20000", "msg": "ok", "data": _task(word, progress=40)}).poll("t_1")
    assert result.status == status
    assert result.status_word == (word or "").lower()


@pytest.mark.parametrize("word", ["completed", "success"])  # the query page; the FAQ's "success"
def test_it_reads_a_completed_task_and_its_result_url(word):
    answer = {
        "code": "20000",
        "msg": "ok",
        "data": _task(
            word,
            progress=100,
            completed_at=200,
            result={"video_url": "https://cdn.jimmyai.cn/v/t_1.mp4", "image_url": "https://cdn.jimmyai.cn/p.jpg"},
            error_message="",
        ),
    }
    result = _answering(answer).poll("t_1")
    assert result.status == GatewayStatus.SUCCEEDED
    assert result.video_url == "https://cdn.jimmyai.cn/v/t_1.mp4"
    assert result.progress == 100 and result.error == ""


def test_it_reads_the_task_without_the_envelope_as_one_page_shows_it():
    bare = _task("processing", progress=55, completed_at=None, result=None, error_message="")
    result = _answering(bare).poll("t_1")
    assert result.status == GatewayStatus.RUNNING and result.progress == 55
    done = _answering(_task("completed", progress=100, result={"video_url": "https://cdn.x/v.mp4"})).poll("t_1")
    assert done.status == GatewayStatus.SUCCEEDED and done.video_url == "https://cdn.x/v.mp4"


def test_it_reads_a_failed_tasks_error_message():
    answer = {"code": "20000", "msg": "ok", "data": _task("failed", error_message="Content policy violation")}
    result = _answering(answer).poll("t_1")
    assert result.status == GatewayStatus.FAILED
    assert result.error == "Content policy violation"
    fallback = _answering({"code": "20000", "msg": "ok", "data": _task("failed")}).poll("t_1")
    assert fallback.status == GatewayStatus.FAILED and "failed" in fallback.error


def test_it_keeps_polling_a_completed_task_without_a_url():
    answer = {"code": "20000", "msg": "ok", "data": _task("completed", progress=100, result=None)}
    result = _answering(answer).poll("t_1")
    assert result.status == GatewayStatus.RUNNING and result.video_url == ""


def test_it_polls_the_documented_path_with_the_key():
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200, json={"code": "20000", "msg": "ok", "data": _task("queued")})

    _adapter(handler).poll("t_42")
    assert seen[0].method == "GET" and seen[0].url.path == "/api/open-api/v1/videos/t_42"
    assert seen[0].headers["Authorization"] == "Bearer k"


# --- errors ------------------------------------------------------------------------------------


def test_it_treats_a_4xx_error_envelope_as_permanent_with_its_message_and_code():
    adapter = _answering({"code": "40001", "msg": "ratio is invalid", "data": None}, status=400)
    with pytest.raises(GatewayError) as info:
        adapter.submit(choices())
    assert info.value.permanent and not info.value.maybe_created
    assert info.value.message == "ratio is invalid (code 40001)"


def test_it_treats_a_bad_key_as_permanent():
    with pytest.raises(GatewayError) as info:
        _answering({"code": "40100", "msg": "invalid token", "data": None}, status=401).poll("t_1")
    assert info.value.permanent and "invalid token" in info.value.message


def test_it_treats_an_error_code_on_http_200_at_submit_as_transient_and_maybe_created():
    adapter = _answering({"code": "50001", "msg": "upstream busy", "data": None})
    with pytest.raises(GatewayError) as info:
        adapter.submit(choices())
    assert not info.value.permanent and info.value.maybe_created
    assert "upstream busy" in info.value.message and "50001" in info.value.message


def test_it_retries_an_error_code_on_http_200_while_polling():
    with pytest.raises(GatewayError) as info:
        _answering({"code": "50001", "msg": "busy", "data": None}).poll("t_1")
    assert not info.value.permanent and not info.value.maybe_created


def test_it_marks_a_5xx_on_submit_as_maybe_created():
    adapter = _answering({"code": "50000", "msg": "internal error", "data": None}, status=502)
    with pytest.raises(GatewayError) as info:
        adapter.submit(choices())
    assert not info.value.permanent and info.value.maybe_created


def test_it_marks_a_read_timeout_on_submit_as_maybe_created():
    def handler(request):
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(GatewayError) as info:
        _adapter(handler).submit(choices())
    assert info.value.maybe_created and not info.value.permanent


def test_it_knows_a_refused_connection_created_nothing():
    def handler(request):
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(GatewayError) as info:
        _adapter(handler).submit(choices())
    assert not info.value.maybe_created and not info.value.permanent


def test_it_treats_a_429_as_transient_and_keeps_retry_after():
    adapter = _answering({"code": "42900", "msg": "slow down", "data": None}, status=429, headers={"Retry-After": "7"})
    with pytest.raises(GatewayError) as info:
        adapter.poll("t_1")
    assert not info.value.permanent and info.value.retry_after == 7


def test_it_treats_html_instead_of_json_as_transient():
    adapter = _adapter(lambda r: httpx.Response(200, text="<html>maintenance</html>"))
    with pytest.raises(GatewayError) as info:
        adapter.poll("t_1")
    assert not info.value.permanent


def test_it_treats_a_submit_answer_without_a_task_id_as_maybe_created():
    with pytest.raises(GatewayError) as info:
        _answering({"code": "20000", "msg": "ok", "data": None}).submit(choices())
    assert not info.value.permanent and info.value.maybe_created


def test_it_sends_the_key_only_to_the_gateways_own_host():
    adapter = JimmyaiGateway("https://www.jimmyai.cn", "sk-secret")
    cdn = PollResult(GatewayStatus.SUCCEEDED, "completed", 100, {}, video_url="https://cdn.example/v.mp4")
    assert adapter.result_download("t_1", cdn) == ("https://cdn.example/v.mp4", {})
    own = PollResult(GatewayStatus.SUCCEEDED, "completed", 100, {}, video_url="https://www.jimmyai.cn/f/v.mp4")
    assert adapter.result_download("t_1", own) == (
        "https://www.jimmyai.cn/f/v.mp4",
        {"Authorization": "Bearer sk-secret"},
    )


def test_it_polls_often_at_first_and_backs_off_later():
    adapter = JimmyaiGateway(BASE, "k")
    intervals = [adapter.poll_interval(age) for age in (0, 60, 299, 300, 1000, 1800, 7200)]
    assert intervals[0] == 5.0
    assert intervals == sorted(intervals) and intervals[-1] > intervals[0]


def test_it_never_shows_the_key_in_its_repr():
    assert "sk-very-secret" not in repr(JimmyaiGateway("https://gw.example", "sk-very-secret"))


# --- the sandbox is strict, as the real gateway is ----------------------------------------------


def _post(gateway, body, key="sk-sandbox-test"):
    client = httpx.Client(transport=gateway)
    headers = {"Authorization": f"Bearer {issued(key)}"} if key else {}
    return client.post(f"{BASE}{CREATE}", json=body, headers=headers)


def _get(gateway, task_id, key="sk-sandbox-test"):
    client = httpx.Client(transport=gateway)
    return client.get(f"{BASE}/api/open-api/v1/videos/{task_id}", headers={"Authorization": f"Bearer {issued(key)}"})


def _valid_body(**overrides):
    body = {"model": "grok-imagine-video-1.5", "prompt": "a cup", "duration": 10, "ratio": "16:9"}
    body["image_urls"] = [IMAGE_URL]
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def test_it_has_a_sandbox_that_answers_a_create_with_jimmyais_envelope(image_host):
    response = _post(image_host, _valid_body())
    assert response.status_code == 200
    answer = response.json()
    assert answer["code"] == "20000" and answer["msg"] == "ok"
    assert set(answer["data"]) == {"task_id", "status", "model", "created_at"}
    assert answer["data"]["status"] in {"queued", "pending", "submitted"}
    assert answer["data"]["model"] == "grok-imagine-video-1.5"
    assert isinstance(answer["data"]["created_at"], int)
    fetched = [r for r in image_host.requests if r.url.host == STUDIO_HOST]
    assert [str(r.url) for r in fetched] == [IMAGE_URL]  # it fetched the reference itself


@pytest.mark.parametrize(
    "body, words",
    [
        (_valid_body(size="720P"), "'size'"),
        (_valid_body(resolution="720p"), "'resolution'"),
        (_valid_body(model="grok-video-1.5"), "'model'"),
        (_valid_body(prompt=None), "'prompt'"),
        (_valid_body(duration="10"), "'duration'"),
        (_valid_body(duration=8), "'duration'"),
        (_valid_body(duration=True), "'duration'"),
        (_valid_body(ratio="4:3"), "'ratio'"),
        (_valid_body(ratio=None, orientation="sideways"), "'orientation'"),
        (_valid_body(image_urls=None), "exactly 1 reference image"),
        (_valid_body(image_urls=[IMAGE_URL, IMAGE_URL]), "exactly 1 reference image"),
        (_valid_body(image_urls=IMAGE_URL), "exactly 1 reference image"),
        (_valid_body(image_urls=["data:image/png;base64,AAAA"]), "http(s) image URL"),
        (_valid_body(image_urls=[studio_image_url("missing.png")]), "could not be fetched"),
        (_valid_body(image_urls=["https://unreachable.invalid/cup.png"]), "could not be fetched"),
        (_valid_body(image_urls=[f"http://{STUDIO_HOST}/"]), "could not be fetched"),
    ],
)
def test_it_has_a_sandbox_that_refuses_what_jimmyai_forbids(image_host, body, words):
    response = _post(image_host, body)
    assert response.status_code == 400
    answer = response.json()
    assert answer["code"] == "40000" and answer["data"] is None
    assert words in answer["msg"]


def test_it_has_a_sandbox_that_refuses_a_url_that_is_not_an_image(gateway, studio_images):
    studio_images.files["cup.png"] = ("text/html", b"<html>hi</html>")
    response = _post(gateway, _valid_body())
    assert response.status_code == 400 and "not a readable image" in response.json()["msg"]


def test_it_has_a_sandbox_that_takes_the_images_field_and_orientation(image_host):
    response = _post(image_host, _valid_body(image_urls=None, images=[IMAGE_URL], ratio=None, orientation="portrait"))
    assert response.status_code == 200
    job = SandboxJob.objects.get(pk=response.json()["data"]["task_id"])
    assert (job.params["width"], job.params["height"]) == (480, 854)  # portrait → 9:16


def test_it_has_a_sandbox_that_accepts_the_model_aliases(image_host):
    response = _post(image_host, _valid_body(model="grok_1_5"))
    assert response.status_code == 200 and response.json()["data"]["model"] == "grok-imagine-video-1.5"


def test_it_has_a_sandbox_that_wants_a_bearer_key(image_host):
    response = _post(image_host, _valid_body(), key=None)
    assert response.status_code == 401
    assert response.json()["code"] == "40100" and "Bearer" in response.json()["msg"]


def test_it_has_a_sandbox_that_shows_a_task_only_to_its_key(image_host):
    created = _post(image_host, _valid_body(prompt="a cup [fail]")).json()["data"]  # [fail]: nothing to render
    other = _get(image_host, created["task_id"], key="sk-someone-else")
    assert other.status_code == 404 and other.json()["code"] == "40400"
    mine = _get(image_host, created["task_id"]).json()
    assert mine["code"] == "20000" and mine["data"]["task_id"] == created["task_id"]


def test_it_has_a_sandbox_that_fails_a_task_with_the_documented_shape(image_host):
    created = _post(image_host, _valid_body(prompt="a cup [fail]")).json()["data"]
    answer = _get(image_host, created["task_id"]).json()["data"]
    assert answer["status"] == "failed" and answer["progress"] == 0
    assert answer["error_message"] == engine.FAILURE_MESSAGE


def test_it_submits_a_pasted_url_and_polls_the_sandbox(image_host):
    adapter = JimmyaiGateway(BASE, issued("sk-sandbox-test"))
    submission = adapter.submit(choices(references=[ReferenceImageData("image/png", url=IMAGE_URL)], prompt="[fail]"))
    assert submission.external_id.startswith("task_") and submission.status == GatewayStatus.QUEUED
    result = adapter.poll(submission.external_id)
    assert result.status == GatewayStatus.FAILED and result.error == engine.FAILURE_MESSAGE
    (body,) = image_host.json_bodies("POST")
    assert body == {
        "model": "grok-imagine-video-1.5",
        "prompt": "[fail]",
        "duration": 10,
        "ratio": "16:9",
        "image_urls": [IMAGE_URL],
    }


# --- end to end through the pipeline -----------------------------------------------------------


@pytest.fixture
def jimmy_key(owner, team):
    return add_key(owner, team, dialect="jimmyai", secret="sk-jimmyai-alice-0001")


def test_it_makes_an_image_to_video_clip_end_to_end(gateway, owner, team, jimmy_key):
    generation = make_generation(
        owner,
        team,
        jimmy_key,
        prompt="A cup of tea",
        references=[NewReference("image/png", png_bytes((320, 180)), 320, 180)],
    )
    task = run_until_done(generation.task.pk)
    assert task.state == TaskState.COMPLETED, task.last_error
    asset = Asset.objects.get(generation=generation)
    assert (asset.width, asset.height) == (854, 480)  # ratio 16:9, the sandbox's 480-pixel short side
    assert asset.duration_s == pytest.approx(10.0, abs=0.1)
    posts = [r for r in gateway.requests if r.method == "POST"]
    assert len(posts) == 1 and posts[0].url.path == f"/sandbox/jimmyai{CREATE}"
    assert posts[0].headers["Authorization"] == "Bearer sk-jimmyai-alice-0001"
    body = json.loads(posts[0].content)
    assert set(body) == {"model", "prompt", "duration", "ratio", "image_urls"}
    assert body["model"] == "grok-imagine-video-1.5" and body["prompt"] == "A cup of tea"
    assert type(body["duration"]) is int and body["duration"] == 10
    assert body["ratio"] == "16:9"
    (url,) = body["image_urls"]
    assert url.startswith(f"http://{STUDIO_HOST}/")  # the upload's signed URL, fetched by the gateway
    assert any(r.method == "GET" and str(r.url) == url for r in gateway.requests)
    downloads = [r for r in gateway.requests if r.url.path.endswith(".mp4")]
    assert downloads and "Authorization" in downloads[0].headers  # same host as the key's base URL


def test_it_refuses_text_to_video_before_anything_is_sent(gateway, owner, team, jimmy_key):
    generation = make_generation(owner, team, jimmy_key, prompt="No image here")
    task = run_until_done(generation.task.pk)
    assert task.state == TaskState.FAILED
    assert "exactly 1 reference image" in task.last_error
    assert not [r for r in gateway.requests if r.method == "POST"]


def test_it_ends_a_failed_task_with_the_gateways_error_message(gateway, owner, team, jimmy_key):
    generation = make_generation(
        owner,
        team,
        jimmy_key,
        prompt="A cup [fail]",
        references=[NewReference("image/png", png_bytes((320, 180)), 320, 180)],
    )
    task = run_until_done(generation.task.pk)
    assert task.state == TaskState.FAILED
    assert task.last_error == engine.FAILURE_MESSAGE
    assert not Asset.objects.filter(generation=generation).exists()

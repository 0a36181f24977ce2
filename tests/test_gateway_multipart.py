"""The multipart adapter (grok-video-1.5 / -pro / -max) against duoyuanx's "Differences from
Grok 1.5" table and the closest documented sibling (docs/gateways.md §2), and against the
strict sandbox."""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import HTTP

import httpx
import pytest
from pydantic import ValidationError

from tests.conftest import SANDBOX_HOST, add_key, issued, make_generation, png_bytes, run_until_done
from videos.gateways import REGISTRY
from videos.gateways.base import (
    GatewayError,
    GatewayStatus,
    GenerationInput,
    PollResult,
    ReferenceForm,
    ReferenceImageData,
)
from videos.gateways.multipart import MultipartGateway, VideoForm
from videos.models import Asset, NewReference, TaskState
from videos.sandbox.models import SandboxJob

BASE = f"http://{SANDBOX_HOST}/sandbox/multipart"
PROMPT = "A cat nodding its head to music in heavy rain"


def test_it_is_registered_under_its_dialect():
    assert REGISTRY["multipart"] is MultipartGateway


def choices(**overrides) -> GenerationInput:
    values = {
        "model": "grok-video-1.5",
        "prompt": PROMPT,
        "duration": 6,
        "aspect_ratio": "2:3",
        "resolution": "720p",
    }
    values.update(overrides)
    return GenerationInput(**values)


def png_ref(size=(64, 36)) -> ReferenceImageData:
    return ReferenceImageData("image/png", png_bytes(size))


def form_parts(request: httpx.Request) -> dict:
    """The parts of a multipart/form-data request, by name (each an email Message)."""
    content_type = request.headers["content-type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + request.content
    )
    parts = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        assert name not in parts, f"{name} sent twice"
        parts[name] = part
    return parts


def text_fields(request: httpx.Request) -> dict[str, str]:
    """The plain form fields (no filename, no content type) as strings."""
    fields = {}
    for name, part in form_parts(request).items():
        if part.get_filename() is None:
            assert part["content-type"] is None
            fields[name] = part.get_payload(decode=True).decode()
    return fields


# --- what the adapter offers and sends --------------------------------------------------


def test_it_offers_each_models_documented_options():
    base, pro, maximum = (
        MultipartGateway.spec(m) for m in ("grok-video-1.5", "grok-video-1.5-pro", "grok-video-1.5-max")
    )
    assert MultipartGateway.spec() is base
    assert base.durations == tuple(range(1, 16))
    assert pro.durations == (10,) and pro.default_duration == 10  # docs/gateways.md §2.2: "10s for Pro"
    assert maximum.durations == (15,) and maximum.default_duration == 15  # "15s for Max"
    for spec in (base, pro, maximum):
        assert spec.resolutions == ("480p", "540p", "720p", "1080p")  # "480P, 540P, 720P, 1080P"
        assert spec.reference_form == ReferenceForm.FILE  # "Image field: input_reference"
        assert spec.max_reference_images == 1
        assert spec.audio is False
        assert spec.default_resolution in spec.resolutions
        assert spec.default_aspect_ratio in spec.aspect_ratios
        assert spec.default_duration in spec.durations


def test_it_builds_the_siblings_request_example_exactly():
    # The octopusx sibling (docs/gateways.md §2.2): -F model -F prompt -F aspect_ratio=2:3
    # -F seconds=6 -F size=720P -F input_reference=@reference.png
    adapter = MultipartGateway(BASE, "sk-x")
    image = png_bytes()
    fields = adapter.build_request(choices(references=[ReferenceImageData("image/png", image)]))
    assert fields == {
        "model": "grok-video-1.5",
        "prompt": PROMPT,
        "aspect_ratio": "2:3",
        "seconds": "6",
        "size": "720P",
    }
    assert all(isinstance(value, str) for value in fields.values())
    files = adapter.build_files(choices(references=[ReferenceImageData("image/png", image)]))
    assert files == {"input_reference": ("reference.png", image, "image/png")}


@pytest.mark.parametrize("resolution, size", [("480p", "480P"), ("540p", "540P"), ("720p", "720P"), ("1080p", "1080P")])
def test_it_spells_every_size_of_the_table(resolution, size):
    assert MultipartGateway(BASE, "k").build_request(choices(resolution=resolution))["size"] == size


@pytest.mark.parametrize("model, seconds", [("grok-video-1.5-pro", "10"), ("grok-video-1.5-max", "15")])
def test_it_sends_the_fixed_duration_of_pro_and_max(model, seconds):
    fields = MultipartGateway(BASE, "k").build_request(choices(model=model, duration=int(seconds)))
    assert fields["model"] == model and fields["seconds"] == seconds


def test_it_sends_no_file_part_for_text_to_video():
    assert MultipartGateway(BASE, "k").build_files(choices()) == {}


@pytest.mark.parametrize(
    "overrides, field, words",
    [
        ({"model": "grok-video-1.5-pro", "duration": 6}, "duration", "10 seconds only"),
        ({"model": "grok-video-1.5-max", "duration": 10}, "duration", "15 seconds only"),
        ({"duration": 16}, "duration", "1 to 15"),
        ({"duration": 0}, "duration", "1 to 15"),
        ({"resolution": "360p"}, "resolution", "480P, 540P, 720P or 1080P"),
        ({"aspect_ratio": "21:9"}, "aspect_ratio", "16:9"),
        ({"audio": True}, "audio", "no audio switch"),
        ({"prompt": "x" * 4097}, "prompt", "4096"),
        ({"prompt": "   "}, "prompt", "needs a prompt"),
        ({"model": "grok-imagine-video-1.5-preview"}, "model", "no model"),
        ({"references": [png_ref(), png_ref()]}, "references", "input_reference is a single uploaded file"),
        (
            {"references": [ReferenceImageData("image/png", b"", "https://example.com/cat.png")]},
            "references",
            "upload it",
        ),
    ],
)
def test_it_refuses_what_the_table_forbids_before_sending(overrides, field, words):
    problems = MultipartGateway.validate_choices(choices(**overrides))
    assert words in problems[field]


def test_it_accepts_the_documented_choices():
    for model, duration in (("grok-video-1.5", 1), ("grok-video-1.5-pro", 10), ("grok-video-1.5-max", 15)):
        for resolution in ("480p", "540p", "720p", "1080p"):
            assert (
                MultipartGateway.validate_choices(
                    choices(model=model, duration=duration, resolution=resolution, references=[png_ref()])
                )
                == {}
            )


@pytest.mark.parametrize(
    "fields",
    [
        {"seconds": "6", "model": "grok-video-1.5-pro"},
        {"seconds": "10", "model": "grok-video-1.5-max"},
        {"seconds": "16"},
        {"seconds": 6},
        {"size": "720p"},
        {"size": "1920x1080"},
        {"resolution": "720P"},
        {"image": "data:image/png;base64,AAAA"},
    ],
)
def test_the_body_model_refuses_what_the_table_forbids(fields):
    body = {"model": "grok-video-1.5", "prompt": "a cat", "seconds": "6", "aspect_ratio": "16:9", "size": "720P"}
    body.update(fields)
    with pytest.raises(ValidationError):
        VideoForm.model_validate(body)


def _capturing(answer: dict, seen: list) -> MultipartGateway:
    def handler(request: httpx.Request) -> httpx.Response:
        request.read()
        seen.append(request)
        return httpx.Response(200, json=answer)

    return MultipartGateway("https://gw.example", "sk-k", client=httpx.Client(transport=httpx.MockTransport(handler)))


DOCUMENTED_ANSWER = {
    "id": "video_abc123",
    "object": "video",
    "model": "grok-video-1.5",
    "status": "queued",
    "progress": 0,
    "created_at": 1735689600,
    "seconds": "6",
    "size": "720P",
    "video_url": "",
}


def test_it_submits_the_image_as_the_input_reference_file_part():
    seen: list[httpx.Request] = []
    image = png_bytes((320, 180))
    submission = _capturing(DOCUMENTED_ANSWER, seen).submit(
        choices(references=[ReferenceImageData("image/png", image)])
    )
    assert submission.external_id == "video_abc123" and submission.status == GatewayStatus.QUEUED
    (request,) = seen
    assert request.method == "POST" and request.url.path == "/v1/videos"
    assert request.headers["authorization"] == "Bearer sk-k"
    parts = form_parts(request)
    assert set(parts) == {"model", "prompt", "seconds", "aspect_ratio", "size", "input_reference"}
    assert text_fields(request) == {
        "model": "grok-video-1.5",
        "prompt": PROMPT,
        "seconds": "6",
        "aspect_ratio": "2:3",
        "size": "720P",
    }
    reference = parts["input_reference"]
    assert reference.get_filename() == "reference.png"
    assert reference.get_content_type() == "image/png"
    assert reference.get_payload(decode=True) == image


def test_it_submits_text_to_video_as_multipart_too():
    seen: list[httpx.Request] = []
    _capturing(DOCUMENTED_ANSWER, seen).submit(choices(model="grok-video-1.5-max", duration=15, resolution="1080p"))
    (request,) = seen
    assert "input_reference" not in form_parts(request)
    assert text_fields(request) == {
        "model": "grok-video-1.5-max",
        "prompt": PROMPT,
        "seconds": "15",
        "aspect_ratio": "2:3",
        "size": "1080P",
    }


# --- reading the answers ----------------------------------------------------------------


def _answering(answer, status_code: int = 200, headers=None) -> MultipartGateway:
    def handler(request):
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, str):
            return httpx.Response(status_code, text=answer, headers=headers)
        return httpx.Response(status_code, json=answer, headers=headers)

    return MultipartGateway("https://gw.example", "k", client=httpx.Client(transport=httpx.MockTransport(handler)))


@pytest.mark.parametrize("model", ["grok-video-1.5", "grok-video-1.5-pro", "grok-video-1.5-max"])
def test_the_echoed_seconds_is_not_a_delivered_duration(model):
    # docs/gateways.md §2.4 / §7.9: as in dialect 1, ``seconds`` echoes the request.
    answer = {
        **DOCUMENTED_ANSWER,
        "model": model,
        "status": "completed",
        "progress": 100,
        "seconds": "10",
        "video_url": "https://cdn.example/v.mp4",
    }
    result = _answering(answer).poll("video_abc123")
    assert result.status == GatewayStatus.SUCCEEDED and result.duration_s is None


@pytest.mark.parametrize(
    "word, status",
    [
        ("queued", GatewayStatus.QUEUED),
        ("processing", GatewayStatus.RUNNING),
        ("in_progress", GatewayStatus.RUNNING),  # new-api hosts (docs/gateways.md §1.4)
        ("completed", GatewayStatus.SUCCEEDED),
        ("failed", GatewayStatus.FAILED),
        ("cancelled", GatewayStatus.CANCELLED),
        ("COMPLETED", GatewayStatus.SUCCEEDED),
        ("rendering-somehow", GatewayStatus.RUNNING),
        (None, GatewayStatus.RUNNING),
        (3, GatewayStatus.RUNNING),
    ],
)
def test_it_maps_every_documented_status_word(word, status):
    result = _answering({"id": "video_1", "status": word, "progress": 40}).poll("video_1")
    assert result.status == status


def test_it_logs_an_unknown_status_word(caplog):
    _answering({"id": "video_1", "status": "rendering-somehow"}).poll("video_1")
    assert "rendering-somehow" in caplog.text


def test_it_reads_the_documented_answer_as_queued():
    result = _answering(DOCUMENTED_ANSWER).poll("video_abc123")
    assert (result.status, result.progress, result.video_url) == (GatewayStatus.QUEUED, 0, "")


def test_it_reads_the_siblings_answer_without_seconds_or_video_url():
    sibling = {"id": "video_abc123", "object": "video", "model": "grok-video-3", "status": "queued", "progress": 0}
    submission = _answering(sibling).submit(choices())
    assert submission.external_id == "video_abc123" and submission.status == GatewayStatus.QUEUED


def test_it_reads_progress_while_processing():
    result = _answering({"id": "video_1", "status": "processing", "progress": 42}).poll("video_1")
    assert (result.status, result.progress) == (GatewayStatus.RUNNING, 42)


def test_it_reads_the_video_url_of_a_completed_task():
    answer = {**DOCUMENTED_ANSWER, "status": "completed", "progress": 100, "video_url": "https://cdn.example/v.mp4"}
    adapter = _answering(answer)
    result = adapter.poll("video_abc123")
    assert result.status == GatewayStatus.SUCCEEDED and result.video_url == "https://cdn.example/v.mp4"
    assert adapter.result_download("video_abc123", result) == ("https://cdn.example/v.mp4", {})


def test_it_downloads_from_content_with_the_key_when_there_is_no_video_url():
    adapter = MultipartGateway("https://gw.example", "sk-secret")
    done = PollResult(GatewayStatus.SUCCEEDED, "completed", 100, {}, video_url="")
    url, headers = adapter.result_download("video_1", done)
    assert url == "https://gw.example/v1/videos/video_1/content"
    assert headers == {"Authorization": "Bearer sk-secret"}
    own = PollResult(GatewayStatus.SUCCEEDED, "completed", 100, {}, video_url="https://gw.example/files/v.mp4")
    assert adapter.result_download("video_1", own)[1] == {"Authorization": "Bearer sk-secret"}


@pytest.mark.parametrize(
    "answer, message",
    [
        ({"id": "video_1", "status": "failed", "error": {"message": "Content policy", "code": "x"}}, "Content policy"),
        ({"id": "video_1", "status": "failed", "error": "upstream timeout"}, "upstream timeout"),
        ({"id": "video_1", "status": "failed"}, "failed"),
        ({"id": "video_1", "status": "cancelled"}, "cancelled"),
    ],
)
def test_it_reads_a_failed_tasks_reason(answer, message):
    result = _answering(answer).poll("video_1")
    assert result.status in (GatewayStatus.FAILED, GatewayStatus.CANCELLED)
    assert message in result.error


# --- errors -----------------------------------------------------------------------------


def test_a_400_is_permanent_with_the_gateways_message():
    adapter = _answering({"error": {"message": "size must be 480P, 540P, 720P or 1080P", "code": "x"}}, 400)
    with pytest.raises(GatewayError) as info:
        adapter.submit(choices())
    assert info.value.permanent and not info.value.maybe_created
    assert info.value.message == "size must be 480P, 540P, 720P or 1080P"


@pytest.mark.parametrize("status_code", [401, 403, 413])
def test_auth_and_too_large_answers_are_permanent(status_code):
    with pytest.raises(GatewayError) as info:
        _answering({"error": {"message": "no", "type": "invalid_request_error"}}, status_code).submit(choices())
    assert info.value.permanent and info.value.status_code == status_code


@pytest.mark.parametrize("status_code", [500, 502, 503])
def test_a_5xx_on_submit_may_have_created_the_task(status_code):
    with pytest.raises(GatewayError) as info:
        _answering("<html>Bad gateway</html>", status_code).submit(choices())
    assert not info.value.permanent and info.value.maybe_created


def test_a_5xx_on_poll_is_transient():
    with pytest.raises(GatewayError) as info:
        _answering("busy", 503).poll("video_1")
    assert not info.value.permanent and not info.value.maybe_created


def test_a_read_timeout_on_submit_may_have_created_the_task():
    request = httpx.Request("POST", "https://gw.example/v1/videos")
    with pytest.raises(GatewayError) as info:
        _answering(httpx.ReadTimeout("slow", request=request)).submit(choices())
    assert info.value.maybe_created and not info.value.permanent


def test_a_refused_connection_did_not_create_anything():
    request = httpx.Request("POST", "https://gw.example/v1/videos")
    with pytest.raises(GatewayError) as info:
        _answering(httpx.ConnectError("refused", request=request)).submit(choices())
    assert not info.value.maybe_created and not info.value.permanent


def test_a_429_is_transient_and_keeps_retry_after():
    with pytest.raises(GatewayError) as info:
        _answering({"error": {"message": "slow down"}}, 429, {"Retry-After": "7"}).poll("video_1")
    assert not info.value.permanent and info.value.retry_after == 7


def test_an_answer_without_a_task_id_on_submit_may_have_created_it():
    with pytest.raises(GatewayError) as info:
        _answering({"status": "queued"}).submit(choices())
    assert info.value.maybe_created and not info.value.permanent


def test_html_instead_of_json_is_transient():
    with pytest.raises(GatewayError) as info:
        _answering("<html>maintenance</html>").poll("video_1")
    assert not info.value.permanent


def test_it_polls_within_the_familys_advice_then_backs_off():
    adapter = MultipartGateway(BASE, "k")
    intervals = [adapter.poll_interval(age) for age in (0, 60, 119, 120, 599, 600, 3600)]
    assert all(
        3 <= i <= 10 for i in intervals[:5]
    )  # aijisu's advice for the family, docs/gateways.md §3.6: every 3-10 s
    assert intervals == sorted(intervals) and intervals[-1] > 10


def test_the_key_never_shows_in_the_adapters_repr():
    assert "sk-very-secret" not in repr(MultipartGateway("https://gw.example", "sk-very-secret"))


# --- the sandbox is strict, as the real gateway is ---------------------------------------


def _fields(**overrides) -> dict[str, str]:
    fields = {"model": "grok-video-1.5", "prompt": "a cat", "seconds": "2", "aspect_ratio": "16:9", "size": "480P"}
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


def _post(gateway, fields=None, files=None, key="sk-sandbox-test", **kwargs):
    client = httpx.Client(transport=gateway)
    headers = {"Authorization": f"Bearer {issued(key)}"} if key else {}
    if files is None and fields is not None and not kwargs:
        files = {"input_reference": ("reference.png", png_bytes(), "image/png")}
    return client.post(f"{BASE}/v1/videos", data=fields, files=files, headers=headers, **kwargs)


def test_the_sandbox_answers_a_create_like_duoyuanx(gateway):
    response = _post(gateway, _fields())
    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer) >= {"id", "object", "model", "status", "progress", "created_at", "seconds", "size", "video_url"}
    assert answer["id"].startswith("video_") and answer["object"] == "video"
    assert (answer["model"], answer["status"], answer["seconds"], answer["size"]) == (
        "grok-video-1.5",
        "queued",
        "2",
        "480P",
    )


def test_the_sandbox_refuses_a_json_body(gateway):
    client = httpx.Client(transport=gateway)
    body = {"model": "grok-video-1.5", "prompt": "a cat", "seconds": "2", "size": "480P"}
    response = client.post(
        f"{BASE}/v1/videos", json=body, headers={"Authorization": f"Bearer {issued('sk-sandbox-test')}"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_content_type"
    assert "multipart/form-data" in response.json()["error"]["message"]


def test_the_sandbox_refuses_a_urlencoded_body(gateway):
    response = _post(gateway, _fields(), files={})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_content_type"


def test_the_sandbox_refuses_a_data_uri_in_place_of_the_file(gateway):
    data_uri = ReferenceImageData("image/png", png_bytes()).data_uri()
    parts = [(k, (None, v)) for k, v in _fields(input_reference=data_uri).items()]
    response = _post(gateway, files=parts)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "input_reference" and "data URI" in error["message"]


@pytest.mark.parametrize(
    "fields, param",
    [
        (_fields(model="grok-imagine-video-1.5-preview"), "model"),
        (_fields(model=None), "model"),
        (_fields(prompt=None), "prompt"),
        (_fields(prompt="x" * 4097), "prompt"),
        (_fields(seconds="6.5"), "seconds"),
        (_fields(seconds="0"), "seconds"),
        (_fields(seconds="16"), "seconds"),
        (_fields(size="1920x1080"), "size"),
        (_fields(size="720"), "size"),
        (_fields(aspect_ratio="wide"), "aspect_ratio"),
        (_fields(resolution="720P"), "resolution"),  # the preview model's field (docs/gateways.md §2.2)
        (_fields(image="data:image/png;base64,AAAA"), "image"),
        (_fields(duration="5"), "duration"),
    ],
)
def test_the_sandbox_refuses_what_the_table_forbids(gateway, fields, param):
    response = _post(gateway, fields)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_the_sandbox_takes_one_input_reference_only(gateway):
    files = [
        ("input_reference", ("a.png", png_bytes(), "image/png")),
        ("input_reference", ("b.png", png_bytes(), "image/png")),
    ]
    response = _post(gateway, _fields(), files=files)
    assert response.status_code == 400 and response.json()["error"]["param"] == "input_reference"


def test_the_sandbox_refuses_a_file_that_is_not_an_image(gateway):
    files = {"input_reference": ("reference.png", b"not an image at all", "image/png")}
    response = _post(gateway, _fields(), files=files)
    assert response.status_code == 400 and response.json()["error"]["param"] == "input_reference"


@pytest.mark.parametrize("model, seconds", [("grok-video-1.5-pro", "10"), ("grok-video-1.5-max", "15")])
def test_the_sandbox_fixes_the_duration_of_pro_and_max(gateway, model, seconds):
    response = _post(gateway, _fields(model=model, seconds="3"))
    assert response.status_code == 200, response.text
    assert response.json()["seconds"] == seconds


def test_the_sandbox_orients_the_video_like_the_image_without_an_aspect_ratio(gateway):
    files = {"input_reference": ("reference.png", png_bytes((180, 320)), "image/png")}
    response = _post(gateway, _fields(aspect_ratio=None), files=files)
    assert response.status_code == 200, response.text
    job = SandboxJob.objects.get(pk=response.json()["id"])
    assert (job.params["width"], job.params["height"]) == (480, 854)


def test_the_sandbox_wants_a_bearer_key(gateway):
    response = _post(gateway, _fields(), key=None)
    assert response.status_code == 401
    assert "Bearer" in response.json()["error"]["message"]


def test_the_sandbox_shows_a_task_only_to_the_key_that_made_it(gateway):
    created = _post(gateway, _fields()).json()
    client = httpx.Client(transport=gateway)
    other = client.get(
        f"{BASE}/v1/videos/{created['id']}", headers={"Authorization": f"Bearer {issued('sk-someone-else')}"}
    )
    assert other.status_code == 404
    content = client.get(
        f"{BASE}/v1/videos/{created['id']}/content", headers={"Authorization": f"Bearer {issued('sk-no')}"}
    )
    assert content.status_code == 404


# --- end to end through the sandbox ------------------------------------------------------


def _sent(gateway) -> httpx.Request:
    (request,) = [r for r in gateway.requests if r.method == "POST" and r.url.path.endswith("/v1/videos")]
    return request


def test_it_makes_an_image_to_video_clip_through_the_sandbox(gateway, owner, team):
    key = add_key(owner, team, dialect="multipart")
    image = png_bytes((320, 180))
    generation = make_generation(owner, team, key, references=[NewReference("image/png", image, 320, 180)])
    task = run_until_done(generation.task.pk)
    assert task.state == TaskState.COMPLETED, task.last_error
    asset = Asset.objects.get(generation=generation)
    assert (asset.width, asset.height) == (854, 480)  # 16:9 at 480P
    assert asset.duration_s == pytest.approx(1.0, abs=0.1)
    request = _sent(gateway)
    assert text_fields(request) == {
        "model": "grok-video-1.5",
        "prompt": generation.prompt,
        "seconds": "1",
        "aspect_ratio": "16:9",
        "size": "480P",
    }
    reference = form_parts(request)["input_reference"]
    assert reference.get_payload(decode=True) == image and reference.get_content_type() == "image/png"
    assert generation.kind == "image-to-video"


def test_it_makes_a_text_to_video_clip_through_the_sandbox(gateway, owner, team):
    key = add_key(owner, team, dialect="multipart")
    generation = make_generation(owner, team, key, aspect_ratio="9:16", resolution="540p")
    task = run_until_done(generation.task.pk)
    assert task.state == TaskState.COMPLETED, task.last_error
    asset = Asset.objects.get(generation=generation)
    assert (asset.width, asset.height) == (540, 960)  # 9:16 at 540P
    assert asset.duration_s == pytest.approx(1.0, abs=0.1)
    request = _sent(gateway)
    assert set(form_parts(request)) == {"model", "prompt", "seconds", "aspect_ratio", "size"}
    assert text_fields(request) == {
        "model": "grok-video-1.5",
        "prompt": generation.prompt,
        "seconds": "1",
        "aspect_ratio": "9:16",
        "size": "540P",
    }


def test_a_sandbox_failure_ends_the_task_with_its_message(gateway, owner, team):
    key = add_key(owner, team, dialect="multipart")
    generation = make_generation(owner, team, key, prompt="please [fail] this one")
    task = run_until_done(generation.task.pk)
    assert task.state == TaskState.FAILED
    assert "[fail]" in task.last_error

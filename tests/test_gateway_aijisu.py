"""The aijisu adapter against aijisu's page (docs/gateways.md §3) and against the strict sandbox."""

from __future__ import annotations

import logging

import httpx
import pytest
from pydantic import ValidationError

from tests.conftest import SANDBOX_HOST, STUDIO_HOST, add_key, issued, make_generation, png_bytes, run_until_done
from videos.gateways import get_gateway_class
from videos.gateways.aijisu import AijisuGateway, VideoCreate
from videos.gateways.base import (
    GatewayError,
    GatewayStatus,
    GenerationInput,
    PollResult,
    ReferenceForm,
    ReferenceImageData,
)
from videos.models import Asset, NewReference, TaskState
from videos.sandbox.models import SandboxJob

BASE = f"http://{SANDBOX_HOST}/sandbox/aijisu"
KEY = "sk-sandbox-aijisu-0001"


@pytest.fixture
def images(studio_images):
    """Images at the studio's signed links (the only URLs the sandbox fetches):
    ``images.url("landscape.png")``, ``portrait.png``, ``notes.txt``; any other name is a 404."""
    return studio_images


def choices(**overrides) -> GenerationInput:
    values = {
        "model": "grok-video-1.5",
        "prompt": "A calm product video, slow camera movement, soft light, no text.",
        "duration": 6,
        "resolution": "720p",
        "references": [ReferenceImageData("image/jpeg", url="https://example.com/source.jpg")],
    }
    values.update(overrides)
    return GenerationInput(**values)


def test_it_is_registered_under_its_dialect():
    assert get_gateway_class("aijisu") is AijisuGateway


def test_it_offers_what_aijisus_page_documents():
    spec = AijisuGateway.spec()
    assert spec.model == "grok-video-1.5"
    assert spec.text_to_video is False and spec.prompt_required is True
    assert spec.reference_form == ReferenceForm.URL and spec.max_reference_images == 1
    assert spec.durations == tuple(range(1, 16))
    assert spec.aspect_ratios == () and spec.default_aspect_ratio is None
    assert spec.resolutions == ("480p", "720p", "1080p")
    assert spec.audio is False
    assert AijisuGateway.default_base_url == "https://api.aijisu.cn"
    assert AijisuGateway.sandbox_path == "/aijisu"


# --- the request examples of aijisu's page (docs/gateways.md §3.2), produced by the adapter

DOCUMENTED_EXAMPLES = [
    # aijisu's page, §4.1 "use image_url"
    {
        "model": "grok-video-1.5",
        "prompt": "A cinematic close-up of a glass perfume bottle on a marble table, soft morning light, "
        "slow camera push-in, elegant product video, no text, no logo.",
        "image_url": "https://example.com/source.jpg",
        "duration": 6,
        "size": "720p",
    },
    # aijisu's page, §4.3 "480p fast"
    {
        "model": "grok-video-1.5",
        "prompt": "A simple product shot, the object slowly rotates on a clean white background, "
        "smooth motion, no text.",
        "image_url": "https://example.com/product.jpg",
        "duration": 4,
        "size": "480p",
    },
    # aijisu's page, §11 "Minimum Valid Request"
    {
        "model": "grok-video-1.5",
        "prompt": "A calm product video, slow camera movement, soft light, no text.",
        "image_url": "https://example.com/source.jpg",
        "duration": 6,
        "size": "720p",
    },
]


@pytest.mark.parametrize("example", DOCUMENTED_EXAMPLES)
def test_it_builds_aijisus_request_examples_exactly(example):
    given = choices(
        prompt=example["prompt"],
        duration=example["duration"],
        resolution=example["size"],
        references=[ReferenceImageData("image/jpeg", url=example["image_url"])],
    )
    assert AijisuGateway.validate_choices(given) == {}
    body = AijisuGateway(BASE, "sk-x").build_request(given)
    assert body == example
    assert type(body["duration"]) is int


def test_it_builds_the_image_example_with_image_url_and_accepts_it_as_written():
    # aijisu's page §4.2 "use image" sends the same URL in `image`; the adapter always uses
    # image_url (the page's §11 minimum valid request), and the body model takes §4.2 verbatim.
    example = {
        "model": "grok-video-1.5",
        "prompt": "A quiet landscape photo becomes a gentle animated scene, leaves moving in the wind, "
        "soft natural lighting, stable camera, no text.",
        "image": "https://example.com/landscape.png",
        "duration": 8,
        "size": "1080p",
    }
    assert VideoCreate.model_validate(example).model_dump(exclude_none=True) == example
    body = AijisuGateway(BASE, "sk-x").build_request(
        choices(
            prompt=example["prompt"],
            duration=8,
            resolution="1080p",
            references=[ReferenceImageData("image/png", data=png_bytes(), url=example["image"])],
        )
    )
    assert body == {**{k: v for k, v in example.items() if k != "image"}, "image_url": example["image"]}


def test_it_sends_the_url_even_when_it_holds_the_bytes():
    upload = ReferenceImageData("image/png", data=png_bytes(), url=f"http://{STUDIO_HOST}/r/token.png")
    body = AijisuGateway(BASE, "sk-x").build_request(choices(references=[upload]))
    assert body["image_url"] == f"http://{STUDIO_HOST}/r/token.png"
    assert not any(str(value).startswith("data:") for value in body.values())


# --- what aijisu forbids (docs/gateways.md §3.2) is refused before sending ---------------


@pytest.mark.parametrize(
    "field, overrides, words",
    [
        ("references", {"references": []}, "image-to-video only"),
        (
            "references",
            {"references": [ReferenceImageData("image/png", url=f"https://example.com/{n}.png") for n in (1, 2)]},
            "one input image",
        ),
        ("references", {"references": [ReferenceImageData("image/png", data=png_bytes())]}, "public http(s) URL"),
        (
            "references",
            {"references": [ReferenceImageData("image/png", url="data:image/png;base64,AAAA")]},
            "data URIs are not accepted",
        ),
        ("aspect_ratio", {"aspect_ratio": "16:9"}, "orientation follows the input image"),
        ("resolution", {"resolution": "4k"}, "480p, 720p or 1080p"),
        ("resolution", {"resolution": "1920x1080"}, "480p, 720p or 1080p"),
        ("resolution", {"resolution": "540p"}, "480p, 720p or 1080p"),
        ("duration", {"duration": 0}, "1 to 15"),
        ("duration", {"duration": 16}, "1 to 15"),
        ("prompt", {"prompt": "  "}, "needs a prompt"),
        ("audio", {"audio": True}, "no audio switch"),
        ("model", {"model": "grok-imagine-video-1.5"}, "no model"),
    ],
)
def test_it_refuses_what_aijisu_forbids_before_sending(field, overrides, words):
    problems = AijisuGateway.validate_choices(choices(**overrides))
    assert words in problems[field]


@pytest.mark.parametrize(
    "extra",
    [
        {"images": ["https://example.com/a.png"]},
        {"image_urls": ["https://example.com/a.png"]},
        {"reference_image_urls": ["https://example.com/a.png"]},
        {"video": "https://example.com/a.mp4"},
        {"video_url": "https://example.com/a.mp4"},
        {"videos": ["https://example.com/a.mp4"]},
        {"video_urls": ["https://example.com/a.mp4"]},
        {"aspect_ratio": "16:9"},
        {"extra_body": {"operation": "edit_video"}},
        {"extra_body": {"operation": "video_extend"}},
        {"duration": "6"},
        {"duration": 16},
        {"duration": 0},
        {"duration": True},
        {"size": "1920x1080"},
        {"size": "1280x720"},
        {"size": "4k"},
        {"resolution": "4k"},
        {"seconds": 6},
        {"seconds": "16"},
        {"image_url": "data:image/png;base64,AAAA"},
        {"image": "https://example.com/second.png"},
        {"image_url": None},
        {"model": "grok-imagine-video-1.5-preview"},
        {"prompt": ""},
        {"size": "720p", "resolution": "480p"},
        {"seconds": "8"},
    ],
)
def test_the_body_model_refuses_what_aijisu_forbids(extra):
    body = {**DOCUMENTED_EXAMPLES[2], **extra}
    with pytest.raises(ValidationError):
        VideoCreate.model_validate(body)


def test_the_body_model_accepts_the_compatibility_fields_when_they_agree():
    body = {**DOCUMENTED_EXAMPLES[2], "seconds": "6", "resolution": "720p"}
    assert VideoCreate.model_validate(body).seconds == "6"


def test_a_body_it_cannot_build_is_a_permanent_error_naming_the_field():
    adapter = AijisuGateway(BASE, "sk-x")
    with pytest.raises(GatewayError) as info:
        adapter.build_request(choices(references=[]))
    assert info.value.permanent and "image or image_url" in info.value.message


# --- the answers of docs/gateways.md §3.4 ----------------------------------------------

CREATED = {  # aijisu's create answer (docs/gateways.md §3.4)
    "id": "task_xxxxxxxxxxxxx",
    "task_id": "task_xxxxxxxxxxxxx",
    "object": "video.generation.job",
    "model": "grok-video-1.5",
    "status": "queued",
    "progress": 0,
    "created_at": 1782400000,
}
IN_PROGRESS = {  # aijisu's in-progress answer (docs/gateways.md §3.4)
    "id": "task_xxxxxxxxxxxxx",
    "object": "video.generation.job",
    "model": "grok-video-1.5",
    "status": "in_progress",
    "progress": 35,
    "created_at": 1782400000,
}
COMPLETED = {  # aijisu's completed answer (docs/gateways.md §3.4)
    "id": "task_xxxxxxxxxxxxx",
    "object": "video.generation.job",
    "model": "grok-video-1.5",
    "status": "completed",
    "progress": 100,
    "video_url": "https://example.com/generated-video.mp4",
    "result": {
        "video_url": "https://example.com/generated-video.mp4",
        "outputs": ["https://example.com/generated-video.mp4"],
    },
}


def _adapter(handler) -> AijisuGateway:
    return AijisuGateway("https://gw.example", "k", client=httpx.Client(transport=httpx.MockTransport(handler)))


def _answering(answer: dict, status: int = 200) -> AijisuGateway:
    return _adapter(lambda r: httpx.Response(status, json=answer))


def test_aijisu_reports_no_delivered_duration():
    # docs/gateways.md §3.4 / §7.9: the completed answer names no length of the video.
    result = _answering({**COMPLETED, "duration": 6, "seconds": "6"}).poll("task_xxxxxxxxxxxxx")
    assert result.status == GatewayStatus.SUCCEEDED and result.duration_s is None


def test_it_reads_aijisus_create_answer():
    sent = []

    def handler(request):
        sent.append(request)
        return httpx.Response(200, json=CREATED)

    submission = _adapter(handler).submit(choices())
    assert submission.external_id == "task_xxxxxxxxxxxxx"
    assert (submission.status, submission.status_word, submission.progress) == (GatewayStatus.QUEUED, "queued", 0)
    (request,) = sent
    assert (request.method, request.url.path) == ("POST", "/v1/videos")
    assert request.headers["Authorization"] == "Bearer k"
    assert request.headers["Content-Type"] == "application/json"


def test_it_takes_the_task_id_when_only_task_id_is_given():
    answer = {k: v for k, v in CREATED.items() if k != "id"}
    assert _answering(answer).submit(choices()).external_id == "task_xxxxxxxxxxxxx"


def test_a_create_answer_without_a_task_id_may_have_created_the_task():
    with pytest.raises(GatewayError) as info:
        _answering({"object": "video.generation.job", "status": "queued"}).submit(choices())
    assert info.value.maybe_created and not info.value.permanent


def test_it_polls_the_documented_path_and_reads_progress():
    seen = []

    def handler(request):
        seen.append(request.url.path)
        return httpx.Response(200, json=IN_PROGRESS)

    result = _adapter(handler).poll("task_xxxxxxxxxxxxx")
    assert seen == ["/v1/videos/task_xxxxxxxxxxxxx"]
    assert (result.status, result.status_word, result.progress) == (GatewayStatus.RUNNING, "in_progress", 35)
    assert result.video_url == ""


@pytest.mark.parametrize(
    "answer",
    [
        COMPLETED,
        {**COMPLETED, "video_url": None},
        {k: v for k, v in COMPLETED.items() if k != "video_url"},
        {"id": "task_1", "status": "completed", "result": {"outputs": ["https://example.com/generated-video.mp4"]}},
        {
            "id": "task_1",
            "status": "completed",
            "result": {"outputs": [{"url": "https://example.com/generated-video.mp4"}]},
        },
        {"id": "task_1", "status": "completed", "video_url": "https://example.com/generated-video.mp4"},
    ],
)
def test_it_reads_the_result_url_wherever_aijisu_puts_it(answer):
    result = _answering(answer).poll("task_1")
    assert result.status == GatewayStatus.SUCCEEDED and result.progress == 100
    assert result.video_url == "https://example.com/generated-video.mp4"


def test_a_completed_task_without_any_url_falls_back_to_the_content_endpoint():
    result = _answering({"id": "task_1", "status": "completed", "result": {"outputs": []}}).poll("task_1")
    assert result.video_url == ""
    url, headers = AijisuGateway("https://gw.example", "k").result_download("task_1", result)
    assert url == "https://gw.example/v1/videos/task_1/content"
    assert headers == {"Authorization": "Bearer k"}


@pytest.mark.parametrize(
    "answer, message",
    [
        (
            {"id": "task_1", "status": "failed", "progress": 30, "error": {"message": "Content policy"}},
            "Content policy",
        ),
        ({"id": "task_1", "status": "failed", "error": "upstream refused"}, "upstream refused"),
        ({"id": "task_1", "status": "failed"}, "failed"),
    ],
)
def test_it_reads_a_failed_tasks_message(answer, message):
    result = _answering(answer).poll("task_1")
    assert result.status == GatewayStatus.FAILED
    assert message in result.error


@pytest.mark.parametrize(
    "word, status",
    [
        ("queued", GatewayStatus.QUEUED),
        ("in_progress", GatewayStatus.RUNNING),
        ("completed", GatewayStatus.SUCCEEDED),
        ("failed", GatewayStatus.FAILED),
        ("IN_PROGRESS", GatewayStatus.RUNNING),
        ("processing", GatewayStatus.RUNNING),
        ("cancelled", GatewayStatus.CANCELLED),
        ("rendering-somehow", GatewayStatus.RUNNING),
        (None, GatewayStatus.RUNNING),
    ],
)
def test_it_maps_every_documented_status_word(word, status):
    result = _answering({"id": "task_1", "status": word, "progress": 40}).poll("task_1")
    assert result.status == status


def test_it_logs_an_unknown_status_word(caplog):
    with caplog.at_level(logging.WARNING, logger="videos.gateways.aijisu"):
        _answering({"id": "task_1", "status": "warming_up"}).poll("task_1")
    assert "warming_up" in caplog.text


# --- errors ----------------------------------------------------------------------------


def test_a_400_is_permanent_with_the_gateways_message():
    adapter = _answering({"error": {"message": "do not pass aspect_ratio", "type": "invalid_request_error"}}, 400)
    with pytest.raises(GatewayError) as info:
        adapter.submit(choices())
    assert info.value.permanent and info.value.message == "do not pass aspect_ratio"
    assert not info.value.maybe_created


@pytest.mark.parametrize("status", [401, 403])
def test_an_auth_error_is_permanent(status):
    with pytest.raises(GatewayError) as info:
        _answering({"error": {"message": "invalid token"}}, status).poll("task_1")
    assert info.value.permanent and info.value.status_code == status


def test_a_5xx_on_submit_may_have_created_the_task():
    adapter = _adapter(lambda r: httpx.Response(502, text="<html>Bad gateway</html>"))
    with pytest.raises(GatewayError) as info:
        adapter.submit(choices())
    assert not info.value.permanent and info.value.maybe_created


def test_a_read_timeout_on_submit_may_have_created_the_task():
    def handler(request):
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(GatewayError) as info:
        _adapter(handler).submit(choices())
    assert info.value.maybe_created and not info.value.permanent


def test_a_refused_connection_did_not_create_anything():
    def handler(request):
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(GatewayError) as info:
        _adapter(handler).submit(choices())
    assert not info.value.maybe_created and not info.value.permanent


def test_a_429_is_transient_and_keeps_retry_after():
    adapter = _adapter(
        lambda r: httpx.Response(429, headers={"Retry-After": "7"}, json={"error": {"message": "slow down"}})
    )
    with pytest.raises(GatewayError) as info:
        adapter.poll("task_1")
    assert not info.value.permanent and info.value.retry_after == 7


def test_html_instead_of_json_is_transient():
    with pytest.raises(GatewayError) as info:
        _adapter(lambda r: httpx.Response(200, text="<html>maintenance</html>")).poll("task_1")
    assert not info.value.permanent


def test_it_sends_the_key_only_to_the_gateways_own_host():
    adapter = AijisuGateway("https://gw.example", "sk-secret")
    done = PollResult(GatewayStatus.SUCCEEDED, "completed", 100, {}, video_url="https://cdn.example/v.mp4")
    assert adapter.result_download("task_1", done) == ("https://cdn.example/v.mp4", {})
    own = PollResult(GatewayStatus.SUCCEEDED, "completed", 100, {}, video_url="https://gw.example/files/v.mp4")
    assert adapter.result_download("task_1", own)[1] == {"Authorization": "Bearer sk-secret"}


@pytest.mark.parametrize("age", [0, 30, 59, 60, 200, 299, 300, 3600, 86400])
def test_it_polls_every_3_to_10_seconds(age):
    interval = AijisuGateway(BASE, "k").poll_interval(age)
    assert 3 <= interval <= 10
    assert interval == (3 if age < 60 else 5 if age < 300 else 10)


def test_the_key_never_shows_in_the_adapters_repr():
    assert "sk-very-secret" not in repr(AijisuGateway("https://gw.example", "sk-very-secret"))


# --- the sandbox is strict, as the real gateway is ---------------------------------------


def _post(gateway, body, key=KEY):
    client = httpx.Client(transport=gateway)
    headers = {"Authorization": f"Bearer {issued(key)}"} if key else {}
    return client.post(f"{BASE}/v1/videos", json=body, headers=headers)


def _get(gateway, path, key=KEY):
    client = httpx.Client(transport=gateway)
    headers = {"Authorization": f"Bearer {issued(key)}"} if key else {}
    return client.get(f"{BASE}{path}", headers=headers)


def _valid_body(studio, /, **overrides):
    body = {
        "model": "grok-video-1.5",
        "prompt": "a cat",
        "image_url": studio.url("landscape.png"),
        "duration": 1,
        "size": "480p",
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def test_the_sandbox_answers_a_create_like_aijisu(gateway, images):
    response = _post(gateway, _valid_body(images))
    assert response.status_code == 200
    answer = response.json()
    assert set(answer) == set(CREATED)
    assert answer["id"] == answer["task_id"] and answer["id"].startswith("task_")
    assert answer["object"] == "video.generation.job" and answer["model"] == "grok-video-1.5"
    assert (answer["status"], answer["progress"]) == ("queued", 0)
    assert isinstance(answer["created_at"], int)
    assert any(r.url.host == STUDIO_HOST and r.method == "GET" for r in gateway.requests)  # it fetched the image


@pytest.mark.parametrize("path", ["/v1/videos/{id}", "/v1/videos/generations/{id}"])
def test_the_sandbox_answers_a_completed_task_like_aijisu_on_both_paths(gateway, images, path):
    task_id = _post(gateway, _valid_body(images)).json()["task_id"]
    answer = _get(gateway, path.format(id=task_id)).json()
    assert (answer["status"], answer["progress"]) == ("completed", 100)
    content = f"{BASE}/v1/videos/{task_id}/content"
    assert answer["video_url"] == content
    assert answer["result"] == {"video_url": content, "outputs": [content]}
    video = _get(gateway, f"/v1/videos/{task_id}/content")
    assert video.status_code == 200 and video.headers["Content-Type"] == "video/mp4"
    assert video.content[4:8] == b"ftyp"


def test_the_sandbox_fails_a_task_with_error_message(gateway, images):
    task_id = _post(gateway, _valid_body(images, prompt="please [fail]")).json()["task_id"]
    answer = _get(gateway, f"/v1/videos/{task_id}").json()
    assert answer["status"] == "failed"
    assert "[fail]" in answer["error"]["message"]
    assert _get(gateway, f"/v1/videos/{task_id}/content").status_code == 409


@pytest.mark.parametrize(
    "overrides, param",
    [
        ({"images": ["https://example.com/a.png"]}, "images"),
        ({"image_urls": ["https://example.com/a.png"]}, "image_urls"),
        ({"reference_image_urls": ["https://example.com/a.png"]}, "reference_image_urls"),
        ({"video": "https://example.com/a.mp4"}, "video"),
        ({"video_url": "https://example.com/a.mp4"}, "video_url"),
        ({"videos": ["https://example.com/a.mp4"]}, "videos"),
        ({"video_urls": ["https://example.com/a.mp4"]}, "video_urls"),
        ({"aspect_ratio": "16:9"}, "aspect_ratio"),
        ({"extra_body": {"operation": "edit_video"}}, "extra_body"),
        ({"extra_body": {"operation": "video_extend"}}, "extra_body"),
        ({"style": "anime"}, "style"),
        ({"model": "grok-imagine-video-1.5-preview"}, "model"),
        ({"prompt": ""}, "prompt"),
        ({"image_url": None}, "image_url"),
        ({"image": "IMAGES/portrait.png"}, "image"),
        ({"image_url": "data:image/png;base64,AAAA"}, "image_url"),
        ({"image_url": "IMAGES/missing.png"}, "image_url"),
        ({"image_url": "IMAGES/notes.txt"}, "image_url"),
        ({"image_url": "http://nowhere.test/cat.png"}, "image_url"),
        ({"duration": "6"}, "duration"),
        ({"duration": 0}, "duration"),
        ({"duration": 16}, "duration"),
        ({"duration": True}, "duration"),
        ({"duration": 6.5}, "duration"),
        ({"seconds": 6}, "seconds"),
        ({"duration": None, "seconds": "16"}, "seconds"),
        ({"seconds": "2"}, "seconds"),
        ({"size": "1920x1080"}, "size"),
        ({"size": "1280x720"}, "size"),
        ({"size": "4k"}, "size"),
        ({"size": "540p"}, "size"),
        ({"size": ["480p"]}, "size"),
        ({"resolution": "4k"}, "resolution"),
        ({"resolution": "720p"}, "resolution"),
    ],
)
def test_the_sandbox_refuses_what_aijisu_forbids(gateway, images, overrides, param):
    overrides = {
        k: images.url(v.removeprefix("IMAGES/")) if isinstance(v, str) and v.startswith("IMAGES/") else v
        for k, v in overrides.items()
    }
    response = _post(gateway, _valid_body(images, **overrides))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == param
    assert error["message"] and error["type"] == "invalid_request_error"
    assert not SandboxJob.objects.filter(dialect="aijisu").exists()


@pytest.mark.parametrize(
    "overrides, words",
    [
        ({"aspect_ratio": "9:16"}, "orientation follows the input image"),
        ({"image_urls": ["https://example.com/a.png"]}, "one input image"),
        ({"video_url": "https://example.com/a.mp4"}, "does not support video input"),
        ({"extra_body": {"operation": "video_extend"}}, "editing"),
        ({"image_url": None}, "image-to-video only"),
        ({"size": "1920x1080"}, "480p, 720p, 1080p"),
    ],
)
def test_the_sandbox_explains_a_refusal_with_aijisus_reason(gateway, images, overrides, words):
    response = _post(gateway, _valid_body(images, **overrides))
    assert response.status_code == 400
    assert words in response.json()["error"]["message"]


def test_the_sandbox_accepts_image_and_the_compatibility_fields(gateway, images):
    body = _valid_body(images, image_url=None, image=images.url("portrait.png"), duration=None, size=None)
    response = _post(gateway, {**body, "seconds": "2", "resolution": "720p"})
    assert response.status_code == 200, response.json()
    job = SandboxJob.objects.get(pk=response.json()["task_id"])
    assert (job.params["seconds"], job.params["resolution"]) == (2, "720p")
    assert (job.params["width"], job.params["height"]) == (720, 1280)  # portrait image, 720p


def test_the_sandbox_wants_a_bearer_key(gateway, images):
    response = _post(gateway, _valid_body(images), key=None)
    assert response.status_code == 401
    assert "Bearer" in response.json()["error"]["message"]


def test_the_sandbox_wants_json(gateway):
    client = httpx.Client(transport=gateway)
    headers = {"Authorization": f"Bearer {issued('k')}"}
    response = client.post(f"{BASE}/v1/videos", data={"model": "grok-video-1.5"}, headers=headers)
    assert response.status_code == 400 and "error" in response.json()


def test_the_sandbox_shows_a_task_only_to_the_key_that_made_it(gateway, images):
    task_id = _post(gateway, _valid_body(images)).json()["task_id"]
    for path in (f"/v1/videos/{task_id}", f"/v1/videos/generations/{task_id}", f"/v1/videos/{task_id}/content"):
        other = _get(gateway, path, key="sk-someone-else")
        assert other.status_code == 404 and "error" in other.json()
    assert _get(gateway, f"/v1/videos/{task_id}", key=None).status_code == 401


# --- end to end through the studio -----------------------------------------------------


@pytest.fixture
def aijisu_key(gateway, owner, team):
    return add_key(owner, team, dialect="aijisu", secret=KEY, label="aijisu sandbox")


def test_it_archives_an_uploaded_image_to_video_generation(gateway, owner, team, aijisu_key):
    reference = NewReference("image/png", png_bytes((320, 180)), 320, 180)
    generation = make_generation(owner, team, aijisu_key, references=[reference])
    task = run_until_done(generation.task.pk)
    assert task.state == TaskState.COMPLETED, task.last_error
    asset = Asset.objects.get(generation=generation)
    assert (asset.width, asset.height) == (854, 480)  # the image's 16:9 at 480p
    assert asset.duration_s == pytest.approx(1.0, abs=0.1)
    (body,) = gateway.json_bodies("POST")
    assert set(body) == {"model", "prompt", "image_url", "duration", "size"}
    assert body["image_url"].startswith(f"http://{STUDIO_HOST}/r/")
    assert body == {
        "model": "grok-video-1.5",
        "prompt": generation.prompt,
        "image_url": body["image_url"],
        "duration": 1,
        "size": "480p",
    }
    assert type(body["duration"]) is int
    # the sandbox fetched the signed URL, as aijisu fetches the input image
    assert any(r.url.host == STUDIO_HOST and r.method == "GET" for r in gateway.requests)
    polls = [r for r in gateway.requests if r.method == "GET" and r.url.host == SANDBOX_HOST]
    assert polls and polls[0].url.path == f"/sandbox/aijisu/v1/videos/{task.external_id}"


def test_the_output_follows_a_portrait_images_orientation(gateway, owner, team, aijisu_key):
    reference = NewReference("image/png", png_bytes((180, 320)), 180, 320)
    generation = make_generation(owner, team, aijisu_key, references=[reference])
    task = run_until_done(generation.task.pk)
    assert task.state == TaskState.COMPLETED, task.last_error
    asset = Asset.objects.get(generation=generation)
    assert (asset.width, asset.height) == (480, 854)


def test_it_sends_a_pasted_url_as_it_is(gateway, images, owner, team, aijisu_key):
    url = images.url("landscape.png")
    generation = make_generation(owner, team, aijisu_key, references=[NewReference(url=url)], duration=2)
    task = run_until_done(generation.task.pk)
    assert task.state == TaskState.COMPLETED, task.last_error
    (body,) = gateway.json_bodies("POST")
    assert body["image_url"] == url and body["duration"] == 2
    assert Asset.objects.get(generation=generation).duration_s == pytest.approx(2.0, abs=0.1)


def test_an_image_the_gateway_cannot_fetch_fails_the_task_with_its_message(gateway, images, owner, team, aijisu_key):
    generation = make_generation(owner, team, aijisu_key, references=[NewReference(url=images.url("missing.png"))])
    task = run_until_done(generation.task.pk)
    assert task.state == TaskState.FAILED
    assert "could not be fetched" in task.last_error


def test_it_refuses_text_to_video_without_sending(gateway, owner, team, aijisu_key):
    generation = make_generation(owner, team, aijisu_key)
    task = run_until_done(generation.task.pk)
    assert task.state == TaskState.FAILED
    assert "image-to-video only" in task.last_error
    assert not [r for r in gateway.requests if r.method == "POST"]


def test_a_gateway_failure_ends_the_task_with_its_message(gateway, owner, team, aijisu_key):
    reference = NewReference("image/png", png_bytes((320, 180)), 320, 180)
    generation = make_generation(owner, team, aijisu_key, prompt="please [fail] this one", references=[reference])
    task = run_until_done(generation.task.pk)
    assert task.state == TaskState.FAILED
    assert "[fail]" in task.last_error

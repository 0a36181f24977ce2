"""The xai adapter against xAI's video guide (docs/gateways.md §6) and against the strict sandbox.

The "documented examples" here are the request and answer shapes docs/gateways.md §6
lists (from https://docs.x.ai/docs/guides/video-generations).
"""

from __future__ import annotations

import base64
import json
import logging
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone
from pydantic import ValidationError

from tests.conftest import SANDBOX_HOST, STUDIO_HOST, add_key, issued, make_generation, png_bytes, run_until_done
from videos.gateways import get_gateway_class
from videos.gateways.base import GatewayError, GatewayStatus, GenerationInput, PollResult, ReferenceImageData
from videos.gateways.xai import VideoGenerationRequest, XaiGateway
from videos.models import Asset, NewReference, TaskState
from videos.sandbox.models import SandboxJob

BASE = f"http://{SANDBOX_HOST}/sandbox/xai"
MODEL = "grok-imagine-video-1.5-preview"
PROMPT = "A glowing crystal-powered rocket launching from the red dunes of Mars"
SIGNED = "http://studio.test/r/signed-token.png"


def choices(**overrides) -> GenerationInput:
    values = {"model": MODEL, "prompt": PROMPT, "duration": 10, "aspect_ratio": "16:9", "resolution": "720p"}
    values.update(overrides)
    return GenerationInput(**values)


def adapter_answering(handler, base="https://api.x.ai", key="xai-test-key") -> XaiGateway:
    return XaiGateway(base, key, client=httpx.Client(transport=httpx.MockTransport(handler)))


def answering(status_code=200, **kwargs) -> XaiGateway:
    return adapter_answering(lambda request: httpx.Response(status_code, **kwargs))


# --- the request -------------------------------------------------------------------------


def test_it_is_registered_under_its_dialect():
    assert get_gateway_class("xai") is XaiGateway


def test_it_offers_what_the_guide_documents():
    spec = XaiGateway.spec()
    assert XaiGateway.default_base_url == "https://api.x.ai"
    assert spec.model == MODEL
    assert spec.durations == tuple(range(1, 16)) and spec.default_duration == 8
    assert set(spec.aspect_ratios) == {"1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3"}
    assert spec.resolutions == ("480p", "720p")
    assert spec.max_reference_images == 1 and spec.text_to_video and not spec.audio


def test_it_builds_the_documented_text_to_video_body_exactly():
    body = XaiGateway("https://api.x.ai", "k").build_request(choices())
    # docs/gateways.md §6.2: prompt, model, duration (integer 1-15), aspect_ratio, resolution 480p|720p
    assert body == {
        "model": MODEL,
        "prompt": PROMPT,
        "duration": 10,
        "aspect_ratio": "16:9",
        "resolution": "720p",
    }
    assert type(body["duration"]) is int


def test_it_sends_an_uploaded_reference_as_its_signed_url():
    ref = ReferenceImageData("image/png", png_bytes(), SIGNED)
    body = XaiGateway("https://api.x.ai", "k").build_request(choices(references=[ref]))
    assert body["image"] == {"url": SIGNED}


def test_it_sends_a_pasted_url_as_it_is():
    ref = ReferenceImageData("", b"", "https://images.example/cat.jpg")
    body = XaiGateway("https://api.x.ai", "k").build_request(choices(references=[ref]))
    assert body["image"] == {"url": "https://images.example/cat.jpg"}


def test_it_falls_back_to_a_data_uri_when_the_image_has_no_url():
    data = png_bytes()
    ref = ReferenceImageData("image/png", data, "")
    assert XaiGateway.validate_choices(choices(references=[ref])) == {}
    body = XaiGateway("https://api.x.ai", "k").build_request(choices(references=[ref]))
    assert body["image"] == {"url": "data:image/png;base64," + base64.b64encode(data).decode()}


@pytest.mark.parametrize(
    "field, overrides, words",
    [
        ("duration", {"duration": 0}, "1 to 15"),
        ("duration", {"duration": 16}, "1 to 15"),
        ("aspect_ratio", {"aspect_ratio": "2:1"}, "1:1, 4:3"),
        ("aspect_ratio", {"aspect_ratio": "21:9"}, "16:9"),
        ("resolution", {"resolution": "1080p"}, "480p, 720p"),
        ("audio", {"audio": True}, "no audio"),
        ("prompt", {"prompt": "  "}, "needs a prompt"),
        ("model", {"model": "grok-imagine-video"}, "no model"),
        (
            "references",
            {"references": [ReferenceImageData("image/png", b"x", SIGNED)] * 2},
            "one image (image.url) at most",
        ),
        ("references", {"references": [ReferenceImageData("", b"", "")]}, "image.url"),
        ("references", {"references": [ReferenceImageData("", b"", "ftp://files.example/cat.png")]}, "http(s) URL"),
    ],
)
def test_it_refuses_what_the_guide_forbids_before_sending(field, overrides, words):
    problems = XaiGateway.validate_choices(choices(**overrides))
    assert words in problems[field]


def test_it_accepts_every_documented_choice():
    for ratio in ("1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3"):
        for duration in (1, 8, 15):
            for resolution in ("480p", "720p"):
                picked = choices(aspect_ratio=ratio, duration=duration, resolution=resolution)
                assert XaiGateway.validate_choices(picked) == {}


@pytest.mark.parametrize(
    "change",
    [
        {"duration": "8"},  # an integer, never a string
        {"duration": 16},
        {"resolution": "720P"},
        {"aspect_ratio": "2:1"},
        {"image": "https://images.example/cat.jpg"},  # an object {url}, not a bare string
        {"image": {"url": "ftp://images.example/cat.jpg"}},
        {"image": {"url": SIGNED, "detail": "high"}},
        {"images": [{"url": SIGNED}]},
        {"seconds": "8"},
        {"audio": True},
        {"model": "grok-imagine-video"},
    ],
)
def test_the_body_model_refuses_undocumented_fields_and_types(change):
    body = {"model": MODEL, "prompt": PROMPT, "duration": 8, "aspect_ratio": "16:9", "resolution": "480p"}
    VideoGenerationRequest.model_validate(body)  # the documented body passes
    with pytest.raises(ValidationError):
        VideoGenerationRequest.model_validate({**body, **change})


# --- the answers ----------------------------------------------------------------------------


def test_it_reads_the_request_id_of_a_submit():
    adapter = answering(json={"request_id": "d97415a1-5796-b7ec-379f-4e6819e08fdf"})
    submission = adapter.submit(choices())
    assert submission.external_id == "d97415a1-5796-b7ec-379f-4e6819e08fdf"
    assert submission.status == GatewayStatus.QUEUED


def test_a_submit_answer_without_request_id_may_have_created_the_task():
    with pytest.raises(GatewayError) as info:
        answering(json={"status": "pending"}).submit(choices())
    assert info.value.maybe_created and not info.value.permanent


VIDEO = "https://vidgen.x.ai/xai-vidgen-bucket/xai-video-d974.mp4"


@pytest.mark.parametrize(
    "answer, status, video_url, error",
    [
        ({}, GatewayStatus.QUEUED, "", ""),  # an early answer carries no status at all
        ({"model": MODEL}, GatewayStatus.QUEUED, "", ""),
        ({"status": "pending"}, GatewayStatus.RUNNING, "", ""),
        ({"status": "PENDING", "progress": 40}, GatewayStatus.RUNNING, "", ""),
        (
            {"status": "done", "video": {"url": VIDEO, "duration": 8, "respect_moderation": True}, "model": MODEL},
            GatewayStatus.SUCCEEDED,
            VIDEO,
            "",
        ),
        ({"video": {"url": VIDEO, "duration": 8}}, GatewayStatus.SUCCEEDED, VIDEO, ""),
        (
            {"status": "failed", "error": "Generation failed: content policy"},
            GatewayStatus.FAILED,
            "",
            "content policy",
        ),
        (
            {"status": "failed", "error": {"code": "internal", "message": "Upstream render error"}},
            GatewayStatus.FAILED,
            "",
            "Upstream render error",
        ),
        ({"status": "failed"}, GatewayStatus.FAILED, "", "failed"),
        ({"status": "expired"}, GatewayStatus.FAILED, "", "expire"),
        (
            {"status": "done", "video": {"url": "", "respect_moderation": False}},
            GatewayStatus.FAILED,
            "",
            "moderation",
        ),
        ({"status": "done", "video": None}, GatewayStatus.FAILED, "", "no video URL"),
        ({"status": "rendering-somehow"}, GatewayStatus.RUNNING, "", ""),
        ({"status": 3, "video": "odd"}, GatewayStatus.QUEUED, "", ""),
    ],
)
def test_it_maps_every_documented_answer(answer, status, video_url, error):
    result = answering(json=answer).poll("d974")
    assert result.status == status
    assert result.video_url == video_url
    assert error in result.error
    if not error:
        assert result.error == ""
    assert result.raw == answer


def test_it_reads_progress_when_given_and_100_when_done():
    assert answering(json={"status": "pending", "progress": 40}).poll("a").progress == 40
    assert answering(json={"status": "done", "video": {"url": VIDEO}}).poll("a").progress == 100


@pytest.mark.parametrize(
    "duration, expected",
    [
        (8, 8.0),
        (1, 1.0),
        (15, 15.0),
        (8.04, 8.04),
        ("6", 6.0),  # a numeric string, read defensively
        (3600, 3600.0),
        (None, None),
        ("", None),
        ("eight", None),
        (True, None),  # a boolean is not a number of seconds
        (0, None),
        (-3, None),
        (3601, None),  # absurd for a 1-15 s model
        (float("nan"), None),
        (float("inf"), None),
        (float("-inf"), None),
        (10**400, None),  # too large for a float
        ([8], None),
        ({"seconds": 8}, None),
    ],
)
def test_it_reports_the_delivered_duration_of_a_done_answer(duration, expected):
    # docs/gateways.md §6.4 / §7.9: video.duration is the generated video's length in seconds.
    answer = {"status": "done", "video": {"url": VIDEO, "duration": duration, "respect_moderation": True}}
    # Sent as raw JSON text: NaN and Infinity are what a sloppy encoder puts on the wire.
    body = json.dumps(answer, allow_nan=True).encode()
    result = answering(content=body, headers={"Content-Type": "application/json"}).poll("d974")
    assert result.status == GatewayStatus.SUCCEEDED and result.video_url == VIDEO
    assert result.duration_s == expected
    assert result.duration_s is None or type(result.duration_s) is float


def test_a_done_answer_without_a_duration_reports_none():
    result = answering(json={"status": "done", "video": {"url": VIDEO}}).poll("d974")
    assert result.status == GatewayStatus.SUCCEEDED and result.duration_s is None


@pytest.mark.parametrize(
    "answer",
    [
        {"status": "pending", "video": {"duration": 8}},
        {"video": {"duration": 8}},  # no status, no URL: still queued
        {"status": "done", "video": {"url": "", "duration": 8, "respect_moderation": False}},  # failed
        {"status": "failed", "video": {"duration": 8}, "error": "boom"},
        {"status": "expired", "video": {"url": VIDEO, "duration": 8}},
    ],
)
def test_only_a_succeeded_answer_reports_a_delivered_duration(answer):
    result = answering(json=answer).poll("d974")
    assert result.status != GatewayStatus.SUCCEEDED
    assert result.duration_s is None


def test_an_answer_without_status_but_with_a_video_reports_its_duration():
    result = answering(json={"video": {"url": VIDEO, "duration": 8}}).poll("d974")
    assert result.status == GatewayStatus.SUCCEEDED and result.duration_s == 8.0


def test_a_poll_result_carries_no_extra_field():
    result = answering(json={"status": "done", "video": {"url": VIDEO, "duration": 8}}).poll("d974")
    assert not hasattr(result, "extra")


def test_it_logs_an_unknown_status_word(caplog):
    with caplog.at_level(logging.WARNING, logger="videos.gateways.xai"):
        answering(json={"status": "thinking"}).poll("d974")
    assert "thinking" in caplog.text


def test_it_polls_the_documented_path_with_the_key():
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200, json={"status": "pending"})

    adapter_answering(handler, key="xai-secret").poll("d974")
    assert seen[0].method == "GET" and str(seen[0].url) == "https://api.x.ai/v1/videos/d974"
    assert seen[0].headers["Authorization"] == "Bearer xai-secret"


def test_it_sends_the_key_only_to_the_gateways_own_host():
    adapter = XaiGateway("https://api.x.ai", "xai-secret")
    done = PollResult(GatewayStatus.SUCCEEDED, "done", 100, {}, video_url=VIDEO)
    assert adapter.result_download("d974", done) == (VIDEO, {})
    own = PollResult(GatewayStatus.SUCCEEDED, "done", 100, {}, video_url="https://api.x.ai/files/d974.mp4")
    assert adapter.result_download("d974", own)[1] == {"Authorization": "Bearer xai-secret"}


def test_it_polls_within_60_requests_a_minute():
    adapter = XaiGateway("https://api.x.ai", "k")
    intervals = [adapter.poll_interval(age) for age in (0, 30, 120, 300, 1200, 7200)]
    assert intervals[0] == 5.0
    assert all(interval >= 1.0 for interval in intervals)  # 60/min per key
    assert intervals == sorted(intervals)  # never faster as a task ages


# --- errors ---------------------------------------------------------------------------------


def test_a_400_is_permanent_with_xais_message():
    adapter = answering(400, json={"code": "Client specified an invalid argument", "error": "Invalid aspect ratio 2:1"})
    with pytest.raises(GatewayError) as info:
        adapter.submit(choices())
    assert info.value.permanent and not info.value.maybe_created
    assert info.value.message == "Invalid aspect ratio 2:1" and info.value.status_code == 400


def test_a_percent_encoded_message_is_decoded():
    body = {"code": "Client specified an invalid argument", "error": "Incorrect%20API%20key%20provided:%20xa***ey."}
    with pytest.raises(GatewayError) as info:
        answering(400, json=body).submit(choices())
    assert info.value.message == "Incorrect API key provided: xa***ey."


def test_an_envelope_with_only_a_code_shows_the_code():
    with pytest.raises(GatewayError) as info:
        answering(403, json={"code": "The caller does not have permission"}).poll("d974")
    assert info.value.permanent and info.value.message == "The caller does not have permission"


@pytest.mark.parametrize("status_code", [401, 403, 422])
def test_auth_and_unprocessable_answers_are_permanent(status_code):
    with pytest.raises(GatewayError) as info:
        answering(status_code, json={"code": "x", "error": "nope"}).submit(choices())
    assert info.value.permanent and not info.value.maybe_created


def test_a_404_on_a_poll_says_the_id_belongs_to_its_key():
    with pytest.raises(GatewayError) as info:
        answering(404, json={"code": "Some requested entity was not found", "error": "not found"}).poll("d974")
    assert info.value.permanent
    assert "only under the key that made it" in info.value.message and str(info.value) == info.value.message


def test_a_429_is_transient_and_keeps_retry_after():
    adapter = answering(429, headers={"Retry-After": "12"}, json={"code": "Too many requests", "error": "slow down"})
    with pytest.raises(GatewayError) as info:
        adapter.poll("d974")
    assert not info.value.permanent and info.value.retry_after == 12


def test_a_5xx_on_submit_may_have_created_the_task():
    with pytest.raises(GatewayError) as info:
        answering(503, text="upstream busy").submit(choices())
    assert not info.value.permanent and info.value.maybe_created


def test_a_5xx_on_a_poll_is_transient():
    with pytest.raises(GatewayError) as info:
        answering(500, json={"code": "Internal", "error": "oops"}).poll("d974")
    assert not info.value.permanent and not info.value.maybe_created


def test_a_read_timeout_on_submit_may_have_created_the_task():
    def handler(request):
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(GatewayError) as info:
        adapter_answering(handler).submit(choices())
    assert info.value.maybe_created and not info.value.permanent


def test_a_refused_connection_did_not_create_anything():
    def handler(request):
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(GatewayError) as info:
        adapter_answering(handler).submit(choices())
    assert not info.value.maybe_created and not info.value.permanent


def test_html_instead_of_json_is_transient():
    with pytest.raises(GatewayError) as info:
        answering(200, text="<html>maintenance</html>").poll("d974")
    assert not info.value.permanent


def test_the_key_never_shows_in_the_adapters_repr():
    assert "xai-very-secret" not in repr(XaiGateway("https://api.x.ai", "xai-very-secret"))


# --- the sandbox is strict, as xAI is ---------------------------------------------------------


def _client(gateway) -> httpx.Client:
    return httpx.Client(transport=gateway)


def _post(gateway, body, key="xai-sandbox-test"):
    headers = {"Authorization": f"Bearer {issued(key)}"} if key else {}
    return _client(gateway).post(f"{BASE}/v1/videos/generations", json=body, headers=headers)


def _get(gateway, request_id, key="xai-sandbox-test"):
    return _client(gateway).get(f"{BASE}/v1/videos/{request_id}", headers={"Authorization": f"Bearer {issued(key)}"})


def _valid_body(**overrides):
    body = {"model": MODEL, "prompt": "a cat", "duration": 1, "aspect_ratio": "16:9", "resolution": "480p"}
    body.update(overrides)
    return body


def _assert_envelope(response):
    answer = response.json()
    assert set(answer) == {"code", "error"}
    assert isinstance(answer["code"], str) and isinstance(answer["error"], str)
    return answer["error"]


def test_the_sandbox_answers_a_create_with_only_a_request_id(gateway):
    response = _post(gateway, _valid_body())
    assert response.status_code == 200
    assert set(response.json()) == {"request_id"}


def test_the_sandbox_takes_only_model_and_prompt(gateway):
    response = _post(gateway, {"model": MODEL, "prompt": "a cat"})
    assert response.status_code == 200
    job = SandboxJob.objects.get(pk=response.json()["request_id"])
    assert job.params["seconds"] == 8  # docs/gateways.md §6.2: default 8


@pytest.mark.parametrize(
    "body, status_code, words",
    [
        (_valid_body(duration="1"), 422, "duration"),
        (_valid_body(duration=1.5), 422, "duration"),
        (_valid_body(duration=True), 422, "duration"),
        (_valid_body(duration=0), 400, "between 1 and 15"),
        (_valid_body(duration=16), 400, "between 1 and 15"),
        (_valid_body(seconds="1"), 422, "unknown field `seconds`"),
        (_valid_body(audio=True), 422, "unknown field `audio`"),
        (_valid_body(images=[{"url": "https://images.example/a.png"}]), 422, "unknown field `images`"),
        (_valid_body(model="grok-imagine-video-1.5"), 404, "does not exist"),
        ({"prompt": "a cat"}, 422, "missing field `model`"),
        ({"model": MODEL}, 422, "missing field `prompt`"),
        (_valid_body(prompt="   "), 400, "prompt"),
        (_valid_body(aspect_ratio="2:1"), 400, "aspect_ratio"),
        (_valid_body(aspect_ratio=1.77), 422, "aspect_ratio"),
        (_valid_body(resolution="720P"), 400, "480p or 720p"),
        (_valid_body(resolution="1080p"), 400, "480p or 720p"),
        (_valid_body(image="https://images.example/a.png"), 422, "image"),
        (_valid_body(image=[{"url": "https://images.example/a.png"}]), 422, "image"),
        (_valid_body(image={"url": "https://images.example/a.png", "detail": "high"}), 422, "`detail`"),
        (_valid_body(image={}), 422, "missing field `url`"),
        (_valid_body(image={"url": "ftp://images.example/a.png"}), 400, "http(s) URL or a data URI"),
        (_valid_body(image={"url": "data:text/plain;base64,aGVsbG8="}), 400, "image.url"),
        (_valid_body(image={"url": "data:image/png;base64," + base64.b64encode(b"no png").decode()}), 400, "image"),
        (_valid_body(image={"url": "http://unreachable.test/cat.png"}), 400, "Failed to fetch"),
    ],
)
def test_the_sandbox_refuses_what_xai_refuses(gateway, body, status_code, words):
    response = _post(gateway, body)
    assert response.status_code == status_code
    assert words in _assert_envelope(response)
    assert not SandboxJob.objects.exists()


def test_the_sandbox_refuses_an_image_url_that_answers_an_error_or_no_image(gateway, studio_images):
    missing = _post(gateway, _valid_body(image={"url": studio_images.url("missing.png")}))
    assert missing.status_code == 400 and "did not serve an image" in _assert_envelope(missing)
    assert "404" not in _assert_envelope(missing)  # nothing of the upstream answer
    page = _post(gateway, _valid_body(image={"url": studio_images.url("page.png")}))
    assert page.status_code == 400 and "not a readable image" in _assert_envelope(page)


def test_the_sandbox_fetches_the_image_and_starts_the_video_on_it(gateway, studio_images):
    response = _post(gateway, _valid_body(image={"url": studio_images.url("portrait.png")}))
    assert response.status_code == 200
    job = SandboxJob.objects.get(pk=response.json()["request_id"])
    assert bytes(job.image) == studio_images.files["portrait.png"][1]
    assert (job.params["width"], job.params["height"]) == (480, 854)  # the image's orientation
    assert any(r.url.host == STUDIO_HOST and r.method == "GET" for r in gateway.requests)


def test_the_sandbox_takes_a_data_uri_image(gateway):
    uri = "data:image/png;base64," + base64.b64encode(png_bytes((320, 180))).decode()
    response = _post(gateway, _valid_body(image={"url": uri}, resolution="720p"))
    assert response.status_code == 200
    job = SandboxJob.objects.get(pk=response.json()["request_id"])
    assert (job.params["width"], job.params["height"]) == (1280, 720)


def test_the_sandbox_wants_a_bearer_key(gateway):
    response = _post(gateway, _valid_body(), key=None)
    assert response.status_code == 401
    assert "Bearer" in _assert_envelope(response)


def test_the_sandbox_shows_a_request_only_to_the_key_that_made_it(gateway):
    request_id = _post(gateway, _valid_body()).json()["request_id"]
    other = _get(gateway, request_id, key="xai-someone-else")
    assert other.status_code == 404
    _assert_envelope(other)
    assert _get(gateway, request_id).status_code == 200


def test_the_sandbox_answers_no_status_then_pending_then_done(gateway, settings):
    settings.STUDIO_SANDBOX_RUN_SECONDS = 100
    request_id = _post(gateway, _valid_body()).json()["request_id"]
    early = _get(gateway, request_id)
    assert early.status_code == 200 and "status" not in early.json()
    SandboxJob.objects.filter(pk=request_id).update(created_at=timezone.now() - timedelta(seconds=50))
    assert _get(gateway, request_id).json()["status"] == "pending"
    SandboxJob.objects.filter(pk=request_id).update(created_at=timezone.now() - timedelta(seconds=200))
    done = _get(gateway, request_id)
    assert done.status_code == 200
    answer = done.json()
    assert answer["status"] == "done" and answer["video"]["duration"] == 1
    assert answer["video"]["url"] == f"{BASE}/files/{request_id}.mp4"
    video = _client(gateway).get(answer["video"]["url"])  # keyless, like xAI's video links
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"


def test_the_sandbox_reports_failed_and_expired_with_http_200(gateway):
    failing = _post(gateway, _valid_body(prompt="please [fail]")).json()["request_id"]
    answer = _get(gateway, failing)
    assert answer.status_code == 200 and answer.json()["status"] == "failed" and "[fail]" in answer.json()["error"]
    expiring = _post(gateway, _valid_body()).json()["request_id"]
    SandboxJob.objects.filter(pk=expiring).update(cancelled_at=timezone.now())
    expired = _get(gateway, expiring)
    assert expired.status_code == 200 and expired.json()["status"] == "expired"
    result = XaiGateway(BASE, issued("xai-sandbox-test")).poll(expiring)
    assert result.status == GatewayStatus.FAILED and "expire" in result.error


# --- end to end through the pipeline ----------------------------------------------------------


def test_it_makes_an_image_to_video_from_an_upload_at_its_signed_url(gateway, owner, team):
    key = add_key(owner, team, dialect="xai", secret="xai-alice-0001")
    generation = make_generation(
        owner, team, key, references=[NewReference("image/png", png_bytes((320, 180)), 320, 180)]
    )
    task = run_until_done(generation.task.pk)
    assert task.state == TaskState.COMPLETED, task.last_error
    asset = Asset.objects.get(generation=generation)
    assert (asset.width, asset.height) == (854, 480)
    assert asset.duration_s == pytest.approx(1.0, abs=0.1)
    (body,) = gateway.json_bodies("POST")
    assert set(body) == {"model", "prompt", "duration", "aspect_ratio", "resolution", "image"}
    assert body["image"]["url"].startswith("http://studio.test/r/")
    assert {k: v for k, v in body.items() if k != "image"} == {
        "model": MODEL,
        "prompt": generation.prompt,
        "duration": 1,
        "aspect_ratio": "16:9",
        "resolution": "480p",
    }
    assert type(body["duration"]) is int
    fetch = [r for r in gateway.requests if r.url.host == "studio.test"]
    assert len(fetch) == 1 and "authorization" not in fetch[0].headers  # the sandbox fetched it, keyless
    polls = [r for r in gateway.requests if r.method == "GET" and "/v1/videos/" in r.url.path]
    assert polls and all(r.headers["Authorization"] == "Bearer xai-alice-0001" for r in polls)


def test_it_makes_a_text_to_video(gateway, owner, team):
    key = add_key(owner, team, dialect="xai", secret="xai-alice-0001")
    generation = make_generation(owner, team, key, aspect_ratio="9:16")
    task = run_until_done(generation.task.pk)
    assert task.state == TaskState.COMPLETED, task.last_error
    asset = Asset.objects.get(generation=generation)
    assert (asset.width, asset.height) == (480, 854)
    assert asset.duration_s == pytest.approx(1.0, abs=0.1)
    assert task.delivered_seconds == 1  # the sandbox's video.duration, through PollResult.duration_s
    assert gateway.json_bodies("POST") == [
        {"model": MODEL, "prompt": generation.prompt, "duration": 1, "aspect_ratio": "9:16", "resolution": "480p"}
    ]


def test_a_failed_request_ends_the_task_with_xais_message(gateway, owner, team):
    key = add_key(owner, team, dialect="xai", secret="xai-alice-0001")
    generation = make_generation(owner, team, key, prompt="please [fail] this")
    task = run_until_done(generation.task.pk)
    assert task.state == TaskState.FAILED and "[fail]" in task.last_error
    assert not Asset.objects.filter(generation=generation).exists()


def test_an_image_url_xai_cannot_fetch_fails_the_task_with_its_message(gateway, owner, team):
    key = add_key(owner, team, dialect="xai", secret="xai-alice-0001")
    generation = make_generation(owner, team, key, references=[NewReference(url="http://unreachable.test/cat.png")])
    task = run_until_done(generation.task.pk)
    assert task.state == TaskState.FAILED
    assert "Failed to fetch" in task.last_error
    assert sum(1 for r in gateway.requests if r.method == "POST") == 1

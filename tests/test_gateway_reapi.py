"""The reapi adapter against reAPI's pages (docs/gateways.md §5), and against the strict sandbox."""

from __future__ import annotations

import dataclasses
import json

import httpx
import pytest

from tests.conftest import SANDBOX_HOST, STUDIO_HOST, add_key, issued, make_generation, png_bytes, run_until_done
from videos.gateways import get_gateway_class
from videos.gateways.base import GatewayError, GatewayStatus, GenerationInput, PollResult, ReferenceImageData
from videos.gateways.reapi import BETA, OFFICIAL, GenerationCreate, ReapiGateway
from videos.models import Asset, NewReference, TaskState

BASE = f"http://{SANDBOX_HOST}/sandbox/reapi"
SOURCE = "https://your-cdn.com/source.jpg"
PROMPT = "Gentle cinematic push-in, golden-hour light, subtle motion"


def jpeg(url: str = SOURCE) -> ReferenceImageData:
    return ReferenceImageData("image/jpeg", b"", url)


def choices(**overrides) -> GenerationInput:
    values = {
        "model": OFFICIAL,
        "prompt": PROMPT,
        "duration": 8,
        "aspect_ratio": "16:9",
        "resolution": "720p",
        "audio": True,
        "references": [jpeg()],
    }
    values.update(overrides)
    return GenerationInput(**values)


def build(**overrides) -> dict:
    return ReapiGateway(BASE, "sk-x").build_request(choices(**overrides))


def test_it_is_registered_under_its_dialect():
    assert get_gateway_class("reapi") is ReapiGateway
    assert ReapiGateway.default_base_url == "https://reapi.ai"


def test_it_offers_the_documented_options_per_channel():
    official, beta = ReapiGateway.spec(OFFICIAL), ReapiGateway.spec(BETA)
    assert official.durations == tuple(range(3, 16)) and official.default_duration == 8
    assert set(official.aspect_ratios) == {"1:1", "16:9", "9:16"} and official.default_aspect_ratio == "16:9"
    assert official.resolutions == ("480p", "720p") and official.default_resolution == "480p"
    assert official.audio and official.default_audio
    assert official.prompt_required and not official.text_to_video and official.max_reference_images == 1
    assert official.reference_form == "url"
    assert beta.durations == tuple(range(1, 16)) and "auto" in beta.aspect_ratios
    assert not beta.audio and not beta.prompt_required and beta.max_reference_images == 1


# --- reAPI's request examples, whole (docs/gateways.md §5.2) --------------------------------


def test_it_builds_reapis_quick_example_exactly():
    body = build()
    assert body == {
        "model": "grok-imagine-video-1.5-official",
        "prompt": "Gentle cinematic push-in, golden-hour light, subtle motion",
        "image_urls": ["https://your-cdn.com/source.jpg"],
        "aspect_ratio": "16:9",
        "resolution": "720p",
        "duration": 8,
    }
    assert type(body["duration"]) is int  # 'Send a number, not a string.'


def test_it_builds_the_vertical_no_audio_recipe_exactly():
    body = build(
        prompt="Energetic motion, quick handheld feel",
        references=[jpeg("https://your-cdn.com/poster.jpg")],
        aspect_ratio="9:16",
        duration=6,
        audio=False,
    )
    assert body == {
        "model": "grok-imagine-video-1.5-official",
        "prompt": "Energetic motion, quick handheld feel",
        "image_urls": ["https://your-cdn.com/poster.jpg"],
        "aspect_ratio": "9:16",
        "resolution": "720p",
        "duration": 6,
        "audio": False,
    }
    assert body["audio"] is False


@pytest.mark.parametrize(
    "example, member_choices",
    [
        (  # "Minimum request": every omitted field at its documented default
            {
                "model": "grok-imagine-video-1.5-official",
                "prompt": "Slow push-in with ambient room tone",
                "image_urls": ["https://your-cdn.com/source.jpg"],
            },
            {"prompt": "Slow push-in with ambient room tone", "resolution": "480p"},
        ),
        (  # "Directed motion + HD"
            {
                "model": "grok-imagine-video-1.5-official",
                "prompt": "Slow dolly forward, wind moving the hair, warm cinematic light",
                "image_urls": ["https://your-cdn.com/portrait.jpg"],
                "resolution": "720p",
                "duration": 10,
            },
            {
                "prompt": "Slow dolly forward, wind moving the hair, warm cinematic light",
                "references": [jpeg("https://your-cdn.com/portrait.jpg")],
                "duration": 10,
            },
        ),
    ],
)
def test_it_builds_the_recipes_with_the_documented_defaults_spelled_out(example, member_choices):
    # reAPI's defaults (docs/gateways.md §5.2): aspect_ratio "16:9", resolution "480p", duration 8, audio true.
    defaults = {"aspect_ratio": "16:9", "resolution": "480p", "duration": 8}
    assert build(**member_choices) == {**defaults, **example}


def test_it_sends_the_beta_channel_without_audio_or_an_empty_prompt():
    body = build(model=BETA, prompt="", duration=1, aspect_ratio="auto", resolution="480p", audio=None)
    assert body == {
        "model": "grok-imagine-video-1.5-beta",
        "image_urls": ["https://your-cdn.com/source.jpg"],
        "aspect_ratio": "auto",
        "resolution": "480p",
        "duration": 1,
    }


# --- documented rejections are refused before sending ---------------------------------------


@pytest.mark.parametrize(
    "field, overrides, words",
    [
        ("prompt", {"prompt": "   "}, "needs a prompt"),  # 20002 prompt is required
        ("references", {"references": []}, "add a reference image"),  # 20002 image_urls is required
        ("references", {"references": [jpeg(), jpeg()]}, "at most 1 entry"),  # 20003
        ("duration", {"duration": 2}, "3 to 15"),  # 20003 duration must be 3-15 seconds
        ("duration", {"duration": 16}, "3 to 15"),
        ("resolution", {"resolution": "1080p"}, "480p, 720p"),  # 20003 invalid resolution
        ("aspect_ratio", {"aspect_ratio": "4:3"}, "16:9, 9:16, 1:1"),  # 20003 invalid aspect_ratio
        ("aspect_ratio", {"aspect_ratio": "auto"}, "no auto"),  # "auto is not available on this channel"
        (
            "references",
            {"references": [ReferenceImageData("image/png", png_bytes(), "data:image/png;base64,AAAA")]},
            "public http(s) URL",
        ),  # 20003 image_urls entries must be public http(s) URLs
        ("references", {"references": [ReferenceImageData("image/gif", b"GIF8", SOURCE)]}, "JPEG, PNG or WebP"),
    ],
)
def test_it_refuses_what_reapi_rejects_before_sending(field, overrides, words):
    problems = ReapiGateway.validate_choices(choices(**overrides))
    assert words in problems[field]


@pytest.mark.parametrize(
    "field, overrides, words",
    [
        ("duration", {"duration": 0}, "1 to 15"),
        ("audio", {"audio": True}, "no audio switch"),
        ("aspect_ratio", {"aspect_ratio": "21:9"}, "auto"),
    ],
)
def test_it_refuses_what_the_beta_channel_lacks(field, overrides, words):
    problems = ReapiGateway.validate_choices(choices(model=BETA, **overrides))
    assert words in problems[field]


def test_it_accepts_the_documented_choices():
    assert ReapiGateway.validate_choices(choices()) == {}
    assert ReapiGateway.validate_choices(choices(duration=3, resolution="480p", aspect_ratio="1:1")) == {}
    assert (
        ReapiGateway.validate_choices(choices(model=BETA, prompt="", duration=1, aspect_ratio="auto", audio=None)) == {}
    )


def test_the_body_model_refuses_a_data_uri_a_missing_prompt_and_audio_on_beta():
    gateway = ReapiGateway(BASE, "sk-x")
    with pytest.raises(ValueError, match="public http"):
        gateway.build_request(choices(references=[ReferenceImageData("image/png", b"x", "data:image/png;base64,AA")]))
    with pytest.raises(ValueError, match="prompt is required"):
        gateway.build_request(choices(prompt=""))
    with pytest.raises(ValueError, match="3-15"):
        gateway.build_request(choices(duration=2))
    with pytest.raises(ValueError, match="no audio"):
        GenerationCreate(model=BETA, image_urls=[SOURCE], audio=True)
    with pytest.raises(ValueError, match="duration"):
        GenerationCreate(model=OFFICIAL, prompt="p", image_urls=[SOURCE], duration="8")


# --- answers ------------------------------------------------------------------------------

SUBMIT_ANSWER = {  # reAPI's "Submit response" (docs/gateways.md §5.4)
    "id": "task_018f5a3a1b6e7d9f8c2b4d6e8f0a2c4e",
    "model": "grok-imagine-video-1.5-official",
    "status": "processing",
    "created_at": 1735000000,
}
COMPLETED = {  # reAPI's "Response envelope" (docs/gateways.md §5.4)
    "id": "task_018f5a3a1b6e7d9f8c2b4d6e8f0a2c4e",
    "model": "grok-imagine-video-1.5-official",
    "status": "completed",
    "created_at": 1735000000,
    "output": {"video_urls": ["https://cdn.reapi.ai/media/tasks/018f5a3a1b6e7d9f8c2b4d6e8f0a2c4e/0.mp4"]},
    "error": None,
}
FAILED = {
    "id": "task_1",
    "model": "grok-imagine-video-1.5-official",
    "status": "failed",
    "created_at": 1735000000,
    "output": None,
    "error": {"code": 30001, "message": "Content moderation blocked the input image"},
}


def _adapter(handler) -> ReapiGateway:
    return ReapiGateway("https://reapi.ai", "sk-k", client=httpx.Client(transport=httpx.MockTransport(handler)))


def _answering(answer, status=200, headers=None) -> ReapiGateway:
    return _adapter(lambda r: httpx.Response(status, json=answer, headers=headers))


def test_it_reads_reapis_submit_answer():
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200, json=SUBMIT_ANSWER)

    submission = _adapter(handler).submit(choices())
    assert submission.external_id == "task_018f5a3a1b6e7d9f8c2b4d6e8f0a2c4e"
    assert submission.status == GatewayStatus.RUNNING and submission.status_word == "processing"
    (request,) = seen
    assert request.method == "POST" and request.url == "https://reapi.ai/api/v1/videos/generations"
    assert request.headers["Authorization"] == "Bearer sk-k"
    assert json.loads(request.content)["duration"] == 8


def test_it_reads_a_task_id_where_the_prose_names_it():
    submission = _answering({"task_id": "task_9", "status": "processing"}).submit(choices())
    assert submission.external_id == "task_9"


def test_it_reads_the_completed_envelope_and_its_video_url():
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200, json=COMPLETED)

    result = _adapter(handler).poll("task_018f5a3a1b6e7d9f8c2b4d6e8f0a2c4e")
    assert seen[0].url == "https://reapi.ai/api/v1/tasks/task_018f5a3a1b6e7d9f8c2b4d6e8f0a2c4e"
    assert result.status == GatewayStatus.SUCCEEDED and result.progress == 100
    assert result.video_url == "https://cdn.reapi.ai/media/tasks/018f5a3a1b6e7d9f8c2b4d6e8f0a2c4e/0.mp4"


def test_it_reads_a_failed_tasks_code_and_message():
    result = _answering(FAILED).poll("task_1")
    assert result.status == GatewayStatus.FAILED
    assert result.error == "Content moderation blocked the input image (reAPI code 30001)"
    assert not hasattr(result, "extra")  # the code travels in the message, nowhere else


@pytest.mark.parametrize(
    "error, message",
    [
        ({"code": 30001}, "reAPI reports the task failed. (reAPI code 30001)"),
        ({"code": "30001", "message": ""}, "reAPI reports the task failed. (reAPI code 30001)"),
        ({"message": "Upstream render error"}, "Upstream render error"),
        ("Upstream render error", "Upstream render error"),
        (None, "reAPI reports the task failed."),
    ],
)
def test_a_failed_tasks_message_names_its_code_whatever_else_is_missing(error, message):
    result = _answering({**FAILED, "error": error}).poll("task_1")
    assert result.status == GatewayStatus.FAILED and result.error == message


def test_poll_result_takes_no_extra_any_more():
    # docs/gateways.md §7.9: PollResult carries status, word, progress, raw, video_url, error
    # and duration_s; the dead ``extra`` dict is gone, from the result and from poll_result.
    assert "extra" not in {f.name for f in dataclasses.fields(PollResult)}
    with pytest.raises(TypeError):
        ReapiGateway("https://reapi.ai", "k").poll_result(
            GatewayStatus.FAILED, "failed", FAILED, progress=0, extra={"error_code": 30001}
        )


def test_reapi_reports_no_delivered_duration():
    # docs/gateways.md §7.9: reAPI's envelope carries no length of the delivered video.
    answer = {**COMPLETED, "duration": 8, "output": {**COMPLETED["output"], "duration": 8}}
    result = _answering(answer).poll("task_1")
    assert result.status == GatewayStatus.SUCCEEDED and result.duration_s is None


@pytest.mark.parametrize(
    "word, status",
    [
        ("processing", GatewayStatus.RUNNING),
        ("completed", GatewayStatus.SUCCEEDED),
        ("failed", GatewayStatus.FAILED),
        ("Completed", GatewayStatus.SUCCEEDED),
        ("rendering-somehow", GatewayStatus.RUNNING),
        (None, GatewayStatus.RUNNING),
    ],
)
def test_it_maps_every_documented_status_word(word, status):
    result = _answering({**COMPLETED, "status": word}).poll("task_1")
    assert result.status == status


def test_it_keeps_polling_a_completed_task_that_lists_no_video_yet():
    result = _answering({**COMPLETED, "output": None}).poll("task_1")
    assert result.status == GatewayStatus.RUNNING and result.status_word == "completed"


def test_it_sends_the_key_only_to_the_gateways_own_host():
    adapter = ReapiGateway("https://reapi.ai", "sk-secret")
    cdn = PollResult(GatewayStatus.SUCCEEDED, "completed", 100, {}, video_url="https://cdn.reapi.ai/m/0.mp4")
    assert adapter.result_download("task_1", cdn) == ("https://cdn.reapi.ai/m/0.mp4", {})
    own = PollResult(GatewayStatus.SUCCEEDED, "completed", 100, {}, video_url="https://reapi.ai/m/0.mp4")
    assert adapter.result_download("task_1", own)[1] == {"Authorization": "Bearer sk-secret"}


def test_it_polls_on_reapis_cadence():
    adapter = ReapiGateway("https://reapi.ai", "k")
    assert adapter.poll_interval(0) == 5 and adapter.poll_interval(299) == 5
    assert 5 < adapter.poll_interval(1800) < 60
    assert adapter.poll_interval(3599) == pytest.approx(60, abs=0.1)
    assert adapter.poll_interval(3600) == 180 and adapter.poll_interval(20 * 3600) == 180


# --- errors -------------------------------------------------------------------------------


def _reapi_error(code, message, status):
    return {"error": {"code": code, "message": message, "request_id": "req_abc"}}, status


@pytest.mark.parametrize(
    "code, status",
    [(20002, 400), (20003, 400), ("20003", 400), (10001, 401), (10003, 403), (20003, 500)],
)
def test_it_treats_reapis_refusal_codes_as_permanent(code, status):
    body, status = _reapi_error(code, "duration must be 3-15 seconds", status)
    with pytest.raises(GatewayError) as info:
        _answering(body, status).submit(choices())
    assert info.value.permanent and not info.value.maybe_created
    assert info.value.message == f"duration must be 3-15 seconds (reAPI code {code}, request_id req_abc)"


def test_a_5xx_on_submit_may_have_created_the_task():
    with pytest.raises(GatewayError) as info:
        _adapter(lambda r: httpx.Response(502, text="<html>Bad gateway</html>")).submit(choices())
    assert not info.value.permanent and info.value.maybe_created


def test_a_read_timeout_on_submit_may_have_created_the_task():
    def handler(request):
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(GatewayError) as info:
        _adapter(handler).submit(choices())
    assert info.value.maybe_created and not info.value.permanent


def test_a_429_is_transient_and_keeps_retry_after():
    body, _ = _reapi_error(20003, "rate limited", 429)
    with pytest.raises(GatewayError) as info:
        _answering(body, 429, {"Retry-After": "7"}).poll("task_1")
    assert not info.value.permanent and info.value.retry_after == 7


def test_an_answer_without_a_task_id_is_transient_and_maybe_created():
    with pytest.raises(GatewayError) as info:
        _answering({"status": "processing"}).submit(choices())
    assert not info.value.permanent and info.value.maybe_created


# --- the sandbox is strict, as the real gateway is -------------------------------------------


@pytest.fixture
def image_url(owner, team):
    """A real signed studio URL for an uploaded PNG (the sandbox fetches it in-process)."""
    from videos.models import Generation, ReferenceImage

    generation = Generation.objects.create(team=team, author=owner, dialect="reapi", model_name=OFFICIAL, prompt="x")
    ref = ReferenceImage(generation=generation, position=0, content_type="image/png", width=320, height=180)
    from django.core.files.base import ContentFile

    ref.image.save("reference", ContentFile(png_bytes((320, 180))), save=True)
    url = ref.signed_url()
    assert url.startswith(f"http://{STUDIO_HOST}/")
    return url


def _post(gateway, body, key="sk-sandbox-test"):
    headers = {"Authorization": f"Bearer {issued(key)}"} if key else {}
    return httpx.Client(transport=gateway).post(f"{BASE}/api/v1/videos/generations", json=body, headers=headers)


def _get(gateway, url, key="sk-sandbox-test"):
    headers = {"Authorization": f"Bearer {issued(key)}"} if key else {}
    return httpx.Client(transport=gateway).get(url, headers=headers)


def _valid(url, **overrides):
    body = {
        "model": OFFICIAL,
        "prompt": "a cat",
        "image_urls": [url],
        "aspect_ratio": "16:9",
        "resolution": "480p",
        "duration": 3,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def test_the_sandbox_answers_with_reapis_envelope(gateway, image_url):
    response = _post(gateway, _valid(image_url, audio=False))
    assert response.status_code == 200
    answer = response.json()
    assert set(answer) == {"id", "model", "status", "created_at", "output", "error"}
    assert answer["id"].startswith("task_") and answer["status"] == "processing"
    assert answer["model"] == OFFICIAL and isinstance(answer["created_at"], int)
    assert answer["output"] is None and answer["error"] is None
    done = _get(gateway, f"{BASE}/api/v1/tasks/{answer['id']}").json()
    assert done["status"] == "completed" and done["error"] is None
    (video_url,) = done["output"]["video_urls"]
    assert video_url == f"{BASE}/media/tasks/{answer['id']}/0.mp4"
    video = _get(gateway, video_url, key=None)
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"


@pytest.mark.parametrize(
    "overrides, code",
    [
        ({"model": "grok-imagine-video-1.5-preview"}, 20003),
        ({"prompt": None}, 20002),  # prompt is required
        ({"prompt": ""}, 20002),
        ({"image_urls": None}, 20002),  # image_urls is required
        ({"image_urls": ["data:image/png;base64,iVBORw0KGgo="]}, 20003),
        ({"image_urls": ["ftp://example.com/a.png"]}, 20003),
        ({"duration": "8"}, 20003),  # 'a string is rejected with 400'
        ({"duration": 2}, 20003),
        ({"duration": 16}, 20003),
        ({"duration": 8.0}, 20003),
        ({"resolution": "1080p"}, 20003),
        ({"resolution": "480P"}, 20003),
        ({"aspect_ratio": "auto"}, 20003),
        ({"aspect_ratio": "4:3"}, 20003),
        ({"audio": "false"}, 20003),
        ({"nsfw_checker": False}, 20003),  # beta only
        ({"seconds": 8}, 20003),  # unknown field
    ],
)
def test_the_sandbox_refuses_what_reapi_forbids(gateway, image_url, overrides, code):
    response = _post(gateway, _valid(image_url, **overrides))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code and error["message"] and error["request_id"]


def test_the_sandbox_refuses_more_than_one_image(gateway, image_url):
    response = _post(gateway, _valid(image_url, image_urls=[image_url, image_url]))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 20003 and "at most 1" in error["message"]


def test_the_sandbox_refuses_audio_on_the_beta_channel_but_takes_auto(gateway, image_url):
    refused = _post(gateway, _valid(image_url, model=BETA, audio=True))
    assert refused.status_code == 400 and refused.json()["error"]["code"] == 20003
    taken = _post(gateway, _valid(image_url, model=BETA, prompt=None, duration=1, aspect_ratio="auto"))
    assert taken.status_code == 200, taken.text
    assert taken.json()["model"] == BETA


@pytest.mark.parametrize(
    "url",
    [
        f"http://{STUDIO_HOST}/r/forged.png",  # 404 at the studio
        "http://unreachable.invalid/a.png",  # no such host
    ],
)
def test_the_sandbox_refuses_an_image_it_cannot_fetch(gateway, url):
    response = _post(gateway, _valid(url))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 20003 and "image_urls[0]" in error["message"]


def test_the_sandbox_refuses_bytes_that_are_not_an_image(gateway, image_url):
    gateway.faults.append((lambda r: r.url.host == STUDIO_HOST, lambda r: httpx.Response(200, content=b"<html>")))
    response = _post(gateway, _valid(image_url))
    assert response.status_code == 400
    assert "not a readable image" in response.json()["error"]["message"]


def test_the_sandbox_wants_a_bearer_key(gateway, image_url):
    response = _post(gateway, _valid(image_url), key=None)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == 10001


def test_the_sandbox_shows_a_task_only_to_the_key_that_made_it(gateway, image_url):
    created = _post(gateway, _valid(image_url)).json()
    other = _get(gateway, f"{BASE}/api/v1/tasks/{created['id']}", key="sk-someone-else")
    assert other.status_code == 404
    assert set(other.json()["error"]) == {"code", "message", "request_id"}


def test_the_sandbox_fails_a_fail_prompt_with_an_error_object(gateway, image_url):
    created = _post(gateway, _valid(image_url, prompt="please [fail]")).json()
    answer = _get(gateway, f"{BASE}/api/v1/tasks/{created['id']}").json()
    assert answer["status"] == "failed" and answer["output"] is None
    assert set(answer["error"]) == {"code", "message"} and "[fail]" in answer["error"]["message"]


# --- end to end through the pipeline -----------------------------------------------------------


@pytest.fixture
def reapi_key(owner, team):
    return add_key(owner, team, dialect="reapi", secret="sk-sandbox-reapi-0001")


def _studio_bodies(gateway) -> list[dict]:
    return [
        json.loads(r.content)
        for r in gateway.requests
        if r.method == "POST" and r.url.path.endswith("/api/v1/videos/generations")
    ]


def test_it_makes_an_image_to_video_clip_end_to_end(gateway, owner, team, reapi_key):
    generation = make_generation(
        owner,
        team,
        reapi_key,
        references=[NewReference("image/png", png_bytes((320, 180)), 320, 180)],
        audio=False,
    )
    task = run_until_done(generation.task.pk)
    assert task.state == TaskState.COMPLETED, task.last_error
    asset = Asset.objects.get(generation=generation)
    assert (asset.width, asset.height) == (736, 400)  # reAPI's matrix (docs/gateways.md §5.2): 16:9 at 480p
    assert asset.duration_s == pytest.approx(3.0, abs=0.1)  # the official channel's shortest clip
    (body,) = _studio_bodies(gateway)
    (url,) = body.pop("image_urls")
    assert url.startswith(f"http://{STUDIO_HOST}/r/") and url.endswith(".png")
    assert body == {
        "model": OFFICIAL,
        "prompt": generation.prompt,
        "aspect_ratio": "16:9",
        "resolution": "480p",
        "duration": 3,
        "audio": False,
    }
    assert type(body["duration"]) is int
    # The sandbox fetched the signed URL, without the gateway key.
    (fetch,) = [r for r in gateway.requests if r.url.host == STUDIO_HOST]
    assert "Authorization" not in fetch.headers


def test_it_makes_a_beta_clip_that_follows_the_images_orientation(gateway, owner, team, reapi_key):
    generation = make_generation(
        owner,
        team,
        reapi_key,
        prompt="",
        model=BETA,
        aspect_ratio="auto",
        references=[NewReference("image/png", png_bytes((180, 320)), 180, 320)],
    )
    task = run_until_done(generation.task.pk)
    assert task.state == TaskState.COMPLETED, task.last_error
    asset = Asset.objects.get(generation=generation)
    assert asset.height > asset.width  # portrait, like the reference image
    assert asset.duration_s == pytest.approx(1.0, abs=0.1)
    (body,) = _studio_bodies(gateway)
    assert set(body) == {"model", "image_urls", "aspect_ratio", "resolution", "duration"}
    assert body["model"] == BETA and body["aspect_ratio"] == "auto" and body["duration"] == 1


def test_it_refuses_a_text_to_video_request_before_sending(gateway, owner, team, reapi_key):
    generation = make_generation(owner, team, reapi_key)
    task = run_until_done(generation.task.pk)
    assert task.state == TaskState.FAILED and "reference image" in task.last_error
    assert _studio_bodies(gateway) == []


def test_a_gateway_failure_ends_the_task_with_its_message(gateway, owner, team, reapi_key):
    generation = make_generation(
        owner,
        team,
        reapi_key,
        prompt="please [fail] this one",
        references=[NewReference("image/png", png_bytes((320, 180)), 320, 180)],
    )
    task = run_until_done(generation.task.pk)
    assert task.state == TaskState.FAILED
    assert "[fail]" in task.last_error and "reAPI code" in task.last_error
    assert not Asset.objects.filter(generation=generation).exists()

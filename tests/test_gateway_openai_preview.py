"""The openai-preview adapter against duoyuanx's page (docs/gateways.md §1) and against the strict sandbox."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import SANDBOX_HOST, issued, png_bytes
from videos.gateways import get_gateway_class
from videos.gateways.base import GatewayError, GatewayStatus, GenerationInput, ReferenceImageData
from videos.gateways.openai_preview import OpenAIPreviewGateway

BASE = f"http://{SANDBOX_HOST}/sandbox/openai"


def choices(**overrides) -> GenerationInput:
    values = {
        "model": "grok-imagine-video-1.5-preview",
        "prompt": "A rainy neon-lit street at night, a vintage sports car driving over the wet road",
        "duration": 8,
        "aspect_ratio": "16:9",
        "resolution": "720p",
    }
    values.update(overrides)
    return GenerationInput(**values)


def test_it_is_registered_under_its_dialect():
    assert get_gateway_class("openai-preview") is OpenAIPreviewGateway


def test_it_builds_duoyuanxs_request_example_exactly():
    body = OpenAIPreviewGateway(BASE, "sk-x").build_request(choices())
    # docs/gateways.md §1.2, duoyuanx's "curl -X POST https://duoyuanx.com/v1/videos"
    assert body == {
        "model": "grok-imagine-video-1.5-preview",
        "prompt": "A rainy neon-lit street at night, a vintage sports car driving over the wet road",
        "seconds": "8",
        "aspect_ratio": "16:9",
        "resolution": "720P",
    }
    assert isinstance(body["seconds"], str)


def test_it_sends_one_reference_image_as_image_and_several_as_images():
    gateway = OpenAIPreviewGateway(BASE, "sk-x")
    one = gateway.build_request(choices(references=[ReferenceImageData("image/png", png_bytes())]))
    assert one["image"].startswith("data:image/png;base64,")
    assert "images" not in one
    two = gateway.build_request(
        choices(
            references=[ReferenceImageData("image/png", png_bytes()), ReferenceImageData("image/jpeg", b"\xff\xd8")]
        )
    )
    assert "image" not in two
    assert [uri.split(";")[0] for uri in two["images"]] == ["data:image/png", "data:image/jpeg"]


@pytest.mark.parametrize(
    "field, overrides, words",
    [
        ("duration", {"duration": 0}, "1 to 15"),
        ("duration", {"duration": 16}, "1 to 15"),
        ("resolution", {"resolution": "1080p"}, "480p, 720p"),
        ("aspect_ratio", {"aspect_ratio": "7:5"}, "16:9"),
        ("prompt", {"prompt": "x" * 4097}, "4096"),
    ],
)
def test_it_refuses_what_the_docs_forbid_before_sending(field, overrides, words):
    problems = OpenAIPreviewGateway.validate_choices(choices(**overrides))
    assert words in problems[field]


def test_it_submits_and_polls_the_sandbox(gateway):
    adapter = OpenAIPreviewGateway(BASE, issued("sk-sandbox-test"))
    submission = adapter.submit(choices(duration=1, resolution="480p"))
    assert submission.external_id.startswith("video_")
    assert submission.status == GatewayStatus.QUEUED or submission.status == GatewayStatus.SUCCEEDED
    result = adapter.poll(submission.external_id)
    assert result.status == GatewayStatus.SUCCEEDED
    assert result.video_url.endswith(f"/v1/videos/{submission.external_id}/content")
    url, headers = adapter.result_download(submission.external_id, result)
    assert headers == {"Authorization": "Bearer sk-sandbox-test"}  # same host as the base URL


def test_it_sends_the_key_only_to_the_gateways_own_host():
    adapter = OpenAIPreviewGateway("https://gw.example", "sk-secret")
    from videos.gateways.base import PollResult

    done = PollResult(GatewayStatus.SUCCEEDED, "completed", 100, {}, video_url="https://cdn.example/v.mp4")
    assert adapter.result_download("v1", done) == ("https://cdn.example/v.mp4", {})
    fallback = PollResult(GatewayStatus.SUCCEEDED, "completed", 100, {}, video_url="")
    url, headers = adapter.result_download("v1", fallback)
    assert url == "https://gw.example/v1/videos/v1/content"
    assert headers == {"Authorization": "Bearer sk-secret"}


@pytest.mark.parametrize(
    "word, status",
    [
        ("queued", GatewayStatus.QUEUED),
        ("processing", GatewayStatus.RUNNING),
        ("in_progress", GatewayStatus.RUNNING),
        ("completed", GatewayStatus.SUCCEEDED),
        ("failed", GatewayStatus.FAILED),
        ("cancelled", GatewayStatus.CANCELLED),
        ("rendering-somehow", GatewayStatus.RUNNING),
        (None, GatewayStatus.RUNNING),
    ],
)
def test_it_maps_every_documented_status_word(word, status):
    client = httpx.Client(
        transport=httpx.MockTransport(
            lambda r: httpx.Response(200, json={"id": "video_1", "status": word, "progress": 40})
        )
    )
    result = OpenAIPreviewGateway("https://gw.example", "k", client=client).poll("video_1")
    assert result.status == status


def test_it_reads_a_failed_tasks_message():
    answer = {"id": "video_1", "status": "failed", "progress": 30, "error": {"message": "Content policy", "code": "x"}}
    client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, json=answer)))
    result = OpenAIPreviewGateway("https://gw.example", "k", client=client).poll("video_1")
    assert result.status == GatewayStatus.FAILED
    assert result.error == "Content policy"


def test_the_echoed_seconds_is_not_a_delivered_duration():
    # docs/gateways.md §1.4 / §7.9: the answer's ``seconds`` echoes the request (duoyuanx's
    # example answers "6" to a request for "8"); it says nothing about the file delivered.
    answer = {
        "id": "video_1",
        "object": "video",
        "status": "completed",
        "progress": 100,
        "seconds": "8",
        "size": "720P",
        "video_url": "https://cdn.example/v.mp4",
    }
    client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, json=answer)))
    result = OpenAIPreviewGateway("https://gw.example", "k", client=client).poll("video_1")
    assert result.status == GatewayStatus.SUCCEEDED and result.video_url == "https://cdn.example/v.mp4"
    assert result.duration_s is None


def _adapter(handler) -> OpenAIPreviewGateway:
    return OpenAIPreviewGateway("https://gw.example", "k", client=httpx.Client(transport=httpx.MockTransport(handler)))


def test_a_400_is_permanent_with_the_gateways_message():
    adapter = _adapter(
        lambda r: httpx.Response(
            400, json={"error": {"message": "seconds must be >= 1", "type": "invalid_request_error"}}
        )
    )
    with pytest.raises(GatewayError) as info:
        adapter.submit(choices())
    assert info.value.permanent and info.value.message == "seconds must be >= 1"
    assert not info.value.maybe_created


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
        adapter.poll("video_1")
    assert not info.value.permanent and info.value.retry_after == 7


def test_html_instead_of_json_is_transient():
    adapter = _adapter(lambda r: httpx.Response(200, text="<html>maintenance</html>"))
    with pytest.raises(GatewayError) as info:
        adapter.poll("video_1")
    assert not info.value.permanent


def test_the_key_never_shows_in_the_adapters_repr():
    assert "sk-very-secret" not in repr(OpenAIPreviewGateway("https://gw.example", "sk-very-secret"))


# --- the sandbox is strict, as the real gateway is ---------------------------------------


def _post(gateway, body, key="sk-sandbox-test"):
    client = httpx.Client(transport=gateway)
    headers = {"Authorization": f"Bearer {issued(key)}"} if key else {}
    return client.post(f"{BASE}/v1/videos", json=body, headers=headers)


def _valid_body(**overrides):
    body = {
        "model": "grok-imagine-video-1.5-preview",
        "prompt": "a cat",
        "seconds": "2",
        "aspect_ratio": "16:9",
        "resolution": "480P",
    }
    body.update(overrides)
    return body


def test_the_sandbox_answers_a_create_like_duoyuanx(gateway):
    response = _post(gateway, _valid_body())
    assert response.status_code == 200
    answer = response.json()
    assert set(answer) >= {"id", "object", "model", "status", "progress", "created_at", "seconds", "size", "video_url"}
    assert answer["object"] == "video" and answer["seconds"] == "2" and answer["size"] == "480P"
    assert isinstance(answer["created_at"], int)


@pytest.mark.parametrize(
    "body, param",
    [
        (_valid_body(duration=5), "duration"),
        (_valid_body(model="grok-video-1.5"), "model"),
        (_valid_body(seconds="0"), "seconds"),
        (_valid_body(seconds="6.5"), "seconds"),
        (_valid_body(resolution="1080P"), "resolution"),
        (_valid_body(aspect_ratio="wide"), "aspect_ratio"),
        (_valid_body(prompt="x" * 4097), "prompt"),
        (_valid_body(image="https://example.com/cat.png"), "image"),
        (_valid_body(image="data:image/png;base64,AAAA", images=["data:image/png;base64,AAAA"]), "images"),
        ({"model": "grok-imagine-video-1.5-preview"}, "prompt"),
    ],
)
def test_the_sandbox_refuses_what_the_docs_forbid(gateway, body, param):
    response = _post(gateway, body)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


def test_the_sandbox_wants_a_bearer_key(gateway):
    response = _post(gateway, _valid_body(), key=None)
    assert response.status_code == 401
    assert "Bearer" in response.json()["error"]["message"]


def test_the_sandbox_shows_a_task_only_to_the_key_that_made_it(gateway):
    created = _post(gateway, _valid_body()).json()
    client = httpx.Client(transport=gateway)
    other = client.get(
        f"{BASE}/v1/videos/{created['id']}", headers={"Authorization": f"Bearer {issued('sk-someone-else')}"}
    )
    assert other.status_code == 404

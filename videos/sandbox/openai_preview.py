"""The sandbox's openai-preview dialect, strictly as docs/gateways.md §1 describes it
(https://doc.duoyuanx.com/en/videos/grok/grok-imagine-1-5-preview).

``POST /v1/videos`` (JSON) creates a task, ``GET /v1/videos/{id}`` reads it,
``GET /v1/videos/{id}/content`` downloads the MP4. Anything the documents do not
allow is refused with HTTP 400 and an OpenAI-style ``{"error": {...}}`` body:
unknown fields, a wrong model, a prompt over 4096 characters, ``seconds`` below 1
(or above 15, the studio's cap for every channel), an aspect ratio that is neither
a preset nor ``number:number``, a resolution other than 480P/720P/480/720, and
``image`` together with ``images``.

The multipart dialect answers exactly as this one (docs/gateways.md §2.4), so it
reuses ``error_response``, ``video_object`` and the ``retrieve``/``content`` views,
giving its own dialect name through the URL conf.
"""

from __future__ import annotations

import re

from django.http import FileResponse, HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from videos.sandbox import engine
from videos.sandbox.common import Refusal, bearer_key, decode_data_uri, json_body, keyed_job, ready_video
from videos.sandbox.models import SandboxJob

DIALECT = "openai-preview"
MODEL = "grok-imagine-video-1.5-preview"
FIELDS = {"model", "prompt", "seconds", "aspect_ratio", "resolution", "image", "images"}
RATIO = re.compile(r"^\d+(\.\d+)?:\d+(\.\d+)?$")
RESOLUTIONS = {"480P": 480, "720P": 720, "480": 480, "720": 720}


def error_response(refusal: Refusal) -> JsonResponse:
    """OpenAI's error envelope ``{"error": {message, type, param, code}}`` at the refusal's HTTP status."""
    return JsonResponse(
        {
            "error": {
                "message": refusal.message,
                "type": "invalid_request_error",
                "param": refusal.param,
                "code": refusal.code,
            }
        },
        status=refusal.status,
    )


def parse_create(body: dict) -> tuple[dict, bytes | None]:
    """Validate a create body; returns (params, first image bytes). Raises Refusal."""
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise Refusal(400, f"Unknown parameter: '{unknown[0]}'.", code="unknown_parameter", param=unknown[0])
    if body.get("model") != MODEL:
        raise Refusal(400, f"'model' must be '{MODEL}'.", code="model_not_found", param="model")
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise Refusal(400, "'prompt' is required.", code="missing_required_parameter", param="prompt")
    if len(prompt) > 4096:
        raise Refusal(400, "'prompt' must be at most 4096 characters.", param="prompt")
    seconds = body.get("seconds", "6")
    if isinstance(seconds, bool) or not isinstance(seconds, (str, int)) or not str(seconds).isdigit():
        raise Refusal(400, "'seconds' must be a whole number of seconds, e.g. \"6\".", param="seconds")
    seconds = int(seconds)
    if not 1 <= seconds <= 15:
        raise Refusal(400, "'seconds' must be between 1 and 15.", param="seconds")
    aspect_ratio = body.get("aspect_ratio", "16:9")
    if (
        not isinstance(aspect_ratio, str)
        or not RATIO.match(aspect_ratio)
        or any(float(part) == 0 for part in aspect_ratio.split(":"))
    ):
        raise Refusal(
            400, "'aspect_ratio' must be a preset such as 16:9 or a number:number ratio.", param="aspect_ratio"
        )
    resolution = body.get("resolution", "720P")
    if isinstance(resolution, int) and not isinstance(resolution, bool):
        resolution = str(resolution)
    if not isinstance(resolution, str) or resolution.upper() not in RESOLUTIONS:
        raise Refusal(400, "'resolution' supports 480P and 720P.", param="resolution")
    if "image" in body and "images" in body:
        raise Refusal(400, "Do not pass image together with images.", param="images")
    image = None
    if "image" in body:
        image = decode_data_uri(body["image"], "image")
    if "images" in body:
        images = body["images"]
        if not isinstance(images, list) or not images:
            raise Refusal(400, "'images' must be a non-empty array of data URIs.", param="images")
        decoded = [decode_data_uri(item, f"images[{i}]") for i, item in enumerate(images)]
        image = decoded[0]
    short = RESOLUTIONS[resolution.upper()]
    try:
        width, height = engine.dimensions(aspect_ratio, short)
    except ValueError:
        raise Refusal(400, "'aspect_ratio' is out of range.", param="aspect_ratio") from None
    params = {
        "seconds": seconds,
        "aspect_ratio": aspect_ratio,
        "resolution": f"{short}P",
        "width": width,
        "height": height,
    }
    return params, image


def video_object(request: HttpRequest, job: SandboxJob, *, created: bool = False) -> dict:
    """The task as duoyuanx's answer example shows it (docs/gateways.md §1.4; ``queued`` when just created)."""
    status, progress = ("queued", 0) if created else engine.snapshot(job)
    answer = {
        "id": job.id,
        "object": "video",
        "model": job.model,
        "status": status,
        "progress": progress,
        "created_at": int(job.created_at.timestamp()),
        "seconds": str(job.params["seconds"]),
        "size": job.params["resolution"],
        "video_url": "",
    }
    if status == "completed":
        answer["video_url"] = request.build_absolute_uri(f"{request.path.rstrip('/')}/content")
    if status == "failed":
        answer["error"] = {"message": engine.FAILURE_MESSAGE, "code": "sandbox_failure"}
    return answer


def _job(request: HttpRequest, video_id: str, dialect: str) -> SandboxJob:
    job = keyed_job(dialect, video_id, bearer_key(request))
    if job is None:
        raise Refusal(404, f"No video found with id '{video_id}'.", code="not_found")
    return job


@csrf_exempt
@require_POST
def create(request: HttpRequest) -> JsonResponse:
    try:
        key = bearer_key(request)
        body = json_body(request)
        params, image = parse_create(body)
    except Refusal as refusal:
        return error_response(refusal)
    job = engine.create_job(
        dialect=DIALECT,
        model=MODEL,
        api_key=key,
        prompt=body["prompt"],
        params=params,
        image=image,
    )
    return JsonResponse(video_object(request, job, created=True))


@require_GET
def retrieve(request: HttpRequest, video_id: str, dialect: str = DIALECT) -> JsonResponse:
    """The video object of one of the key's tasks of ``dialect`` (404 for any other id)."""
    try:
        job = _job(request, video_id, dialect)
    except Refusal as refusal:
        return error_response(refusal)
    return JsonResponse(video_object(request, job))


@require_GET
def content(request: HttpRequest, video_id: str, dialect: str = DIALECT) -> FileResponse | JsonResponse:
    """The MP4. Needs the same key (the studio sends it only to the gateway's host);
    409 until the task is completed."""
    try:
        return ready_video(_job(request, video_id, dialect))
    except Refusal as refusal:
        return error_response(refusal)


urlpatterns = [
    path("v1/videos", create, name="openai-create"),
    path("v1/videos/<str:video_id>", retrieve, name="openai-retrieve"),
    path("v1/videos/<str:video_id>/content", content, name="openai-content"),
]

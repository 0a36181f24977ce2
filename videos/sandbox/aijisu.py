"""The sandbox's aijisu dialect, strictly as docs/gateways.md §3 describes it (aijisu's page,
https://docs.uniall.ai/models/video/grok/grok-video-1-5; base URL https://api.aijisu.cn).

``POST /v1/videos`` (JSON) creates an image-to-video task, ``GET /v1/videos/{task_id}``
and its compatibility twin ``GET /v1/videos/generations/{task_id}`` read it, and
``GET /v1/videos/{task_id}/content`` downloads the MP4 (docs/gateways.md §3.4, §3.5).

Refused with HTTP 400, as the page's "Field Constraints" and "Common Errors" say
(docs/gateways.md §3.2):
a model other than ``grok-video-1.5``; a missing prompt; no input image, or both
``image`` and ``image_url``; an input image that is not an http(s) URL (a data URI),
is not one of the studio's signed reference links (the only URLs the sandbox fetches,
``common.fetch``), cannot be fetched, or is not an image; ``images``, ``image_urls``,
``reference_image_urls``; ``video``, ``video_url``, ``videos``, ``video_urls``;
``aspect_ratio``; ``extra_body`` (``operation``); any other field not in §3;
``duration`` that is not an integer from 1 to 15 (a string included: the string field
is ``seconds``); ``size``/``resolution`` other than ``480p``, ``720p``, ``1080p``.

aijisu documents no error envelope (docs/gateways.md §3.3): the sandbox answers OpenAI's
``{"error": {"message", "type", "param", "code"}}`` (``openai_preview.error_response``),
which the new-api gateways serving ``/v1/videos`` use. Nor does it give defaults: a request without
``duration`` renders 6 s and without ``size`` 720p (the values of §11's minimum
valid request, docs/gateways.md §3.2). The output's orientation follows the input image.
"""

from __future__ import annotations

import io

from django.http import FileResponse, HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from PIL import Image

from videos.sandbox import engine
from videos.sandbox.common import (
    Refusal,
    Unfetchable,
    bearer_key,
    check_image,
    fetch,
    json_body,
    keyed_job,
    ready_video,
)
from videos.sandbox.models import SandboxJob
from videos.sandbox.openai_preview import error_response

DIALECT = "aijisu"
MODEL = "grok-video-1.5"
FIELDS = {"model", "prompt", "image", "image_url", "duration", "seconds", "size", "resolution"}
SHORT_SIDE = {"480p": 480, "720p": 720, "1080p": 1080}
DEFAULT_SECONDS = 6  # not documented: the minimum valid request's value (docs/gateways.md §3.8)
DEFAULT_SIZE = "720p"  # not documented: the minimum valid request's value (docs/gateways.md §3.8)

# docs/gateways.md §3.2: fields aijisu names as forbidden, each with the page's own reason.
FORBIDDEN = {
    "images": "grok-video-1.5 supports one input image: do not pass images, image_urls or reference_image_urls.",
    "image_urls": "grok-video-1.5 supports one input image: do not pass images, image_urls or reference_image_urls.",
    "reference_image_urls": (
        "grok-video-1.5 supports one input image: do not pass images, image_urls or reference_image_urls."
    ),
    "video": "grok-video-1.5 does not support video input: do not pass video, video_url, videos or video_urls.",
    "video_url": "grok-video-1.5 does not support video input: do not pass video, video_url, videos or video_urls.",
    "videos": "grok-video-1.5 does not support video input: do not pass video, video_url, videos or video_urls.",
    "video_urls": "grok-video-1.5 does not support video input: do not pass video, video_url, videos or video_urls.",
    "aspect_ratio": (
        "grok-video-1.5 does not support aspect_ratio: orientation follows the input image "
        "(landscape image for landscape, portrait image for portrait)."
    ),
    "extra_body": "grok-video-1.5 does not support editing, reference video or extension: do not pass extra_body.",
}


def parse_create(body: dict) -> tuple[dict, str]:
    """Validate a create body; returns (params without width/height, image URL). Raises Refusal."""
    for name in body:
        if name in FORBIDDEN:
            raise Refusal(400, FORBIDDEN[name], code="unsupported_parameter", param=name)
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise Refusal(400, f"Unknown parameter: '{unknown[0]}'.", code="unknown_parameter", param=unknown[0])
    if body.get("model") != MODEL:
        raise Refusal(400, f"'model' must be '{MODEL}'.", code="model_not_found", param="model")
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise Refusal(400, "'prompt' is required.", code="missing_required_parameter", param="prompt")
    image_fields = [name for name in ("image", "image_url") if name in body]
    if not image_fields:
        raise Refusal(
            400,
            "grok-video-1.5 is image-to-video only: pass image or image_url.",
            code="missing_required_parameter",
            param="image_url",
        )
    if len(image_fields) > 1:
        raise Refusal(400, "Pass only one of image or image_url.", param="image")
    param = image_fields[0]
    url = body[param]
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise Refusal(
            400, f"'{param}' must be an http(s) URL the platform can fetch; data URIs are not accepted.", param=param
        )
    seconds = _duration(body)
    size = _size(body)
    return {"seconds": seconds, "resolution": size}, url


def _duration(body: dict) -> int:
    duration = body.get("duration")
    if "duration" in body and (isinstance(duration, bool) or not isinstance(duration, int)):
        raise Refusal(
            400, "'duration' must be an integer (seconds is the string compatibility field).", param="duration"
        )
    seconds = body.get("seconds")
    if "seconds" in body and (not isinstance(seconds, str) or not (seconds.isascii() and seconds.isdigit())):
        raise Refusal(400, "'seconds' must be a string of whole seconds, e.g. \"6\".", param="seconds")
    if duration is not None and seconds is not None and int(seconds) != duration:
        raise Refusal(400, "'duration' and 'seconds' disagree; pass duration only.", param="seconds")
    value = duration if duration is not None else int(seconds) if seconds is not None else DEFAULT_SECONDS
    if not 1 <= value <= 15:
        raise Refusal(400, "'duration' supports 1-15.", param="duration" if duration is not None else "seconds")
    return value


def _size(body: dict) -> str:
    given = {name: body[name] for name in ("size", "resolution") if name in body}
    for name, value in given.items():
        if not isinstance(value, str) or value not in SHORT_SIDE:
            raise Refusal(
                400,
                f"'{name}' only supports 480p, 720p, 1080p (not 1920x1080, 1280x720 or 4k).",
                param=name,
            )
    if len(set(given.values())) > 1:
        raise Refusal(400, "'size' and 'resolution' disagree; pass size only.", param="resolution")
    return next(iter(given.values()), DEFAULT_SIZE)


def fetch_image(url: str, param: str) -> bytes:
    """The input image at ``url``, fetched as the real gateway does if it is one of the
    studio's signed reference links (``common.fetch``: byte cap, deadline). Raises Refusal(400)."""
    try:
        data = fetch(url)
    except Unfetchable as exc:
        raise Refusal(
            400, f"The input image could not be fetched from '{param}' ({exc.reason}).", param=param
        ) from None
    check_image(data, param)
    return data


def frame_for(image: bytes, size: str) -> tuple[int, int]:
    """Width and height: the input image's orientation at ``size`` (docs/gateways.md §3.2)."""
    with Image.open(io.BytesIO(image)) as img:
        width, height = img.size
    return engine.dimensions(f"{width}:{height}", SHORT_SIDE[size])


def job_object(request: HttpRequest, job: SandboxJob, *, created: bool = False) -> dict:
    """The task as aijisu's page shows it, when just created and when queried (docs/gateways.md §3.4)."""
    answer = {
        "id": job.id,
        "task_id": job.id,
        "object": "video.generation.job",
        "model": job.model,
        "status": "queued",
        "progress": 0,
        "created_at": int(job.created_at.timestamp()),
    }
    if created:
        return answer
    del answer["task_id"]  # docs/gateways.md §3.4: the query examples carry only id
    status, progress = engine.snapshot(job)
    if status == "processing":
        status = "in_progress"  # aijisu's word (docs/gateways.md §3.4)
    answer.update(status=status, progress=progress)
    if status == "completed":
        prefix = request.path[: request.path.index("/v1/videos")]
        url = request.build_absolute_uri(f"{prefix}/v1/videos/{job.id}/content")
        answer.update(video_url=url, result={"video_url": url, "outputs": [url]})
    elif status in ("failed", "cancelled"):
        # aijisu's status list has no cancelled (docs/gateways.md §3.4): a cancelled task reads as failed.
        message = engine.FAILURE_MESSAGE if status == "failed" else "The task was cancelled."
        answer.update(status="failed", error={"message": message})
    return answer


def _job(request: HttpRequest, task_id: str) -> SandboxJob:
    job = keyed_job(DIALECT, task_id, bearer_key(request))
    if job is None:
        raise Refusal(404, f"No task found with id '{task_id}'.", code="task_not_found")
    return job


@csrf_exempt
@require_POST
def create(request: HttpRequest) -> JsonResponse:
    try:
        key = bearer_key(request)
        body = json_body(request)
        params, url = parse_create(body)
        image = fetch_image(url, "image" if "image" in body else "image_url")
        params["width"], params["height"] = frame_for(image, params["resolution"])
    except Refusal as refusal:
        return error_response(refusal)
    job = engine.create_job(
        dialect=DIALECT,
        model=MODEL,
        api_key=key,
        prompt=body["prompt"],
        params=params,
        image=image,
        id_prefix="task_",  # docs/gateways.md §3.4: "task_…"
    )
    return JsonResponse(job_object(request, job, created=True))


@require_GET
def retrieve(request: HttpRequest, task_id: str) -> JsonResponse:
    try:
        job = _job(request, task_id)
    except Refusal as refusal:
        return error_response(refusal)
    return JsonResponse(job_object(request, job))


@require_GET
def content(request: HttpRequest, task_id: str) -> FileResponse | JsonResponse:
    """The MP4 (docs/gateways.md §3.5). Needs the same key; 409 until the task is completed."""
    try:
        return ready_video(_job(request, task_id))
    except Refusal as refusal:
        return error_response(refusal)


urlpatterns = [
    path("v1/videos", create, name="aijisu-create"),
    path("v1/videos/generations/<str:task_id>", retrieve, name="aijisu-retrieve-compat"),
    path("v1/videos/<str:task_id>", retrieve, name="aijisu-retrieve"),
    path("v1/videos/<str:task_id>/content", content, name="aijisu-content"),
]

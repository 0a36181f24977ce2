"""The sandbox's reapi dialect, strictly as docs/gateways.md §5 describes it
(https://reapi.ai/docs/grok-imagine-video-1-5-official, https://reapi.ai/docs/grok-imagine-video-1-5).

``POST /api/v1/videos/generations`` (JSON, Bearer key) creates a task,
``GET /api/v1/tasks/{id}`` reads it; both answer the envelope ``{id, model, status,
created_at, output, error}`` with ``processing`` / ``completed`` / ``failed``. The
finished MP4 is listed in ``output.video_urls`` and served at
``/media/tasks/{id}/0.mp4`` (the path of reAPI's CDN example, docs/gateways.md §5.4;
public, like a CDN).

Refusals use reAPI's envelope ``{"error": {"code", "message", "request_id"}}`` with
its codes (docs/gateways.md §5.3): 20002 for a missing ``prompt`` (official) or
``image_urls``, 20003 for any invalid value (wrong model, an unknown field,
``duration`` outside the channel's range or not an integer — ``"8"`` is refused, a
data URI or non-http(s) entry in ``image_urls``, more than one entry, an aspect ratio
or resolution outside the lists, ``audio`` on the beta channel, an image URL that is
not one of the studio's signed reference links (the only URLs the sandbox fetches,
``common.fetch``), cannot be fetched or is not a JPEG/PNG/WebP). A missing or malformed
key, or one the studio did not issue, is 401 with code 10001 (one of the "1000x"
authentication codes). Not documented, the sandbox's own choices: unknown fields are
refused (the real gateway may ignore them), an unknown task is 404 with code 20004, and
a failed task's ``error.code`` is 50001.

Output sizes follow reAPI's ratio × resolution matrix (docs/gateways.md §5.2; 16:9 at
480p is 736×400); the beta channel's ``auto`` follows the reference image's aspect ratio.
"""

from __future__ import annotations

import io
import secrets

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
    public_video,
)
from videos.sandbox.models import SandboxJob

DIALECT = "reapi"
OFFICIAL = "grok-imagine-video-1.5-official"
BETA = "grok-imagine-video-1.5-beta"

MISSING = 20002  # docs/gateways.md §5.3: prompt missing or empty, image_urls missing
INVALID = 20003  # docs/gateways.md §5.3: every other validation error in reAPI's table
AUTH = 10001  # docs/gateways.md §5.3: "1000x" authentication (401/403)
NOT_FOUND = 20004  # not documented: the sandbox's own code for an unknown task
TASK_FAILED = 50001  # not documented: a failed task's error.code

OFFICIAL_FIELDS = {"model", "prompt", "image_urls", "aspect_ratio", "resolution", "duration", "audio"}
# docs/gateways.md §5.2: beta has no audio and an nsfw_checker flag; its full field list is unknown (§5.8).
BETA_FIELDS = {"model", "prompt", "image_urls", "aspect_ratio", "resolution", "duration", "nsfw_checker"}

# reAPI's ratio × resolution matrix (docs/gateways.md §5.2).
SIZES = {
    ("1:1", "480p"): (544, 544),
    ("16:9", "480p"): (736, 400),
    ("9:16", "480p"): (400, 736),
    ("1:1", "720p"): (960, 960),
    ("16:9", "720p"): (1280, 720),
    ("9:16", "720p"): (720, 1280),
}
ASPECT_RATIOS = {OFFICIAL: ("1:1", "16:9", "9:16"), BETA: ("1:1", "16:9", "9:16", "auto")}
DURATIONS = {OFFICIAL: (3, 15), BETA: (1, 15)}
IMAGE_FORMATS = {"JPEG", "PNG", "WEBP"}  # docs/gateways.md §5.2: JPEG, PNG or WebP


def _error(refusal: Refusal) -> JsonResponse:
    code = int(refusal.code) if str(refusal.code).isdigit() else INVALID
    return JsonResponse(
        {"error": {"code": code, "message": refusal.message, "request_id": "req_" + secrets.token_hex(8)}},
        status=refusal.status,
    )


def _refuse(message: str, code: int = INVALID, status: int = 400) -> Refusal:
    return Refusal(status, message, code=str(code))


def _key(request: HttpRequest) -> str:
    """The bearer key; a missing or malformed one is refused with code 10001 (HTTP 401)."""
    try:
        return bearer_key(request)
    except Refusal as refusal:
        raise _refuse(refusal.message, AUTH, 401) from None


def parse_create(body: dict) -> dict:
    """Validate a create body; returns the normalised params. Raises Refusal."""
    if "model" not in body:
        raise _refuse("model is required", MISSING)
    model = body["model"]
    if model not in (OFFICIAL, BETA):
        raise _refuse(f"invalid model (allowed: {OFFICIAL} / {BETA})")
    unknown = sorted(set(body) - (OFFICIAL_FIELDS if model == OFFICIAL else BETA_FIELDS))
    if unknown:
        raise _refuse(f"unknown field {unknown[0]} for {model}")
    prompt = body.get("prompt", "")
    if not isinstance(prompt, str):
        raise _refuse("prompt must be a string")
    if model == OFFICIAL and not prompt.strip():
        raise _refuse("prompt is required", MISSING)
    urls = body.get("image_urls")
    if urls is None or urls == []:
        raise _refuse("image_urls is required", MISSING)
    if not isinstance(urls, list):
        raise _refuse("image_urls must be an array of URLs")
    if len(urls) > 1:
        raise _refuse("image_urls allows at most 1 entry")
    url = urls[0]
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise _refuse("image_urls entries must be public http(s) URLs")
    aspect_ratio = body.get("aspect_ratio", "16:9")
    if aspect_ratio not in ASPECT_RATIOS[model]:
        raise _refuse(f"invalid aspect_ratio (allowed: {' / '.join(ASPECT_RATIOS[model])})")
    resolution = body.get("resolution", "480p")
    if resolution not in ("480p", "720p"):
        raise _refuse("invalid resolution (allowed: 480p / 720p)")
    duration = body.get("duration", 8)
    low, high = DURATIONS[model]
    if isinstance(duration, bool) or not isinstance(duration, int):
        # docs/gateways.md §5.2: duration is a number; "duration": "8" is refused with 400.
        raise _refuse(f"duration must be an integer number of seconds, not {type(duration).__name__}")
    if not low <= duration <= high:
        raise _refuse(f"duration must be {low}-{high} seconds")
    audio = body.get("audio", True)
    if not isinstance(audio, bool):
        raise _refuse("audio must be a boolean")
    if "nsfw_checker" in body and not isinstance(body["nsfw_checker"], bool):
        raise _refuse("nsfw_checker must be a boolean")
    return {
        "model": model,
        "url": url,
        "aspect_ratio": aspect_ratio,
        "resolution": resolution,
        "seconds": duration,
        "audio": audio if model == OFFICIAL else False,
    }


def fetch_image(url: str) -> tuple[bytes, tuple[int, int]]:
    """Download the reference image as reAPI does, if it is one of the studio's signed
    reference links (``common.fetch``); returns (bytes, (width, height)). Raises Refusal."""
    try:
        data = fetch(url)
    except Unfetchable as exc:
        raise _refuse(f"image_urls[0] could not be fetched ({exc.reason})") from None
    try:
        check_image(data, "image_urls[0]")
    except Refusal:
        raise _refuse("image_urls[0] is not a readable image") from None
    with Image.open(io.BytesIO(data)) as img:
        if img.format not in IMAGE_FORMATS:
            raise _refuse("image_urls[0] must be a JPEG, PNG or WebP image")
        return data, img.size


def frame_size(aspect_ratio: str, resolution: str, image_size: tuple[int, int]) -> tuple[int, int]:
    """reAPI's matrix (docs/gateways.md §5.2); for ``auto`` the image's ratio at about the same pixel count
    (multiples of 16, like the matrix; at most 4:1)."""
    if aspect_ratio != "auto":
        return SIZES[(aspect_ratio, resolution)]
    side = SIZES[("1:1", resolution)][0]
    width, height = image_size
    ratio = min(4.0, max(0.25, width / height))
    area = side * side
    w = max(16, round((area * ratio) ** 0.5 / 16) * 16)
    h = max(16, round((area / ratio) ** 0.5 / 16) * 16)
    return w, h


def envelope(request: HttpRequest, job: SandboxJob, *, created: bool = False) -> dict:
    """reAPI's envelope (docs/gateways.md §5.4): ``output`` null until completion, ``error`` null unless failed."""
    status, _progress = ("processing", 0) if created else engine.snapshot(job)
    answer = {
        "id": job.id,
        "model": job.model,
        "status": "processing",  # reAPI has no queued word: queued work is processing
        "created_at": int(job.created_at.timestamp()),
        "output": None,
        "error": None,
    }
    if status == "completed":
        answer["status"] = "completed"
        prefix = request.path.split("/api/v1/", 1)[0]
        answer["output"] = {"video_urls": [request.build_absolute_uri(f"{prefix}/media/tasks/{job.id}/0.mp4")]}
    elif status in ("failed", "cancelled"):
        answer["status"] = "failed"
        answer["error"] = {"code": TASK_FAILED, "message": engine.FAILURE_MESSAGE}
    return answer


@csrf_exempt
@require_POST
def create(request: HttpRequest) -> JsonResponse:
    try:
        key = _key(request)
        try:
            body = json_body(request)
        except Refusal as refusal:
            raise _refuse(refusal.message) from None
        params = parse_create(body)
        image, size = fetch_image(params.pop("url"))
    except Refusal as refusal:
        return _error(refusal)
    width, height = frame_size(params["aspect_ratio"], params["resolution"], size)
    model = params.pop("model")
    job = engine.create_job(
        dialect=DIALECT,
        model=model,
        api_key=key,
        prompt=body.get("prompt", ""),
        params={**params, "width": width, "height": height},
        image=image,
        id_prefix="task_",
    )
    return JsonResponse(envelope(request, job, created=True))


@require_GET
def task(request: HttpRequest, task_id: str) -> JsonResponse:
    try:
        job = keyed_job(DIALECT, task_id, _key(request))
        if job is None:
            raise _refuse(f"task {task_id} not found", NOT_FOUND, 404)
    except Refusal as refusal:
        return _error(refusal)
    return JsonResponse(envelope(request, job))


@require_GET
def media(request: HttpRequest, task_id: str) -> FileResponse:
    """The finished MP4, public like reAPI's CDN URL (docs/gateways.md §5.5; the task id is unguessable)."""
    return public_video(DIALECT, task_id)


urlpatterns = [
    path("api/v1/videos/generations", create, name="reapi-create"),
    path("api/v1/tasks/<str:task_id>", task, name="reapi-task"),
    path("media/tasks/<str:task_id>/0.mp4", media, name="reapi-media"),
]

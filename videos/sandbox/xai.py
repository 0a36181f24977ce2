"""The sandbox's xai dialect, strictly as docs/gateways.md §6 describes it (xAI's video guide,
https://docs.x.ai/docs/guides/video-generations).

``POST /v1/videos/generations`` (JSON, Bearer key) answers ``{"request_id": …}``;
``GET /v1/videos/{request_id}`` answers, always with HTTP 200, an early answer with
no ``status`` at all, then ``pending``, then ``done`` with ``video: {url, duration}``,
or ``failed`` with ``error``, or ``expired`` (a cancelled sandbox job). A request is
shown only to the key that made it. The finished MP4 is served at the ``video.url``
the ``done`` answer gives (``files/{request_id}.mp4``): like xAI's own video links it
needs no key, and the request id is unguessable.

Refused, with xAI's error envelope ``{"code": "...", "error": "..."}`` (not in xAI's
video guide; it is what xAI's API answers, docs/gateways.md §6.3), e.g. ``{"code":
"Client specified an invalid argument", "error": "Incorrect API key provided…"}``:
- HTTP 422 for a body that does not deserialise: unknown fields (``images``,
  ``seconds``, ``audio``…), a missing ``model``/``prompt``, wrong JSON types (a string
  ``duration`` such as ``"8"``, an ``image`` that is not ``{"url": …}``, a list of
  images);
- HTTP 404 for another model than ``grok-imagine-video-1.5-preview``;
- HTTP 400 for bad values: an empty prompt, ``duration`` outside 1–15, an aspect ratio
  outside ``1:1 16:9 9:16 4:3 3:4 3:2 2:3``, a resolution other than ``480p|720p``, an
  ``image.url`` that is neither http(s) nor a data URI, that is not one of the studio's
  signed reference links (the only URLs the sandbox fetches, ``common.fetch``), that
  cannot be fetched, or that is not an image;
- HTTP 401 without ``Authorization: Bearer KEY``, or with a key the studio did not issue
  (``videos/sandbox/keys.py``).

With an image, the video starts on it (xAI's guide: the image is the first frame), so
the frame takes the image's aspect ratio; without one, ``aspect_ratio`` (default 16:9).
"""

from __future__ import annotations

import io
import json

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
    decode_data_uri,
    fetch,
    json_body,
    keyed_job,
    public_video,
)
from videos.sandbox.models import SandboxJob

DIALECT = "xai"
MODEL = "grok-imagine-video-1.5-preview"
FIELDS = ("model", "prompt", "duration", "aspect_ratio", "resolution", "image")
ASPECT_RATIOS = ("1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3")
RESOLUTIONS = {"480p": 480, "720p": 720}
DEFAULT_DURATION = 8  # docs/gateways.md §6.2: duration 1–15, default 8

# gRPC-style status descriptions, as xAI puts them in ``code``.
CODES = {
    400: "Client specified an invalid argument",
    401: "The request does not have valid authentication credentials for the operation",
    404: "Some requested entity was not found",
    422: "Client specified an invalid argument",
}
DESERIALIZE = "Failed to deserialize the JSON body into the target type"


def _error(refusal: Refusal) -> JsonResponse:
    return JsonResponse(
        {"code": CODES.get(refusal.status, "Unknown error"), "error": refusal.message}, status=refusal.status
    )


def _type_error(field: str, value: object, expected: str) -> Refusal:
    return Refusal(422, f"{DESERIALIZE}: {field}: invalid type: {_json_kind(value)}, expected {expected}", param=field)


def _json_kind(value: object) -> str:
    if isinstance(value, bool):
        return f"boolean `{str(value).lower()}`"
    if isinstance(value, str):
        return f"string {json.dumps(value)[:60]}"
    if isinstance(value, (int, float)):
        return f"number {value}"
    if isinstance(value, list):
        return "sequence"
    if isinstance(value, dict):
        return "map"
    return "null"


def parse_create(body: dict) -> tuple[dict, str | None]:
    """Validate a create body; returns (params without the frame size, image.url). Raises Refusal."""
    # 1. Deserialisation, as xAI's typed request does it: fields, presence, JSON types.
    unknown = [name for name in body if name not in FIELDS]
    if unknown:
        expected = ", ".join(f"`{name}`" for name in FIELDS)
        raise Refusal(422, f"{DESERIALIZE}: unknown field `{unknown[0]}`, expected one of {expected}", param=unknown[0])
    for name in ("model", "prompt"):
        if name not in body:
            raise Refusal(422, f"{DESERIALIZE}: missing field `{name}`", param=name)
        if not isinstance(body[name], str):
            raise _type_error(name, body[name], "a string")
    duration = body.get("duration", DEFAULT_DURATION)
    if isinstance(duration, bool) or not isinstance(duration, int):
        raise _type_error("duration", duration, "u32")
    for name in ("aspect_ratio", "resolution"):
        if name in body and not isinstance(body[name], str):
            raise _type_error(name, body[name], "a string")
    image_url = None
    if "image" in body:
        image = body["image"]
        if not isinstance(image, dict):
            raise _type_error("image", image, "struct ImageUrl")
        extra = [name for name in image if name != "url"]
        if extra:
            raise Refusal(422, f"{DESERIALIZE}: image: unknown field `{extra[0]}`, expected `url`", param="image")
        if "url" not in image:
            raise Refusal(422, f"{DESERIALIZE}: image: missing field `url`", param="image")
        if not isinstance(image["url"], str):
            raise _type_error("image.url", image["url"], "a string")
        image_url = image["url"]
    # 2. Values.
    if body["model"] != MODEL:
        raise Refusal(
            404,
            f"The model {body['model']} does not exist or your team does not have access to it.",
            param="model",
        )
    if not body["prompt"].strip():
        raise Refusal(400, "prompt must not be empty.", param="prompt")
    if not 1 <= duration <= 15:
        raise Refusal(400, f"duration must be between 1 and 15 seconds, got {duration}.", param="duration")
    aspect_ratio = body.get("aspect_ratio", "16:9")
    if aspect_ratio not in ASPECT_RATIOS:
        raise Refusal(
            400, f"aspect_ratio must be one of {', '.join(ASPECT_RATIOS)}, got {aspect_ratio!r}.", param="aspect_ratio"
        )
    resolution = body.get("resolution", "480p")
    if resolution not in RESOLUTIONS:
        raise Refusal(400, f"resolution must be 480p or 720p, got {resolution!r}.", param="resolution")
    if image_url is not None and not image_url.startswith(("http://", "https://", "data:")):
        raise Refusal(400, "image.url must be an http(s) URL or a data URI.", param="image")
    params = {"seconds": duration, "aspect_ratio": aspect_ratio, "resolution": resolution}
    return params, image_url


def fetch_image(url: str) -> bytes:
    """The image behind ``image.url``: decoded from a data URI, or fetched as xAI does, if
    it is one of the studio's signed reference links (``common.fetch``). Raises Refusal."""
    if url.startswith("data:"):
        return decode_data_uri(url, "image.url")
    try:
        data = fetch(url)
    except Unfetchable as exc:
        raise Refusal(400, f"Failed to fetch the image at image.url: {exc.reason}.", param="image") from None
    check_image(data, "image.url")
    return data


def frame(params: dict, image: bytes | None) -> tuple[int, int]:
    """Width and height: the image's own ratio when there is one (it is the first frame)."""
    short = RESOLUTIONS[params["resolution"]]
    if image:
        with Image.open(io.BytesIO(image)) as img:
            width, height = img.size
        return engine.dimensions(f"{width}:{height}", short)
    return engine.dimensions(params["aspect_ratio"], short)


def status_answer(request: HttpRequest, job: SandboxJob) -> dict:
    """The request as xAI answers it: no status yet, ``pending``, ``done``, ``failed``, ``expired``."""
    status, _progress = engine.snapshot(job)
    if status == "queued":
        return {"model": job.model}  # an early answer carries no status at all
    if status == "processing":
        return {"status": "pending", "model": job.model}
    if status == "completed":
        url = request.build_absolute_uri(f"{request.path.rsplit('/v1/videos/', 1)[0]}/files/{job.id}.mp4")
        return {
            "status": "done",
            "model": job.model,
            "video": {"url": url, "duration": job.params["seconds"], "respect_moderation": True},
        }
    if status == "failed":
        return {"status": "failed", "model": job.model, "error": engine.FAILURE_MESSAGE}
    return {"status": "expired", "model": job.model}


@csrf_exempt
@require_POST
def create(request: HttpRequest) -> JsonResponse:
    try:
        key = bearer_key(request)
        body = json_body(request)
        params, image_url = parse_create(body)
        image = fetch_image(image_url) if image_url is not None else None
    except Refusal as refusal:
        return _error(refusal)
    params["width"], params["height"] = frame(params, image)
    job = engine.create_job(
        dialect=DIALECT,
        model=MODEL,
        api_key=key,
        prompt=body["prompt"],
        params=params,
        image=image,
        id_prefix="",
    )
    return JsonResponse({"request_id": job.id})


@require_GET
def retrieve(request: HttpRequest, request_id: str) -> JsonResponse:
    try:
        key = bearer_key(request)
    except Refusal as refusal:
        return _error(refusal)
    job = keyed_job(DIALECT, request_id, key)  # only the key that made it
    if job is None:
        return _error(Refusal(404, f"No video generation request with id {request_id} was found."))
    return JsonResponse(status_answer(request, job))


@require_GET
def video_file(request: HttpRequest, request_id: str) -> FileResponse:
    """The MP4 at ``video.url`` (keyless, like xAI's video links)."""
    return public_video(DIALECT, request_id)


urlpatterns = [
    path("v1/videos/generations", create, name="xai-create"),
    path("v1/videos/<str:request_id>", retrieve, name="xai-retrieve"),
    path("files/<str:request_id>.mp4", video_file, name="xai-file"),
]

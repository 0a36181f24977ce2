"""The sandbox's jimmyai dialect, strictly as docs/gateways.md §4 describes it (jimmyai's
pages https://docs.jimmyai.cn/en/api-reference/grok/create and
https://docs.jimmyai.cn/en/api-reference/common/query).

``POST api/open-api/v1/grok/videos`` (JSON) creates a task and answers
``{"code": "20000", "msg": "ok", "data": {task_id, status, model, created_at}}``;
``GET api/open-api/v1/videos/{task_id}`` reads it in the same envelope, with
``progress``, ``completed_at``, ``result.video_url`` and ``error_message``. The finished
MP4 is served at ``files/{task_id}.mp4``, standing in for jimmyai's CDN: no key needed,
gone after 3 days ("video_url is valid for 3 days").

Refused with an error envelope ``{"code", "msg", "data": null}`` (HTTP 400 unless noted):
unknown fields, a model other than ``grok-imagine-video-1.5`` or its aliases ``grok-1.5`` /
``grok_1_5``, a missing prompt, ``duration`` that is not the integer 10 or 15 (a string
"10" too: the field is ``enum<integer>``), ``ratio`` outside ``16:9 9:16 1:1 3:2 2:3``,
``orientation`` other than ``landscape|portrait``, anything but exactly one image in
``image_urls`` (or ``images`` when ``image_urls`` is empty), an image that is not an http(s)
URL (a data URI, say), or a URL that is not one of the studio's signed reference links
(the only URLs the sandbox fetches, ``common.fetch``), cannot be fetched or is not an image.
No key, or one the studio did not issue: 401; another key's task: 404.

jimmyai publishes no catalogue of error codes (*unknown*, docs/gateways.md §4.3). The sandbox's
codes follow the shape of the one documented code, "20000" (HTTP status × 100): "40000"
bad request, "40100" missing key, "40400" unknown task. The studio must not depend on them.
"""

from __future__ import annotations

from datetime import timedelta

from django.http import FileResponse, HttpRequest, JsonResponse
from django.urls import path, reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

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

DIALECT = "jimmyai"
MODEL = "grok-imagine-video-1.5"
MODELS = {MODEL, "grok-1.5", "grok_1_5"}  # docs/gateways.md §4.2: aliases "normalize to" the model
FIELDS = {"model", "prompt", "image_urls", "images", "duration", "ratio", "orientation"}
DURATIONS = (10, 15)
RATIOS = ("16:9", "9:16", "1:1", "3:2", "2:3")
ORIENTATIONS = {"landscape": "16:9", "portrait": "9:16"}  # docs/gateways.md §4.2, ``orientation``
# jimmyai documents no output resolution; the sandbox renders a 480-pixel short side so
# its clips stay quick to make.
SHORT_SIDE = 480
URL_LIFETIME = timedelta(days=3)  # Query Video Task page: "valid for 3 days"


def _envelope(data: dict | None, *, code: str = "20000", msg: str = "ok", status: int = 200) -> JsonResponse:
    return JsonResponse({"code": code, "msg": msg, "data": data}, status=status)


def _error(refusal: Refusal) -> JsonResponse:
    return _envelope(None, code=str(refusal.status * 100), msg=refusal.message, status=refusal.status)


def _fetch_image(url: str, param: str) -> bytes:
    """The bytes at ``url``, fetched as jimmyai would if it is one of the studio's signed
    reference links (``common.fetch``); Refusal(400) unless they are an image."""
    try:
        data = fetch(url)
    except Unfetchable as exc:
        raise Refusal(400, f"'{param}' could not be fetched ({exc.reason}).", param=param) from None
    check_image(data, param)
    return data


def parse_create(body: dict) -> tuple[dict, bytes]:
    """Validate a create body; returns (params, the reference image's bytes). Raises Refusal."""
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise Refusal(400, f"Unknown parameter: '{unknown[0]}'.", param=unknown[0])
    model = body.get("model")
    if model not in MODELS:
        raise Refusal(400, f"'model' must be '{MODEL}' (or grok-1.5, grok_1_5).", param="model")
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise Refusal(400, "'prompt' is required.", param="prompt")
    duration = body.get("duration", 10)
    if isinstance(duration, bool) or not isinstance(duration, int) or duration not in DURATIONS:
        raise Refusal(400, "'duration' only supports the integers 10 or 15.", param="duration")
    ratio = body.get("ratio")
    if ratio in (None, ""):
        # docs/gateways.md §4.2: orientation counts only when ratio is empty; ratio defaults to 16:9.
        orientation = body.get("orientation")
        if orientation is not None and orientation not in ORIENTATIONS:
            raise Refusal(400, "'orientation' must be landscape or portrait.", param="orientation")
        ratio = ORIENTATIONS.get(orientation, "16:9")
    elif ratio not in RATIOS:
        raise Refusal(400, f"'ratio' supports {', '.join(RATIOS)}.", param="ratio")
    elif "orientation" in body and body["orientation"] not in ORIENTATIONS:
        raise Refusal(400, "'orientation' must be landscape or portrait.", param="orientation")
    # docs/gateways.md §4.2: ``images`` is used when image_urls is empty; either way exactly 1 image.
    param = "image_urls"
    urls = body.get("image_urls")
    if urls in (None, []):
        param, urls = "images", body.get("images")
    if not isinstance(urls, list) or len(urls) != 1:
        raise Refusal(
            400, f"'{MODEL}' must be used with exactly 1 reference image in image_urls (or images).", param=param
        )
    url = urls[0]
    if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
        raise Refusal(400, f"'{param}[0]' must be an http(s) image URL.", param=param)
    image = _fetch_image(url, param)
    width, height = engine.dimensions(ratio, SHORT_SIDE)
    params = {"seconds": duration, "ratio": ratio, "aspect_ratio": ratio, "width": width, "height": height}
    return params, image


def task_data(request: HttpRequest, job: SandboxJob) -> dict:
    """The task as the Query Video Task page shows it, with its documented progress values."""
    status, progress = engine.snapshot(job)
    if status == "cancelled":  # jimmyai has no cancelled status; never happens in this dialect
        status = "failed"
    created = int(job.created_at.timestamp())
    data = {
        "task_id": job.id,
        "status": status,
        "progress": progress,
        "model": job.model,
        "created_at": created,
        "completed_at": None,
        "result": None,
        "error_message": "",
    }
    if status == "completed":
        data["completed_at"] = created + int(engine.run_seconds(job))
        data["result"] = {"video_url": request.build_absolute_uri(reverse("sandbox:jimmyai-file", args=[job.id]))}
    elif status == "failed":
        data["progress"] = 0  # the page's table: failed → progress 0
        data["error_message"] = engine.FAILURE_MESSAGE
    return data


@csrf_exempt
@require_POST
def create(request: HttpRequest) -> JsonResponse:
    try:
        key = bearer_key(request)
        body = json_body(request)
        params, image = parse_create(body)
    except Refusal as refusal:
        return _error(refusal)
    job = engine.create_job(
        dialect=DIALECT,
        model=MODEL,
        api_key=key,
        prompt=body["prompt"],
        params=params,
        image=image,
        id_prefix="task_",
    )
    # The create answer of docs/gateways.md §4.4: task_id, status, model, created_at.
    return _envelope(
        {"task_id": job.id, "status": "submitted", "model": MODEL, "created_at": int(job.created_at.timestamp())}
    )


@require_GET
def retrieve(request: HttpRequest, task_id: str) -> JsonResponse:
    try:
        job = keyed_job(DIALECT, task_id, bearer_key(request))
        if job is None:
            raise Refusal(404, f"Task '{task_id}' not found.")
    except Refusal as refusal:
        return _error(refusal)
    return _envelope(task_data(request, job))


@require_GET
def video_file(request: HttpRequest, task_id: str) -> FileResponse:
    """The MP4 at ``result.video_url``: like a CDN link, no key, and gone after 3 days."""
    return public_video(DIALECT, task_id, lifetime=URL_LIFETIME)


urlpatterns = [
    path("api/open-api/v1/grok/videos", create, name="jimmyai-create"),
    path("api/open-api/v1/videos/<str:task_id>", retrieve, name="jimmyai-retrieve"),
    path("files/<str:task_id>.mp4", video_file, name="jimmyai-file"),
]

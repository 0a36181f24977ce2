"""The sandbox's multipart dialect (``grok-video-1.5``, ``-pro``, ``-max``), strictly.

Wire rules: docs/gateways.md §2, from the closing table "Differences from Grok 1.5" of
https://doc.duoyuanx.com/en/videos/grok/grok-imagine-1-5-preview; the fields beyond the
table follow the closest documented sibling, octopusx ``grok-video-3``
(https://docs.octopusx.ai/en/videos/grok/generation: ``-F model -F prompt
-F aspect_ratio -F seconds -F size -F input_reference=@reference.png``).

``POST /v1/videos`` takes ``multipart/form-data`` only ("Request format:
multipart/form-data"): a JSON or urlencoded body is refused. The reference image is
the uploaded file part ``input_reference`` ("Image field: input_reference"), one at
most; a data URI or URL sent as a text field in its place is refused, as are the
preview model's JSON fields (``image``, ``images``, ``resolution``) and any other
unknown field. ``size`` is one of ``480P 540P 720P 1080P`` ("Resolution values").
``-pro`` renders 10 s and ``-max`` 15 s whatever ``seconds`` says ("10s for Pro,
15s for Max"; the sibling: "automatically fixed"); the base model takes ``seconds``
1–15 (the cap of every channel, docs/gateways.md §2.8). With no ``aspect_ratio`` the
orientation follows the uploaded image.

Answers, polling and download are dialect 1's (docs/gateways.md §2.4, §1.4): the video
object, ``GET /v1/videos/{id}``, ``GET /v1/videos/{id}/content``; errors are
OpenAI-style ``{"error": {message, type, param, code}}`` with HTTP 400/401/404. So this
module reuses ``openai_preview``'s answer builder, error envelope and views, with its
own dialect name (a multipart task is not found under ``/openai/`` nor the reverse).
"""

from __future__ import annotations

import io

from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from PIL import Image

from videos.sandbox import engine, openai_preview
from videos.sandbox.common import Refusal, bearer_key, check_image

DIALECT = "multipart"
#: model → its fixed duration (docs/gateways.md §2.2: "10s for Pro, 15s for Max"); None takes ``seconds``.
MODELS = {"grok-video-1.5": None, "grok-video-1.5-pro": 10, "grok-video-1.5-max": 15}
TEXT_FIELDS = {"model", "prompt", "seconds", "aspect_ratio", "size"}
FILE_FIELD = "input_reference"
#: docs/gateways.md §2.2: size 480P, 540P, 720P, 1080P → the short side in pixels.
SIZES = {"480P": 480, "540P": 540, "720P": 720, "1080P": 1080}
#: This family's own list is *unknown*: the presets of the preview model on the same
#: host's /v1/videos (docs/gateways.md §1.2), without its custom ratios.
ASPECT_RATIOS = {
    "1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "2:1", "1:2",
    "19.5:9", "9:19.5", "20:9", "9:20",
}  # fmt: skip
DEFAULT_SECONDS = 6  # the sibling's example; the real default is *unknown*
DEFAULT_SIZE = "720P"  # the sibling's example


def _one(request: HttpRequest, name: str) -> str | None:
    values = request.POST.getlist(name)
    if len(values) > 1:
        raise Refusal(400, f"'{name}' was sent more than once.", param=name)
    return values[0] if values else None


def parse_create(request: HttpRequest) -> tuple[dict, str, str, bytes | None]:
    """Validate a multipart create; returns (params, model, prompt, image bytes). Raises Refusal."""
    if request.content_type != "multipart/form-data":
        raise Refusal(
            400,
            "This endpoint takes multipart/form-data (fields and the input_reference file), "
            f"not {request.content_type or 'an empty body'}.",
            code="invalid_content_type",
        )
    try:
        posted, files = request.POST, request.FILES
    except (MultiPartParserError, SuspiciousOperation):
        raise Refusal(400, "The multipart body could not be read.", code="invalid_multipart") from None
    if FILE_FIELD in posted:
        raise Refusal(
            400,
            "'input_reference' must be an uploaded image file (a multipart file part), "
            "not a data URI or URL in a text field.",
            param=FILE_FIELD,
        )
    unknown = sorted((set(posted) - TEXT_FIELDS) | (set(files) - {FILE_FIELD}))
    if unknown:
        param = unknown[0]
        if param in files and param in TEXT_FIELDS:
            raise Refusal(400, f"'{param}' must be a text field, not a file.", param=param)
        raise Refusal(400, f"Unknown parameter: '{param}'.", code="unknown_parameter", param=param)

    model = _one(request, "model")
    if model not in MODELS:
        raise Refusal(400, f"'model' must be one of {', '.join(MODELS)}.", code="model_not_found", param="model")
    prompt = _one(request, "prompt")
    if prompt is None or not prompt.strip():
        raise Refusal(400, "'prompt' is required.", code="missing_required_parameter", param="prompt")
    if len(prompt) > 4096:
        raise Refusal(400, "'prompt' must be at most 4096 characters.", param="prompt")

    seconds_text = _one(request, "seconds")
    if seconds_text is not None and not (seconds_text.isascii() and seconds_text.isdigit()):
        raise Refusal(400, "'seconds' must be a whole number of seconds, e.g. 6.", param="seconds")
    fixed = MODELS[model]
    if fixed is not None:
        seconds = fixed  # "automatically fixed" (the sibling)
    else:
        seconds = int(seconds_text) if seconds_text is not None else DEFAULT_SECONDS
        if not 1 <= seconds <= 15:
            raise Refusal(400, "'seconds' must be between 1 and 15.", param="seconds")

    aspect_ratio = _one(request, "aspect_ratio")
    if aspect_ratio is not None and aspect_ratio not in ASPECT_RATIOS:
        raise Refusal(400, f"'aspect_ratio' must be one of {', '.join(sorted(ASPECT_RATIOS))}.", param="aspect_ratio")
    size = (_one(request, "size") or DEFAULT_SIZE).upper()
    if size not in SIZES:
        raise Refusal(400, "'size' supports 480P, 540P, 720P and 1080P.", param="size")

    uploads = files.getlist(FILE_FIELD)
    if len(uploads) > 1:
        raise Refusal(400, "'input_reference' takes one image file.", param=FILE_FIELD)
    image = None
    ratio = aspect_ratio or "16:9"
    if uploads:
        image = uploads[0].read()
        check_image(image, FILE_FIELD)
        if aspect_ratio is None:  # orientation follows the image
            with Image.open(io.BytesIO(image)) as img:
                ratio = f"{img.width}:{img.height}"
    try:
        width, height = engine.dimensions(ratio, SIZES[size])
    except ValueError:
        raise Refusal(400, "The aspect ratio is out of range.", param="aspect_ratio") from None
    params = {
        "seconds": seconds,
        "aspect_ratio": ratio,
        "resolution": size,
        "width": width,
        "height": height,
    }
    return params, model, prompt, image


@csrf_exempt
@require_POST
def create(request: HttpRequest) -> JsonResponse:
    try:
        key = bearer_key(request)
        params, model, prompt, image = parse_create(request)
    except Refusal as refusal:
        return openai_preview.error_response(refusal)
    job = engine.create_job(
        dialect=DIALECT,
        model=model,
        api_key=key,
        prompt=prompt,
        params=params,
        image=image,
    )
    return JsonResponse(openai_preview.video_object(request, job, created=True))


urlpatterns = [
    path("v1/videos", create, name="multipart-create"),
    path("v1/videos/<str:video_id>", openai_preview.retrieve, {"dialect": DIALECT}, name="multipart-retrieve"),
    path("v1/videos/<str:video_id>/content", openai_preview.content, {"dialect": DIALECT}, name="multipart-content"),
]

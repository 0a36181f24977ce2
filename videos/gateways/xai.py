"""The xai dialect: xAI's own API, ``grok-imagine-video-1.5-preview``.

Wire rules: docs/gateways.md §6 "xai", from xAI's video generation guide,
https://docs.x.ai/docs/guides/video-generations.

- Submit ``POST {base}/v1/videos/generations`` (JSON, ``Authorization: Bearer KEY``)
  → ``{"request_id": "..."}``. Body: ``prompt``, ``model``, ``duration`` (an
  integer, 1–15, default 8), ``aspect_ratio`` (``1:1 16:9 9:16 4:3 3:4 3:2 2:3``),
  ``resolution`` (``480p`` | ``720p``), and for image-to-video ``image: {"url": …}``
  holding a URL or a data URI. One image at most; text-to-video is allowed (§6.2).
- Poll ``GET {base}/v1/videos/{request_id}``: ``pending`` (an early answer may carry
  no status at all: still pending), ``done`` with ``video: {url, duration}``,
  ``failed`` with ``error``, ``expired``. Every one of these answers is HTTP 200 (§6.4).
  ``video.duration`` is the generated video's length: it becomes ``duration_s``.
- A request id works only with the key that made it (§6.3).
- 60 requests per minute per key; a 429 is transient (``Retry-After`` honoured) (§6.3).

What the guide leaves *unknown*, coded defensively (§6.8):
- the error envelope: xAI's API answers errors as ``{"code": "...", "error": "..."}``
  (``error`` a string), sometimes percent-encoded; ``{"error": {"message": …}}`` is
  read too (``error_message``);
- the shape of ``error`` on a failed request (a string or ``{code, message}``);
- whether answers carry ``progress`` (read when present, else 0);
- a ``done`` answer without ``video.url`` (e.g. withheld by moderation): failed, with a
  message, rather than archiving nothing;
- an answer without ``status`` but with ``video.url``: done (older answers left the
  status out once the video was ready);
- a ``video.duration`` that is missing or not a sane number of seconds: no delivered
  duration (``reported_duration``, §7.9), never an error.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import unquote

import httpx
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from videos.gateways.base import (
    Gateway,
    GatewayError,
    GatewayStatus,
    GenerationInput,
    OptionSpec,
    PollResult,
    ReferenceForm,
    ReferenceImageData,
    Submission,
    first_validation_error,
    reported_duration,
    stepped_interval,
)

MODEL = "grok-imagine-video-1.5-preview"

# docs/gateways.md §6.2 (https://docs.x.ai/docs/guides/video-generations): aspect_ratio
# "1:1 16:9 9:16 4:3 3:4 3:2 2:3".
ASPECT_RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3")

# docs/gateways.md §6.2: resolution "480p|720p" — the studio's own spelling.
RESOLUTIONS = ("480p", "720p")

# docs/gateways.md §6.2: duration 1–15, default 8.
MIN_DURATION, MAX_DURATION, DEFAULT_DURATION = 1, 15, 8

EXPIRED_MESSAGE = gettext_lazy(
    'xAI let this request expire before it finished (status "expired"); no video was made. Submit it again.'
)


class ImageRef(BaseModel):
    """``image: {"url": …}`` — a URL xAI fetches, or a data URI (docs/gateways.md §6.2)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    url: str = Field(pattern=r"^(https?://\S+|data:image/[\w.+-]+;base64,[A-Za-z0-9+/=]+)$")


class VideoGenerationRequest(BaseModel):
    """The submit body, exactly the fields docs/gateways.md §6.2 lists.

    Strict: ``duration`` must be an integer (never the string ``"8"``).
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    model: Literal["grok-imagine-video-1.5-preview"] = MODEL
    prompt: str = Field(min_length=1)
    duration: int = Field(ge=MIN_DURATION, le=MAX_DURATION)
    aspect_ratio: Literal["1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3"]
    resolution: Literal["480p", "720p"]
    image: ImageRef | None = None


class SubmitAnswer(BaseModel):
    """``{"request_id": …}`` (docs/gateways.md §6.4). Lenient: more fields may come."""

    model_config = ConfigDict(extra="allow")

    request_id: str = Field(min_length=1)


class StatusAnswer(BaseModel):
    """The status answer: ``status``, ``video: {url, duration}``, ``error``.

    Lenient: every field may be missing (an early answer has no ``status``) or of
    an unexpected type; ``_result`` reads them defensively.
    """

    model_config = ConfigDict(extra="allow")

    status: Any = None
    video: Any = None
    error: Any = None
    progress: Any = None


class XaiGateway(Gateway):
    """Adapter for xAI's own video API (docs/gateways.md §6, https://docs.x.ai/docs/guides/video-generations)."""

    dialect = "xai"
    label_text = "xAI (grok-imagine-video-1.5-preview)"
    default_base_url = "https://api.x.ai"  # docs/gateways.md §6.1
    sandbox_path = "/xai"
    source = "docs/gateways.md §6 (https://docs.x.ai/docs/guides/video-generations)"
    doc_url = "https://docs.x.ai/docs/guides/video-generations"
    STATUS_MAP = {
        # xAI has one word for "not done yet", whether waiting or rendering; an answer
        # without any status (the very first ones) is read as queued in ``_result``.
        "pending": GatewayStatus.RUNNING,
        "done": GatewayStatus.SUCCEEDED,
        "failed": GatewayStatus.FAILED,
        # docs/gateways.md §6.4: "expired" — the request will never finish: a failure, with a message.
        "expired": GatewayStatus.FAILED,
    }
    models = (
        OptionSpec(
            model=MODEL,
            model_label="Grok Imagine Video 1.5 preview",
            text_to_video=True,  # the image is optional (docs/gateways.md §6.2)
            max_reference_images=1,  # one ``image: {url}``
            # Uploads reach xAI at the studio's signed URL; xAI takes a data URI too,
            # used when a reference has bytes but no URL (``_image_url``).
            reference_form=ReferenceForm.URL,
            durations=tuple(range(MIN_DURATION, MAX_DURATION + 1)),
            default_duration=DEFAULT_DURATION,
            aspect_ratios=ASPECT_RATIOS,
            # Defaults for ratio and resolution are not documented (docs/gateways.md §6.8);
            # xAI's guide renders 16:9 at 480p when they are left out, so those are preselected.
            default_aspect_ratio="16:9",
            resolutions=RESOLUTIONS,
            default_resolution="480p",
            audio=False,  # no audio field is documented
        ),
    )

    @classmethod
    def validate_choices(cls, choices: GenerationInput) -> dict[str, str]:
        """The generic checks, with xAI's own image rule: one ``image.url``, holding an
        http(s) URL or a data URI (so an image without a URL still goes, inline)."""
        errors = super().validate_choices(choices)
        if "model" in errors:
            return errors
        errors.pop("references", None)
        spec = cls.spec(choices.model)
        if len(choices.references) > spec.max_reference_images:
            errors["references"] = _("%(gateway)s takes one image (image.url) at most.") % {"gateway": cls.label}
        elif any(not _image_url(ref) for ref in choices.references):
            errors["references"] = _(
                "%(gateway)s takes the image as image.url: a public http(s) URL or the image itself (upload it)."
            ) % {"gateway": cls.label}
        return errors

    def build_request(self, choices: GenerationInput) -> dict[str, Any]:
        """The JSON body of docs/gateways.md §6.2: ``duration`` an integer, ``image`` an object."""
        body: dict[str, Any] = {
            "model": MODEL,
            "prompt": choices.prompt,
            "duration": choices.duration,
            "aspect_ratio": choices.aspect_ratio,
            "resolution": choices.resolution,
        }
        if choices.references:
            body["image"] = {"url": _image_url(choices.references[0])}
        try:
            request = VideoGenerationRequest.model_validate(body)
        except ValidationError as exc:
            raise GatewayError(
                _("%(gateway)s cannot take these choices: %(problem)s")
                % {"gateway": self.label, "problem": first_validation_error(exc)},
                permanent=True,
            ) from None
        return request.model_dump(exclude_none=True)

    def submit(self, choices: GenerationInput) -> Submission:
        body = self.build_request(choices)
        answer = self.request("POST", "/v1/videos/generations", json=body, submit=True)
        request_id = self.parse_answer(SubmitAnswer, answer, submit=True, missing=_("a request_id")).request_id
        # The submit answer is only ``{request_id}``: nothing is known yet but "accepted".
        return Submission(external_id=request_id, status=GatewayStatus.QUEUED, status_word="", progress=0, raw=answer)

    def poll(self, external_id: str) -> PollResult:
        answer = self.request("GET", f"/v1/videos/{external_id}")
        return self._result(external_id, answer)

    def result_download(self, external_id: str, result: PollResult) -> tuple[str, dict[str, str]]:
        """``video.url`` from the ``done`` answer (docs/gateways.md §6.5: no other download
        path is documented); the key goes along only if it points at the API host itself."""
        url = result.video_url
        return url, self.headers_for(url) if url else {}

    def poll_interval(self, age_s: float) -> float:
        """docs/gateways.md §6.6: 60 requests/min per key, and a request id works only with
        its own key, so every task of a key shares that budget. 5 s (12 requests/min
        per task) while a video is typically rendered (xAI's guide: up to several
        minutes), then slower so long tasks leave room for the key's other tasks."""
        return stepped_interval(age_s, (180, 5.0), (900, 10.0), then=30.0)

    def error_message(self, body: Any) -> str:
        """xAI's envelope ``{"code": "...", "error": "..."}``: the ``error`` text
        (percent-decoded when xAI encoded it), else the ``code``."""
        message = super().error_message(body)
        if not message and isinstance(body, dict) and isinstance(body.get("code"), str):
            message = body["code"]
        if "%20" in message:
            message = unquote(message)
        return message

    def error_from_response(self, response: httpx.Response, body: Any, *, submit: bool) -> GatewayError:
        """The generic classification (4xx permanent, 408/5xx and 429 transient), with
        a hint on a poll's 404: xAI shows a request only to the key that made it."""
        error = super().error_from_response(response, body, submit=submit)
        if response.status_code == 404 and not submit:
            error.message = _(
                "%(message)s — xAI knows this request only under the key that made it; "
                "was the key replaced or deleted at xAI?"
            ) % {"message": error.message}
            error.args = (error.message,)
        return error

    def _result(self, external_id: str, answer: dict[str, Any]) -> PollResult:
        parsed = self.parse_answer(StatusAnswer, answer, raw=answer)
        word = parsed.status.strip().lower() if isinstance(parsed.status, str) else ""
        video = parsed.video if isinstance(parsed.video, dict) else {}
        video_url = video.get("url") if isinstance(video.get("url"), str) else ""
        if not word:
            # docs/gateways.md §6.4: an early answer may carry no status at all — still pending.
            # Defensive: one with a video URL but no status is read as done.
            status = GatewayStatus.SUCCEEDED if video_url else GatewayStatus.QUEUED
        else:
            status = self.status_for(word, external_id)
        error = ""
        if status == GatewayStatus.SUCCEEDED and not video_url:
            status = GatewayStatus.FAILED
            if video.get("respect_moderation") is False:
                error = _(
                    "xAI reports the request done but gave no video URL (the video did not pass xAI's moderation)."
                )
            else:
                error = _("xAI reports the request done but gave no video URL.")
        elif word == "expired":
            error = str(EXPIRED_MESSAGE)
        elif status == GatewayStatus.FAILED:
            error = _failure_text(parsed.error) or _("xAI reports the request %(word)s.") % {"word": word}
        return self.poll_result(
            status,
            word,
            answer,
            progress=parsed.progress,
            video_url=video_url if status == GatewayStatus.SUCCEEDED else "",
            error=error,
            # docs/gateways.md §6.4: video.duration is the generated video's length (§7.9).
            duration_s=reported_duration(video.get("duration")),
        )


def _image_url(ref: ReferenceImageData) -> str:
    """What goes in ``image.url``: the reference's http(s) URL when it has one (a pasted
    URL, or the studio's signed URL for an upload), else its bytes as a data URI
    (docs/gateways.md §6.2: "URL or data URI"); empty when it has neither."""
    if ref.url.startswith(("http://", "https://", "data:image/")):
        return ref.url
    if ref.data:
        return ref.data_uri()
    return ""


def _failure_text(error: Any) -> str:
    """A failed request's ``error``: a string, or an object with a message (shape unknown)."""
    if isinstance(error, str):
        return error
    if isinstance(error, dict):
        for key in ("message", "error", "detail", "code"):
            if isinstance(error.get(key), str) and error[key]:
                return error[key]
    return ""

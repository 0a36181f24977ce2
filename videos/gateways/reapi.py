"""The reapi dialect: ``grok-imagine-video-1.5-official`` (and the ``-beta`` channel).

Wire rules: docs/gateways.md §5 "reapi", from reAPI's pages
https://reapi.ai/docs/grok-imagine-video-1-5-official (official channel) and
https://reapi.ai/docs/grok-imagine-video-1-5 (beta channel); base URL ``https://reapi.ai``.

- Submit ``POST {base}/api/v1/videos/generations`` (JSON, ``Authorization: Bearer
  KEY``) with ``model``; ``prompt`` (required on the official channel); ``image_urls``
  (an array with exactly one public http(s) JPEG/PNG/WebP URL; data URIs are
  rejected platform-wide); ``aspect_ratio`` (``1:1`` | ``16:9`` | ``9:16``, default
  ``16:9``); ``resolution`` (``480p`` | ``720p``, default ``480p``); ``duration``
  (an integer 3-15, default 8; ``"8"`` as a string is a 400); ``audio`` (boolean,
  default true). Image-to-video only: reAPI requires exactly one reference image on
  every request and has no text-to-video mode (§5.2).
- Submit and poll answer one envelope ``{id, model, status, created_at, output,
  error}``: ``processing`` / ``completed`` / ``failed``; ``output.video_urls[]`` holds
  the MP4 (valid 7 days); a failed task carries ``error: {code, message}`` and is
  refunded by the gateway (§5.4, §5.5).
- Poll ``GET {base}/api/v1/tasks/{id}``: every 5 s for 5 minutes, then back off
  toward 1 minute, at most every 3 minutes after an hour (§5.6).
- Errors are ``{"error": {"code", "message", "request_id"}}``; match on ``code``, not
  the message: 20002 missing field, 20003 invalid value, 1000x authentication
  (401/403); a 429 may carry ``Retry-After`` (§5.3).

The ``grok-imagine-video-1.5-beta`` channel (§5.2): prompt optional, duration 1-15,
wider aspect ratios including ``auto``, no ``audio``, an ``nsfw_checker`` flag. Its exact
field list is *unknown* (§5.8), so the adapter is conservative: only the ratios a page
names (the official three and ``auto``), no ``nsfw_checker`` (nothing says it is
required), and the official channel's request shape otherwise.

Not documented (coded defensively, §5.8): the prompt length limit, whether ``code`` is
a number or a string, any progress field, a status word other than the three, the
beta channel's defaults, and the submit answer's id field (the prose says
``task_id``, the example shows ``id``: both are read). reAPI reports no delivered
duration, so ``duration_s`` stays None (§7.9).
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator

from videos.gateways.base import (
    Gateway,
    GatewayError,
    GatewayStatus,
    GenerationInput,
    OptionSpec,
    PollResult,
    ReferenceForm,
    Submission,
)

log = logging.getLogger(__name__)

OFFICIAL = "grok-imagine-video-1.5-official"
BETA = "grok-imagine-video-1.5-beta"

SUBMIT_PATH = "/api/v1/videos/generations"
TASK_PATH = "/api/v1/tasks/{id}"

# docs/gateways.md §5.2/§5.3: the official channel takes 1:1, 16:9 or 9:16 (no auto);
# any other ratio is refused with code 20003.
OFFICIAL_ASPECT_RATIOS = ("16:9", "9:16", "1:1")
# docs/gateways.md §5.2: the beta channel has wider aspect ratios including auto; the
# others are not named anywhere (§5.8), so only auto is added to the official three.
BETA_ASPECT_RATIOS = ("16:9", "9:16", "1:1", "auto")

# docs/gateways.md §5.2: resolution 480p or 720p, default 480p. Same spelling as the studio's.
RESOLUTIONS = ("480p", "720p")

# docs/gateways.md §5.2: image_urls takes JPEG, PNG or WebP images.
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")

# docs/gateways.md §5.3 (https://reapi.ai/docs/grok-imagine-video-1-5-official): match on
# code, not message. 20002: a required field is missing; 20003: a value is invalid. Both
# refuse the request, so resending cannot help.
PERMANENT_CODES = {20002, 20003}
# docs/gateways.md §5.3: "1000x" authentication codes (401/403) — 10000 to 10009.
AUTH_CODES = range(10000, 10010)


class GenerationCreate(BaseModel):
    """The submit body, exactly the fields docs/gateways.md §5.2 lists for both channels.

    ``duration`` is a strict integer ("Send a number, not a string"); ``audio`` a strict
    boolean; ``image_urls`` exactly one http(s) URL.
    """

    model_config = ConfigDict(extra="forbid")

    model: Literal["grok-imagine-video-1.5-official", "grok-imagine-video-1.5-beta"]
    prompt: str | None = Field(default=None, min_length=1)
    image_urls: list[str] = Field(min_length=1, max_length=1)
    aspect_ratio: str = "16:9"
    resolution: Literal["480p", "720p"] = "480p"
    duration: StrictInt = 8
    audio: StrictBool | None = None

    @model_validator(mode="after")
    def _channel_rules(self) -> GenerationCreate:
        if not all(url.startswith(("http://", "https://")) for url in self.image_urls):
            raise ValueError("image_urls entries must be public http(s) URLs (no data: URIs)")
        if self.model == OFFICIAL:
            if not (self.prompt or "").strip():
                raise ValueError("prompt is required on the official channel")
            if not 3 <= self.duration <= 15:
                raise ValueError("duration must be 3-15 seconds on the official channel")
            if self.aspect_ratio not in OFFICIAL_ASPECT_RATIOS:
                raise ValueError("aspect_ratio must be 1:1, 16:9 or 9:16 on the official channel")
        else:
            if not 1 <= self.duration <= 15:
                raise ValueError("duration must be 1-15 seconds on the beta channel")
            if self.aspect_ratio not in BETA_ASPECT_RATIOS:
                raise ValueError("aspect_ratio must be 1:1, 16:9, 9:16 or auto on the beta channel")
            if self.audio is not None:
                raise ValueError("the beta channel has no audio field")
        return self


class TaskEnvelope(BaseModel):
    """The envelope answered to submit and poll (docs/gateways.md §5.4).

    Lenient: other fields are kept; ``output`` and ``error`` are read defensively.
    """

    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1)
    model: str | None = None
    status: str | None = None
    created_at: Any = None
    output: Any = None
    error: Any = None


class ReapiGateway(Gateway):
    """Adapter for reAPI's Grok Imagine Video 1.5 channels (docs/gateways.md §5,
    https://reapi.ai/docs/grok-imagine-video-1-5-official)."""

    dialect = "reapi"
    label_text = "reAPI (grok-imagine-video-1.5)"
    default_base_url = "https://reapi.ai"  # docs/gateways.md §5.1
    sandbox_path = "/reapi"
    source = "docs/gateways.md §5 (https://reapi.ai/docs/grok-imagine-video-1-5-official)"
    doc_url = "https://reapi.ai/docs/grok-imagine-video-1-5-official"
    # docs/gateways.md §5.4: status is processing / completed / failed. reAPI has no
    # queued word; nothing else is documented (an unknown word is logged, still running).
    # docs/gateways.md §5.6: reAPI's worker caps a task at 48 hours of wall-clock time.
    max_task_hours = 48
    STATUS_MAP = {
        "processing": GatewayStatus.RUNNING,
        "completed": GatewayStatus.SUCCEEDED,
        "failed": GatewayStatus.FAILED,
    }
    models = (
        OptionSpec(
            model=OFFICIAL,
            model_label=gettext_noop("Official channel (grok-imagine-video-1.5-official)"),
            # docs/gateways.md §5.2: image-to-video only, exactly one reference image on
            # every request, no text-to-video mode.
            text_to_video=False,
            prompt_required=True,
            max_reference_images=1,
            reference_form=ReferenceForm.URL,
            durations=tuple(range(3, 16)),  # docs/gateways.md §5.2: any integer 3-15
            default_duration=8,  # docs/gateways.md §5.2: duration default 8
            aspect_ratios=OFFICIAL_ASPECT_RATIOS,
            default_aspect_ratio="16:9",  # docs/gateways.md §5.2: aspect_ratio default 16:9
            resolutions=RESOLUTIONS,
            default_resolution="480p",  # docs/gateways.md §5.2: resolution default 480p
            audio=True,  # docs/gateways.md §5.2: audio boolean, default true
            default_audio=True,
        ),
        OptionSpec(
            model=BETA,
            model_label=gettext_noop("Beta channel (grok-imagine-video-1.5-beta)"),
            # docs/gateways.md §5.2: the same one-reference-image workflow as the official
            # channel, and the beta channel accepts requests without a prompt.
            text_to_video=False,
            prompt_required=False,
            max_reference_images=1,
            reference_form=ReferenceForm.URL,
            durations=tuple(range(1, 16)),  # docs/gateways.md §5.2: duration 1-15
            # The beta defaults are unknown (docs/gateways.md §5.8): the official
            # channel's (16:9, 480p, 8 s).
            default_duration=8,
            aspect_ratios=BETA_ASPECT_RATIOS,
            default_aspect_ratio="16:9",
            resolutions=RESOLUTIONS,
            default_resolution="480p",
            audio=False,  # docs/gateways.md §5.2: no audio field on beta
        ),
    )

    @classmethod
    def validate_choices(cls, choices: GenerationInput) -> dict[str, str]:
        """The generic checks, with reAPI's own rules in the messages (docs/gateways.md §5.2)."""
        errors = super().validate_choices(choices)
        try:
            spec = cls.spec(choices.model)
        except KeyError:
            return errors
        name = f"{cls.label} {spec.label}"
        if "duration" in errors and spec.model == OFFICIAL:
            # docs/gateways.md §5.2: 3-15 on the official channel (the beta channel starts at 1).
            errors["duration"] = _(
                "%(name)s renders 3 to 15 seconds (the 3-second minimum is this channel's rule)."
            ) % {"name": name}
        if "aspect_ratio" in errors and spec.model == OFFICIAL and choices.aspect_ratio == "auto":
            errors["aspect_ratio"] = _("%(name)s has no auto aspect ratio: choose 1:1, 16:9 or 9:16.") % {"name": name}
        if "references" in errors and len(choices.references) > 1:
            # docs/gateways.md §5.2: more than one image_urls entry is refused.
            errors["references"] = _(
                "%(name)s takes exactly one reference image (image_urls allows at most 1 entry)."
            ) % {"name": name}
        if "references" not in errors:
            for ref in choices.references:
                # A pasted URL has no known type; the gateway checks those itself.
                if ref.content_type and ref.content_type not in IMAGE_TYPES:
                    errors["references"] = _("%(name)s accepts JPEG, PNG or WebP reference images.") % {"name": name}
        return errors

    def build_request(self, choices: GenerationInput) -> dict[str, Any]:
        """The JSON body of docs/gateways.md §5.2: ``duration`` an integer, ``image_urls`` one URL.

        ``audio`` is sent only as ``false`` (its documented default is true, and reAPI's
        quick example leaves it out); the beta channel never gets it. An empty
        prompt is left out (beta only: the official channel requires it).
        """
        spec = self.spec(choices.model)
        body: dict[str, Any] = {"model": spec.model}
        if choices.prompt.strip():
            body["prompt"] = choices.prompt
        body["image_urls"] = [ref.url for ref in choices.references]
        body["aspect_ratio"] = choices.aspect_ratio or spec.default_aspect_ratio
        body["resolution"] = choices.resolution or spec.default_resolution
        body["duration"] = int(choices.duration)
        if spec.audio and choices.audio is False:
            body["audio"] = False
        return GenerationCreate.model_validate(body).model_dump(exclude_none=True, exclude_unset=True)

    def submit(self, choices: GenerationInput) -> Submission:
        body = self.build_request(choices)
        answer = self.request("POST", SUBMIT_PATH, json=body, submit=True)
        envelope = self._parse(answer, submit=True)
        return Submission.from_result(envelope.id, self._result(envelope, answer))

    def poll(self, external_id: str) -> PollResult:
        answer = self.request("GET", TASK_PATH.format(id=external_id))
        return self._result(self._parse(answer), answer)

    def result_download(self, external_id: str, result: PollResult) -> tuple[str, dict[str, str]]:
        """The first of ``output.video_urls`` (a CDN URL, docs/gateways.md §5.5); the key
        goes only to the gateway's own host. reAPI documents no content endpoint."""
        url = result.video_url
        return url, self.headers_for(url)

    def poll_interval(self, age_s: float) -> float:
        """docs/gateways.md §5.6 (reAPI's polling pattern): every 5 s for the first
        5 minutes, then back off gradually toward 1 minute, at most every 3 minutes
        after an hour."""
        if age_s < 300:
            return 5.0
        if age_s < 3600:
            return 5.0 + 55.0 * (age_s - 300) / 3300
        return 180.0

    # --- errors ---------------------------------------------------------------------

    def error_from_response(self, response, body: Any, *, submit: bool) -> GatewayError:
        """Classify by reAPI's ``error.code`` first (docs/gateways.md §5.3: match on code,
        not message), then by HTTP status. 429 is transient with ``Retry-After``."""
        error = super().error_from_response(response, body, submit=submit)
        if response.status_code == 429:
            return error
        code = _error_code(body)
        if code in PERMANENT_CODES or (code is not None and code in AUTH_CODES):
            # A refused request created nothing, whatever the HTTP status says.
            error.permanent = True
            error.maybe_created = False
        return error

    def error_message(self, body: Any) -> str:
        """``error.message`` with its code and request id (for reAPI's support)."""
        message = super().error_message(body)
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            error = body["error"]
            details = []
            if error.get("code") not in (None, ""):
                details.append(_("reAPI code %(code)s") % {"code": error["code"]})
            if error.get("request_id"):
                details.append(f"request_id {error['request_id']}")
            if details and message:
                return f"{message} ({', '.join(details)})"
        return message

    # --- answers --------------------------------------------------------------------

    def _parse(self, answer: dict[str, Any], *, submit: bool = False) -> TaskEnvelope:
        data = answer
        # Not documented: a {"data": {...}} wrapper, or "task_id" (reAPI's prose speaks of a
        # task_id while its example shows "id", docs/gateways.md §5.4). Both are read.
        if "id" not in data and isinstance(data.get("data"), dict):
            data = data["data"]
        if "id" not in data and data.get("task_id"):
            data = {**data, "id": data["task_id"]}
        if isinstance(data.get("id"), int):
            data = {**data, "id": str(data["id"])}
        return self.parse_answer(TaskEnvelope, data, submit=submit, raw=answer)

    def _result(self, envelope: TaskEnvelope, answer: dict[str, Any]) -> PollResult:
        word = (envelope.status or "").strip().lower()
        status = self.status_for(word, envelope.id)
        video_url = _first_video_url(envelope.output)
        if status == GatewayStatus.SUCCEEDED and not video_url:
            # docs/gateways.md §5.4: output.video_urls holds the MP4 on completion. Without
            # it there is nothing to archive yet: keep polling rather than fail a paid task.
            log.warning("reapi: %s completed without output.video_urls; polling again", envelope.id)
            status = GatewayStatus.RUNNING
        error = ""
        if status == GatewayStatus.FAILED:
            # docs/gateways.md §5.4: a failed task carries error: {code, message}; reAPI
            # refunds it itself. The code goes into the message, for reAPI's support.
            failure = envelope.error
            message, code = "", None
            if isinstance(failure, dict):
                message = str(failure.get("message") or "")
                if failure.get("code") not in (None, ""):
                    code = failure["code"]
            elif isinstance(failure, str):
                message = failure
            error = message or _("reAPI reports the task failed.")
            if code is not None:
                error = _("%(message)s (reAPI code %(code)s)") % {"message": error, "code": code}
        # No progress field is documented; read one if a host sends it.
        progress = (envelope.model_extra or {}).get("progress", 0)
        return self.poll_result(status, word, answer, progress=progress, video_url=video_url, error=error)


def _first_video_url(output: Any) -> str:
    """The first URL of ``output.video_urls`` (docs/gateways.md §5.4); a lone ``video_url``
    string or a bare list is accepted too (not documented, read defensively)."""
    candidates: Any = None
    if isinstance(output, dict):
        candidates = output.get("video_urls")
        if candidates is None:
            candidates = output.get("video_url")
    elif isinstance(output, list):
        candidates = output
    if isinstance(candidates, str):
        candidates = [candidates]
    if isinstance(candidates, list):
        for item in candidates:
            if isinstance(item, str) and item.startswith(("http://", "https://")):
                return item
            if isinstance(item, dict) and isinstance(item.get("url"), str):
                return item["url"]
    return ""


def _error_code(body: Any) -> int | None:
    """``error.code`` as an integer (reAPI's page shows numbers; a numeric string is read too,
    docs/gateways.md §5.3)."""
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return None
    code = body["error"].get("code")
    if isinstance(code, bool):
        return None
    try:
        return int(code)
    except (TypeError, ValueError, OverflowError):  # OverflowError: Infinity (1e309)
        return None

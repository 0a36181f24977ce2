"""The multipart dialect: ``grok-video-1.5``, ``-pro`` and ``-max`` over multipart/form-data.

Sources: seed 003 (duoyuanx), its last table "Differences from Grok 1.5" (the same
table closes seed 000); ``shared/GATEWAYS.md`` §2. What the table states:

- "Request format: multipart/form-data" (the preview model next to it is JSON).
- "Image field: input_reference" — the reference image is the uploaded file part
  ``input_reference`` (one file: the studio sends one reference at most).
- "Resolution field: size", "Resolution values: 480P, 540P, 720P, 1080P".
- "Duration rules: 10s for Pro, 15s for Max"; the base model takes ``seconds``.

The table names no other field. GATEWAYS.md §2 points at the closest documented
sibling (the octopusx ``grok-video-3`` page: same endpoint, same multipart shape,
same ``-pro``/``-max`` split): it sends ``model``, ``prompt``, ``aspect_ratio``,
``seconds`` and ``size`` as form fields, e.g. ``-F "seconds=6" -F "size=720P"``;
"grok-video-3-pro will be automatically fixed to 10 seconds, and grok-video-3-max
will be automatically fixed to 15 seconds"; the base model "supports
text-to-video". Every form field is text on the wire, so ``seconds`` travels as
the string ``"6"``.

Answers and polling are those of the openai-preview dialect (GATEWAYS.md §2 "Answer
and polling as dialect 1"; seed 003's response example): ``{id, object:"video",
model, status, progress, created_at, seconds, size, video_url}``; ``GET
{base}/v1/videos/{id}``; statuses ``queued, processing, completed, failed,
cancelled``, with ``in_progress`` from new-api hosts (GATEWAYS.md §1); the result is
``video_url`` or ``GET {base}/v1/videos/{id}/content``. Errors come in dialect 1's
OpenAI-style ``{"error": {message, type, param, code}}``; no catalogue of codes is
documented, so the base classification holds (4xx permanent, 408/429/5xx transient,
a 5xx or lost answer on submit ``maybe_created``).
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from videos.gateways.base import (
    Gateway,
    GatewayError,
    GatewayStatus,
    GenerationInput,
    OptionSpec,
    PollResult,
    ReferenceForm,
    Submission,
    clamp_progress,
)

log = logging.getLogger(__name__)

BASE = "grok-video-1.5"
PRO = "grok-video-1.5-pro"
MAX = "grok-video-1.5-max"

# Seed 003's table: "Duration rules ... 10s for Pro, 15s for Max". The base model's
# range is *unknown*: "processed according to the actual parameters passed" (the
# octopusx sibling); 1 s is the family's documented minimum (seed 003, "min 1s") and
# 15 s the cap of every other channel (GATEWAYS.md §1, xAI's 1–15).
FIXED_SECONDS = {PRO: 10, MAX: 15}
BASE_DURATIONS = tuple(range(1, 16))

# Seed 003's table: "Resolution values 480P, 540P, 720P, 1080P" (studio spelling → wire).
SIZE_WIRE = {"480p": "480P", "540p": "540P", "720p": "720P", "1080p": "1080P"}

# The table names no aspect ratios for this family (*unknown*). We offer the ratios the
# upstream model renders (xAI's list, GATEWAYS.md §6), all of which are also presets of
# the preview model on the same host (seed 003/000); the sibling's example uses 2:3.
ASPECT_RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3")

# Statuses as dialect 1 (seed 003: "queued, processing, completed, failed, cancelled");
# new-api hosts send OpenAI's "in_progress" for "processing" (GATEWAYS.md §1).
STATUS_MAP = {
    "queued": GatewayStatus.QUEUED,
    "processing": GatewayStatus.RUNNING,
    "in_progress": GatewayStatus.RUNNING,
    "completed": GatewayStatus.SUCCEEDED,
    "failed": GatewayStatus.FAILED,
    "cancelled": GatewayStatus.CANCELLED,
}


class VideoForm(BaseModel):
    """The text fields of the multipart submit; the image travels apart as ``input_reference``.

    Every value is a string, as a multipart form field is.
    """

    model_config = ConfigDict(extra="forbid")

    model: Literal["grok-video-1.5", "grok-video-1.5-pro", "grok-video-1.5-max"]
    # The sibling: "prompt ... required"; 4096 characters is the limit of the preview
    # model on the same host (seed 003); this family's own limit is *unknown*.
    prompt: str = Field(min_length=1, max_length=4096)
    seconds: str = Field(pattern=r"^[1-9][0-9]*$")
    aspect_ratio: Literal["16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3"]
    size: Literal["480P", "540P", "720P", "1080P"]  # seed 003: "Resolution field: size"

    @model_validator(mode="after")
    def _duration_rule(self) -> VideoForm:
        fixed = FIXED_SECONDS.get(self.model)
        if fixed is not None and int(self.seconds) != fixed:
            raise ValueError(f"{self.model} renders {fixed} seconds only (seed 003)")
        if fixed is None and not 1 <= int(self.seconds) <= 15:
            raise ValueError("seconds must be between 1 and 15")
        return self


class VideoObject(BaseModel):
    """The video object answered to submit and poll (seed 003's response example).

    Lenient: hosts add fields or leave some out (the sibling's answer has no
    ``seconds`` and no ``video_url``).
    """

    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1)
    status: Any = None
    progress: Any = 0
    video_url: Any = None
    error: Any = None


def _spec(model: str, label: str, durations: tuple[int, ...], default_duration: int) -> OptionSpec:
    return OptionSpec(
        model=model,
        model_label=label,
        # The sibling's base model "supports text-to-video"; input_reference is optional.
        text_to_video=True,
        # "Image field: input_reference" — one file part (seed 003).
        max_reference_images=1,
        reference_form=ReferenceForm.FILE,
        durations=durations,
        default_duration=default_duration,
        aspect_ratios=ASPECT_RATIOS,
        default_aspect_ratio="16:9",
        resolutions=tuple(SIZE_WIRE),
        default_resolution="720p",
        # No audio field is documented for this family.
        audio=False,
    )


class MultipartGateway(Gateway):
    """Adapter for gateways speaking the multipart dialect (seed 003's last table)."""

    dialect = "multipart"
    label = "Multipart (grok-video-1.5 / pro / max)"
    default_base_url = "https://duoyuanx.com"  # seed 003's host
    sandbox_path = "/multipart"
    source = "seed 003 (last table), seed 000; GATEWAYS.md §2"
    models = (
        # The sibling's example sends seconds=6 for the base model.
        _spec(BASE, "Grok Video 1.5", BASE_DURATIONS, 6),
        _spec(PRO, "Grok Video 1.5 Pro (10 s)", (10,), 10),
        _spec(MAX, "Grok Video 1.5 Max (15 s)", (15,), 15),
    )

    @classmethod
    def validate_choices(cls, choices: GenerationInput) -> dict[str, str]:
        errors = super().validate_choices(choices)
        fixed = FIXED_SECONDS.get(choices.model)
        if "duration" in errors and fixed is not None:
            # Seed 003: "10s for Pro, 15s for Max".
            errors["duration"] = f"{cls.label}: {choices.model} renders {fixed} seconds only."
        elif "duration" in errors:
            errors["duration"] = f"{cls.label}: {choices.model} takes seconds from 1 to 15."
        if len(choices.references) > 1:
            # Seed 003: "Image field: input_reference", a single file part.
            errors["references"] = f"{cls.label} takes one reference image: input_reference is a single uploaded file."
        if "resolution" in errors:
            errors["resolution"] = f"{cls.label}: size is one of 480P, 540P, 720P or 1080P."
        return errors

    def build_request(self, choices: GenerationInput) -> dict[str, Any]:
        """The form's text fields: ``seconds`` as a string, ``size`` as ``720P``.

        ``-pro``/``-max`` get their fixed duration (seed 003), which the gateway
        applies anyway ("automatically fixed", the sibling), so it never contradicts.
        """
        fields: dict[str, Any] = {
            "model": choices.model,
            "prompt": choices.prompt,
            "seconds": str(FIXED_SECONDS.get(choices.model, choices.duration)),
            "aspect_ratio": choices.aspect_ratio,
            "size": SIZE_WIRE.get(choices.resolution or "", choices.resolution),
        }
        return VideoForm.model_validate(fields).model_dump()

    def build_files(self, choices: GenerationInput) -> dict[str, tuple[str, bytes, str]]:
        """The file part: the one reference image as ``input_reference`` (seed 003), or nothing."""
        if len(choices.references) > 1:
            raise ValueError("input_reference takes one file")
        if not choices.references:
            return {}
        ref = choices.references[0]
        if not ref.data:
            raise ValueError("input_reference needs the image itself, not a URL")
        return {"input_reference": (ref.filename, ref.data, ref.content_type)}

    def submit(self, choices: GenerationInput) -> Submission:
        fields = self.build_request(choices)
        files = self.build_files(choices)
        if files:
            answer = self.request("POST", "/v1/videos", submit=True, data=fields, files=files)
        else:
            # Text-to-video has no file part, and httpx would then urlencode ``data``;
            # the gateway takes multipart/form-data only (seed 003), so the fields go as
            # plain form-data parts (no filename, no content type) instead.
            parts = [(name, (None, value)) for name, value in fields.items()]
            answer = self.request("POST", "/v1/videos", submit=True, files=parts)
        video = self._parse(answer, submit=True)
        result = self._result(video, answer)
        return Submission(
            external_id=video.id,
            status=result.status,
            status_word=result.status_word,
            progress=result.progress,
            raw=answer,
        )

    def poll(self, external_id: str) -> PollResult:
        answer = self.request("GET", f"/v1/videos/{external_id}")
        return self._result(self._parse(answer), answer)

    def result_download(self, external_id: str, result: PollResult) -> tuple[str, dict[str, str]]:
        """``video_url`` when given, else ``/v1/videos/{id}/content`` (seed 003)."""
        url = result.video_url or f"{self.base_url}/v1/videos/{external_id}/content"
        return url, self.headers_for(url)

    def poll_interval(self, age_s: float) -> float:
        """No cadence is documented for this dialect (seed 003). aijisu's page for
        ``grok-video-1.5`` advises polling every 3–10 s (seed 001); these clips run
        10–15 s at up to 1080p, so 5 s for two minutes, 10 s to ten, then 30 s."""
        if age_s < 120:
            return 5.0
        if age_s < 600:
            return 10.0
        return 30.0

    def _parse(self, answer: dict[str, Any], *, submit: bool = False) -> VideoObject:
        try:
            return VideoObject.model_validate(answer)
        except ValidationError:
            raise GatewayError(
                f"{self.label} answered without a task id",
                permanent=False,
                maybe_created=submit,
                raw=answer,
            ) from None

    def _result(self, video: VideoObject, answer: dict[str, Any]) -> PollResult:
        word = str(video.status or "").strip().lower()
        status = STATUS_MAP.get(word)
        if status is None:
            log.warning("multipart: unknown status %r for %s; treating as running", word, video.id)
            status = GatewayStatus.RUNNING
        error = ""
        if status in (GatewayStatus.FAILED, GatewayStatus.CANCELLED):
            # Dialect 1: "A failed task may carry error:{message, code}"; a bare string
            # or a top-level message is read too (shape *unknown* for this family).
            error = self.error_message(answer) or f"The gateway reports the task {word}."
        progress = 100 if status == GatewayStatus.SUCCEEDED else clamp_progress(video.progress)
        video_url = video.video_url if isinstance(video.video_url, str) else ""
        return PollResult(
            status=status,
            status_word=word,
            progress=progress,
            raw=answer,
            video_url=video_url,
            error=error,
        )

"""The multipart dialect: ``grok-video-1.5``, ``-pro`` and ``-max`` over multipart/form-data.

Wire rules: docs/gateways.md §2 "multipart", from the closing table "Differences from
Grok 1.5" of duoyuanx's page
https://doc.duoyuanx.com/en/videos/grok/grok-imagine-1-5-preview, and from octopusx's
sibling page https://docs.octopusx.ai/en/videos/grok/generation. What the table states:

- "Request format: multipart/form-data" (the preview model next to it is JSON).
- "Image field: input_reference" — the reference image is the uploaded file part
  ``input_reference`` (one file: the studio sends one reference at most).
- "Resolution field: size", "Resolution values: 480P, 540P, 720P, 1080P".
- "Duration rules: 10s for Pro, 15s for Max"; the base model takes ``seconds``.

The table names no other field. The closest documented sibling (the octopusx
``grok-video-3`` page: same endpoint, same multipart shape, same ``-pro``/``-max``
split) sends ``model``, ``prompt``, ``aspect_ratio``, ``seconds`` and ``size`` as form
fields, e.g. ``-F "seconds=6" -F "size=720P"``; "grok-video-3-pro will be automatically
fixed to 10 seconds, and grok-video-3-max will be automatically fixed to 15 seconds";
the base model "supports text-to-video". Every form field is text on the wire, so
``seconds`` travels as the string ``"6"`` (docs/gateways.md §2.2).

Answers and polling are those of the openai-preview dialect (docs/gateways.md §2.4,
§1.4): ``{id, object:"video", model, status, progress, created_at, seconds, size,
video_url}``; ``GET {base}/v1/videos/{id}``; statuses ``queued, processing, completed,
failed, cancelled``, with ``in_progress`` from new-api hosts; the result is
``video_url`` or ``GET {base}/v1/videos/{id}/content`` (§2.5). Errors come in the
OpenAI-style ``{"error": {message, type, param, code}}``; no catalogue of codes is
documented, so the base classification holds (4xx permanent, 408/429/5xx transient,
a 5xx or lost answer on submit ``maybe_created``; §2.3, §7.3). No delivered duration
is reported (``seconds`` echoes the request), so ``duration_s`` stays None (§7.9).
"""

from __future__ import annotations

from typing import Any, Literal

from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, model_validator

from videos.gateways import openai_preview
from videos.gateways.base import (
    GenerationInput,
    OptionSpec,
    ReferenceForm,
    Submission,
    stepped_interval,
)

BASE = "grok-video-1.5"
PRO = "grok-video-1.5-pro"
MAX = "grok-video-1.5-max"

# docs/gateways.md §2.2: "10s for Pro, 15s for Max". The base model's range is *unknown*
# (§2.8): "processed according to the actual parameters passed" (the octopusx sibling);
# 1 s is the family's documented minimum ("min 1s", §1.2) and 15 s the cap of every
# other channel (xAI's 1–15, §6.2).
FIXED_SECONDS = {PRO: 10, MAX: 15}
BASE_DURATIONS = tuple(range(1, 16))

# docs/gateways.md §2.2: size 480P, 540P, 720P or 1080P (studio spelling → wire).
SIZE_WIRE = {"480p": "480P", "540p": "540P", "720p": "720P", "1080p": "1080P"}

# The table names no aspect ratios for this family (*unknown*, docs/gateways.md §2.8). We
# offer the ratios the upstream model renders (xAI's list, §6.2), all of which are also
# presets of the preview model on the same host (§1.2); the sibling's example uses 2:3.
ASPECT_RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3")


class VideoForm(BaseModel):
    """The text fields of the multipart submit; the image travels apart as ``input_reference``.

    Every value is a string, as a multipart form field is.
    """

    model_config = ConfigDict(extra="forbid")

    model: Literal["grok-video-1.5", "grok-video-1.5-pro", "grok-video-1.5-max"]
    # The sibling: "prompt ... required"; 4096 characters is the limit of the preview
    # model on the same host (docs/gateways.md §1.2); this family's own limit is *unknown*.
    prompt: str = Field(min_length=1, max_length=4096)
    seconds: str = Field(pattern=r"^[1-9][0-9]*$")
    aspect_ratio: Literal["16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3"]
    size: Literal["480P", "540P", "720P", "1080P"]  # docs/gateways.md §2.2: "Resolution field: size"

    @model_validator(mode="after")
    def _duration_rule(self) -> VideoForm:
        fixed = FIXED_SECONDS.get(self.model)
        if fixed is not None and int(self.seconds) != fixed:
            raise ValueError(f"{self.model} renders {fixed} seconds only (docs/gateways.md §2.2)")
        if fixed is None and not 1 <= int(self.seconds) <= 15:
            raise ValueError("seconds must be between 1 and 15")
        return self


class VideoObject(openai_preview.VideoObject):
    """Dialect 1's video object (docs/gateways.md §1.4), read more leniently (§2.4):
    hosts add fields or leave some out (the sibling's answer has no ``seconds`` and no
    ``video_url``), and ``status``/``video_url`` of another type are tolerated."""

    status: Any = None
    video_url: Any = None


def _spec(model: str, label: str, durations: tuple[int, ...], default_duration: int) -> OptionSpec:
    return OptionSpec(
        model=model,
        model_label=label,
        # The sibling's base model "supports text-to-video"; input_reference is optional.
        text_to_video=True,
        # "Image field: input_reference" — one file part (docs/gateways.md §2.2).
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


class MultipartGateway(openai_preview.OpenAIPreviewGateway):
    """Adapter for gateways speaking the multipart dialect (docs/gateways.md §2,
    https://doc.duoyuanx.com/en/videos/grok/grok-imagine-1-5-preview).

    Answers, statuses, polling and download are inherited from the openai-preview
    adapter (docs/gateways.md §2.4, "as dialect 1"): its ``STATUS_MAP`` ("queued,
    processing, completed, failed, cancelled", plus new-api's "in_progress", §1.4),
    ``poll``, ``result_download`` and ``_result``.
    """

    dialect = "multipart"
    label_text = "Multipart (grok-video-1.5 / pro / max)"
    default_base_url = "https://duoyuanx.com"  # docs/gateways.md §2.1
    sandbox_path = "/multipart"
    source = "docs/gateways.md §2 (https://doc.duoyuanx.com/en/videos/grok/grok-imagine-1-5-preview)"
    doc_url = "https://doc.duoyuanx.com/en/videos/grok/grok-imagine-1-5-preview"
    answer_model = VideoObject
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
            # docs/gateways.md §2.2: "10s for Pro, 15s for Max".
            errors["duration"] = _("%(gateway)s: %(model)s renders %(seconds)s seconds only.") % {
                "gateway": cls.label,
                "model": choices.model,
                "seconds": fixed,
            }
        elif "duration" in errors:
            errors["duration"] = _("%(gateway)s: %(model)s takes seconds from 1 to 15.") % {
                "gateway": cls.label,
                "model": choices.model,
            }
        if len(choices.references) > 1:
            # docs/gateways.md §2.2: "Image field: input_reference", a single file part.
            errors["references"] = _(
                "%(gateway)s takes one reference image: input_reference is a single uploaded file."
            ) % {"gateway": cls.label}
        if "resolution" in errors:
            errors["resolution"] = _("%(gateway)s: size is one of 480P, 540P, 720P or 1080P.") % {"gateway": cls.label}
        return errors

    def build_request(self, choices: GenerationInput) -> dict[str, Any]:
        """The form's text fields: ``seconds`` as a string, ``size`` as ``720P``.

        ``-pro``/``-max`` get their fixed duration (docs/gateways.md §2.2), which the gateway
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
        """The file part: the one reference image as ``input_reference`` (docs/gateways.md §2.2), or nothing."""
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
            # the gateway takes multipart/form-data only (docs/gateways.md §2.2), so the fields go as
            # plain form-data parts (no filename, no content type) instead.
            parts = [(name, (None, value)) for name, value in fields.items()]
            answer = self.request("POST", "/v1/videos", submit=True, files=parts)
        video = self.parse_answer(self.answer_model, answer, submit=True)
        return Submission.from_result(video.id, self._result(video, answer))

    def poll_interval(self, age_s: float) -> float:
        """No cadence is documented for this dialect (docs/gateways.md §2.6). aijisu's page for
        ``grok-video-1.5`` advises polling every 3–10 s (§3.6); these clips run
        10–15 s at up to 1080p, so 5 s for two minutes, 10 s to ten, then 30 s."""
        return stepped_interval(age_s, (120, 5.0), (600, 10.0), then=30.0)

"""The aijisu dialect: ``grok-video-1.5`` over JSON, image-to-video only.

Wire rules: docs/gateways.md §3 "aijisu", from aijisu's page "Grok Video 1.5 Video
Generation" (updated 2026-06-26; base URL https://api.aijisu.cn; the same page is at
https://docs.uniall.ai/models/video/grok/grok-video-1-5).

- Submit ``POST {base}/v1/videos`` (JSON, ``Authorization: Bearer KEY``) with
  ``model`` (always ``grok-video-1.5``), ``prompt`` (required), exactly one of
  ``image`` / ``image_url`` (a URL the gateway fetches, never a data URI),
  ``duration`` (integer 1-15, preferred over the string compatibility field
  ``seconds``) and ``size`` (``480p`` | ``720p`` | ``1080p``, preferred over the
  compatibility field ``resolution``). Image-to-video only: no text-to-video, one
  input image, no ``aspect_ratio`` (orientation follows the input image), no
  ``images``/``image_urls``/``reference_image_urls``, no video fields, no
  ``extra_body.operation`` (§3.2).
- The answer is ``{id, task_id, object: "video.generation.job", model,
  status: "queued", progress: 0, created_at}``.
- Poll ``GET {base}/v1/videos/{task_id}`` (``/v1/videos/generations/{task_id}`` is
  the compatibility path): ``queued``, ``in_progress``, ``completed`` (with
  ``video_url`` and ``result.video_url`` / ``result.outputs[]``), ``failed`` (with
  ``error.message``) (§3.4). Poll every 3 to 10 seconds (§3.6).
- The result is ``video_url``, or ``GET {base}/v1/videos/{task_id}/content`` (§3.5).

Not documented (coded defensively, §3.8): the error envelope and its codes, a prompt
length limit, the defaults for ``duration``/``size``, and the shape of
``result.outputs[]`` items. No delivered duration is reported, so ``duration_s``
stays None (§7.9).
"""

from __future__ import annotations

from typing import Any, Literal

from django.utils.translation import gettext as _
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
    first_validation_error,
    stepped_interval,
)

MODEL = "grok-video-1.5"

# docs/gateways.md §3.2: size/resolution only 480p, 720p, 1080p (never 1920x1080, 4k).
# The studio's names are the wire spelling.
RESOLUTIONS = ("480p", "720p", "1080p")
WireResolution = Literal["480p", "720p", "1080p"]

# docs/gateways.md §3.2: image / image_url are input image URLs the platform and upstream
# service can fetch, so no data URIs.
PUBLIC_URL = r"^https?://\S+$"


class VideoCreate(BaseModel):
    """The submit body: exactly the fields docs/gateways.md §3.2 lists, forbidding the rest
    (``images``, ``image_urls``, ``reference_image_urls``, video fields, ``aspect_ratio``,
    ``extra_body`` — the page's "Field Constraints")."""

    model_config = ConfigDict(extra="forbid")

    model: Literal["grok-video-1.5"] = MODEL
    prompt: str = Field(min_length=1)
    image: str | None = Field(default=None, pattern=PUBLIC_URL)
    image_url: str | None = Field(default=None, pattern=PUBLIC_URL)
    # docs/gateways.md §3.2: duration is an integer 1-15; a string is not the documented type.
    duration: int | None = Field(default=None, strict=True, ge=1, le=15)
    # docs/gateways.md §3.2: the compatibility fields (the adapter never sends them).
    seconds: str | None = Field(default=None, pattern=r"^([1-9]|1[0-5])$")
    size: WireResolution | None = None
    resolution: WireResolution | None = None

    @model_validator(mode="after")
    def _one_input_image(self) -> VideoCreate:
        # docs/gateways.md §3.2: exactly one of image and image_url.
        if (self.image is None) == (self.image_url is None):
            raise ValueError("pass exactly one of image or image_url (grok-video-1.5 is image-to-video only)")
        # docs/gateways.md §3.8: when both the preferred and the compatibility field are
        # given, they should carry the same value (the sentence is garbled; read strictly).
        if self.duration is not None and self.seconds is not None and str(self.duration) != self.seconds:
            raise ValueError("duration and seconds disagree")
        if self.size is not None and self.resolution is not None and self.size != self.resolution:
            raise ValueError("size and resolution disagree")
        return self


class VideoJob(BaseModel):
    """The task object answered to submit and poll (docs/gateways.md §3.4). Lenient.

    The create answer carries ``id`` and ``task_id``; the poll examples only ``id``.
    """

    model_config = ConfigDict(extra="allow")

    id: str | None = None
    task_id: str | None = None
    status: str | None = None
    progress: Any = 0
    video_url: str | None = None
    result: Any = None
    error: Any = None

    @model_validator(mode="after")
    def _has_an_id(self) -> VideoJob:
        if not (self.task_id or self.id):
            raise ValueError("no task id")
        return self

    @property
    def external_id(self) -> str:
        # docs/gateways.md §3.4: keep id or task_id for polling (they are equal).
        return str(self.task_id or self.id)

    def result_url(self) -> str:
        """``video_url``, else ``result.video_url``, else the first of ``result.outputs``
        (docs/gateways.md §3.4, the completed answer). Items of ``outputs`` are strings on
        aijisu's page; an object with ``url``/``video_url`` is accepted too (shape unknown)."""
        if isinstance(self.video_url, str) and self.video_url:
            return self.video_url
        if not isinstance(self.result, dict):
            return ""
        if isinstance(self.result.get("video_url"), str) and self.result["video_url"]:
            return self.result["video_url"]
        outputs = self.result.get("outputs")
        for item in outputs if isinstance(outputs, list) else []:
            if isinstance(item, dict):
                item = item.get("url") or item.get("video_url")
            if isinstance(item, str) and item:
                return item
        return ""


class AijisuGateway(Gateway):
    """Adapter for the aijisu gateway's ``grok-video-1.5`` (docs/gateways.md §3,
    https://docs.uniall.ai/models/video/grok/grok-video-1-5)."""

    dialect = "aijisu"
    label_text = "aijisu (grok-video-1.5)"
    default_base_url = "https://api.aijisu.cn"  # docs/gateways.md §3.1: the page's {BASE_URL}
    sandbox_path = "/aijisu"
    source = "docs/gateways.md §3 (https://docs.uniall.ai/models/video/grok/grok-video-1-5)"
    doc_url = "https://docs.uniall.ai/models/video/grok/grok-video-1-5"
    STATUS_MAP = {
        # docs/gateways.md §3.4, the documented words.
        "queued": GatewayStatus.QUEUED,
        "in_progress": GatewayStatus.RUNNING,
        "completed": GatewayStatus.SUCCEEDED,
        "failed": GatewayStatus.FAILED,
        # Not on aijisu's page: the word the same /v1/videos family uses for in_progress, and
        # a cancel its hosts may report (docs/gateways.md §1.4, §3.4). Accepted rather than
        # logged as unknown.
        "processing": GatewayStatus.RUNNING,
        "cancelled": GatewayStatus.CANCELLED,
    }
    models = (
        OptionSpec(
            model=MODEL,
            model_label="grok-video-1.5",
            # docs/gateways.md §3.2: single-image-to-video only: no text-to-video, no
            # multiple reference images.
            text_to_video=False,
            prompt_required=True,  # docs/gateways.md §3.2: prompt required
            max_reference_images=1,
            reference_form=ReferenceForm.URL,
            durations=tuple(range(1, 16)),  # docs/gateways.md §3.2: duration 1-15
            default_duration=6,  # docs/gateways.md §3.2: the page's minimum valid request
            aspect_ratios=(),  # docs/gateways.md §3.2: do not pass aspect_ratio
            default_aspect_ratio=None,
            resolutions=RESOLUTIONS,
            default_resolution="720p",  # docs/gateways.md §3.2: the page's minimum valid request
            audio=False,  # no audio field (docs/gateways.md §3.2)
            # No prompt limit is documented: the base's 4096, as on the sibling channels.
        ),
    )

    @classmethod
    def validate_choices(cls, choices: GenerationInput) -> dict[str, str]:
        """The generic checks, with messages naming aijisu's rules (docs/gateways.md §3.2)."""
        errors = super().validate_choices(choices)
        if "model" in errors:
            return errors
        name = cls.label
        if "aspect_ratio" in errors:
            errors["aspect_ratio"] = _(
                "%(name)s takes no aspect ratio: orientation follows the input image "
                "(use a landscape image for landscape, a portrait one for portrait)."
            ) % {"name": name}
        if "resolution" in errors:
            errors["resolution"] = _("%(name)s renders size 480p, 720p or 1080p only.") % {"name": name}
        if "duration" in errors:
            errors["duration"] = _("%(name)s takes duration as a whole number of seconds from 1 to 15.") % {
                "name": name
            }
        if "references" in errors:
            if not choices.references:
                errors["references"] = _(
                    "%(name)s is image-to-video only (no text-to-video): add one input image, as image or image_url."
                ) % {"name": name}
            elif len(choices.references) > 1:
                errors["references"] = _(
                    "%(name)s takes one input image only (no images, image_urls or references)."
                ) % {"name": name}
            else:
                errors["references"] = _(
                    "%(name)s fetches the input image from a public http(s) URL; data URIs are not accepted."
                ) % {"name": name}
        return errors

    def build_request(self, choices: GenerationInput) -> dict[str, Any]:
        """The shape of aijisu's minimum valid request (docs/gateways.md §3.2): ``image_url``,
        ``duration`` as an integer, ``size`` as ``720p``.

        Only the preferred fields are sent, never the compatibility ones (``seconds``,
        ``resolution``), and never ``aspect_ratio``.
        """
        body: dict[str, Any] = {"model": MODEL, "prompt": choices.prompt}
        if choices.references:
            # aijisu's examples use image_url (docs/gateways.md §3.2); one image only (validate_choices).
            body["image_url"] = choices.references[0].url
        body["duration"] = choices.duration
        if choices.resolution:
            body["size"] = choices.resolution
        try:
            return VideoCreate.model_validate(body).model_dump(exclude_none=True)
        except ValidationError as exc:
            raise GatewayError(f"{self.label}: {first_validation_error(exc)}", permanent=True) from None

    def submit(self, choices: GenerationInput) -> Submission:
        body = self.build_request(choices)
        answer = self.request("POST", "/v1/videos", json=body, submit=True)
        job = self.parse_answer(VideoJob, answer, submit=True)
        return Submission.from_result(job.external_id, self._result(job, answer))

    def poll(self, external_id: str) -> PollResult:
        # docs/gateways.md §3.4: the primary query path (the /generations/ one is a compatibility alias).
        answer = self.request("GET", f"/v1/videos/{external_id}")
        return self._result(self.parse_answer(VideoJob, answer), answer)

    def result_download(self, external_id: str, result: PollResult) -> tuple[str, dict[str, str]]:
        """``video_url`` when given, else ``/v1/videos/{task_id}/content`` (docs/gateways.md §3.5);
        the key goes only to the gateway's own host."""
        url = result.video_url or f"{self.base_url}/v1/videos/{external_id}/content"
        return url, self.headers_for(url)

    def poll_interval(self, age_s: float) -> float:
        """docs/gateways.md §3.6: aijisu advises polling every 3 to 10 seconds: 3 s for the first
        minute, 5 s to five minutes, then 10 s, never outside the documented range."""
        return stepped_interval(age_s, (60, 3.0), (300, 5.0), then=10.0)

    def _result(self, job: VideoJob, answer: dict[str, Any]) -> PollResult:
        word = (job.status or "").strip().lower()
        status = self.status_for(word, job.external_id)
        # The failure text is the base's: a failed task carries error.message (docs/gateways.md §3.4).
        video_url = job.result_url() if status == GatewayStatus.SUCCEEDED else ""
        return self.poll_result(status, word, answer, progress=job.progress, video_url=video_url)

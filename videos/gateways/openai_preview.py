"""The openai-preview dialect: ``grok-imagine-video-1.5-preview`` over JSON.

Wire rules: docs/gateways.md §1 "openai-preview", from duoyuanx's page
https://doc.duoyuanx.com/en/videos/grok/grok-imagine-1-5-preview (API host
``https://duoyuanx.com``; octopusx publishes the same text).

- Submit ``POST {base}/v1/videos`` with ``model``, ``prompt`` (≤ 4096 chars),
  ``seconds`` (a string, "passing it as a string is recommended", minimum 1),
  ``aspect_ratio``, ``resolution`` (``480P`` | ``720P``), and for image-to-video
  ``image`` (one data URI) or ``images`` (several), never both (§1.2).
- Poll ``GET {base}/v1/videos/{id}``: ``status`` is one of ``queued``,
  ``processing``, ``completed``, ``failed``, ``cancelled``; hosts built on
  new-api send ``in_progress`` for ``processing``, accepted too (§1.4).
- The result is ``video_url``, or ``GET {base}/v1/videos/{id}/content`` (§1.5).
- The answer's ``seconds`` echoes the requested length: it is not a delivered
  duration, so ``duration_s`` stays None (§1.4, §7.9).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from django.utils.translation import gettext_noop
from pydantic import BaseModel, ConfigDict, Field, model_validator

from videos.gateways.base import (
    Gateway,
    GatewayStatus,
    GenerationInput,
    OptionSpec,
    PollResult,
    ReferenceForm,
    Submission,
    stepped_interval,
)

MODEL = "grok-imagine-video-1.5-preview"

# docs/gateways.md §1.2: the presets 1:1, 16:9, 9:16, 4:3, 3:4, 3:2, 2:3, 2:1, 1:2,
# 19.5:9, 9:19.5, 20:9, 9:20 (custom number:number ratios exist but are not offered).
ASPECT_RATIOS = (
    "16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3", "2:1", "1:2",
    "19.5:9", "9:19.5", "20:9", "9:20",
)  # fmt: skip

# docs/gateways.md §1.2: resolution 480P or 720P.
RESOLUTION_WIRE = {"480p": "480P", "720p": "720P"}


class VideoCreate(BaseModel):
    """The submit body, exactly the fields docs/gateways.md §1.2 lists."""

    model_config = ConfigDict(extra="forbid")

    model: Literal["grok-imagine-video-1.5-preview"] = MODEL
    prompt: str = Field(min_length=1, max_length=4096)
    seconds: str = Field(pattern=r"^[1-9][0-9]*$")
    aspect_ratio: str
    resolution: Literal["480P", "720P"]
    image: str | None = Field(default=None, pattern=r"^data:image/")
    images: list[str] | None = None

    @model_validator(mode="after")
    def _one_image_field(self) -> VideoCreate:
        if self.image is not None and self.images is not None:
            raise ValueError("do not pass image together with images")
        if self.images is not None and not all(i.startswith("data:image/") for i in self.images):
            raise ValueError("every member of images must be a data URI")
        return self


class VideoObject(BaseModel):
    """The video object answered to submit and poll (docs/gateways.md §1.4).

    Lenient: gateway answers may carry more fields or leave some out.
    """

    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1)
    status: str | None = None
    progress: Any = 0
    video_url: str | None = None
    error: Any = None


class OpenAIPreviewGateway(Gateway):
    """Adapter for gateways speaking the openai-preview dialect (docs/gateways.md §1,
    https://doc.duoyuanx.com/en/videos/grok/grok-imagine-1-5-preview).

    The multipart dialect subclasses it: its answers, statuses, polling and download
    are this dialect's (docs/gateways.md §2.4); only its models and submit differ.
    """

    dialect = "openai-preview"
    label_text = gettext_noop("OpenAI-format (grok-imagine-video-1.5-preview)")
    default_base_url = "https://duoyuanx.com"  # docs/gateways.md §1.1
    sandbox_path = "/openai"
    source = "docs/gateways.md §1 (https://doc.duoyuanx.com/en/videos/grok/grok-imagine-1-5-preview)"
    doc_url = "https://doc.duoyuanx.com/en/videos/grok/grok-imagine-1-5-preview"
    STATUS_MAP = {
        "queued": GatewayStatus.QUEUED,
        "processing": GatewayStatus.RUNNING,
        "in_progress": GatewayStatus.RUNNING,  # new-api hosts (docs/gateways.md §1.4)
        "completed": GatewayStatus.SUCCEEDED,
        "failed": GatewayStatus.FAILED,
        "cancelled": GatewayStatus.CANCELLED,
    }
    # What submit and poll answers are read with (multipart reads them more leniently).
    answer_model: ClassVar[type[VideoObject]] = VideoObject
    models = (
        OptionSpec(
            model=MODEL,
            text_to_video=True,
            # "images: Multiple reference images"; no maximum is documented (docs/gateways.md §1.8).
            max_reference_images=4,
            reference_form=ReferenceForm.DATA_URI,
            # "Minimum is 1 second"; no maximum is documented: 15 s, as on every other channel.
            durations=tuple(range(1, 16)),
            default_duration=6,
            aspect_ratios=ASPECT_RATIOS,
            default_aspect_ratio="16:9",
            resolutions=tuple(RESOLUTION_WIRE),
            default_resolution="720p",
        ),
    )

    def build_request(self, choices: GenerationInput) -> dict[str, Any]:
        """The JSON body of docs/gateways.md §1.2: ``seconds`` as a string, ``resolution`` as ``720P``.

        One reference image goes in ``image``, several in ``images``.
        """
        body: dict[str, Any] = {
            "model": MODEL,
            "prompt": choices.prompt,
            "seconds": str(choices.duration),
            "aspect_ratio": choices.aspect_ratio,
            "resolution": RESOLUTION_WIRE[choices.resolution],
        }
        uris = [ref.data_uri() for ref in choices.references]
        if len(uris) == 1:
            body["image"] = uris[0]
        elif uris:
            body["images"] = uris
        return VideoCreate.model_validate(body).model_dump(exclude_none=True)

    def submit(self, choices: GenerationInput) -> Submission:
        body = self.build_request(choices)
        answer = self.request("POST", "/v1/videos", json=body, submit=True)
        video = self.parse_answer(self.answer_model, answer, submit=True)
        return Submission.from_result(video.id, self._result(video, answer))

    def poll(self, external_id: str) -> PollResult:
        answer = self.request("GET", f"/v1/videos/{external_id}")
        return self._result(self.parse_answer(self.answer_model, answer), answer)

    def result_download(self, external_id: str, result: PollResult) -> tuple[str, dict[str, str]]:
        """``video_url`` when given, else ``/v1/videos/{id}/content`` (docs/gateways.md §1.5)."""
        url = result.video_url or f"{self.base_url}/v1/videos/{external_id}/content"
        return url, self.headers_for(url)

    def poll_interval(self, age_s: float) -> float:
        """No cadence is documented for this dialect (docs/gateways.md §1.6); this family's
        aijisu page advises 3–10 s (§3.6): 3 s for two minutes, then slower."""
        return stepped_interval(age_s, (120, 3.0), (600, 10.0), then=30.0)

    def _result(self, video: VideoObject, answer: dict[str, Any]) -> PollResult:
        # str() and isinstance(): multipart's answer model lets status and video_url be anything.
        word = str(video.status or "").strip().lower()
        status = self.status_for(word, video.id)
        # The failure text is the base's: a failed task may carry error: {message, code}
        # (docs/gateways.md §1.4); a bare string or a top-level message is read too.
        video_url = video.video_url if isinstance(video.video_url, str) else ""
        return self.poll_result(status, word, answer, progress=video.progress, video_url=video_url)

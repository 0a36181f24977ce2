"""The jimmyai dialect: ``grok-imagine-video-1.5`` behind jimmyai's ``{code, msg, data}`` envelope.

Wire rules: docs/gateways.md §4 "jimmyai", from jimmyai's pages "Create Grok 1.5 Video"
(https://docs.jimmyai.cn/en/api-reference/grok/create; API host https://www.jimmyai.cn),
"Query Video Task" (https://docs.jimmyai.cn/en/api-reference/common/query) and its FAQ
(https://docs.jimmyai.cn/en/faq).

- Submit ``POST {base}/api/open-api/v1/grok/videos`` (JSON, ``Authorization: Bearer KEY``)
  with ``model`` (``grok-imagine-video-1.5``; the aliases ``grok-1.5`` and ``grok_1_5``
  "normalize to" it), ``prompt`` (required), ``image_urls`` (required: "exactly 1 reference
  image"; ``images`` is only the compatibility field, so it is never sent), ``duration``
  (enum<integer> 10 | 15, default 10) and ``ratio`` (``16:9 9:16 1:1 3:2 2:3``, default 16:9).
  ``orientation`` (``landscape|portrait``) is "active only when ratio is empty": the studio
  always sends ``ratio`` and so never sends ``orientation``. There is no resolution field (§4.2).
- Answer: ``{"code": "20000", "msg": "ok", "data": {task_id, status, model, created_at}}``;
  any other ``code`` is an error. The catalogue of codes is *unknown* (§4.3).
- Poll ``GET {base}/api/open-api/v1/videos/{task_id}``: the same envelope around
  ``{task_id, status, progress, model, created_at, completed_at, result: {video_url},
  error_message}``; the Chinese copy of the page shows that object without the envelope,
  so both shapes are accepted. Statuses: ``queued`` / ``pending`` / ``submitted`` (progress
  0), ``processing`` (1–99), ``completed`` (100, ``result.video_url``), ``failed``
  (``error_message``) (§4.4). ``video_url`` is valid for 3 days: the studio archives at
  once (§4.5). No delivered duration is reported, so ``duration_s`` stays None (§7.9).
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from videos.gateways.base import (
    Gateway,
    GatewayError,
    GatewayStatus,
    GenerationInput,
    OptionSpec,
    PollResult,
    ReferenceForm,
    Submission,
    stepped_interval,
)

log = logging.getLogger(__name__)

MODEL = "grok-imagine-video-1.5"
# docs/gateways.md §4.2: grok-1.5 and grok_1_5 are aliases of grok-imagine-video-1.5.
MODEL_ALIASES = ("grok-1.5", "grok_1_5")

# docs/gateways.md §4.2: duration 10 or 15 seconds only (default 10).
DURATIONS = (10, 15)
# docs/gateways.md §4.2: ratio 16:9, 9:16, 1:1, 3:2 or 2:3 (default 16:9).
RATIOS = ("16:9", "9:16", "1:1", "3:2", "2:3")

SUBMIT_PATH = "/api/open-api/v1/grok/videos"  # docs/gateways.md §4.2
POLL_PATH = "/api/open-api/v1/videos/{task_id}"  # docs/gateways.md §4.4 (Query Video Task page)

# docs/gateways.md §4.3: {"code": "20000", "msg": "ok", ...}; any other code is an error.
OK_CODE = "20000"

HttpUrl = Annotated[str, Field(pattern=r"^https?://\S+$")]


class VideoCreate(BaseModel):
    """The submit body, exactly the fields docs/gateways.md §4.2 lists (strict: 10 is an integer).

    ``orientation`` and ``images`` exist at jimmyai but the studio never sends them (it
    always sends ``ratio`` and ``image_urls``), so they are not allowed here either.
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    model: Literal["grok-imagine-video-1.5"] = MODEL
    prompt: str = Field(min_length=1)
    duration: Literal[10, 15] = 10
    ratio: Literal["16:9", "9:16", "1:1", "3:2", "2:3"] = "16:9"
    # docs/gateways.md §4.2: image_urls is required and holds exactly 1 reference image.
    image_urls: list[HttpUrl] = Field(min_length=1, max_length=1)


class TaskResult(BaseModel):
    """``data.result`` of the Query Video Task page (docs/gateways.md §4.4; lenient)."""

    model_config = ConfigDict(extra="allow")

    video_url: str | None = None


class TaskData(BaseModel):
    """``data`` of the submit and poll answers (lenient: fields may be missing or extra)."""

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)

    task_id: str = Field(min_length=1)
    status: str | None = None
    progress: Any = None
    model: Any = None
    created_at: Any = None
    completed_at: Any = None
    result: Any = None
    error_message: Any = None


class JimmyaiGateway(Gateway):
    """Adapter for jimmyai's Grok 1.5 video endpoint (docs/gateways.md §4,
    https://docs.jimmyai.cn/en/api-reference/grok/create)."""

    dialect = "jimmyai"
    label_text = "jimmyai (grok-imagine-video-1.5)"
    default_base_url = "https://www.jimmyai.cn"  # docs/gateways.md §4.1
    sandbox_path = "/jimmyai"
    source = "docs/gateways.md §4 (https://docs.jimmyai.cn/en/api-reference/grok/create)"
    doc_url = "https://docs.jimmyai.cn/en/api-reference/grok/create"
    STATUS_MAP = {
        # docs/gateways.md §4.4 (Query Video Task page): queued / pending / submitted is the
        # initial state.
        "queued": GatewayStatus.QUEUED,
        "pending": GatewayStatus.QUEUED,
        "submitted": GatewayStatus.QUEUED,
        "processing": GatewayStatus.RUNNING,
        "completed": GatewayStatus.SUCCEEDED,
        "failed": GatewayStatus.FAILED,
        # docs/gateways.md §4.4: jimmyai's FAQ also names "success" as the finished word. Not in
        # the query page's table; accepted as a variant.
        "success": GatewayStatus.SUCCEEDED,
    }
    models = (
        OptionSpec(
            model=MODEL,
            model_label="Grok Imagine Video 1.5",
            # docs/gateways.md §4.2: exactly 1 reference image in image_urls — no text-to-video.
            text_to_video=False,
            max_reference_images=1,
            reference_form=ReferenceForm.URL,  # "Reference image URL list"
            durations=DURATIONS,
            default_duration=10,
            aspect_ratios=RATIOS,
            default_aspect_ratio="16:9",
            resolutions=(),  # no resolution field at jimmyai
            audio=False,  # no audio field at jimmyai
            # No prompt limit is documented; the studio's generic 4096-character cap applies.
        ),
    )

    @classmethod
    def spec(cls, model: str | None = None) -> OptionSpec:
        """As the base, but the documented aliases find the one model (docs/gateways.md §4.2)."""
        if model in MODEL_ALIASES:
            model = MODEL
        return super().spec(model)

    @classmethod
    def validate_choices(cls, choices: GenerationInput) -> dict[str, str]:
        """The generic checks, with jimmyai's own wording for its rules (docs/gateways.md §4.2)."""
        errors = super().validate_choices(choices)
        if "model" in errors:
            return errors
        if "duration" in errors:
            errors["duration"] = _("%(name)s only supports 10 or 15 seconds.") % {"name": cls.label}
        if "aspect_ratio" in errors:
            errors["aspect_ratio"] = _("%(name)s supports the ratios %(values)s.") % {
                "name": cls.label,
                "values": ", ".join(RATIOS),
            }
        if len(choices.references) != 1:
            errors["references"] = _(
                "%(name)s must be used with exactly 1 reference image (image_urls); %(given)d given."
            ) % {"name": cls.label, "given": len(choices.references)}
        elif "references" in errors:
            errors["references"] = _(
                "%(name)s fetches the reference image from a public http(s) URL (image_urls); "
                "it does not take uploaded bytes or data URIs."
            ) % {"name": cls.label}
        return errors

    def build_request(self, choices: GenerationInput) -> dict[str, Any]:
        """The JSON body of docs/gateways.md §4.2: ``duration`` an integer, ``ratio`` (never ``orientation``),
        one URL in ``image_urls`` (never the ``images`` compatibility field)."""
        body: dict[str, Any] = {
            "model": MODEL,  # an alias is normalised to the canonical id
            "prompt": choices.prompt,
            "duration": choices.duration,
            "ratio": choices.aspect_ratio or "16:9",
            "image_urls": [ref.url for ref in choices.references],
        }
        return VideoCreate.model_validate(body).model_dump()

    def submit(self, choices: GenerationInput) -> Submission:
        body = self.build_request(choices)
        answer = self.request("POST", SUBMIT_PATH, json=body, submit=True)
        task = self.parse_answer(TaskData, self._unwrap(answer, submit=True), submit=True, raw=answer)
        return Submission.from_result(task.task_id, self._result(task, answer))

    def poll(self, external_id: str) -> PollResult:
        answer = self.request("GET", POLL_PATH.format(task_id=external_id))
        return self._result(self.parse_answer(TaskData, self._unwrap(answer, submit=False), raw=answer), answer)

    def result_download(self, external_id: str, result: PollResult) -> tuple[str, dict[str, str]]:
        """``result.video_url`` (valid 3 days, docs/gateways.md §4.5); no download endpoint of
        jimmyai's own is documented. The key goes only to jimmyai's own host, never to a CDN."""
        url = result.video_url
        return url, self.headers_for(url)

    def poll_interval(self, age_s: float) -> float:
        """jimmyai documents no polling cadence (docs/gateways.md §4.6). This follows
        the cadence reAPI publishes for the same model (§5.6): every 5 s for the
        first 5 minutes, then slower; the result URL lives 3 days, so there is no hurry."""
        return stepped_interval(age_s, (300, 5.0), (1800, 15.0), then=60.0)

    # --- answers and errors -------------------------------------------------------------

    def error_message(self, body: Any) -> str:
        """jimmyai's ``msg`` with its ``code`` (``{"code": "…", "msg": "…", "data": …}``)."""
        if isinstance(body, dict) and "code" in body and ("msg" in body or "message" in body):
            msg = body.get("msg") or body.get("message") or ""
            code = body.get("code")
            text = str(msg).strip() or _("%(gateway)s answered code %(code)s") % {"gateway": self.label, "code": code}
            return (
                _("%(message)s (code %(code)s)") % {"message": text, "code": code} if code not in (None, "") else text
            )
        return super().error_message(body)

    # An error envelope on an HTTP 4xx goes through ``Gateway.error_from_response``: with the
    # code catalogue unknown (docs/gateways.md §4.3) the HTTP status decides, so a 4xx is permanent
    # (bad field, bad key, no balance), 408/429/5xx transient, and a submit 5xx may have
    # created the task. Only ``error_message`` is jimmyai's own.

    def _unwrap(self, answer: dict[str, Any], *, submit: bool) -> Any:
        """``data`` of the envelope, or the answer itself when it came without one.

        A ``code`` other than "20000" on an HTTP 2xx answer is an error whose meaning is
        *unknown* (no catalogue is published). The studio's rule (docs/gateways.md §4.3):
        permanent only when the HTTP status is 4xx, so this one is transient. On a submit we cannot tell whether
        jimmyai created (and charged for) the task before answering, so it is also
        ``maybe_created``: the pipeline then asks the member instead of sending it again.
        """
        if "code" not in answer:
            # The Chinese "Query Video Task" page shows the task object bare (docs/gateways.md §4.3).
            return answer
        code = str(answer.get("code")).strip()
        if code != OK_CODE:
            raise GatewayError(
                self.error_message(answer),
                permanent=False,
                maybe_created=submit,
                raw=answer,
            )
        return answer.get("data")

    def _result(self, task: TaskData, answer: dict[str, Any]) -> PollResult:
        word = (task.status or "").strip().lower()
        status = self.status_for(word, task.task_id)
        video_url = _video_url(task)
        if status == GatewayStatus.SUCCEEDED and not video_url:
            # docs/gateways.md §4.4: a completed task has its link in result.video_url; without
            # it there is nothing to archive yet: keep polling (the time limit ends it, §7.8).
            log.warning("jimmyai: %s is %r but has no result.video_url yet; still polling", task.task_id, word)
            status = GatewayStatus.RUNNING
        error = ""
        if status == GatewayStatus.FAILED:
            error = _failure_reason(task) or _("%(gateway)s reports the task %(word)s.") % {
                "gateway": self.label,
                "word": word,
            }
        return self.poll_result(status, word, answer, progress=task.progress, video_url=video_url, error=error)


def _video_url(task: TaskData) -> str:
    """``result.video_url`` (docs/gateways.md §4.4); a top-level ``video_url`` is accepted too."""
    result = task.result
    url: Any = None
    if isinstance(result, dict):
        try:
            url = TaskResult.model_validate(result).video_url
        except ValidationError:
            url = None
    url = url or (task.model_extra or {}).get("video_url")
    return url.strip() if isinstance(url, str) else ""


def _failure_reason(task: TaskData) -> str:
    """``error_message`` (docs/gateways.md §4.4); jimmyai's FAQ also names ``error_msg`` and
    ``reason``, so those are read when it is empty."""
    extra = task.model_extra or {}
    for value in (task.error_message, extra.get("error_msg"), extra.get("reason"), extra.get("error")):
        if isinstance(value, dict):
            value = value.get("message") or value.get("msg")
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""

"""The small base every gateway adapter builds on, and the types they share.

An adapter turns the member's choices (``GenerationInput``) into one gateway's
wire format, sends it through ``videos.lib.http``, and reads the answers back into
``Submission`` / ``PollResult``. Errors are ``GatewayError`` and say whether
they are permanent (stop, show the gateway's message) or transient (retry), and
for a submit whether the gateway may have created the task anyway.

Everything a gateway says leaves its adapter redacted: an answer's body is rid of the
adapter's own key as ``request`` reads it (a gateway may echo the key, ``Incorrect API
key provided: sk-…``), and every ``Submission``, ``PollResult`` and ``GatewayError``
out of ``submit`` and ``poll`` is redacted again, the generic secret patterns
(``vault.redact``) included, so what the worker stores and the pages show never holds it.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import functools
import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.utils.functional import classproperty
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from videos.lib import http, media, vault

log = logging.getLogger(__name__)

AnswerModel = TypeVar("AnswerModel", bound=BaseModel)


class GatewayError(Exception):
    """A gateway call failed.

    ``permanent``: True when repeating the same call cannot succeed (a 4xx for a
    bad field or key); False for timeouts, resets, 5xx and 429.
    ``maybe_created``: for a submit, True when the request may have reached the
    gateway (timeout after sending, 5xx, reset), so resending could pay twice.
    ``retry_after``: seconds the gateway asked us to wait (429), if it said.
    ``kind``: what went wrong when it was not a readable answer: ``"blocked"`` (the
    address guard refused the host), ``"unreachable"`` (no connection: DNS, refused,
    timeout, not an http(s) URL), ``"incomplete"`` (sent, not answered in full),
    ``"not_json"`` (an answer that is not JSON: a web page, plain text, nothing);
    ``""`` for an answer the adapter read.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        status_code: int | None = None,
        retry_after: float | None = None,
        maybe_created: bool = False,
        raw: Any = None,
        kind: str = "",
    ):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.permanent = permanent
        self.status_code = status_code
        self.retry_after = retry_after
        self.maybe_created = maybe_created
        self.raw = raw


class GatewayStatus(enum.StrEnum):
    """Where a task stands at the gateway, whatever the dialect's own words."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ReferenceForm(enum.StrEnum):
    DATA_URI = "data_uri"
    FILE = "file"
    URL = "url"


class OptionSpec(BaseModel):
    """What one model of one dialect accepts, for the compose form and server-side checks.

    ``model`` is the wire model id. ``durations`` are whole seconds.
    ``resolutions`` are the studio's names (``480p``, ``720p``, ``1080p``); the
    adapter spells them as its gateway wants. An empty tuple means the gateway has
    no such field (jimmyai has no resolution). ``audio`` says whether the member may
    switch the soundtrack on or off. ``reference_form`` is how reference images
    travel: data URIs, uploaded files, or public URLs the gateway fetches.
    """

    model_config = ConfigDict(frozen=True)

    model: str
    model_label: str = ""
    text_to_video: bool = True
    prompt_required: bool = True
    max_reference_images: int = 1
    reference_form: ReferenceForm = ReferenceForm.DATA_URI
    durations: tuple[int, ...]
    default_duration: int
    aspect_ratios: tuple[str, ...] = ()
    default_aspect_ratio: str | None = None
    resolutions: tuple[str, ...] = ()
    default_resolution: str | None = None
    audio: bool = False
    default_audio: bool = True
    max_prompt_chars: int = 4096

    @property
    def label(self) -> str:
        """The model's name in the member's language (``model_label`` is marked with
        ``gettext_noop`` where it has words to translate), else its wire id."""
        return _(self.model_label) if self.model_label else self.model


@dataclass(frozen=True)
class ReferenceImageData:
    """One reference image: its MIME type and bytes, and a URL the gateway can fetch.

    ``url`` is a member's pasted http(s) URL or the studio's signed URL for an
    upload; ``data`` is empty for a pasted URL (the studio never fetched it).
    """

    content_type: str
    data: bytes = b""
    url: str = ""

    def data_uri(self) -> str:
        return f"data:{self.content_type};base64,{base64.b64encode(self.data).decode()}"

    @property
    def filename(self) -> str:
        return "reference." + media.extension_for(self.content_type)


class GenerationInput(BaseModel):
    """The member's choices, dialect-neutral.

    ``model`` is the wire model id (one of the gateway's ``models``); ``duration``
    is in seconds; ``audio`` is None where the model has no audio switch.
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    model: str
    prompt: str = ""
    duration: int
    aspect_ratio: str | None = None
    resolution: str | None = None
    audio: bool | None = None
    references: list[ReferenceImageData] = Field(default_factory=list)


@dataclass
class Submission:
    """What a gateway answered to a submit: its task id and first status."""

    external_id: str
    status: GatewayStatus
    status_word: str
    progress: int
    raw: Any

    @classmethod
    def from_result(cls, external_id: str, result: PollResult) -> Submission:
        """For dialects whose submit answers the task object a poll answers: the task id
        with ``result``'s status, word, progress and raw answer."""
        return cls(
            external_id=external_id,
            status=result.status,
            status_word=result.status_word,
            progress=result.progress,
            raw=result.raw,
        )


@dataclass
class PollResult:
    """What a gateway answered to a status query.

    ``video_url`` is set once the task succeeded (where the dialect gives one);
    ``error`` holds the gateway's own failure message. ``duration_s`` is the length in
    seconds the gateway reports having delivered, where it reports one (only xAI does:
    docs/gateways.md §7.9); None otherwise. Read it with ``reported_duration``.
    """

    status: GatewayStatus
    status_word: str
    progress: int
    raw: Any
    video_url: str = ""
    error: str = ""
    duration_s: float | None = None


#: The task id a key check asks about: no gateway issues the nil UUID, so a gateway that
#: takes the key answers "not found" in its own JSON (docs/gateways.md §7.14).
CHECK_TASK_ID = "00000000-0000-0000-0000-000000000000"

#: The HTTP statuses of a redirect; the studio follows none (docs/gateways.md §7.3).
REDIRECTS = (301, 302, 303, 307, 308)


class KeyVerdict(enum.StrEnum):
    """What a key check found (docs/gateways.md §7.14)."""

    WORKS = "works"  # the gateway answered in JSON and did not refuse the key
    WRONG_KEY = "wrong_key"  # HTTP 401 or 403 in JSON
    WRONG_BASE_URL = "wrong_base_url"  # no connection, a redirect, or an answer that is not JSON
    BLOCKED = "blocked"  # the address guard refused the host (a private or local address)
    UNSURE = "unsure"  # busy (429), failing (5xx, timeout), or another refusal: try again


@dataclass(frozen=True)
class KeyCheck:
    """The outcome of ``Gateway.check``: its ``verdict``, the HTTP status when one came
    back, and ``detail``, the gateway's message or the error (redacted; English, for the
    curious: pages say the verdict in their own words)."""

    verdict: KeyVerdict
    status_code: int | None = None
    detail: str = ""


def verdict_for(error: GatewayError) -> KeyCheck:
    """The ``KeyCheck`` of a status query for ``CHECK_TASK_ID`` that raised ``error``
    (docs/gateways.md §7.14): the guard refused the address → blocked; no connection, a
    redirect, or a non-JSON answer other than a 408/429/5xx → wrong base URL; 401/403 →
    wrong key; 404, 400 and 422 in JSON (the gateway knows no such task, or refuses its
    form) → works; anything else (408, 429, 5xx, a timeout, another refusal, a JSON answer
    the dialect cannot read) → unsure."""
    status, detail = error.status_code, error.message[:300]
    failing = status is not None and (status in (408, 429) or status >= 500)
    if error.kind == "blocked":
        verdict = KeyVerdict.BLOCKED
    elif error.kind == "unreachable" or (error.kind == "not_json" and not failing) or status in REDIRECTS:
        verdict = KeyVerdict.WRONG_BASE_URL
    elif status in (401, 403):
        verdict = KeyVerdict.WRONG_KEY
    elif status in (400, 404, 422):
        verdict = KeyVerdict.WORKS
    else:
        verdict = KeyVerdict.UNSURE
    return KeyCheck(verdict, status_code=status, detail=detail)


class Gateway:
    """Base class: one subclass per dialect, registered in ``videos.gateways``.

    Subclasses set the class attributes and implement ``build_request``,
    ``submit``, ``poll`` and ``result_download``. ``STATUS_MAP`` maps the dialect's
    status words (lower case) to ``GatewayStatus``, for ``status_for``.

    The key's secret never leaves in anything the gateway said: ``request`` masks it in
    every answer body (``vault.KeyRedactor``: the whole secret, or a prefix of more than
    8 characters, plain, percent-encoded or JSON-escaped, in any case, becomes
    ``••••last4``), and each subclass's ``submit`` and ``poll`` are wrapped (by
    ``__init_subclass__``) so their ``Submission``/``PollResult`` and any
    ``GatewayError`` they raise pass through ``redact_outcome``/``redact_error``.
    """

    do_not_call_in_templates = True  # templates read the class's attributes

    dialect: ClassVar[str]
    #: The gateway's name in lists (marked with ``gettext_noop`` where it has words to
    #: translate); ``label`` is it in the member's language.
    label_text: ClassVar[str]
    default_base_url: ClassVar[str]
    sandbox_path: ClassVar[str]
    source: ClassVar[str]
    #: The gateway's public documentation page (the URL ``source`` cites), for the keys page.
    doc_url: ClassVar[str] = ""
    models: ClassVar[tuple[OptionSpec, ...]]
    STATUS_MAP: ClassVar[dict[str, GatewayStatus]] = {}

    @classproperty
    def label(cls) -> str:
        return _(cls.label_text)

    def __init__(self, base_url: str, api_key: str, *, client: httpx.Client | None = None):
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._mask_key = vault.KeyRedactor(api_key)
        self._client = client

    def __init_subclass__(cls, **kwargs):
        """Wrap the subclass's own ``submit`` and ``poll`` (``_redacting``): whatever they
        return or raise is redacted on its way out, for every dialect, present or future."""
        super().__init_subclass__(**kwargs)
        for name in ("submit", "poll"):
            method = cls.__dict__.get(name)
            if callable(method) and not getattr(method, "redacts_answers", False):
                setattr(cls, name, _redacting(method))

    def __repr__(self) -> str:  # never show the key
        return f"<{type(self).__name__} {self.base_url}>"

    # --- what subclasses implement -------------------------------------------------

    @classmethod
    def spec(cls, model: str | None = None) -> OptionSpec:
        """The options of ``model`` (the first model when None). Raises KeyError."""
        if model is None:
            return cls.models[0]
        for spec in cls.models:
            if spec.model == model:
                return spec
        raise KeyError(model)

    @classmethod
    def validate_choices(cls, choices: GenerationInput) -> dict[str, str]:
        """Check ``choices`` against the model's options: ``{field: message}``, empty when fine.

        The messages name the gateway's rule; no HTTP request is made.
        """
        try:
            spec = cls.spec(choices.model)
        except KeyError:
            return {
                "model": _("%(gateway)s has no model %(model)s.") % {"gateway": cls.label, "model": repr(choices.model)}
            }
        name = f"{cls.label} {spec.label}" if len(cls.models) > 1 else cls.label
        errors: dict[str, str] = {}
        prompt = choices.prompt.strip()
        if len(choices.prompt) > spec.max_prompt_chars:
            errors["prompt"] = _("%(name)s accepts at most %(max)d characters (%(given)d given).") % {
                "name": name,
                "max": spec.max_prompt_chars,
                "given": len(choices.prompt),
            }
        elif not prompt and spec.prompt_required:
            errors["prompt"] = _("%(name)s needs a prompt.") % {"name": name}
        if choices.duration not in spec.durations:
            errors["duration"] = _("%(name)s renders %(durations)s seconds.") % {
                "name": name,
                "durations": _describe_durations(spec.durations),
            }
        if spec.aspect_ratios and choices.aspect_ratio not in spec.aspect_ratios:
            errors["aspect_ratio"] = _("%(name)s accepts %(values)s.") % {
                "name": name,
                "values": ", ".join(spec.aspect_ratios),
            }
        if not spec.aspect_ratios and choices.aspect_ratio:
            errors["aspect_ratio"] = _("%(name)s takes no aspect ratio.") % {"name": name}
        if spec.resolutions and choices.resolution not in spec.resolutions:
            errors["resolution"] = _("%(name)s accepts %(values)s.") % {
                "name": name,
                "values": ", ".join(spec.resolutions),
            }
        if not spec.resolutions and choices.resolution:
            errors["resolution"] = _("%(name)s takes no resolution.") % {"name": name}
        if choices.audio is not None and not spec.audio:
            errors["audio"] = _("%(name)s has no audio switch.") % {"name": name}
        count = len(choices.references)
        if count > spec.max_reference_images:
            errors["references"] = ngettext(
                "%(name)s takes at most %(n)d reference image.",
                "%(name)s takes at most %(n)d reference images.",
                spec.max_reference_images,
            ) % {"name": name, "n": spec.max_reference_images}
        elif count == 0 and not spec.text_to_video:
            errors["references"] = _("%(name)s makes video from an image: add a reference image.") % {"name": name}
        for ref in choices.references:
            if spec.reference_form == ReferenceForm.URL and not ref.url.startswith(("http://", "https://")):
                errors["references"] = _("%(name)s fetches reference images from a public http(s) URL.") % {
                    "name": name
                }
            elif spec.reference_form != ReferenceForm.URL and not ref.data:
                errors["references"] = _("%(name)s needs the image itself (upload it); it does not fetch URLs.") % {
                    "name": name
                }
        return errors

    def build_request(self, choices: GenerationInput) -> dict[str, Any]:
        """The request body for ``choices``, with the gateway's field names and types."""
        raise NotImplementedError

    def submit(self, choices: GenerationInput) -> Submission:
        """Create the task. Raises GatewayError."""
        raise NotImplementedError

    def poll(self, external_id: str) -> PollResult:
        """Read the task's status. Raises GatewayError."""
        raise NotImplementedError

    def result_download(self, external_id: str, result: PollResult) -> tuple[str, dict[str, str]]:
        """The URL of the finished video and the headers to fetch it with."""
        raise NotImplementedError

    #: How long a task may run at this gateway before the studio gives up on it, in
    #: hours; None means ``settings.STUDIO_MAX_TASK_HOURS`` (24 by default).
    max_task_hours: ClassVar[float | None] = None

    @classmethod
    def max_task_age(cls) -> timedelta:
        """The wall-clock limit for one task at this gateway."""
        from django.conf import settings

        return timedelta(hours=cls.max_task_hours or settings.STUDIO_MAX_TASK_HOURS)

    def poll_interval(self, age_s: float) -> float:
        """Seconds to wait before the next poll of a task submitted ``age_s`` seconds ago."""
        return 5.0

    # --- redaction: nothing the gateway says leaves with the key in it -------------------

    def redact_key(self, value: Any) -> Any:
        """``value`` (text, or a decoded answer of dicts, lists and scalars) with this
        adapter's key masked in every string and dict key (``vault.KeyRedactor``); only
        the key, so a video URL or task id keeps working unless it carries the key."""
        return self._mask_key.value(value)

    def redact(self, value: Any) -> Any:
        """``value`` (as for ``redact_key``) with this adapter's key masked and the generic
        secret patterns (``vault.redact``: bearer tokens, ``?key=``, ``"key": "…"``…)
        replaced, in every string and dict key; the shape kept (tuples become lists)."""
        return vault.redact_value(value, lambda text: vault.redact(self._mask_key(text)))

    def redact_error(self, error: GatewayError) -> GatewayError:
        """``error`` itself, its ``message`` (and ``args``) and ``raw`` redacted (``redact``)."""
        error.message = self.redact(error.message)
        error.args = (error.message, *error.args[1:])
        error.raw = self.redact(error.raw)
        return error

    def redact_outcome(self, outcome: Any) -> Any:
        """A copy of a ``Submission`` or ``PollResult`` fit to store and show: its ``raw``,
        ``status_word`` and (a PollResult's) ``error`` redacted (``redact``), its
        ``video_url`` rid of the key only (``redact_key``: a video URL that carries the key
        is stored masked, so its download fails and the archive says so). Anything else is
        returned as it is.

        Raises a transient, ``maybe_created`` GatewayError when a Submission's task id
        carries the key (as it is, or masked by ``request`` already): masked it could not
        be followed, and as it is it cannot be stored.
        """
        if isinstance(outcome, Submission):
            raw = self.redact(outcome.raw)
            external_id = outcome.external_id
            if self.redact_key(external_id) != external_id or self._mask_key.shown in external_id:
                raise GatewayError(
                    _("%(gateway)s answered with the key in its task id") % {"gateway": self.label},
                    permanent=False,
                    maybe_created=True,
                    raw=raw,
                )
            return dataclasses.replace(outcome, status_word=self.redact(outcome.status_word), raw=raw)
        if isinstance(outcome, PollResult):
            return dataclasses.replace(
                outcome,
                status_word=self.redact(outcome.status_word),
                raw=self.redact(outcome.raw),
                video_url=self.redact_key(outcome.video_url),
                error=self.redact(outcome.error),
            )
        return outcome

    # --- helpers for subclasses ------------------------------------------------------

    def parse_answer(
        self,
        model: type[AnswerModel],
        data: Any,
        *,
        submit: bool = False,
        raw: Any = None,
        missing: str | None = None,
    ) -> AnswerModel:
        """``data`` (a decoded answer, or the part of it that holds the task) validated as ``model``.

        Raises a transient GatewayError "<label> answered without <missing>" (``missing``:
        "a task id" when None) when it
        does not validate, carrying ``raw`` (the whole answer; ``data`` when None). On a
        submit the error is ``maybe_created``: the gateway answered, so the task may
        exist although we cannot read its id.
        """
        try:
            return model.model_validate(data)
        except ValidationError:
            raise GatewayError(
                _("%(gateway)s answered without %(missing)s")
                % {"gateway": self.label, "missing": _("a task id") if missing is None else missing},
                permanent=False,
                maybe_created=submit,
                raw=data if raw is None else raw,
            ) from None

    def status_for(self, word: str, task_id: str) -> GatewayStatus:
        """The ``GatewayStatus`` of the dialect's status ``word`` (stripped, lower case).

        A word not in ``STATUS_MAP`` is logged as a warning on the dialect module's
        logger (naming ``task_id``) and read as RUNNING: polling goes on until the
        gateway says a known word or the pipeline's time cap ends the task.
        """
        status = self.STATUS_MAP.get(word)
        if status is None:
            logging.getLogger(type(self).__module__).warning(
                "%s: unknown status %r for %s; treating as running", self.dialect, word, task_id
            )
            status = GatewayStatus.RUNNING
        return status

    def poll_result(
        self,
        status: GatewayStatus,
        word: str,
        answer: Any,
        *,
        progress: Any,
        video_url: str = "",
        error: str | None = None,
        duration_s: float | None = None,
    ) -> PollResult:
        """The PollResult of one answer: progress 100 on success, else ``clamp_progress(progress)``.

        ``error`` None means the generic failure text: for a failed or cancelled task,
        the gateway's own message in ``answer`` (``error_message``) or "The gateway
        reports the task <word>."; for any other status, none. ``duration_s`` is the
        delivered length the gateway reported (``reported_duration``), kept only on success.
        """
        if error is None:
            error = ""
            if status in (GatewayStatus.FAILED, GatewayStatus.CANCELLED):
                # strip(): a whitespace-only message is no message.
                error = self.error_message(answer).strip() or _("The gateway reports the task %(word)s.") % {
                    "word": word
                }
        return PollResult(
            status=status,
            status_word=word,
            progress=100 if status == GatewayStatus.SUCCEEDED else clamp_progress(progress),
            raw=answer,
            video_url=video_url,
            error=error,
            duration_s=duration_s if status == GatewayStatus.SUCCEEDED else None,
        )

    @property
    def client(self) -> httpx.Client:
        return self._client or http.client()

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key}"}

    def headers_for(self, url: str) -> dict[str, str]:
        """The key goes only to the gateway's own host (scheme, host and port)."""
        return self.auth_headers() if same_origin(url, self.base_url) else {}

    def request(self, method: str, path: str, *, submit: bool = False, **kwargs) -> Any:
        """Send one request to ``base_url + path`` and return the decoded JSON body, with
        this adapter's key masked wherever the gateway echoed it (``redact_key``).

        Classifies failures into GatewayError (its message and ``raw`` redacted,
        ``redact_error``); an answer that is not JSON is described in words, its body kept
        only in ``raw`` (``not_json_error``). With ``submit=True`` a failure after the request may have
        reached the gateway is marked ``maybe_created``; a connection that never opened is not.
        """
        url = self.base_url + path
        headers = {**self.auth_headers(), **kwargs.pop("headers", {})}
        try:
            response = http.fetch(
                self.client,
                method,
                url,
                # docs/gateways.md §7: a host that is slow, huge or trickling is cut off here.
                deadline_s=settings.STUDIO_SUBMIT_SECONDS if submit else settings.STUDIO_STATUS_SECONDS,
                max_bytes=settings.STUDIO_MAX_ANSWER_BYTES,
                headers=headers,
                **kwargs,
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol) as exc:
            blocked = isinstance(exc, http.BlockedAddress)
            raise GatewayError(
                str(exc)
                if blocked
                else _("could not connect to %(host)s (%(error)s)")
                % {"host": urlsplit(url).netloc, "error": type(exc).__name__},
                permanent=isinstance(exc, httpx.UnsupportedProtocol),
                kind="blocked" if blocked else "unreachable",
            ) from exc
        except httpx.HTTPError as exc:
            raise GatewayError(
                _("%(host)s did not answer in full (%(error)s)")
                % {"host": urlsplit(url).netloc, "error": type(exc).__name__},
                permanent=False,
                maybe_created=submit,
                kind="incomplete",
            ) from exc
        decoded, is_json = _decode(response)
        body = self.redact_key(decoded)
        if not is_json:
            # docs/gateways.md §7.13: a web page or other non-JSON answer is described, never shown.
            raise self.redact_error(self.not_json_error(response, body, submit=submit))
        if response.status_code >= 400 or response.status_code in REDIRECTS:
            raise self.redact_error(self.error_from_response(response, body, submit=submit))
        if not isinstance(body, dict):
            raise self.redact_error(
                GatewayError(
                    _("%(gateway)s answered HTTP %(status)s without a JSON object")
                    % {"gateway": self.label, "status": response.status_code},
                    permanent=False,
                    maybe_created=submit,
                    status_code=response.status_code,
                    raw=_truncate(body),
                )
            )
        return body

    def not_json_error(self, response: httpx.Response, body: str, *, submit: bool) -> GatewayError:
        """The GatewayError for an answer that is not JSON (an HTML page, plain text, an
        empty body), at any HTTP status (docs/gateways.md §7.13).

        Its message says in words what came back and what it likely means, never the body
        itself; ``raw`` keeps the body (truncated to 2000 characters) for the timeline, and
        ``kind`` is ``"not_json"``. Classified as ``error_from_response`` classifies: 429
        transient (``Retry-After`` kept), 408 and 5xx transient and, on a submit,
        ``maybe_created``; a redirect and any other 4xx permanent; a 2xx transient and, on
        a submit, ``maybe_created`` (the gateway answered, so the task may exist).
        """
        status = response.status_code
        what = describe_body(response, body)
        common = {"status_code": status, "raw": _truncate(body), "kind": "not_json"}
        words = {"gateway": self.label, "what": what, "status": status}
        if status == 429:
            message = _("%(gateway)s answered %(what)s, not JSON (HTTP 429, too many requests)") % words
            return GatewayError(message, permanent=False, retry_after=_retry_after(response), **common)
        if status == 408 or status >= 500:
            message = (
                _(
                    "%(gateway)s answered %(what)s, not JSON (HTTP %(status)s): "
                    "the gateway, or a proxy in front of it, is failing"
                )
                % words
            )
            return GatewayError(message, permanent=False, maybe_created=submit, **common)
        if status in REDIRECTS:
            message = (
                _("%(gateway)s sent a redirect (HTTP %(status)s), not a JSON answer: is the base URL right?") % words
            )
            return GatewayError(message, permanent=True, **common)
        message = _("%(gateway)s answered %(what)s, not JSON (HTTP %(status)s): is the base URL right?") % words
        if status >= 400:
            return GatewayError(message, permanent=True, **common)
        return GatewayError(message, permanent=False, maybe_created=submit, **common)

    def check(self) -> KeyCheck:
        """Check the key and base URL with one harmless request: a status query for a task
        id no gateway can have issued (``CHECK_TASK_ID``), sent by the dialect's own
        ``poll``; never a submit, so never a paid call (docs/gateways.md §7.14).

        Returns a ``KeyCheck`` (``verdict_for`` reads the outcome); never raises
        GatewayError. Its ``detail`` is redacted like every error of this adapter.
        """
        try:
            self.poll(CHECK_TASK_ID)
        except GatewayError as error:
            return verdict_for(error)
        # A task object for an id nobody issued: odd, but the key was taken.
        return KeyCheck(KeyVerdict.WORKS, status_code=200)

    def error_from_response(self, response: httpx.Response, body: Any, *, submit: bool) -> GatewayError:
        """Turn an error answer into a GatewayError; subclasses refine the message."""
        status = response.status_code
        message = self.error_message(body).strip() or _("%(gateway)s answered HTTP %(status)s") % {
            "gateway": self.label,
            "status": status,
        }
        retry_after = _retry_after(response)
        if status == 429:
            return GatewayError(message, permanent=False, status_code=status, retry_after=retry_after, raw=body)
        if status in (408,) or status >= 500:
            return GatewayError(message, permanent=False, status_code=status, maybe_created=submit, raw=body)
        return GatewayError(message, permanent=True, status_code=status, raw=body)

    def error_message(self, body: Any) -> str:
        """The gateway's own message in an error body, in the usual places."""
        if isinstance(body, dict):
            error = body.get("error")
            if isinstance(error, dict):
                return str(error.get("message") or error.get("msg") or error.get("code") or "")
            if isinstance(error, str):
                return error
            for key in ("message", "msg", "detail"):
                if isinstance(body.get(key), str):
                    return body[key]
        if isinstance(body, str):
            return body[:300]
        return ""


def _redacting(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` (an adapter's ``submit`` or ``poll``) with its outcome redacted
    (``Gateway.redact_outcome``) and any GatewayError it raises redacted in place
    (``Gateway.redact_error``) before it is raised on. Other exceptions pass untouched."""

    @functools.wraps(method)
    def redacted(self: Gateway, *args: Any, **kwargs: Any) -> Any:
        try:
            outcome = method(self, *args, **kwargs)
        except GatewayError as error:
            self.redact_error(error)
            raise
        return self.redact_outcome(outcome)

    redacted.redacts_answers = True  # type: ignore[attr-defined]
    return redacted


def same_origin(url: str, base_url: str) -> bool:
    """True when ``url`` has the scheme, host and port of ``base_url``; False when either
    cannot be parsed (an unclosed IPv6 bracket, a port out of range)."""
    try:
        a, b = urlsplit(url), urlsplit(base_url)
        return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)
    except ValueError:
        return False


def stepped_interval(age_s: float, *steps: tuple[float, float], then: float) -> float:
    """A polling cadence in steps: the ``wait_s`` of the first ``(before_s, wait_s)`` step
    with ``age_s < before_s``, else ``then`` (all in seconds; steps in rising order)."""
    for before_s, wait_s in steps:
        if age_s < before_s:
            return wait_s
    return then


def first_validation_error(exc: ValidationError) -> str:
    """The first problem pydantic found, as ``field.path: message`` (the message alone
    when it concerns the whole body)."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else first["msg"]


def clamp_progress(value: Any) -> int:
    """A gateway's progress (number, numeric string, or 0–1 fraction) as 0–100; 0 for
    anything else, NaN, infinities and integers too large for a float included."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return 0
    if not math.isfinite(number):
        return 0
    if 0 < number < 1 and not float(number).is_integer():
        number *= 100
    return max(0, min(100, int(number)))


#: The longest delivered duration taken at its word, in seconds: the model renders at most
#: 15 s, so a larger figure is a unit mix-up (milliseconds) or garbage (docs/gateways.md §7.9).
MAX_REPORTED_DURATION_S = 3600.0


def reported_duration(value: Any) -> float | None:
    """A gateway's reported video length in seconds (a number or a numeric string), or None
    for anything else: missing, a boolean, text, zero or negative, NaN, an infinity, an
    integer too large for a float, or more than MAX_REPORTED_DURATION_S. Never raises."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return None
    if not math.isfinite(number) or not 0 < number <= MAX_REPORTED_DURATION_S:
        return None
    return number


def _describe_durations(durations: tuple[int, ...]) -> str:
    ordered = sorted(durations)
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return _("%(first)d to %(last)d") % {"first": ordered[0], "last": ordered[-1]}
    return _(" or ").join(str(d) for d in ordered)


def _decode(response: httpx.Response) -> tuple[Any, bool]:
    """The answer's decoded JSON and True, or its text (truncated) and False when the body
    is not JSON (an HTML page, plain text, nothing at all)."""
    try:
        return response.json(), True
    except RecursionError:
        # A body nested deeper than the decoder goes is JSON, just unreadable: keep it as text.
        return _truncate(response.text), True
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return _truncate(response.text), False


def describe_body(response: httpx.Response, body: str) -> str:
    """What a non-JSON answer is, in words for a message: "a web page" (HTML, by its
    content type or its first tag), "an empty answer", or "plain text"."""
    text = body.lstrip()[:200].lower()
    content_type = response.headers.get("content-type", "").lower()
    if "html" in content_type or text.startswith(("<!doctype", "<html", "<head", "<body")) or "<html" in text:
        return _("a web page")
    if not text:
        return _("an empty answer")
    return _("plain text")


def _truncate(value: Any, limit: int = 2000) -> Any:
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + "…"
    return value


#: The longest wait a ``Retry-After`` header is taken at (a day): a larger one, or an
#: infinite one, would overflow the datetime arithmetic of the next attempt.
MAX_RETRY_AFTER_S = 24 * 3600.0


def _retry_after(response: httpx.Response) -> float | None:
    """The seconds a ``Retry-After`` header asks to wait (a number or an HTTP date),
    between 0 and MAX_RETRY_AFTER_S; None when absent, unreadable or not finite."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except (ValueError, OverflowError):
        seconds = _retry_after_date(value)
    if seconds is None or not math.isfinite(seconds):
        return None
    return min(MAX_RETRY_AFTER_S, max(0.0, seconds))


def _retry_after_date(value: str) -> float | None:
    """Seconds from now until the HTTP date ``value``, or None when it is not one."""
    from datetime import datetime
    from email.utils import parsedate_to_datetime

    try:
        return (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
    except (TypeError, ValueError, OverflowError):  # not a date, or one without a zone
        return None

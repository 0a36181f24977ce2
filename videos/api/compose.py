"""What the API's operations share: the answer shapes of a generation and an estimate,
looking a generation up inside the token's team, and binding a request body to the compose
form (``ComposeForm``) so the browser's validation applies as it is, with the
``Idempotency-Key`` turned into the form's one-time submission token."""

from __future__ import annotations

import base64
import binascii
import hashlib
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.urls import reverse
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from videos import actions, billing
from videos.api import schemas as s
from videos.api.problems import Problem, from_form
from videos.forms import ComposeForm
from videos.gateways.base import ReferenceForm
from videos.models import Event, GatewayKey, Generation

#: The longest Idempotency-Key taken (visible ASCII only).
IDEMPOTENCY_KEY_MAX = 255


# --- shapes --------------------------------------------------------------------------------


def money(amount) -> str | None:
    """USD as a plain decimal string (``"0.32"``); None stays None (price unknown)."""
    return None if amount is None else format(Decimal(amount).normalize(), "f")


def estimate_out(estimate: billing.Estimate) -> dict:
    """An ``Estimate`` as ``EstimateOut``: ``amount_usd`` and the formula in words."""
    return {"amount_usd": money(estimate.amount), "words": estimate.words}


def file_url(request, name: str, generation: Generation) -> str:
    """The absolute API URL of a generation's ``video`` or ``poster``."""
    return request.build_absolute_uri(reverse(f"api:{name}", kwargs={"generation_id": generation.uuid}))


def generation_out(request, generation: Generation, favorite: bool | None = None) -> dict:
    """A generation as ``GenerationOut`` (``favorite``: whether the token's member favorited it;
    read from the row's ``is_favorite`` annotation, else asked)."""
    task = generation.task
    asset = getattr(generation, "asset", None)
    if favorite is None:
        favorite = getattr(generation, "is_favorite", None)
        if favorite is None:
            favorite = generation.favorited_by.filter(pk=request.user.pk).exists()
    return {
        "id": generation.uuid,
        "state": task.state,
        "state_label": task.get_state_display(),
        "progress": task.progress,
        "prompt": generation.prompt,
        "gateway": generation.dialect,
        "model": generation.model_name,
        "key_label": generation.key_label,
        "author": generation.author.get_username() if generation.author else None,
        "created_at": generation.created_at,
        "finished_at": task.finished_at,
        "estimate": generation.estimate_words,
        "estimate_usd": money(generation.estimate_usd),
        "cost_usd": money(generation.cost_usd),
        "billing": generation.billing,
        "approval": generation.approval,
        "review": generation.review,
        "review_comment": generation.review_comment if "review_comment" in generation.__dict__ else "",
        "favorite": bool(favorite),
        "error": task.last_error if "last_error" in task.__dict__ else "",
        "parent": generation.parent.uuid if generation.parent_id and generation.parent else None,
        "video_url": file_url(request, "video", generation) if asset and asset.file else None,
        "poster_url": file_url(request, "poster", generation) if asset and asset.poster else None,
        "repeated": bool(getattr(generation, "repeated", False)),
    }


def generation_detail(request, generation: Generation) -> dict:
    """A generation as ``GenerationDetailOut``: with its options, remixes and timeline."""
    out = generation_out(request, generation)
    events = Event.objects.filter(generation=generation).order_by("created_at", "pk")
    remixes = Generation.objects.for_team(request.team).filter(parent=generation).values_list("uuid", flat=True)
    out.update(
        options=generation.options,
        reference_images=generation.reference_images.count(),
        remixes=list(remixes[:100]),
        timeline=[{"at": e.created_at, "kind": e.kind, "state": e.state, "message": e.message} for e in events],
    )
    return out


def team_generation(request, generation_id: str, queryset=None) -> Generation:
    """The token's team's generation ``generation_id`` (a UUID), else Http404."""
    queryset = queryset if queryset is not None else Generation.objects.for_team(request.team).for_cards()
    try:
        return queryset.filter(team=request.team).select_related("parent").get(uuid=generation_id)
    except (Generation.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None


def changeable(request, generation_id: str, verb: str) -> Generation:
    generation = team_generation(request, generation_id)
    if not generation.changeable_by(request.membership):
        raise Problem(403, str(actions.CHANGE_REFUSALS[verb]))
    return generation


# --- compose -------------------------------------------------------------------------------

#: How the form's field names read in the API's bodies.
FIELD_NAMES = {"reference_urls": "reference_images", "__all__": None}


def my_keys(request):
    """The token's member's own gateway keys in the token's team."""
    return GatewayKey.objects.owned_by(request.team, request.user)


def _decode(index: int, data: str) -> bytes:
    if data.startswith("data:"):
        data = data.partition(",")[2]
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        message = _("not valid base64.")
        raise Problem(
            422,
            f"reference_images.{index}.data: {message}",
            errors=[{"field": f"reference_images.{index}.data", "message": message}],
        ) from None


def compose_form(request, body: dict, parent: Generation | None = None) -> ComposeForm:
    """The compose form bound to an API body (``GenerationIn``/``RemixIn`` as a dict), with
    the model's defaults for options left out, so the browser's validation applies as it is.
    Raises Problem(422) for a reference image the gateway cannot take in that form."""
    data = {
        "key": str(body["key"]) if body.get("key") else "",
        "model": body.get("model") or "",
        "prompt": body.get("prompt") or "",
    }
    if parent is not None:
        data["parent"] = str(parent.uuid)
    for name in ("duration", "aspect_ratio", "resolution"):
        if body.get(name) is not None:
            data[name] = str(body[name])
    refs = body.get("reference_images") or []
    uploads = [
        SimpleUploadedFile(f"reference-{i + 1}", _decode(i, r["data"])) for i, r in enumerate(refs) if r.get("data")
    ]
    urls = [r["url"] for r in refs if r.get("url")]
    generations = Generation.objects.for_team(request.team)
    form = ComposeForm(data, MultiValueDict({"reference_images": uploads}), keys=my_keys(request), parents=generations)
    spec = form.spec
    if spec is not None:
        for name, default in (
            ("duration", spec.default_duration),
            ("aspect_ratio", spec.default_aspect_ratio),
            ("resolution", spec.default_resolution),
        ):
            data.setdefault(name, "" if default is None else str(default))
        audio = body.get("audio")
        if spec.audio and (audio if audio is not None else spec.default_audio):
            data["audio"] = "on"
        if urls and spec.reference_form != ReferenceForm.URL:
            message = _("%(gateway)s takes reference images as files: send them as base64 data, not URLs.") % {
                "gateway": form.gateway.label
            }
            raise Problem(422, message, errors=[{"field": "reference_images", "message": message}])
    data["reference_urls"] = "\n".join(urls)
    return form


def check_idempotency_key(request) -> str:
    """The request's ``Idempotency-Key`` ("" without one). Raises Problem(400) for a
    malformed one: empty, over 255 characters, or anything but visible ASCII."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return ""
    if not key or len(key) > IDEMPOTENCY_KEY_MAX or any(not (33 <= ord(ch) <= 126) for ch in key):
        raise Problem(400, _("An Idempotency-Key is 1 to 255 visible ASCII characters (no spaces), e.g. a UUID."))
    return key


def submission_token(request, idempotency_key: str, body: s.GenerationIn) -> tuple[str, str]:
    """The compose form's one-time token for an Idempotency-Key: 16 hex characters from
    the key (per team) then 16 from the body, so a repeat with another body is told apart."""
    key_part = hashlib.sha256(f"{request.team.pk}:{idempotency_key}".encode()).hexdigest()[:16]
    body_part = hashlib.sha256(body.model_dump_json().encode()).hexdigest()[:16]
    return key_part, key_part + body_part


#: The 409 for an Idempotency-Key used before with another body.
KEY_REUSED = gettext_lazy("This Idempotency-Key was already used with a different request body.")


def create_from_form(request, form: ComposeForm, submission_token: str = "", submission_scope: str = "") -> Generation:
    """Validate ``form`` and create its generation (``actions.create_generation``). Raises
    Problem(422) with the form's messages, or the budget's refusal; Problem(409) when the
    Idempotency-Key (``submission_scope``) was used with another body, found under the
    team lock (a race the caller's own check cannot see)."""
    if not form.is_valid():
        raise from_form(form, FIELD_NAMES)
    try:
        generation = actions.create_generation(
            team=request.team,
            author=request.user,
            membership=request.membership,
            submission_token=submission_token,
            submission_scope=submission_scope,
            **form.request_options(),
        )
    except actions.SubmissionTokenReused:
        raise Problem(409, str(KEY_REUSED)) from None
    except billing.BudgetExceeded as exc:
        raise Problem(422, exc.message, errors=[{"field": None, "message": exc.message}]) from None
    return generation

"""The studio's pages: compose and progress cards, history, generation detail, keys.

Thin function views: they validate with forms, call ``videos.pipeline`` for
state changes, and render one template per page, or one of its partials for
htmx requests. Every object is looked up inside the current team.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling, reswap, retarget

from accounts.access import get_for_team, team_required
from videos import audit, billing, pipeline, references
from videos.files import serve_file
from videos.forms import ComposeForm, GatewayKeyForm, ReplaceSecretForm
from videos.gateways import REGISTRY
from videos.gateways.base import GenerationInput, ReferenceImageData
from videos.models import Approval, Billing, Event, GatewayKey, Generation, LedgerEntry, ReferenceImage

RECENT_CARDS = 12


def _my_keys(request):
    return GatewayKey.objects.filter(team=request.team, owner=request.user)


def _generations(request):
    return (
        Generation.objects.filter(team=request.team)
        .select_related("task", "asset", "author")
        .prefetch_related(
            Prefetch("reference_images", queryset=ReferenceImage.objects.only("pk", "generation_id", "position"))
        )
    )


@require_GET
@team_required
def studio(request):
    """The compose form and the member's latest progress cards. ``?remix=<uuid>`` opens the
    form prefilled from a team generation (prompt, options, reference images), linked as its child."""
    form = ComposeForm(keys=_my_keys(request), parents=_generations(request), initial=_remix_initial(request))
    cards = _generations(request).filter(author=request.user)[:RECENT_CARDS]
    return render(request, "videos/studio.html", {"form": form, "cards": cards, "estimate": compose_estimate(form)})


def _remix_initial(request) -> dict:
    wanted = request.GET.get("remix")
    if not wanted:
        return {}
    try:
        parent = Generation.objects.filter(team=request.team, uuid=wanted).first()
    except (ValueError, ValidationError):
        parent = None
    if parent is None:
        return {}
    initial = {"parent": parent.uuid, "prompt": parent.prompt, "model": parent.model_name, **parent.options}
    key = _my_keys(request).filter(pk=parent.key_id).first()
    if key is not None:
        initial["key"] = key.uuid
    return {k: v for k, v in initial.items() if v is not None}


def compose_estimate(form: ComposeForm) -> dict | None:
    """The estimate for the form's current choices, and the same request through each of
    the member's other keys that can do it: ``{"this": Estimate, "others": [(key, spec, Estimate)]}``."""
    if form.spec is None:
        return None
    data = form.data
    spec = form.spec

    def pick(name, values, default):
        value = data.get(name)
        return value if value in values else default

    try:
        duration = int(data.get("duration", spec.default_duration))
    except (TypeError, ValueError):
        duration = spec.default_duration
    if duration not in spec.durations:  # a forged or huge one: only the model's own durations
        duration = spec.default_duration
    resolution = pick("resolution", spec.resolutions, spec.default_resolution)
    aspect_ratio = pick("aspect_ratio", spec.aspect_ratios, spec.default_aspect_ratio)
    urls = [line for line in str(data.get("reference_urls", "")).splitlines() if line.strip()]
    images = len(form.files.getlist("reference_images")) + len(urls) if form.files else len(urls)
    this = billing.estimate(form.selected_key.dialect, spec.model, resolution, duration, images)
    others = []
    for key in form.fields["key"].queryset:
        if key.pk == form.selected_key.pk:
            continue
        for other in key.gateway.models:
            choices = GenerationInput(
                model=other.model,
                prompt="estimate",
                duration=duration,
                aspect_ratio=aspect_ratio if other.aspect_ratios else None,
                resolution=resolution if other.resolutions else None,
                references=[ReferenceImageData("image/png", b"x", "https://example.invalid/x.png")] * images,
            )
            if not key.gateway.validate_choices(choices):
                others.append(
                    (key, other, billing.estimate(key.dialect, other.model, choices.resolution, duration, images))
                )
    return {"this": this, "others": others}


@require_POST
@team_required
def estimate(request):
    """The live estimate under the compose form (htmx, on every change of an option)."""
    form = ComposeForm(request.POST, request.FILES, keys=_my_keys(request))
    return render(request, "videos/studio.html#estimate", {"estimate": compose_estimate(form)})


@require_GET
@team_required
def compose_options(request):
    """The option fields for the key chosen in the compose form (htmx partial)."""
    form = ComposeForm(
        keys=_my_keys(request), initial={"key": request.GET.get("key"), "model": request.GET.get("model")}
    )
    return render(request, "videos/studio.html#options", {"form": form, "estimate": compose_estimate(form)})


def _compose_refused(request, form) -> HttpResponse:
    """The compose form with its errors: swapped in place for htmx, else the whole page (400)."""
    if request.htmx:
        response = render(request, "videos/studio.html#compose", {"form": form, "estimate": compose_estimate(form)})
        return reswap(retarget(response, "#compose"), "outerHTML")
    cards = _generations(request).filter(author=request.user)[:RECENT_CARDS]
    context = {"form": form, "cards": cards, "estimate": compose_estimate(form)}
    return render(request, "videos/studio.html", context, status=400)


@sensitive_post_parameters()
@require_POST
@team_required(can_generate=True)
def generate(request):
    """Save the request and queue it. htmx gets the new card (or the form with errors)."""
    form = ComposeForm(request.POST, request.FILES, keys=_my_keys(request), parents=_generations(request))
    if not form.is_valid():
        return _compose_refused(request, form)
    try:
        generation = pipeline.create_generation(
            team=request.team,
            author=request.user,
            key=form.cleaned_data["key"],
            choices=form.cleaned_data["choices"],
            references=form.cleaned_data["references"],
            membership=request.membership,
            parent=form.cleaned_data.get("parent"),
        )
    except billing.BudgetExceeded as exc:
        form.add_error(None, exc.message)
        return _compose_refused(request, form)
    if request.htmx:
        generation = _generations(request).get(pk=generation.pk)
        return render(request, "videos/studio.html#card", {"generation": generation, "new": True})
    messages.success(request, "Queued. The card below follows its progress.")
    return redirect("studio")


@require_GET
@team_required
def card(request, uuid):
    """One progress card; answers 286 (stop polling) once the task has ended."""
    generation = get_for_team(request, _generations(request), uuid=uuid)
    response = render(request, "videos/studio.html#card", {"generation": generation})
    if not generation.task.is_active:
        stop = HttpResponseStopPolling(response.content)
        return stop
    return response


@require_GET
@team_required
def detail(request, uuid):
    """A generation: its video, options, reference images and timeline."""
    generation = get_for_team(request, _generations(request), uuid=uuid)
    events = Event.objects.filter(generation=generation).order_by("created_at", "pk")
    context = {
        "generation": generation,
        "events": events,
        "is_favorite": generation.favorited_by.filter(pk=request.user.pk).exists(),
        "remixes": Generation.objects.filter(team=request.team, parent=generation).select_related("task")[:20],
        "can_change": generation.author_id == request.user.pk or request.membership.can_manage,
    }
    return render(request, "videos/detail.html", context)


@require_GET
@team_required
def video_file(request, uuid):
    generation = get_for_team(request, Generation.objects.select_related("asset"), uuid=uuid)
    asset = getattr(generation, "asset", None)
    if asset is None or not asset.file:
        raise Http404
    attachment = request.GET.get("download") == "1"
    return serve_file(
        request,
        asset.file,
        content_type="video/mp4",
        filename=f"studio-{generation.uuid}.mp4",
        attachment=attachment,
        size=asset.bytes,  # verified when archived
    )


@require_GET
@team_required
def poster_file(request, uuid):
    generation = get_for_team(request, Generation.objects.select_related("asset"), uuid=uuid)
    asset = getattr(generation, "asset", None)
    if asset is None or not asset.poster:
        raise Http404
    return serve_file(request, asset.poster, content_type="image/jpeg", filename=f"studio-{generation.uuid}.jpg")


@require_GET
@team_required
def reference_file(request, uuid, position: int):
    generation = get_for_team(request, Generation.objects.all(), uuid=uuid)
    ref = ReferenceImage.objects.filter(generation=generation, position=position).first()
    if ref is None:
        raise Http404
    return serve_file(
        request, ref.image, content_type=ref.content_type, filename=f"reference-{position}.{ref.extension}"
    )


@require_GET
def reference_public(request, token: str, ext: str):
    """An uploaded reference image at its signed, expiring URL, for gateways that fetch
    references by URL. No login: the signature is the permission. Expired or forged: 404."""
    try:
        pk = references.unsign(token)
    except signing.BadSignature:
        raise Http404("This link has expired or is not valid.") from None
    ref = ReferenceImage.objects.filter(pk=pk).exclude(image="").first()
    if ref is None or ref.extension != ext:
        raise Http404
    # Always through the studio: a gateway may not follow a redirect to the bucket.
    return serve_file(request, ref.image, content_type=ref.content_type, filename=f"reference.{ext}", redirect=False)


# --- actions on one generation ------------------------------------------------------------


def _changeable(request, uuid, verb: str) -> Generation:
    """The team's generation ``uuid`` if the member may change it: its author or an
    owner/admin. Raises Http404 outside the team, PermissionDenied (naming ``verb``) otherwise."""
    generation = get_for_team(request, _generations(request), uuid=uuid)
    if generation.author_id != request.user.pk and not request.membership.can_manage:
        raise PermissionDenied(f"Only its author or an admin can {verb} a generation.")
    return generation


def _act(request, uuid, verb: str, action, done: str, gone: str):
    """Run ``action(generation, user)`` on a generation the member may change, say how it
    went (``done`` or, when it returned False, ``gone``) and go back to its page."""
    generation = _changeable(request, uuid, verb)
    if action(generation, request.user):
        messages.success(request, done)
    else:
        messages.error(request, gone)
    return redirect("generation", uuid=generation.uuid)


@require_GET
@team_required(can_generate=True)
def remix(request, uuid):
    """Open the compose form prefilled from this generation, linked as its child."""
    generation = get_for_team(request, Generation.objects.all(), uuid=uuid)
    return redirect(f"{reverse('studio')}?remix={generation.uuid}")


@require_GET
@team_required(can_generate=True)
def retry(request, uuid):
    """Send a failed (or cancelled) generation again the same way: the prefilled form."""
    return remix(request, uuid)


@require_POST
@team_required(can_generate=True)
def cancel(request, uuid):
    return _act(request, uuid, "cancel", pipeline.cancel, "Cancelled; the hold was released.", "It had already ended.")


@require_POST
@team_required
def favorite(request, uuid):
    """Toggle this generation among the member's favorites (htmx gets the button back)."""
    generation = get_for_team(request, Generation.objects.all(), uuid=uuid)
    if generation.favorited_by.filter(pk=request.user.pk).exists():
        generation.favorited_by.remove(request.user)
        is_favorite = False
    else:
        generation.favorited_by.add(request.user)
        is_favorite = True
    if request.htmx:
        return render(request, "videos/_favorite.html", {"generation": generation, "is_favorite": is_favorite})
    return redirect(request.POST.get("next") or reverse("generation", args=[generation.uuid]))


@require_POST
@team_required(can_generate=True)
def delete(request, uuid):
    """Delete a generation and its files (its author or an admin)."""
    generation = _changeable(request, uuid, "delete")
    pipeline.delete_generation(generation, request.user)
    messages.success(request, "Deleted, with its video and reference images.")
    return redirect("history")


@require_POST
@team_required(can_generate=True)
def resubmit(request, uuid):
    """Send a generation that needs attention once more (its author or an admin). The
    gateway may have created the first one, so this may bill twice."""
    done = "Resubmitted. If the gateway had created the first one, it may bill both; the hold covers this one."
    return _act(request, uuid, "resubmit", pipeline.resubmit, done, "It no longer needs attention.")


@require_POST
@team_required(can_generate=True)
def abandon(request, uuid):
    """Give up on a generation that needs attention (its author or an admin): it fails
    and its hold is released, though the gateway may still bill it if it had created it."""
    done = "Abandoned; the hold was released. It will not be sent again."
    return _act(request, uuid, "abandon", pipeline.abandon, done, "It no longer needs attention.")


# --- money ------------------------------------------------------------------------------


@require_GET
@team_required
def spend(request):
    """This month's spend for the team and for me: by gateway, by member, by day."""
    since = billing.month_start()
    charges = LedgerEntry.objects.filter(team=request.team, kind=LedgerEntry.Kind.CHARGE, created_at__gte=since)
    total = lambda qs: qs.aggregate(t=Coalesce(Sum("amount_usd"), Decimal(0)))["t"]  # noqa: E731
    context = {
        "since": since,
        "team_total": total(charges),
        "my_total": total(charges.filter(member=request.user)),
        "held": Generation.objects.filter(team=request.team, billing=Billing.HELD).aggregate(
            t=Coalesce(Sum("estimate_usd"), Decimal(0))
        )["t"],
        "by_gateway": charges.values("dialect").annotate(total=Sum("amount_usd"), n=Count("pk")).order_by("-total"),
        "by_member": charges.values("member__username")
        .annotate(total=Sum("amount_usd"), n=Count("pk"))
        .order_by("-total"),
        "by_day": charges.annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(total=Sum("amount_usd"), n=Count("pk"))
        .order_by("day"),
        "budget": request.team.monthly_budget_usd,
        "my_cap": request.membership.monthly_cap_usd,
    }
    return render(request, "videos/spend.html", context)


@require_GET
@team_required(can_manage=True)
def approvals(request):
    """Requests waiting for an owner's or admin's approval before they are sent."""
    waiting = _generations(request).filter(approval=Approval.WAITING).order_by("created_at")
    return render(request, "videos/approvals.html", {"waiting": waiting})


@require_POST
@team_required(can_manage=True)
def decide(request, uuid, decision: str):
    """Approve or reject a waiting request."""
    generation = get_for_team(request, Generation.objects.select_related("task"), uuid=uuid)
    act = pipeline.approve if decision == "approve" else pipeline.reject
    if act(generation, request.user):
        messages.success(request, f"{'Approved' if decision == 'approve' else 'Rejected'}: “{generation.prompt[:60]}”.")
    else:
        messages.error(request, "That request is no longer waiting for approval.")
    return redirect("approvals")


# --- keys -------------------------------------------------------------------------------


@sensitive_post_parameters("secret")
@require_http_methods(["GET", "POST"])
@team_required
def keys(request):
    """The member's own keys in this team, and the form to add one."""
    if request.method == "POST":
        form = GatewayKeyForm(request.POST)
        if form.is_valid():
            key = form.save(commit=False)
            key.team, key.owner = request.team, request.user
            key.save()
            audit.record_action(
                request.team, request.user, "key.added", f"{key.label} ({key.masked})", dialect=key.dialect
            )
            messages.success(
                request, f"Saved “{key.label}”. It is stored encrypted and shown from now on as {key.masked}."
            )
            return redirect("keys")
    else:
        form = GatewayKeyForm()
    gateways = [
        {"dialect": d, "label": c.label, "base_url": c.default_base_url, "source": c.source}
        for d, c in REGISTRY.items()
    ]
    return render(request, "videos/keys.html", {"form": form, "keys": _my_keys(request), "gateways": gateways})


@require_GET
@team_required
def key_base_url(request):
    """The base URL field prefilled with the chosen gateway's documented host (htmx)."""
    dialect = request.GET.get("dialect", "")
    gateway = REGISTRY.get(dialect)
    form = GatewayKeyForm(initial={"dialect": dialect, "base_url": gateway.default_base_url if gateway else ""})
    return render(request, "videos/keys.html#base-url", {"form": form})


@sensitive_post_parameters("secret")
@require_POST
@team_required
def key_replace(request, uuid):
    key = get_for_team(request, _my_keys(request), uuid=uuid)
    form = ReplaceSecretForm(request.POST)
    if form.is_valid():
        key.set_secret(form.cleaned_data["secret"])
        key.save(update_fields=["secret_encrypted", "last4", "fingerprint", "updated_at"])
        audit.record_action(
            request.team, request.user, "key.replaced", f"{key.label} ({key.masked})", dialect=key.dialect
        )
        messages.success(request, f"Replaced the secret of “{key.label}”; it now ends in {key.masked}.")
    else:
        messages.error(request, " ".join(form.errors.get("secret", ["That key was not accepted."])))
    return redirect("keys")


@require_POST
@team_required
def key_delete(request, uuid):
    key = get_for_team(request, _my_keys(request), uuid=uuid)
    label = key.label
    audit.record_action(request.team, request.user, "key.deleted", f"{label} ({key.masked})", dialect=key.dialect)
    key.delete()
    messages.success(request, f"Deleted “{label}”. Generations made with it stay in the history.")
    return redirect("keys")


def healthz(request) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")

"""The studio's pages: compose and progress cards, history, generation detail, keys.

Thin function views: they validate with forms, call ``videos.pipeline`` for
state changes, and render one template per page, or one of its partials for
htmx requests. Every object is looked up inside the current team.
"""

from __future__ import annotations

from django.contrib import messages
from django.core import signing
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling, reswap, retarget

from accounts.access import get_for_team, team_required
from videos import pipeline, references
from videos.files import serve_file
from videos.forms import ComposeForm, GatewayKeyForm, ReplaceSecretForm
from videos.gateways import REGISTRY
from videos.models import Event, GatewayKey, Generation, ReferenceImage

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
    """The compose form and the member's latest progress cards."""
    form = ComposeForm(keys=_my_keys(request))
    cards = _generations(request).filter(author=request.user)[:RECENT_CARDS]
    return render(request, "videos/studio.html", {"form": form, "cards": cards})


@require_GET
@team_required
def compose_options(request):
    """The option fields for the key chosen in the compose form (htmx partial)."""
    form = ComposeForm(
        keys=_my_keys(request), initial={"key": request.GET.get("key"), "model": request.GET.get("model")}
    )
    return render(request, "videos/studio.html#options", {"form": form})


@sensitive_post_parameters()
@require_POST
@team_required(can_generate=True)
def generate(request):
    """Save the request and queue it. htmx gets the new card (or the form with errors)."""
    form = ComposeForm(request.POST, request.FILES, keys=_my_keys(request))
    if not form.is_valid():
        if request.htmx:
            response = render(request, "videos/studio.html#compose", {"form": form})
            return reswap(retarget(response, "#compose"), "outerHTML")
        cards = _generations(request).filter(author=request.user)[:RECENT_CARDS]
        return render(request, "videos/studio.html", {"form": form, "cards": cards}, status=400)
    generation = pipeline.create_generation(
        team=request.team,
        author=request.user,
        key=form.cleaned_data["key"],
        choices=form.cleaned_data["choices"],
        references=form.cleaned_data["references"],
    )
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
def history(request):
    """The team's generations, newest first, 24 a page."""
    paginator = Paginator(_generations(request).order_by("-created_at", "-pk"), 24)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "videos/history.html", {"page": page})


@require_GET
@team_required
def detail(request, uuid):
    """A generation: its video, options, reference images and timeline."""
    generation = get_for_team(request, _generations(request), uuid=uuid)
    events = Event.objects.filter(generation=generation).order_by("created_at", "pk")
    return render(request, "videos/detail.html", {"generation": generation, "events": events})


@require_GET
@team_required
def video_file(request, uuid):
    generation = get_for_team(request, Generation.objects.select_related("asset"), uuid=uuid)
    asset = getattr(generation, "asset", None)
    if asset is None or not asset.file:
        raise Http404
    attachment = request.GET.get("download") == "1"
    return serve_file(
        request, asset.file, content_type="video/mp4", filename=f"studio-{generation.uuid}.mp4", attachment=attachment
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
    return serve_file(request, ref.image, content_type=ref.content_type, filename=f"reference.{ext}")


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
        messages.success(request, f"Replaced the secret of “{key.label}”; it now ends in {key.masked}.")
    else:
        messages.error(request, " ".join(form.errors.get("secret", ["That key was not accepted."])))
    return redirect("keys")


@require_POST
@team_required
def key_delete(request, uuid):
    key = get_for_team(request, _my_keys(request), uuid=uuid)
    label = key.label
    key.delete()
    messages.success(request, f"Deleted “{label}”. Generations made with it stay in the history.")
    return redirect("keys")


def healthz(request) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")

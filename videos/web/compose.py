"""The studio page: the compose form with its live estimate, and the member's latest
progress cards, which follow their task until it ends."""

from __future__ import annotations

from dataclasses import replace

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling, reswap, retarget

from accounts.access import get_for_team, team_required
from videos import actions, billing
from videos.forms import ComposeForm
from videos.models import Frame, Generation
from videos.web import my_keys, prompts, team_generations, with_favorite
from videos.web.live import FAST, poller_fragment

RECENT_CARDS = 12


def compose_quote(form: ComposeForm) -> billing.Quote | None:
    """The estimate of the request the form holds as it stands (``ComposeForm.draft``),
    and of the same request through the member's other keys; None without a key."""
    draft = form.draft()
    if draft is None:
        return None
    return billing.quote(form.selected_key, draft, form.fields["key"].queryset)


def estimate_context(request, form: ComposeForm) -> dict:
    """What the estimate under the compose form shows: ``estimate`` (the ``Quote`` of one
    take, its warnings counting the total of all takes), ``takes`` (1–4), ``total`` (the
    Estimate of all takes, "4 takes × $0.32 = $1.28") and ``duplicate``: the team's identical
    request of the last 30 minutes (``actions.recent_duplicate``) with ``duplicate_minutes``
    (how long ago, in whole minutes), or None."""
    quote = compose_quote(form)
    takes = form.take_count()
    context = {"form": form, "estimate": quote, "takes": takes, "total": None, "duplicate": None}
    if quote is None:
        return context
    total = billing.takes_total(quote.this, takes)
    if takes > 1:
        warnings = billing.estimate_warnings(request.team, request.membership, total, takes)
        quote = replace(quote, warnings=warnings)
    context.update(estimate=quote, total=total)
    draft = form.draft()
    keys = list(form.fields["key"].queryset)
    if len(keys) >= 2:  # the same request through several gateways: each key's fit and price
        ticked = set(form.data.getlist("compare_keys")) if form.is_bound else set()
        context["fits"] = [(fit, str(fit.key.uuid) in ticked) for fit in billing.gateway_fits(draft, keys)]
    duplicate = actions.recent_duplicate(request.team, actions.request_fingerprint(draft, draft.references))
    if duplicate is not None:
        context["duplicate"] = duplicate
        context["duplicate_minutes"] = max(0, int((timezone.now() - duplicate.created_at).total_seconds() // 60))
    return context


def _page(request, form: ComposeForm, status: int = 200, **extra) -> HttpResponse:
    cards = with_favorite(team_generations(request).filter(author=request.user, archived=False), request.user)[
        :RECENT_CARDS
    ]
    context = {**estimate_context(request, form), "cards": cards, **extra}
    return render(request, "videos/studio.html", context, status=status)


@require_GET
@team_required
def studio(request):
    """The compose form and the member's latest progress cards. ``?remix=<uuid>`` opens the
    form prefilled from a team generation (prompt, options, reference images), linked as its child;
    ``?template=<uuid>`` from a prompt template of the team's library (``prompts.compose_initial``)."""
    initial, template = (
        prompts.compose_initial(request, request.GET["template"]) if "template" in request.GET else ({}, None)
    )
    form = ComposeForm(
        keys=my_keys(request), parents=team_generations(request), initial=initial or _remix_initial(request)
    )
    form.from_template = template
    return _page(request, form)


def _remix_initial(request) -> dict:
    """The compose form's initial values for ``?remix=<uuid>``: that generation's prompt,
    model and options, and its key when it is one of the member's; {} otherwise.
    ``?frame=<uuid>`` (a team's ``Frame``) prefills the same from the frame's video, with
    the frame as the reference image and no parent."""
    wanted = request.GET.get("remix")
    frame = _frame(request)
    if frame is not None:
        parent, link = frame.generation, {"frame": frame.uuid}
    elif not wanted:
        return {}
    else:
        try:
            parent = Generation.objects.for_team(request.team).filter(uuid=wanted).first()
        except (ValueError, ValidationError):
            parent = None
        link = {"parent": parent.uuid} if parent is not None else {}
    if parent is None:
        return {}
    initial = {**link, "prompt": parent.prompt, "model": parent.model_name, **parent.options}
    key = my_keys(request).filter(pk=parent.key_id).first()
    if key is not None:
        initial["key"] = key.uuid
    return {k: v for k, v in initial.items() if v is not None}


def _frame(request) -> Frame | None:
    """The team's frame named by ``?frame=<uuid>``, or None."""
    wanted = request.GET.get("frame")
    if not wanted:
        return None
    try:
        return Frame.objects.filter(team=request.team, uuid=wanted).select_related("generation").first()
    except (ValueError, ValidationError):
        return None


@require_POST
@team_required
def estimate(request):
    """The live estimate under the compose form (htmx, on every change of an option)."""
    form = ComposeForm(request.POST, request.FILES, keys=my_keys(request), parents=team_generations(request))
    return render(request, "videos/studio.html#estimate", estimate_context(request, form))


@require_GET
@team_required
def compose_options(request):
    """The option fields for the key chosen in the compose form (htmx partial)."""
    form = ComposeForm(
        keys=my_keys(request), initial={"key": request.GET.get("key"), "model": request.GET.get("model")}
    )
    return render(request, "videos/studio.html#options", {"form": form, "estimate": compose_quote(form)})


def _compose_refused(request, form: ComposeForm, **extra) -> HttpResponse:
    """The compose form with its errors: swapped in place for htmx, else the whole page (400).
    ``extra``: more context (``held_back``: the earlier identical request it waits on)."""
    if request.htmx:
        context = {**estimate_context(request, form), **extra}
        response = render(request, "videos/studio.html#compose", context)
        return reswap(retarget(response, "#compose"), "outerHTML")
    return _page(request, form, status=400, **extra)


@sensitive_post_parameters()
@require_POST
@team_required(can_generate=True)
def generate(request):
    """Save the request and queue it. htmx gets the new card (or the form with errors)."""
    form = ComposeForm(request.POST, request.FILES, keys=my_keys(request), parents=team_generations(request))
    if not form.is_valid():
        return _compose_refused(request, form)
    try:
        made = _create(request, form)
    except billing.BudgetExceeded as exc:
        form.add_error(None, exc.message)
        return _compose_refused(request, form)
    except actions.DuplicateRequest as exc:
        form.add_error(
            None,
            _(
                "The team made this same request (prompt, options and reference images) in the last 30 "
                "minutes; nothing was charged. Open the earlier one below, or tick “Generate anyway” to pay "
                "for it again."
            ),
        )
        return _compose_refused(request, form, held_back=exc.earlier)
    generation = made[0]
    repeated = getattr(generation, "repeated", False)
    template = prompts.find_template(request, form.cleaned_data.get("prompt_template"))
    if template is not None and not repeated:
        actions.record_template_use(template, request.user, generation)
    if request.htmx:
        if repeated:  # the first post's card is on the page already
            return reswap(HttpResponse(status=204), "none")
        cards = b""
        for made_one in team_generations(request).filter(pk__in=[g.pk for g in made]).order_by("take_index"):
            cards += render(request, "videos/studio.html#card", {"generation": made_one, "new": True}).content
        card = HttpResponse(cards)
        # A fresh one-time token for the form that stays on the page, for the next request.
        fresh = ComposeForm(keys=my_keys(request))
        token = render(request, "videos/studio.html#submission", {"form": fresh, "oob": True})
        # The errors of an earlier refused submit go, and the page's poller follows the new card.
        cleared = b'<div hx-swap-oob="delete:#compose .errorlist, #compose .errors"></div>'
        poller = poller_fragment(request, FAST, fresh=True).encode()
        return HttpResponse(card.content + token.content + cleared + poller)
    if repeated:
        messages.info(request, _("That request was already queued; its card is below."))
    else:
        messages.success(
            request,
            _("Queued %(n)d takes. Their cards below follow their progress.") % {"n": len(made)}
            if len(made) > 1
            else _("Queued. The card below follows its progress."),
        )
    return redirect("studio")


def _create(request, form: ComposeForm) -> list:
    """The generations a valid compose form asks for: the same request through 2 or 3 keys
    (``actions.create_comparison``), else its 1–4 takes (``actions.create_takes``)."""
    allow_duplicate = form.cleaned_data.get("allow_duplicate", False)
    token = form.cleaned_data.get("submission") or ""
    if form.cleaned_data.get("legs"):
        return actions.create_comparison(
            team=request.team,
            author=request.user,
            legs=form.cleaned_data["legs"],
            references=form.cleaned_data["references"],
            membership=request.membership,
            submission_token=token,
            allow_duplicate=allow_duplicate,
        )
    return actions.create_takes(
        team=request.team,
        author=request.user,
        membership=request.membership,
        submission_token=token,
        takes=form.cleaned_data["takes"],
        allow_duplicate=allow_duplicate,
        **form.request_options(),
        **_lineage(form),
    )


def _lineage(form: ComposeForm) -> dict:
    """``frame_of``/``frame_time_s`` when the request starts from a frame and still uses it
    (no reference image of its own given instead)."""
    frame = form.cleaned_data.get("frame")
    own = form.cleaned_data.get("reference_images") or form.cleaned_data.get("reference_urls")
    if frame is None or own:
        return {}
    return {"frame_of": frame.generation, "frame_time_s": frame.time_s}


@require_GET
@team_required
def card(request, uuid):
    """One progress card; answers 286 (stop polling) once the task has ended."""
    generation = get_for_team(request, team_generations(request), uuid=uuid)
    response = render(request, "videos/studio.html#card", {"generation": generation})
    if not generation.task.is_active:
        return HttpResponseStopPolling(response.content)
    return response

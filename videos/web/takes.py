"""The takes of one submission side by side (or one request through several gateways): a
grid of their cards with cost and time taken and synchronised playback, one click to choose
one, one to archive the others away (issue 13)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.access import team_required
from videos import actions
from videos.web import changeable_generation, team_generations, with_favorite


@require_GET
@team_required
def takes(request, group):
    """The team's take group ``group`` (a UUID): its takes not archived, in order, as a grid
    of cards, with how many were archived away. 404 for a group outside the team."""
    batch = team_generations(request).filter(take_group=group).order_by("take_index")
    if not batch.exists():
        raise Http404("No such takes in this team.")
    shown = with_favorite(batch.filter(archived=False), request.user)
    context = {
        "group": group,
        "takes": shown,
        "count": batch.count(),
        "archived": batch.filter(archived=True).count(),
        "chosen": batch.filter(chosen_take=True).first(),
        # the same request through several gateways, rather than takes through one key
        "compare": batch.order_by().values("key_label", "dialect").distinct().count() > 1,
    }
    return render(request, "videos/takes.html", context)


@require_POST
@team_required(can_generate=True)
def choose(request, uuid):
    """Mark this take as its group's chosen take (its author or an admin), then back to the
    group's grid."""
    generation = changeable_generation(request, uuid, "choose a take of")
    if generation.take_group is None:
        raise Http404("This generation has no other takes.")
    if actions.choose_take(generation, request.user):
        messages.success(request, _("Take %(n)d is the chosen take.") % {"n": generation.take_index + 1})
    return redirect("takes", group=generation.take_group)


@require_POST
@team_required(can_generate=True)
def archive_others(request, uuid):
    """Archive the group's takes other than this one (its author or an admin); they leave
    the grid and the studio's cards, and stay in History."""
    generation = changeable_generation(request, uuid, "archive the takes of")
    if generation.take_group is None:
        raise Http404("This generation has no other takes.")
    archived = actions.archive_other_takes(generation, request.user)
    if archived:
        messages.success(request, _("Archived %(n)d other takes.") % {"n": archived})
    else:
        messages.info(request, _("The other takes were archived already."))
    return redirect("takes", group=generation.take_group)

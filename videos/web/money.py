"""Money: the month's spend for the team and for me, and the requests waiting for an
owner's or admin's approval before they are sent (spending, not review)."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.db.models import Count, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.access import get_for_team, team_required
from videos import actions, billing
from videos.models import Billing, Generation, LedgerEntry
from videos.web import team_generations


@require_GET
@team_required
def spend(request):
    """This month's spend for the team and for me: by gateway, by member, by day."""
    since = billing.month_start()
    charges = LedgerEntry.objects.charges(request.team, since)
    total = lambda qs: qs.aggregate(t=Coalesce(Sum("amount_usd"), Decimal(0)))["t"]  # noqa: E731
    held = Generation.objects.for_team(request.team).filter(billing=Billing.HELD)
    context = {
        "since": since,
        "team_total": total(charges),
        "my_total": total(charges.filter(member=request.user)),
        "held": held.aggregate(t=Coalesce(Sum("estimate_usd"), Decimal(0)))["t"],
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
    return render(request, "videos/approvals.html", {"waiting": team_generations(request).awaiting_approval()})


@require_POST
@team_required(can_manage=True)
def settle_approval(request, uuid, decision: str):
    """Approve (``decision="approve"``) or decline a request waiting for approval."""
    generation = get_for_team(request, Generation.objects.select_related("task"), uuid=uuid)
    approve = decision == "approve"
    if (actions.approve_spending if approve else actions.decline_spending)(generation, request.user):
        messages.success(request, f"{'Approved' if approve else 'Declined'}: “{generation.prompt[:60]}”.")
    else:
        messages.error(request, "That request is no longer waiting for approval.")
    return redirect("approvals")

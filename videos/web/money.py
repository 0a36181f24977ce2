"""Money: the month's spend for the team and for me, the team's own prices, and the
requests waiting for an owner's or admin's approval before they are sent (spending, not
review)."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import get_for_team, team_required
from videos import actions, billing
from videos.forms import DeclineForm, TeamPriceForm, price_lines
from videos.models import Billing, Generation, LedgerEntry, Price, TaskState, TeamPrice
from videos.web import team_generations

#: How many finished generations the Spend page lists (newest first); it counts them all.
FINISHED_LISTED = 100
FINISHED = (TaskState.COMPLETED, TaskState.FAILED, TaskState.CANCELLED)


def _limit_state(used: Decimal, limit: Decimal | None) -> dict | None:
    """A limit's figures for the page: used (charged + held, USD), the limit, and whether
    it is reached (no new request fits); None without a limit."""
    if limit is None:
        return None
    return {"used": used, "limit": limit, "over": used >= limit, "left": max(limit - used, Decimal(0))}


@require_GET
@team_required
def spend(request):
    """This month's spend for the team and for me: by gateway, by member, by day; every
    finished generation with how many ran unpriced; budget and cap plainly reached or not;
    the sandbox's rehearsals apart."""
    since = billing.month_start()
    charges = LedgerEntry.objects.charges(request.team, since)
    total = lambda qs: qs.aggregate(t=Coalesce(Sum("amount_usd"), Decimal(0)))["t"]  # noqa: E731
    held = Generation.objects.for_team(request.team).filter(billing=Billing.HELD, billed=True)
    finished = (
        Generation.objects.for_team(request.team)
        .filter(created_at__gte=since, task__state__in=FINISHED)
        .select_related("task", "author")
    )
    unpriced = Q(task__state=TaskState.COMPLETED, billing=Billing.UNPRICED)
    counts = finished.aggregate(n=Count("pk"), unpriced=Count("pk", filter=unpriced))
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
        "team_limit": _limit_state(billing.committed_usd(request.team), request.team.monthly_budget_usd),
        "my_limit": _limit_state(
            billing.committed_usd(request.team, member=request.user), request.membership.monthly_cap_usd
        ),
        "finished": finished.order_by("-created_at", "-pk")[:FINISHED_LISTED],
        "finished_count": counts["n"],
        "unpriced_count": counts["unpriced"],
        "unpriced_by_gateway": finished.filter(unpriced).values("dialect").annotate(n=Count("pk")).order_by("dialect"),
        "rehearsed": total(LedgerEntry.objects.rehearsals(request.team, since)),
    }
    return render(request, "videos/spend.html", context)


def _prices_page(request, form: TeamPriceForm | None = None, status: int = 200):
    own = TeamPrice.objects.filter(team=request.team)
    book = {(p.dialect, p.model, p.resolution): p for p in Price.objects.all()}
    labels = dict(price_lines())
    rows = []
    for price in own:
        rows.append(
            {
                "price": price,
                "label": labels.get(f"{price.dialect}|{price.model}", f"{price.dialect}: {price.model}"),
                "book": book.get((price.dialect, price.model, price.resolution)),
            }
        )
    context = {
        "rows": rows,
        "book": sorted(book.values(), key=lambda p: (p.dialect, p.model, p.resolution)),
        "book_labels": labels,
        "form": form if form is not None else TeamPriceForm(),
        "can_manage": request.membership.can_manage,
    }
    return render(request, "videos/prices.html", context, status=status)


@require_http_methods(["GET", "POST"])
@team_required
def prices(request):
    """The team's own prices beside the price book's. Owners and admins set one (a
    ``TeamPriceForm`` post) or remove one (``remove=<dialect>|<model>|<resolution>``);
    everyone else in the team sees them."""
    if request.method == "GET":
        return _prices_page(request)
    if not request.membership.can_manage:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied(_("Only owners and admins can set the team's prices."))
    if "remove" in request.POST:
        dialect, _sep, rest = request.POST["remove"].partition("|")
        model, _sep, resolution = rest.partition("|")
        price = get_for_team(request, TeamPrice.objects, dialect=dialect, model=model, resolution=resolution)
        actions.delete_team_price(price, request.user)
        messages.success(request, _("Team price removed: estimates use the price book again."))
        return redirect("prices")
    form = TeamPriceForm(request.POST)
    if not form.is_valid():
        return _prices_page(request, form, status=400)
    data = form.cleaned_data
    actions.set_team_price(
        request.team,
        request.user,
        dialect=data["dialect"],
        model=data["model"],
        resolution=data["resolution"],
        usd_per_second=data["usd_per_second"],
        usd_per_image=data["usd_per_image"],
        rounding=data["rounding"],
    )
    messages.success(request, _("Team price saved: the team's estimates, holds and charges use it from now on."))
    return redirect("prices")


def _approvals_page(request, errors: dict | None = None, status: int = 200):
    waiting = team_generations(request).awaiting_approval()
    context = {"waiting": waiting, "errors": errors or {}, "reason_max": DeclineForm.base_fields["reason"].max_length}
    return render(request, "videos/approvals.html", context, status=status)


@require_GET
@team_required(can_manage=True)
def approvals(request):
    """Requests waiting for an owner's or admin's approval before they are sent."""
    return _approvals_page(request)


@require_POST
@team_required(can_manage=True)
def settle_approval(request, uuid, decision: str):
    """Approve (``decision="approve"``) or decline a request waiting for approval; a decline
    needs a reason (``DeclineForm``), told to the requester."""
    generation = get_for_team(request, Generation.objects.select_related("task"), uuid=uuid)
    if decision == "approve":
        settled = actions.approve_spending(generation, request.user)
    else:
        form = DeclineForm(request.POST)
        if not form.is_valid():
            return _approvals_page(request, {generation.uuid: form.errors["reason"]}, status=400)
        settled = actions.decline_spending(generation, request.user, form.cleaned_data["reason"])
    if settled:
        said = _("Approved: “%(prompt)s”.") if decision == "approve" else _("Declined: “%(prompt)s”.")
        messages.success(request, said % {"prompt": generation.prompt[:60]})
    else:
        messages.error(request, _("That request is no longer waiting for approval."))
    return redirect("approvals")

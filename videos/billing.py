"""Prices, estimates, the ledger and budgets.

Every gateway bills per second of video at a rate that depends on model,
resolution and sometimes input images (the price book, ``Price``). A request's
estimate is held when it is submitted; the hold ends exactly once: charged at
the final cost when the video is archived, or released ("not charged") when the
task fails, is cancelled, refused or declined. A retry of a failed request places a
new hold on the same generation. Each ending is a conditional
update of ``Generation.billing`` from ``held``, so retries and second workers
cannot settle or release a hold twice. Budgets count charges plus open holds in
the calendar month (UTC) and are checked inside the submitting transaction,
after locking the team row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
``BEGIN IMMEDIATE`` serialises writers), so two racing submissions cannot both
take the last dollars.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from videos.gateways.base import GenerationInput, OptionSpec
from videos.models import Billing, GatewayKey, Generation, LedgerEntry, Price

ZERO = Decimal("0")
CENT = Decimal("0.01")


def usd(amount: Decimal | None) -> str:
    """``$0.32``; sub-cent amounts keep their digits (``$0.584``); None → ``price unknown``."""
    if amount is None:
        return "price unknown"
    amount = Decimal(amount).normalize()
    if amount == amount.quantize(CENT):
        return f"${amount.quantize(CENT)}"
    return f"${amount.quantize(Decimal('0.000001')).normalize():f}"


def _rate(value: Decimal) -> str:
    return f"${Decimal(value).normalize():f}"


@dataclass(frozen=True)
class Estimate:
    """What a request will cost: ``amount`` in USD (None when no price is known) and
    the formula in words, e.g. ``8 s × $0.04/s at 720p = $0.32``."""

    amount: Decimal | None
    words: str

    @property
    def known(self) -> bool:
        return self.amount is not None


def find_price(dialect: str, model: str, resolution: str | None) -> Price | None:
    """The price-book line for a model at a resolution ('' matches a gateway without one)."""
    return Price.objects.filter(dialect=dialect, model=model, resolution=resolution or "").first()


def estimate(dialect: str, model: str, resolution: str | None, duration_s: int, images: int = 0) -> Estimate:
    """The cost of ``duration_s`` seconds at ``resolution`` with ``images`` input images.

    reAPI rounds up to whole credits of $0.001 (``credits = ceil(per_second_usd ×
    duration × 1000)``, docs/gateways.md §5, https://reapi.ai); xAI adds $0.01 per
    input image (docs/gateways.md §6, https://docs.x.ai/docs/models).
    """
    price = find_price(dialect, model, resolution)
    if price is None:
        return Estimate(
            None, "Price unknown for this gateway and option: ask a site admin to add it to the price book."
        )
    seconds = Decimal(duration_s)
    amount = price.usd_per_second * seconds
    at = f" at {resolution}" if resolution else ""
    words = f"{duration_s} s × {_rate(price.usd_per_second)}/s{at}"
    if price.rounding == Price.Rounding.CREDITS:
        credits = math.ceil(amount * 1000)
        amount = Decimal(credits) / 1000
        words += f" = {credits} credits of $0.001"
    if price.usd_per_image and images:
        amount += price.usd_per_image * images
        words += f" + {images} image{'s' if images != 1 else ''} × {_rate(price.usd_per_image)}"
    return Estimate(amount, f"{words} = {usd(amount)}")


def estimate_request(dialect: str, choices: GenerationInput) -> Estimate:
    """The cost of the request ``choices`` through a gateway of ``dialect``: its model,
    resolution and duration, and each of its reference images."""
    return estimate(dialect, choices.model, choices.resolution, choices.duration, len(choices.references))


@dataclass(frozen=True)
class Quote:
    """The estimate of one request through the chosen key (``this``), and through each
    of the member's other keys whose gateway can take it as it stands (``others``:
    ``(key, model spec, Estimate)``, in the keys' order)."""

    this: Estimate
    others: list[tuple[GatewayKey, OptionSpec, Estimate]]


def quote(key: GatewayKey, choices: GenerationInput, other_keys: Iterable[GatewayKey]) -> Quote:
    """Price ``choices`` (the request as the compose form holds it, reference images
    included) through ``key``, and the same request through each model of ``other_keys``
    that accepts it: the same duration, and the same aspect ratio and resolution where
    the model has them. A model that would refuse it (``Gateway.validate_choices``) is
    left out; a prompt not written yet does not count against it. Raises nothing; an
    unknown price is an Estimate with no amount."""
    others = []
    for other_key in other_keys:
        if other_key.pk == key.pk:
            continue
        gateway = other_key.gateway_class
        for spec in gateway.models:
            retargeted = choices.model_copy(
                update={
                    "model": spec.model,
                    "aspect_ratio": choices.aspect_ratio if spec.aspect_ratios else None,
                    "resolution": choices.resolution if spec.resolutions else None,
                    "audio": choices.audio if spec.audio else None,
                }
            )
            problems = gateway.validate_choices(retargeted)
            if not choices.prompt.strip():
                problems.pop("prompt", None)  # not written yet: compare the rest
            if not problems:
                others.append((other_key, spec, estimate_request(other_key.dialect, retargeted)))
    return Quote(estimate_request(key.dialect, choices), others)


def month_start(now: datetime | None = None) -> datetime:
    now = timezone.now() if now is None else now
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def committed_usd(team, *, member=None, since: datetime | None = None) -> Decimal:
    """Charges since ``since`` (default: this month) plus every open hold, in USD."""
    since = since or month_start()
    generations = Generation.objects.filter(team=team)
    ledger = LedgerEntry.objects.charges(team, since)
    if member is not None:
        generations = generations.filter(author=member)
        ledger = ledger.filter(member=member)
    charged = ledger.aggregate(total=Coalesce(Sum("amount_usd"), ZERO))["total"]
    held = generations.filter(billing=Billing.HELD).aggregate(total=Coalesce(Sum("estimate_usd"), ZERO))["total"]
    return charged + held


class BudgetExceeded(Exception):
    """A submission would go over a budget or cap. ``message`` names the limit and by how much."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def limits(team, membership) -> list[tuple[str, Decimal | None]]:
    """The monthly limits on a member's spending in a team: ``[(name, USD or None)]`` for
    the team's budget and (with a membership) the member's cap; None means no limit."""
    out = [("the team's monthly budget", team.monthly_budget_usd)]
    if membership is not None:
        out.append(("your monthly cap", membership.monthly_cap_usd))
    return out


def check_budgets(team, membership, amount: Decimal) -> None:
    """Raise BudgetExceeded when ``amount`` more would pass the team's monthly budget or
    the member's monthly cap. Call inside the submitting transaction, after locking the team."""
    members = [None, membership.user if membership is not None else None]
    for (name, limit), member in zip(limits(team, membership), members, strict=False):
        if limit is None:
            continue
        used = committed_usd(team, member=member)
        if used + amount > limit:
            over = used + amount - limit
            raise BudgetExceeded(
                f"{name[0].upper()}{name[1:]} is {usd(limit)}: {usd(used)} is already charged or held this month, "
                f"so this request ({usd(amount)}) would go {usd(over)} over."
            )


def _entry(generation: Generation, kind: str, amount: Decimal) -> LedgerEntry:
    return LedgerEntry.objects.create(
        team_id=generation.team_id,
        generation=generation,
        member_id=generation.author_id,
        key_id=generation.key_id,
        key_label=generation.key_label,
        dialect=generation.dialect,
        kind=kind,
        amount_usd=amount,
    )


def place_hold(generation: Generation, amount: Decimal) -> None:
    """Hold ``amount`` (USD) for a generation about to be sent: a new one, or a retry of
    one whose last hold has ended (inside the same transaction as the request)."""
    Generation.objects.filter(pk=generation.pk).update(billing=Billing.HELD, estimate_usd=amount, cost_usd=None)
    generation.billing, generation.estimate_usd, generation.cost_usd = Billing.HELD, amount, None
    _entry(generation, LedgerEntry.Kind.HOLD, amount)


def estimate_generation(generation: Generation, duration_s: int | None = None) -> Estimate:
    """The estimate of a stored request (its model, resolution and reference images),
    for ``duration_s`` seconds (default: the requested duration)."""
    options = generation.options
    return estimate(
        generation.dialect,
        generation.model_name,
        options.get("resolution"),
        duration_s or options["duration"],
        generation.reference_images.count(),
    )


def charge(generation: Generation, duration_s: int | None = None) -> Decimal | None:
    """Close the hold at the final cost: the same formula on the duration the gateway
    reports delivering (default: the requested one). Returns the cost, or None when
    the hold was already ended (or never placed)."""
    final = estimate_generation(generation, duration_s).amount
    if final is None:
        final = generation.estimate_usd
    if (
        Generation.objects.filter(pk=generation.pk, billing=Billing.HELD).update(
            billing=Billing.CHARGED, cost_usd=final
        )
        != 1
    ):
        return None
    _entry(generation, LedgerEntry.Kind.CHARGE, final)
    generation.billing, generation.cost_usd = Billing.CHARGED, final
    return final


def release(generation: Generation) -> bool:
    """End the hold without a charge ("not charged"). False when already ended or never placed."""
    if (
        Generation.objects.filter(pk=generation.pk, billing=Billing.HELD).update(
            billing=Billing.RELEASED, cost_usd=ZERO
        )
        != 1
    ):
        return False
    _entry(generation, LedgerEntry.Kind.RELEASE, generation.estimate_usd or ZERO)
    generation.billing, generation.cost_usd = Billing.RELEASED, ZERO
    return True

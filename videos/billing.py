"""Prices, estimates, the ledger and budgets.

Every gateway bills per second of video at a rate that depends on model,
resolution and sometimes input images (the price book, ``Price``). A request's
estimate is held when it is submitted; the hold ends exactly once: charged at
the final cost when the video is archived, or released ("not charged") when the
task fails, is cancelled, refused or declined. A retry of a failed request places a
new hold on the same generation. Each ending is a conditional
update of ``Generation.billing`` from ``held``, so retries and second workers
cannot settle or release a hold twice.

A team's own price (``TeamPrice``, set by its owners and admins) overrides the price book
for that team; each estimate says which priced it ("team price" or "price book"). A
request through the built-in sandbox is a rehearsal: it is priced as the real gateway
would price it, labelled "sandbox: not billed", and its hold and charge are recorded with
``billed=False``: they count against no budget or cap, need no approval, and stay out of
the team's spend (Spend shows them apart). ``STUDIO_SANDBOX_BILLED`` turns that off (the
test suite's sandbox stands in for paid gateways). Budgets count charges plus open holds in
the calendar month (UTC) and are checked inside the submitting transaction,
after locking the team row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
``BEGIN IMMEDIATE`` serialises writers), so two racing submissions cannot both
take the last dollars.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from videos.gateways.base import GenerationInput, OptionSpec
from videos.models import Billing, BoardItem, GatewayKey, Generation, LedgerEntry, Price, Shot, TeamPrice

ZERO = Decimal("0")
CENT = Decimal("0.01")


def usd(amount: Decimal | None) -> str:
    """``$0.32``; sub-cent amounts keep their digits (``$0.584``); None → ``price unknown``."""
    if amount is None:
        return _("price unknown")
    amount = Decimal(amount).normalize()
    if amount == amount.quantize(CENT):
        return f"${amount.quantize(CENT)}"
    return f"${amount.quantize(Decimal('0.000001')).normalize():f}"


def _rate(value: Decimal) -> str:
    return f"${Decimal(value).normalize():f}"


TEAM_PRICE = "team price"
PRICE_BOOK = "price book"


@dataclass(frozen=True)
class Estimate:
    """What a request will cost: ``amount`` in USD (None when no price is known), the
    formula in words, e.g. ``8 s × $0.04/s at 720p = $0.32``, which priced it
    (``source``: ``"team price"``, ``"price book"`` or ``""``) and whether it is billed
    (False for a sandbox rehearsal)."""

    amount: Decimal | None
    words: str
    source: str = ""
    billed: bool = True

    @property
    def known(self) -> bool:
        return self.amount is not None

    @property
    def label(self) -> str:
        """Which priced it, in words: "team price", "price book", with "sandbox: not billed"
        for a rehearsal; "" when no price is known."""
        names = {TEAM_PRICE: _("team price"), PRICE_BOOK: _("price book")}
        parts = [str(names[self.source])] if self.source else []
        if not self.billed:
            parts.append(_("sandbox: not billed"))
        return " · ".join(parts)


def sandbox_billed() -> bool:
    """Whether a sandbox request counts as spend (``STUDIO_SANDBOX_BILLED``; False by default)."""
    return bool(getattr(settings, "STUDIO_SANDBOX_BILLED", False))


def billed_through(key: GatewayKey) -> bool:
    """False when a request through ``key`` is a sandbox rehearsal, not billed."""
    return sandbox_billed() or not key.on_sandbox


def find_price(dialect: str, model: str, resolution: str | None, team=None) -> tuple[Price | TeamPrice | None, str]:
    """The price of a model at a resolution ('' matches a gateway without one): ``team``'s
    own price when it set one, else the price-book line; with its source (``TEAM_PRICE``,
    ``PRICE_BOOK``), or ``(None, "")``."""
    if team is not None:
        team_id = getattr(team, "pk", team)
        own = TeamPrice.objects.filter(team_id=team_id, dialect=dialect, model=model, resolution=resolution or "")
        if (price := own.first()) is not None:
            return price, TEAM_PRICE
    price = Price.objects.filter(dialect=dialect, model=model, resolution=resolution or "").first()
    return (price, PRICE_BOOK) if price is not None else (None, "")


def estimate(
    dialect: str,
    model: str,
    resolution: str | None,
    duration_s: int,
    images: int = 0,
    *,
    team=None,
    billed: bool = True,
) -> Estimate:
    """The cost of ``duration_s`` seconds at ``resolution`` with ``images`` input images,
    at ``team``'s own price when it set one, else the price book's. ``billed=False``
    marks a sandbox rehearsal (priced the same, labelled "sandbox: not billed").

    reAPI rounds up to whole credits of $0.001 (``credits = ceil(per_second_usd ×
    duration × 1000)``, docs/gateways.md §5, https://reapi.ai); xAI adds $0.01 per
    input image (docs/gateways.md §6, https://docs.x.ai/docs/models).
    """
    price, source = find_price(dialect, model, resolution, team)
    if price is None:
        return Estimate(
            None,
            _("Price unknown: neither a team price nor the price book covers this gateway and option yet."),
            billed=billed,
        )
    seconds = Decimal(duration_s)
    amount = price.usd_per_second * seconds
    params = {"seconds": duration_s, "rate": _rate(price.usd_per_second), "resolution": resolution}
    words = (
        _("%(seconds)s s × %(rate)s/s at %(resolution)s") if resolution else _("%(seconds)s s × %(rate)s/s")
    ) % params
    if price.rounding == Price.Rounding.CREDITS:
        credits = math.ceil(amount * 1000)
        amount = Decimal(credits) / 1000
        words += _(" = %(credits)s credits of $0.001") % {"credits": credits}
    if price.usd_per_image and images:
        amount += price.usd_per_image * images
        words += ngettext(" + %(n)d image × %(rate)s", " + %(n)d images × %(rate)s", images) % {
            "n": images,
            "rate": _rate(price.usd_per_image),
        }
    return Estimate(amount, f"{words} = {usd(amount)}", source, billed)


def estimate_request(key: GatewayKey, choices: GenerationInput) -> Estimate:
    """The cost of the request ``choices`` through ``key`` (its team's price, its gateway,
    the sandbox or not): its model, resolution and duration, and each of its reference images."""
    return estimate(
        key.dialect,
        choices.model,
        choices.resolution,
        choices.duration,
        len(choices.references),
        team=key.team_id,
        billed=billed_through(key),
    )


@dataclass(frozen=True)
class Quote:
    """The estimate of one request through the chosen key (``this``), and through each
    of the member's other keys whose gateway can take it as it stands (``others``:
    ``(key, model spec, Estimate)``, in the keys' order); ``warnings``: what would stop
    or hold it, said before it is sent (``estimate_warnings``)."""

    this: Estimate
    others: list[tuple[GatewayKey, OptionSpec, Estimate]]
    warnings: list[str] = ()


def _models_taking(key: GatewayKey, choices: GenerationInput) -> list[tuple[OptionSpec, GenerationInput]]:
    """Each model of ``key``'s gateway that would take ``choices``, with ``choices``
    retargeted to it: ``(model spec, request)``, the same duration, and the same aspect
    ratio, resolution and audio where the model has them. A model that would refuse it
    (``Gateway.validate_choices``) is left out; a prompt not written yet does not count
    against it. Raises nothing."""
    gateway = key.gateway_class
    taking = []
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
            taking.append((spec, retargeted))
    return taking


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
        for spec, retargeted in _models_taking(other_key, choices):
            others.append((other_key, spec, estimate_request(other_key, retargeted)))
    this = estimate_request(key, choices)
    return Quote(this, others, estimate_warnings(key.team, _membership(key), this))


def retarget(choices: GenerationInput, spec: OptionSpec) -> GenerationInput:
    """``choices`` for another model (``spec``): the same duration, and the same aspect
    ratio, resolution and audio where the model has them (its defaults where ``choices``
    has none: a request from a gateway without aspect ratios)."""
    return choices.model_copy(
        update={
            "model": spec.model,
            "aspect_ratio": (choices.aspect_ratio or spec.default_aspect_ratio) if spec.aspect_ratios else None,
            "resolution": (choices.resolution or spec.default_resolution) if spec.resolutions else None,
            "audio": (spec.default_audio if choices.audio is None else choices.audio) if spec.audio else None,
        }
    )


@dataclass(frozen=True)
class Fit:
    """Whether one key's gateway can take a request as it stands: ``choices`` retargeted to
    its first model that accepts it (``spec``), with its ``cost``; or, when none does,
    ``problems`` (the adapter's own reasons, in words, from ``Gateway.validate_choices``
    of its first model) and ``cost`` None."""

    key: GatewayKey
    spec: OptionSpec
    choices: GenerationInput
    problems: list[str]
    cost: Estimate | None

    @property
    def fits(self) -> bool:
        return not self.problems


def gateway_fits(choices: GenerationInput, keys: Iterable[GatewayKey]) -> list[Fit]:
    """For each key, whether its gateway can take ``choices`` as it stands, and at what price
    (``Fit``); a prompt not written yet does not count against it. Raises nothing."""
    out = []
    for key in keys:
        gateway = key.gateway_class
        first = None
        for spec in gateway.models:
            retargeted = retarget(choices, spec)
            problems = gateway.validate_choices(retargeted)
            if not choices.prompt.strip():
                problems.pop("prompt", None)
            if not problems:
                out.append(Fit(key, spec, retargeted, [], estimate_request(key, retargeted)))
                break
            first = first or Fit(key, spec, retargeted, [str(p) for p in problems.values()], None)
        else:
            if first is not None:
                out.append(first)
    return out


def takes_total(cost: Estimate, takes: int) -> Estimate:
    """The estimate of ``takes`` takes of one request priced at ``cost``: the amount times
    the count, in words "4 takes × $0.32 = $1.28" (``cost`` itself for one take)."""
    if takes <= 1:
        return cost
    amount = cost.amount * takes if cost.known else None
    words = (
        _("%(n)d takes × %(each)s = %(total)s") % {"n": takes, "each": usd(cost.amount), "total": usd(amount)}
        if cost.known
        else _("%(n)d takes, price unknown") % {"n": takes}
    )
    return replace(cost, amount=amount, words=words)


def _membership(key: GatewayKey):
    from accounts.models import Membership

    return Membership.objects.filter(team_id=key.team_id, user_id=key.owner_id).first()


def month_start(now: datetime | None = None) -> datetime:
    now = timezone.now() if now is None else now
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def committed_usd(team, *, member=None, since: datetime | None = None) -> Decimal:
    """Billed charges since ``since`` (default: this month) plus every open billed hold, in
    USD (a sandbox rehearsal counts for nothing)."""
    since = since or month_start()
    generations = Generation.objects.filter(team=team)
    ledger = LedgerEntry.objects.charges(team, since)
    if member is not None:
        generations = generations.filter(author=member)
        ledger = ledger.filter(member=member)
    charged = ledger.aggregate(total=Coalesce(Sum("amount_usd"), ZERO))["total"]
    held = generations.filter(billing=Billing.HELD, billed=True).aggregate(total=Coalesce(Sum("estimate_usd"), ZERO))[
        "total"
    ]
    return charged + held


class BudgetExceeded(Exception):
    """A submission would go over a budget or cap. ``message`` names the limit and by how much."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def limits(team, membership) -> list[tuple[str, Decimal | None]]:
    """The monthly limits on a member's spending in a team: ``[(name, USD or None)]`` for
    the team's budget and (with a membership) the member's cap; None means no limit."""
    out = [(_LIMIT_NAMES[0], team.monthly_budget_usd)]
    if membership is not None:
        out.append((_LIMIT_NAMES[1], membership.monthly_cap_usd))
    return out


#: The two limits' names, as ``limits`` gives them (lazy: said in the reader's language).
_LIMIT_NAMES = (gettext_lazy("the team's monthly budget"), gettext_lazy("your monthly cap"))


def join_limits(names) -> str:
    """``limits``' names in one phrase: "the team's monthly budget and your monthly cap"."""
    names = [str(name) for name in names]
    if len(names) == 2:
        return _("%(first)s and %(second)s") % {"first": names[0], "second": names[1]}
    return " and ".join(names)


def budget_problems(team, membership, amount: Decimal, takes: int = 1) -> list[str]:
    """Why ``amount`` (USD) more would pass the team's monthly budget or the member's
    monthly cap: one sentence per limit it would pass, with the figures; [] when none.
    ``takes`` > 1: ``amount`` is the total of that many takes, said so."""
    what = _("these %(n)d takes") % {"n": takes} if takes > 1 else _("this request")
    problems = []
    members = [None, membership.user if membership is not None else None]
    sentences = [
        _(
            "The team's monthly budget is %(limit)s: %(used)s is already charged or held this month, "
            "so %(what)s (%(amount)s) would go %(over)s over."
        ),
        _(
            "Your monthly cap is %(limit)s: %(used)s is already charged or held this month, "
            "so %(what)s (%(amount)s) would go %(over)s over."
        ),
    ]
    for (_name, limit), member, sentence in zip(limits(team, membership), members, sentences, strict=False):
        if limit is None:
            continue
        used = committed_usd(team, member=member)
        if used + amount > limit:
            over = used + amount - limit
            problems.append(
                sentence
                % {"limit": usd(limit), "used": usd(used), "what": what, "amount": usd(amount), "over": usd(over)}
            )
    return problems


def check_budgets(team, membership, amount: Decimal, takes: int = 1) -> None:
    """Raise BudgetExceeded when ``amount`` more would pass the team's monthly budget or
    the member's monthly cap (``amount``: the total of ``takes`` takes, all or none).
    Call inside the submitting transaction, after locking the team."""
    problems = budget_problems(team, membership, amount, takes)
    if problems:
        raise BudgetExceeded(problems[0])


def estimate_warnings(team, membership, cost: Estimate, takes: int = 1) -> list[str]:
    """What would stop or hold a request estimated at ``cost``, said before it is sent: over
    the team's approval threshold (it waits for an owner or admin, an owner's own request
    too), over the team's budget or the member's cap (it is refused), of unknown price while
    a limit is set. A sandbox rehearsal is neither held nor refused: its warnings say what
    the real gateway would meet. Sentences, [] when nothing stands in the way."""
    from accounts.models import UnpricedPolicy

    out = []
    threshold = team.approval_threshold_usd
    if cost.known:
        if threshold is not None and cost.amount > threshold:
            if membership is not None and membership.can_manage:
                out.append(
                    _(
                        "Needs approval by an owner or admin: over %(threshold)s. Yours too: the threshold holds "
                        "every request, so each large spend is approved on purpose; approve it on Approvals."
                    )
                    % {"threshold": usd(threshold)}
                )
            else:
                out.append(
                    _("Needs approval by an owner or admin: over %(threshold)s.") % {"threshold": usd(threshold)}
                )
        out += [
            _("Refused if sent: %(why)s") % {"why": why}
            for why in budget_problems(team, membership, cost.amount, takes)
        ]
    else:
        named = [name for name, limit in limits(team, membership) if limit is not None]
        if named and team.unpriced_policy == UnpricedPolicy.REFUSE:
            out.append(
                _("Refused if sent: with no price, %(limits)s cannot count it.") % {"limits": join_limits(named)}
            )
        elif named or threshold is not None:
            out.append(_("Needs approval by an owner or admin: its price is unknown."))
    if not cost.billed and out:
        out = [_("On the real gateway: %(warning)s") % {"warning": w} for w in out]
    return out


def _entry(generation: Generation, kind: str, amount: Decimal) -> LedgerEntry:
    return LedgerEntry.objects.create(
        billed=generation.billed,
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
        team=generation.team_id,
        billed=generation.billed,
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


# --- boards (issue 13) ------------------------------------------------------------------------


def board_generation_ids(board_ids: Iterable[int]) -> dict[int, set[int]]:
    """Each board's generations, ``{board id: {generation id}}``: those on it and the shots
    of its sequences, each once (a video on the board and in one of its sequences is one
    video). Two queries."""
    board_ids = list(board_ids)
    out: dict[int, set[int]] = {}
    direct = BoardItem.objects.filter(board_id__in=board_ids, generation__isnull=False)
    for board_id, generation_id in direct.values_list("board_id", "generation_id"):
        out.setdefault(board_id, set()).add(generation_id)
    shots = Shot.objects.filter(sequence__board_items__board_id__in=board_ids)
    for board_id, generation_id in shots.values_list("sequence__board_items__board_id", "generation_id"):
        out.setdefault(board_id, set()).add(generation_id)
    return out


def board_spend(team, board_ids: Iterable[int]) -> dict[int, Decimal]:
    """Each board's total spend: the billed charges (USD, whenever made) of its generations
    (``board_generation_ids``: on it or a shot of one of its sequences, each counted once),
    ``{board id: amount}`` (a board with none is absent). Three queries; a sandbox
    rehearsal counts for nothing, as in ``committed_usd``."""
    members = board_generation_ids(board_ids)
    every = set().union(*members.values()) if members else set()
    rows = (
        LedgerEntry.objects.filter(team=team, kind=LedgerEntry.Kind.CHARGE, billed=True, generation_id__in=every)
        .values("generation_id")
        .annotate(total=Sum("amount_usd"))
    )
    charged = {row["generation_id"]: row["total"] for row in rows}
    out = {}
    for board_id, ids in members.items():
        amounts = [charged[i] for i in ids if i in charged]
        if amounts:
            out[board_id] = sum(amounts, ZERO)
    return out


def price_everywhere(
    choices: GenerationInput, keys: Iterable[GatewayKey]
) -> list[tuple[GatewayKey, OptionSpec, Estimate]]:
    """``choices`` priced through each model of each of ``keys`` that would take it (the
    same retargeting as ``quote``): ``(key, model spec, Estimate)`` in the keys' order.
    A prompt template's costs on each of a member's gateways. Raises nothing."""
    out = []
    for key in keys:
        for spec, retargeted in _models_taking(key, choices):
            out.append((key, spec, estimate_request(key, retargeted)))
    return out

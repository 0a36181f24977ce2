"""A team's own prices: its owners and admins set what each gateway's model costs the team
per second at each resolution (``TeamPrice``), overriding the price book for its estimates,
holds and charges (``videos.billing``)."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from videos import audit
from videos.models import Price, TeamPrice


def _describe(price: TeamPrice) -> str:
    at = f" at {price.resolution}" if price.resolution else ""
    return f"{price.dialect} {price.model}{at}"


def set_team_price(
    team,
    actor,
    *,
    dialect: str,
    model: str,
    resolution: str,
    usd_per_second: Decimal,
    usd_per_image: Decimal = Decimal(0),
    rounding: str = Price.Rounding.EXACT,
) -> TeamPrice:
    """Set ``team``'s price for ``model`` of the gateway ``dialect`` at ``resolution`` (''
    for a gateway without one): USD per second of video and per input image, with the
    gateway's ``rounding``. Replaces the team's earlier price for the same line. The
    values must be validated already (``videos.forms.TeamPriceForm``). Records
    ``price.set`` in the audit trail."""
    with transaction.atomic():
        price, created = TeamPrice.objects.update_or_create(
            team=team,
            dialect=dialect,
            model=model,
            resolution=resolution or "",
            defaults={
                "usd_per_second": usd_per_second,
                "usd_per_image": usd_per_image,
                "rounding": rounding,
                "updated_by": actor,
            },
        )
        audit.record_action(
            team,
            actor,
            "price.set",
            _describe(price),
            usd_per_second=str(usd_per_second),
            usd_per_image=str(usd_per_image),
            rounding=rounding,
            new=created,
        )
    return price


def delete_team_price(price: TeamPrice, actor) -> None:
    """Remove a team price: the team's estimates go back to the price book (or to "price
    unknown"). Holds already placed keep their amounts. Records ``price.deleted``."""
    with transaction.atomic():
        audit.record_action(price.team, actor, "price.deleted", _describe(price))
        price.delete()

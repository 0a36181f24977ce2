"""The same request through several gateways: per key, whether it can take the request and
at what price; sent through 2 or 3 at once, all or none; side by side (issue 13, item 2)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.conftest import add_key
from videos.models import Generation, LedgerEntry, Price

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def keys(owner, team, key, priced):
    """Alice's openai-preview key ($0.05/s), a multipart key ($0.10/s) and an aijisu key
    (image-to-video only)."""
    Price.objects.create(
        dialect="multipart", model="grok-video-1.5", resolution="480p", usd_per_second=Decimal("0.10"),
        source="test", read_on=date(2026, 11, 1),
    )  # fmt: skip
    multipart = add_key(owner, team, dialect="multipart", secret="sk-sandbox-alice-0002", label="Multi")
    aijisu = add_key(owner, team, dialect="aijisu", secret="sk-sandbox-alice-0003", label="Jisu")
    return {"openai": key, "multipart": multipart, "aijisu": aijisu}


def form(key, **extra):
    data = {
        "key": str(key.uuid),
        "prompt": "A paper boat on a rainy street",
        "duration": "8",
        "aspect_ratio": "16:9",
        "resolution": "480p",
    }
    return {**data, **extra}


def test_the_form_says_per_key_whether_it_can_take_the_request_and_its_price(client_for, owner, keys):
    html = client_for(owner).post(reverse("estimate"), form(keys["openai"])).content.decode()
    assert "Compare through several gateways" in html
    assert "Multi" in html and "$0.80" in html and "$0.40" in html
    jisu = html[html.index("Jisu") :]
    assert "cannot take it:" in jisu[:600]


def test_sending_through_two_gateways_makes_one_each_side_by_side(client_for, owner, keys):
    client = client_for(owner)
    data = form(keys["openai"], compare_keys=[str(keys["openai"].uuid), str(keys["multipart"].uuid)])
    response = client.post(reverse("generate"), data, **HTMX)
    assert response.status_code == 200
    made = list(Generation.objects.order_by("take_index"))
    assert [g.key for g in made] == [keys["openai"], keys["multipart"]]
    assert made[0].take_group == made[1].take_group is not None
    assert made[1].model_name == "grok-video-1.5" and made[1].options["resolution"] == "480p"
    holds = LedgerEntry.objects.filter(kind=LedgerEntry.Kind.HOLD)
    assert sorted(h.amount_usd for h in holds) == [Decimal("0.40"), Decimal("0.80")]
    page = client.get(reverse("takes", args=[made[0].take_group])).content.decode()
    assert "The same request through 2 gateways" in page
    assert "Est. $0.40 held" in page and "Est. $0.80 held" in page
    assert "js/takes.js" in page


def test_the_budget_counts_the_total_all_or_none(client_for, owner, team, keys):
    team.monthly_budget_usd = Decimal("1.00")  # room for either, not both ($1.20)
    team.save()
    data = form(keys["openai"], compare_keys=[str(keys["openai"].uuid), str(keys["multipart"].uuid)])
    html = client_for(owner).post(reverse("generate"), data, **HTMX).content.decode()
    assert "($1.20) would go $0.20 over" in html
    assert Generation.objects.count() == 0 and LedgerEntry.objects.count() == 0


@pytest.mark.parametrize(
    ("which", "message"),
    [
        (["openai"], "Pick 2 or 3 of your keys to compare, not 1."),
        (["openai", "aijisu"], "Jisu cannot take this request:"),
    ],
)
def test_a_key_that_cannot_take_it_or_one_key_is_refused(client_for, owner, keys, which, message):
    data = form(keys["openai"], compare_keys=[str(keys[name].uuid) for name in which])
    html = client_for(owner).post(reverse("generate"), data, **HTMX).content.decode()
    assert message in html
    assert Generation.objects.count() == 0


def test_another_members_key_cannot_be_compared_through(client_for, owner, team, keys, bob_key):
    data = form(keys["openai"], compare_keys=[str(keys["openai"].uuid), str(bob_key.uuid)])
    html = client_for(owner).post(reverse("generate"), data, **HTMX).content.decode()
    assert "Pick only your own keys to compare." in html
    assert Generation.objects.count() == 0


def test_comparing_with_several_takes_is_refused(client_for, owner, keys):
    data = form(keys["openai"], takes="2", compare_keys=[str(keys["openai"].uuid), str(keys["multipart"].uuid)])
    html = client_for(owner).post(reverse("generate"), data, **HTMX).content.decode()
    assert "Compare gateways with 1 take each" in html
    assert Generation.objects.count() == 0


@pytest.mark.parametrize("hostile", ["not-a-uuid", "1 OR 1=1", "../../etc/passwd", "\u202e" * 3])
def test_hostile_compare_keys_are_refused_with_a_message(client_for, owner, keys, hostile):
    data = form(keys["openai"], compare_keys=[str(keys["openai"].uuid), hostile])
    response = client_for(owner).post(reverse("generate"), data, **HTMX)
    assert response.status_code < 500
    assert "Pick only your own keys to compare." in response.content.decode()
    assert Generation.objects.count() == 0
    estimate = client_for(owner).post(reverse("estimate"), data)
    assert estimate.status_code == 200

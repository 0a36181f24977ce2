"""Takes: several generations of one request in one submission, checked and held as one
batch; one chosen, the others archived away (issue 13, item 1)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from tests.conftest import add_key
from videos.models import AuditEntry, Generation, LedgerEntry, Task

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def at_32_cents(priced):
    """8 s at $0.04/s: $0.32 a take."""
    priced.usd_per_second = Decimal("0.04")
    priced.save()
    return priced


def form(key, takes="4", **extra):
    data = {
        "key": str(key.uuid),
        "prompt": "A paper boat on a rainy street",
        "duration": "8",
        "aspect_ratio": "16:9",
        "resolution": "480p",
        "takes": takes,
    }
    return {**data, **extra}


def test_four_takes_make_four_generations_one_hold_each_matching_the_estimate(
    client_for, owner, team, key, at_32_cents
):
    client = client_for(owner)
    estimate = client.post(reverse("estimate"), form(key)).content.decode()
    assert "4 takes × $0.32 = $1.28" in estimate
    response = client.post(reverse("generate"), form(key), **HTMX)
    assert response.status_code == 200
    takes = list(Generation.objects.order_by("take_index"))
    assert len(takes) == 4
    assert len({t.take_group for t in takes}) == 1 and takes[0].take_group is not None
    assert [t.take_index for t in takes] == [0, 1, 2, 3]
    holds = LedgerEntry.objects.filter(kind=LedgerEntry.Kind.HOLD)
    assert sorted(h.generation_id for h in holds) == sorted(t.pk for t in takes)
    assert sum(h.amount_usd for h in holds) == Decimal("1.28")
    assert Task.objects.count() == 4
    html = response.content.decode()
    assert all(f'id="card-{t.uuid}"' in html for t in takes)


def test_no_take_is_made_when_the_budget_has_room_for_three(client_for, owner, team, key, at_32_cents):
    team.monthly_budget_usd = Decimal("0.96")  # room for three $0.32 takes
    team.save()
    response = client_for(owner).post(reverse("generate"), form(key), **HTMX)
    html = response.content.decode()
    assert "these 4 takes ($1.28) would go $0.32 over" in html
    assert Generation.objects.count() == 0 and LedgerEntry.objects.count() == 0 and Task.objects.count() == 0


def test_the_estimate_warns_when_the_total_passes_the_budget(client_for, owner, team, key, at_32_cents):
    team.monthly_budget_usd = Decimal("1.00")
    team.save()
    html = client_for(owner).post(reverse("estimate"), form(key)).content.decode()
    assert "would go $0.28 over" in html
    one = client_for(owner).post(reverse("estimate"), form(key, takes="1")).content.decode()
    assert "would go" not in one


def test_the_approval_threshold_counts_the_total(client_for, owner, team, key, at_32_cents):
    team.approval_threshold_usd = Decimal("1.00")  # each take is under it, the four are over
    team.save()
    client_for(owner).post(reverse("generate"), form(key), **HTMX)
    assert Generation.objects.count() == 4
    assert set(Generation.objects.values_list("approval", flat=True)) == {"waiting"}


@pytest.mark.parametrize(
    ("takes", "message"),
    [
        ("0", "Ask for at least 1 take"),
        ("5", "At most 4 takes of one request."),
        ("abc", "Enter a whole number of takes, from 1 to 4."),
        ("-1", "Ask for at least 1 take"),
        ("2.5", "Enter a whole number of takes"),
    ],
)
def test_takes_outside_one_to_four_are_refused_where_typed(client_for, owner, team, key, at_32_cents, takes, message):
    response = client_for(owner).post(reverse("generate"), form(key, takes=takes), **HTMX)
    html = response.content.decode()
    assert message in html
    assert Generation.objects.count() == 0 and LedgerEntry.objects.count() == 0
    # The page without htmx: a 400 with the message, not a 500.
    page = client_for(owner).post(reverse("generate"), form(key, takes=takes))
    assert page.status_code == 400 and message in page.content.decode()


def test_a_retried_post_makes_no_extra_takes(client_for, owner, team, key, at_32_cents):
    data = form(key, submission="a" * 32)
    client = client_for(owner)
    client.post(reverse("generate"), data, **HTMX)
    again = client.post(reverse("generate"), data, **HTMX)
    assert again.status_code == 204
    client.post(reverse("generate"), data)  # and without htmx
    assert Generation.objects.count() == 4 and LedgerEntry.objects.count() == 4


def test_one_take_stays_a_single_generation_without_a_group(client_for, owner, team, key, at_32_cents):
    client_for(owner).post(reverse("generate"), form(key, takes="1"), **HTMX)
    generation = Generation.objects.get()
    assert generation.take_group is None


def test_choose_one_take_then_archive_the_others(client_for, owner, team, key, at_32_cents):
    client = client_for(owner)
    client.post(reverse("generate"), form(key), **HTMX)
    takes = list(Generation.objects.order_by("take_index"))
    group = takes[0].take_group
    page = client.get(reverse("takes", args=[group])).content.decode()
    assert all(f'id="card-{t.uuid}"' in page for t in takes)
    response = client.post(reverse("choose_take", args=[takes[2].uuid]))
    assert response.status_code == 302
    assert list(Generation.objects.filter(chosen_take=True)) == [takes[2]]
    client.post(reverse("choose_take", args=[takes[1].uuid]))  # changing one's mind
    assert list(Generation.objects.filter(chosen_take=True)) == [takes[1]]
    client.post(reverse("archive_other_takes", args=[takes[1].uuid]))
    assert set(Generation.objects.filter(archived=True)) == {takes[0], takes[2], takes[3]}
    page = client.get(reverse("takes", args=[group])).content.decode()
    assert f'id="card-{takes[1].uuid}"' in page and f'id="card-{takes[0].uuid}"' not in page
    assert "3 takes archived" in page
    studio = client.get(reverse("studio")).content.decode()
    assert f'id="card-{takes[0].uuid}"' not in studio and f'id="card-{takes[1].uuid}"' in studio
    actions_done = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"generation.take_chosen", "generation.takes_archived"} <= actions_done


def test_a_teammate_cannot_choose_or_archive_anothers_takes(client_for, owner, team, teammate, key, at_32_cents):
    client_for(owner).post(reverse("generate"), form(key), **HTMX)
    first = Generation.objects.order_by("take_index").first()
    client = client_for(teammate)
    assert client.post(reverse("choose_take", args=[first.uuid])).status_code == 403
    assert client.post(reverse("archive_other_takes", args=[first.uuid])).status_code == 403
    assert not Generation.objects.filter(chosen_take=True).exists()
    assert not Generation.objects.filter(archived=True).exists()


def test_an_outsider_gets_404_for_a_teams_takes(client_for, owner, team, outsider, key, at_32_cents):
    client_for(owner).post(reverse("generate"), form(key), **HTMX)
    first = Generation.objects.order_by("take_index").first()
    add_key(outsider, outsider.teams.get(), secret="sk-sandbox-mallory-0003")
    client = client_for(outsider)
    assert client.get(reverse("takes", args=[first.take_group])).status_code == 404
    assert client.post(reverse("choose_take", args=[first.uuid])).status_code == 404
    assert client.post(reverse("archive_other_takes", args=[first.uuid])).status_code == 404

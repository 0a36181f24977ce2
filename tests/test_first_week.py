"""Rough edges a new team meets, smoothed: error pages inside the site, money words that
match the money, the admin's names and read-only money."""

from __future__ import annotations

import uuid

from django.urls import reverse

from accounts.models import Membership, Role
from tests.conftest import make_generation, make_user, run_until_done
from videos.models import Billing, TaskState


def test_a_missing_page_is_a_friendly_404_inside_the_site(client_for, owner, key):
    response = client_for(owner).get(reverse("generation", args=[uuid.uuid4()]))
    html = response.content.decode()
    assert response.status_code == 404
    assert "Not found" in html and 'href="/history/"' in html and "Back to the studio" in html


def test_a_refusal_is_a_friendly_403_that_says_why_inside_the_site(client_for, team, key):
    viewer = make_user("vera")
    Membership.objects.create(team=team, user=viewer, role=Role.VIEWER)
    response = client_for(viewer).post(reverse("generate"), {"key": str(key.uuid), "prompt": "x"})
    html = response.content.decode()
    assert response.status_code == 403
    assert "Viewers cannot submit generations." in html and "You are viewer in" in html
    assert 'href="/history/"' in html  # the navigation is there


def test_an_unpriced_failed_generation_says_not_charged(gateway, client_for, owner, team, key):
    failed = make_generation(owner, team, key, prompt="[fail] no price", resolution="720p")
    assert run_until_done(failed.task.pk).state == TaskState.FAILED
    failed.refresh_from_db()
    assert failed.billing == Billing.UNPRICED
    html = client_for(owner).get(reverse("generation", args=[failed.uuid])).content.decode()
    cost = html.split("<dt>Cost</dt><dd>", 1)[1].split("</dd>", 1)[0]
    assert cost.strip() == "Not charged"  # not "Price unknown", nor its estimate's words


def test_the_admin_names_entries_and_keeps_money_read_only(admin_client, owner, team, key):
    generation = make_generation(owner, team, key)
    index = admin_client.get(reverse("admin:index")).content.decode()
    assert "Audit entries" in index and "Ledger entries" in index and "entrys" not in index
    form = admin_client.get(reverse("admin:videos_generation_change", args=[generation.pk])).content.decode()
    for money in ("billing", "cost_usd", "estimate_usd", "approval"):
        assert f'name="{money}"' not in form, money


def test_deleting_one_generation_from_its_page_asks_to_confirm(gateway, client_for, owner, team, key):
    from videos.models import Generation

    generation = make_generation(owner, team, key, prompt="keep me unless sure")
    client = client_for(owner)
    page = client.get(reverse("generation", args=[generation.uuid])).content.decode()
    form = page.split('value="delete"', 1)[0].rsplit("<form", 1)[1]
    assert f'action="{reverse("bulk")}"' in form  # the button asks first: the bulk confirmation

    asked = client.post(reverse("bulk"), {"action": "delete", "ids": [str(generation.uuid)]})
    assert asked.status_code == 200 and "Delete 1 video?" in asked.content.decode()
    assert Generation.objects.filter(pk=generation.pk).exists()
    client.post(reverse("bulk"), {"action": "delete", "ids": [str(generation.uuid)], "confirm": "1"})
    assert not Generation.objects.filter(pk=generation.pk).exists()

"""The site admin reads teams' prices, share links, guest notes, webhook endpoints and
deliveries, and members' preferences; secrets and token hashes never appear; a share
link is revoked, or an endpoint disabled, through the studio's own actions (audited), and
nothing is edited or deleted from here."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import finished, make_user
from videos.actions import share, webhooks
from videos.models import AuditEntry, ShareLink, WebhookEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(client):
    user = make_user("root")
    user.is_staff = user.is_superuser = True
    user.save()
    client.force_login(user)
    return user


@pytest.fixture
def records(owner, team, key, gateway):
    done = finished(owner, team, key)
    link, token = share.create_share_link(
        done, owner, expires_at=timezone.now() + timedelta(days=3), password="pw-123456"
    )
    share.add_guest_note(link, guest_name="来宾", body="很好", time_s=0.5, address_hash="0" * 64)
    endpoint, secret = webhooks.add_endpoint(team, owner, "https://hooks.example.com/x", ["generation.completed"])
    webhooks.send_test_event(endpoint, owner)
    return {"link": link, "token": token, "endpoint": endpoint, "secret": secret}


@pytest.mark.parametrize("model", ["teamprice", "sharelink", "guestnote", "webhookendpoint", "webhookdelivery"])
def test_each_record_is_listed_and_read_but_never_added_here(client, boss, records, model, priced, owner, team):
    from videos.actions import prices

    prices.set_team_price(
        team, owner, dialect="openai-preview", model="sora-2", resolution="480p", usd_per_second=Decimal("0.04")
    )
    listing = client.get(reverse(f"admin:videos_{model}_changelist"))
    assert listing.status_code == 200
    html = listing.content.decode()
    assert records["token"] not in html and records["secret"] not in html
    assert client.get(reverse(f"admin:videos_{model}_add")).status_code == 403


def test_a_share_link_is_read_without_its_hashes_and_revoked_through_the_action(client, boss, records):
    link = records["link"]
    page = client.get(reverse("admin:videos_sharelink_change", args=[link.pk])).content.decode()
    assert link.token_hash not in page and "pbkdf2" not in page and 'name="_save"' not in page
    answer = client.post(
        reverse("admin:videos_sharelink_changelist"), {"action": "revoke", "_selected_action": [link.pk]}, follow=True
    )
    assert "Revoked 1 share link." in answer.content.decode()
    assert ShareLink.objects.get(pk=link.pk).revoked_at is not None
    assert AuditEntry.objects.filter(action="share.revoked", actor=boss).exists()
    assert client.get(reverse("share_page", args=[records["token"]])).status_code == 404


def test_an_endpoint_is_disabled_through_the_action_and_its_secret_never_shown(client, boss, records):
    endpoint = records["endpoint"]
    page = client.get(reverse("admin:videos_webhookendpoint_change", args=[endpoint.pk])).content.decode()
    assert records["secret"] not in page and endpoint.secret_encrypted not in page
    client.post(
        reverse("admin:videos_webhookendpoint_changelist"), {"action": "disable", "_selected_action": [endpoint.pk]}
    )
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).enabled is False
    assert AuditEntry.objects.filter(action="webhook.disabled", actor=boss).exists()


def test_a_members_preferences_are_shown_read_only(client, boss, owner):
    owner.time_zone, owner.language, owner.browser_language = "Asia/Shanghai", "zh-hans", "zh-hans"
    owner.save()
    page = client.get(reverse("admin:accounts_user_change", args=[owner.pk])).content.decode()
    assert "Asia/Shanghai" in page and 'name="time_zone"' not in page

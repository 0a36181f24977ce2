"""Gateway keys: encrypted at rest, shown once as ••••last4, private to their owner."""

from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.urls import reverse

from tests.conftest import add_key
from videos.lib import vault
from videos.models import GatewayKey

SECRET = "sk-live-abcdefghijklmnop-WXYZ"


def add_via_form(client, **overrides):
    data = {"dialect": "openai-preview", "label": "Duoyuanx", "base_url": "https://duoyuanx.com", "secret": SECRET}
    data.update(overrides)
    return client.post(reverse("keys"), data, follow=True)


def test_the_database_holds_no_key_in_plain_text(client_for, owner):
    add_via_form(client_for(owner))
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM videos_gatewaykey")
        rows = cursor.fetchall()
    assert rows and SECRET not in repr(rows)
    key = GatewayKey.objects.get()
    assert key.reveal() == SECRET and key.last4 == "WXYZ"


def test_after_saving_pages_show_only_the_last_four(client_for, owner):
    client = client_for(owner)
    response = add_via_form(client)
    html = response.content.decode()
    assert "••••WXYZ" in html
    assert SECRET not in html and "abcdefghijklmnop" not in html
    for name in ("keys", "studio"):
        assert "abcdefghijklmnop" not in client.get(reverse(name)).content.decode()


def test_a_refused_form_does_not_echo_the_secret(client_for, owner):
    response = add_via_form(client_for(owner), base_url="ftp://nope")
    assert "http:// or https://" in response.content.decode() or "Enter a valid URL" in response.content.decode()
    assert SECRET not in response.content.decode()
    assert not GatewayKey.objects.exists()


def test_the_base_url_is_prefilled_from_the_gateways_documentation(client_for, owner):
    assert 'value="https://duoyuanx.com"' in client_for(owner).get(reverse("keys")).content.decode()


def test_a_member_replaces_and_deletes_their_key(client_for, owner, team):
    key = add_key(owner, team, secret="sk-old-secret-1111")
    client = client_for(owner)
    client.post(reverse("key_replace", args=[key.uuid]), {"secret": "sk-new-secret-2222"})
    key.refresh_from_db()
    assert key.reveal() == "sk-new-secret-2222" and key.masked == "••••2222"
    client.post(reverse("key_delete", args=[key.uuid]))
    assert not GatewayKey.objects.exists()


def test_teammates_never_see_or_touch_a_members_key(client_for, owner, team, teammate):
    key = add_key(owner, team, label="Alice private key")
    client = client_for(teammate)
    assert "Alice private key" not in client.get(reverse("keys")).content.decode()
    assert client.post(reverse("key_delete", args=[key.uuid])).status_code == 404
    assert client.post(reverse("key_replace", args=[key.uuid]), {"secret": "sk-hijack-000000"}).status_code == 404
    key.refresh_from_db()
    assert key.reveal() == "sk-sandbox-alice-0001"


def test_an_outsider_gets_404_on_key_urls(client_for, owner, team, outsider):
    key = add_key(owner, team)
    client = client_for(outsider)
    assert client.post(reverse("key_delete", args=[key.uuid])).status_code == 404
    assert client.post(reverse("key_replace", args=[key.uuid]), {"secret": "sk-hijack-000000"}).status_code == 404


def test_it_rejects_get_on_key_delete(client_for, owner, team):
    key = add_key(owner, team)
    assert client_for(owner).get(reverse("key_delete", args=[key.uuid])).status_code == 405


def test_keys_survive_rotation_of_the_encryption_key(owner, team, settings):
    key = add_key(owner, team, secret="sk-rotate-me-4444")
    old_token = key.secret_encrypted
    new = Fernet.generate_key().decode()
    settings.STUDIO_ENCRYPTION_KEYS = [new, *settings.STUDIO_ENCRYPTION_KEYS]
    from django.core.management import call_command

    call_command("rotate_keys")
    key.refresh_from_db()
    assert key.secret_encrypted != old_token
    settings.STUDIO_ENCRYPTION_KEYS = [new]  # the old key is gone: still readable
    assert key.reveal() == "sk-rotate-me-4444"


def test_a_token_from_another_key_raises_instead_of_leaking_ciphertext(owner, team, settings):
    key = add_key(owner, team)
    settings.STUDIO_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(vault.VaultError):
        key.reveal()


def test_logs_redact_bearer_tokens(caplog):
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "sent Authorization: Bearer %s", ("sk-leak-123456",), None
    )
    vault.RedactSecretsFilter().filter(record)
    assert "sk-leak-123456" not in record.getMessage()


def test_the_admin_never_shows_the_secret(admin_client, owner, team):
    add_key(owner, team, secret="sk-admin-should-not-see-9999")
    html = admin_client.get(reverse("admin:videos_gatewaykey_changelist")).content.decode()
    assert "sk-admin-should-not-see" not in html
    assert "••••9999" in html


def test_choosing_a_gateway_prefills_its_documented_base_url(client_for, owner):
    from videos.gateways import REGISTRY

    client = client_for(owner)
    for dialect, gateway in REGISTRY.items():
        html = client.get(reverse("key_base_url"), {"dialect": dialect}, HTTP_HX_REQUEST="true").content.decode()
        assert html.lstrip().startswith('<div id="base-url">')
        assert f'value="{gateway.default_base_url}"' in html

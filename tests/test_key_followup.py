"""Leftovers of the keys work (issue 12, items 2, 9, 11): a key's last test is kept on the
key; a sandbox key's replaced or deleted secret is revoked at the sandbox and its new one
works; the Test button is limited per member and says when to try again; the compose
form's sandbox hint shows only for a sandbox key."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import SANDBOX_HOST, add_key
from videos import actions
from videos.gateways import get_gateway_class
from videos.gateways.base import KeyVerdict
from videos.models import AuditEntry, GatewayKey
from videos.sandbox import keys as sandbox_keys

HTMX = {"HTTP_HX_REQUEST": "true"}
REAL_GATEWAY = "https://gw.example.com"
HINT = "put <code>[fail]</code> in the prompt"


def sandbox_url(dialect: str = "openai-preview") -> str:
    return f"http://{SANDBOX_HOST}/sandbox{get_gateway_class(dialect).sandbox_path}"


def works_at_the_sandbox(secret: str, dialect: str = "openai-preview") -> bool:
    """What the sandbox answers ``secret`` (one harmless status query, as a key test sends)."""
    return get_gateway_class(dialect)(sandbox_url(dialect), secret).check().verdict == KeyVerdict.WORKS


# --- 1. the last test is kept on the key ------------------------------------------------------------


def test_a_test_is_kept_on_the_key_and_the_page_shows_it_without_the_audit_trail(gateway, client_for, owner, key):
    client = client_for(owner)
    client.post(reverse("key_check", args=[key.uuid]), **HTMX)
    key.refresh_from_db()
    assert key.last_verdict == KeyVerdict.WORKS and key.last_checked_at is not None
    AuditEntry.objects.filter(action="key.checked").delete()  # the page must not need them
    page = client.get(reverse("keys")).content.decode()
    assert "Works: the gateway accepted the key." in page
    assert f'<time datetime="{key.last_checked_at:%Y-%m-%dT%H:%M}' in page


def test_a_wrong_key_is_kept_as_wrong_key_until_the_next_test(gateway, client_for, owner, team):
    key = add_key(owner, team, secret="sk-followup-issued-0001")
    key.set_secret("sk-never-issued-anywhere-4242")
    key.save()
    client = client_for(owner)
    client.post(reverse("key_check", args=[key.uuid]), **HTMX)
    assert GatewayKey.objects.get(pk=key.pk).last_verdict == KeyVerdict.WRONG_KEY
    assert "Wrong key: the gateway refused it" in client.get(reverse("keys")).content.decode()


def test_a_new_secret_or_base_url_forgets_the_last_test(gateway, client_for, owner, key):
    client = client_for(owner)
    client.post(reverse("key_check", args=[key.uuid]), **HTMX)
    page = client.post(reverse("key_replace", args=[key.uuid]), {"secret": "sk-followup-new-0002"}, follow=True)
    key.refresh_from_db()
    assert (key.last_verdict, key.last_checked_at) == ("", None)
    assert "Testing…" in page.content.decode()  # the new secret is tested as the page loads

    client.post(reverse("key_check", args=[key.uuid]), **HTMX)
    client.post(reverse("key_edit", args=[key.uuid]), {"label": key.label, "base_url": REAL_GATEWAY})
    key.refresh_from_db()
    assert (key.last_verdict, key.last_checked_at) == ("", None)
    assert "Not tested yet." in client.get(reverse("keys")).content.decode()


def test_a_test_that_ran_while_the_secret_was_replaced_is_not_kept_for_the_new_secret(gateway, owner, key):
    stale = GatewayKey.objects.get(pk=key.pk)  # loaded before the replacement
    actions.replace_key_secret(key, "sk-replaced-meanwhile-0003", owner)
    actions.check_key(stale, owner)  # tests the old secret
    assert GatewayKey.objects.get(pk=key.pk).last_verdict == ""


# --- 2. the sandbox follows a key's secret -------------------------------------------------------


def test_a_replaced_sandbox_secret_works_and_the_old_one_stops_working(gateway, client_for, owner, team):
    old, new = "sk-followup-old-secret-0010", "sk-followup-new-secret-0011"
    key = add_key(owner, team, secret=old)
    client = client_for(owner)
    client.post(reverse("key_replace", args=[key.uuid]), {"secret": new})
    row = client.post(reverse("key_check", args=[key.uuid]), **HTMX).content.decode()
    assert "Works: the gateway accepted the key." in row
    assert works_at_the_sandbox(new) and not works_at_the_sandbox(old)


def test_a_secret_another_key_also_holds_keeps_working_after_a_replacement(gateway, owner, team, teammate):
    shared = "sk-followup-shared-demo-0020"
    mine, theirs = add_key(owner, team, secret=shared), add_key(teammate, team, secret=shared)
    actions.replace_key_secret(mine, "sk-followup-mine-now-0021", owner)
    assert actions.check_key(theirs, teammate).verdict == KeyVerdict.WORKS


def test_a_key_pointed_onto_the_sandbox_works_and_pointed_away_is_revoked_there(gateway, owner, team):
    secret = "sk-followup-moving-0030"
    key = add_key(owner, team, base_url=REAL_GATEWAY, secret=secret)
    assert not works_at_the_sandbox(secret)
    actions.update_key(key, owner, base_url=sandbox_url())
    assert actions.check_key(key, owner).verdict == KeyVerdict.WORKS
    actions.update_key(key, owner, base_url=REAL_GATEWAY)
    assert not works_at_the_sandbox(secret)


def test_deleting_a_sandbox_key_revokes_its_secret(gateway, client_for, owner, team):
    secret = "sk-followup-deleted-0040"
    key = add_key(owner, team, secret=secret)
    assert works_at_the_sandbox(secret)
    client_for(owner).post(reverse("key_delete", args=[key.uuid]))
    assert not GatewayKey.objects.filter(pk=key.pk).exists()
    assert not works_at_the_sandbox(secret)


def test_a_real_gateways_new_secret_is_never_issued_to_the_sandbox(gateway, owner, team):
    key = add_key(owner, team, base_url=REAL_GATEWAY, secret="sk-followup-real-0050")
    actions.replace_key_secret(key, "sk-followup-real-new-0051", owner)
    assert not sandbox_keys.is_issued("sk-followup-real-new-0051")


# --- 3. the Test button is limited per member ------------------------------------------------------


def test_over_ten_tests_a_minute_the_row_says_when_to_try_again_and_nothing_is_sent(gateway, client_for, owner, key):
    client = client_for(owner)
    url = reverse("key_check", args=[key.uuid])
    for _ in range(10):
        assert "Works" in client.post(url, **HTMX).content.decode()
    assert len(gateway.requests) == 10
    response = client.post(url, **HTMX)
    row = response.content.decode()
    assert response.status_code == 200 and row.lstrip().startswith(f'<article class="key-card" id="key-{key.uuid}"')
    assert "try again in" in row and "seconds" in row
    assert "Works: the gateway accepted the key." in row  # the last test is still shown
    assert len(gateway.requests) == 10  # no gateway call
    assert AuditEntry.objects.filter(action="key.checked").count() == 10
    # Without JavaScript the page says it.
    page = client.post(url, follow=True).content.decode()
    assert "try again in" in page and len(gateway.requests) == 10


def test_the_limit_is_each_members_own(gateway, client_for, owner, key, teammate, bob_key):
    for _ in range(11):
        client_for(owner).post(reverse("key_check", args=[key.uuid]), **HTMX)
    row = client_for(teammate).post(reverse("key_check", args=[bob_key.uuid]), **HTMX).content.decode()
    assert "Works" in row and "try again" not in row


def test_the_limit_frees_up_after_a_minute(gateway, owner, key, monkeypatch):
    from accounts import throttle

    for _ in range(10):
        actions.check_key(key, owner)
    with pytest.raises(actions.TooManyChecks) as refused:
        actions.check_key(key, owner)
    assert 0 < refused.value.retry_after <= 60
    later = throttle.time.time() + throttle.KEY_CHECK_WINDOW + 1
    monkeypatch.setattr(throttle.time, "time", lambda: later)
    throttle._cache().clear()  # what expiry does: the cache's own clock is not patched
    assert actions.check_key(key, owner).verdict == KeyVerdict.WORKS


# --- 5. the compose form's sandbox hint ----------------------------------------------------------------


def test_the_fail_hint_shows_only_for_a_sandbox_key(gateway, client_for, owner, team):
    sandbox = add_key(owner, team, label="A sandbox")  # first by label: chosen on the page
    real = add_key(owner, team, label="B real", base_url=REAL_GATEWAY, secret="sk-followup-real-0060")
    client = client_for(owner)
    assert HINT in client.get(reverse("studio")).content.decode()
    options = reverse("compose_options")
    assert HINT not in client.get(options, {"key": str(real.uuid)}, **HTMX).content.decode()
    assert HINT in client.get(options, {"key": str(sandbox.uuid)}, **HTMX).content.decode()
    # With only the real key left, the page chooses it: no hint.
    GatewayKey.objects.filter(pk=sandbox.pk).delete()
    assert HINT not in client.get(reverse("studio")).content.decode()

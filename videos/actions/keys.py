"""A member's gateway keys: add, point elsewhere, replace the secret, delete."""

from __future__ import annotations

from django.apps import apps
from django.db import transaction

from videos import audit
from videos.models import GatewayKey


def add_key(key: GatewayKey, team, owner) -> GatewayKey:
    """Store a new key (``key`` unsaved, its secret set) as ``owner``'s in ``team``.

    A key whose base URL is on the built-in sandbox (``STUDIO_SANDBOX_URL`` while
    ``STUDIO_SANDBOX_ENABLED``) is also issued to the sandbox, which answers only the
    keys the studio issued (``videos/sandbox/keys.py``)."""
    with transaction.atomic():
        key.team, key.owner = team, owner
        key.save()
        if apps.is_installed("videos.sandbox"):
            from videos.sandbox import keys as sandbox_keys

            if sandbox_keys.serves(key.base_url):
                sandbox_keys.issue(key.reveal())
        audit.record_action(team, owner, "key.added", f"{key.label} ({key.masked})", dialect=key.dialect)
    return key


def update_key(key: GatewayKey, actor, *, base_url: str) -> None:
    """Point a key at another base URL (its secret stays)."""
    if key.base_url != base_url:
        with transaction.atomic():
            GatewayKey.objects.filter(pk=key.pk).update(base_url=base_url)
            key.base_url = base_url
            audit.record_action(key.team, actor, "key.changed", f"{key.label} ({key.masked})", base_url=base_url)


def replace_key_secret(key: GatewayKey, secret: str, actor) -> None:
    """Replace a key's secret (its label, base URL and history stay)."""
    with transaction.atomic():
        key.set_secret(secret)
        key.save(update_fields=["secret_encrypted", "last4", "fingerprint", "updated_at"])
        audit.record_action(key.team, actor, "key.replaced", f"{key.label} ({key.masked})", dialect=key.dialect)


def delete_key(key: GatewayKey, actor) -> None:
    """Delete a key; generations made with it stay in the history (without a key)."""
    with transaction.atomic():
        audit.record_action(key.team, actor, "key.deleted", f"{key.label} ({key.masked})", dialect=key.dialect)
        key.delete()

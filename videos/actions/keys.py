"""A member's gateway keys: add, check, rename or point elsewhere, replace the secret, delete."""

from __future__ import annotations

from django.apps import apps
from django.db import transaction

from videos import audit
from videos.gateways.base import KeyCheck, KeyVerdict
from videos.lib import vault
from videos.models import GatewayKey


def _issue_to_sandbox(key: GatewayKey) -> None:
    """Issue ``key``'s secret to the built-in sandbox when its base URL is the sandbox's
    (``videos/sandbox/keys.py``: the sandbox answers only the keys the studio issued)."""
    if apps.is_installed("videos.sandbox"):
        from videos.sandbox import keys as sandbox_keys

        if sandbox_keys.serves(key.base_url):
            sandbox_keys.issue(key.reveal())


def add_key(key: GatewayKey, team, owner) -> GatewayKey:
    """Store a new key (``key`` unsaved, its secret set) as ``owner``'s in ``team``.

    A key whose base URL is on the built-in sandbox (``STUDIO_SANDBOX_URL`` while
    ``STUDIO_SANDBOX_ENABLED``) is also issued to the sandbox, which answers only the
    keys the studio issued (``videos/sandbox/keys.py``)."""
    with transaction.atomic():
        key.team, key.owner = team, owner
        key.save()
        _issue_to_sandbox(key)
        audit.record_action(team, owner, "key.added", f"{key.label} ({key.masked})", dialect=key.dialect)
    return key


def update_key(key: GatewayKey, actor, *, base_url: str | None = None, label: str | None = None) -> bool:
    """Rename a key (``label``) and/or point it at another ``base_url``; its secret stays.

    None leaves a field as it is. Records ``key.changed`` in the audit trail with what
    changed; a key pointed at the built-in sandbox is issued to it (``add_key``). Returns
    False when nothing changed (nothing is written)."""
    changes = {}
    if label is not None and label != key.label:
        changes["label"] = label
    if base_url is not None and base_url != key.base_url:
        changes["base_url"] = base_url
    if not changes:
        return False
    with transaction.atomic():
        before = f"{key.label} ({key.masked})"
        GatewayKey.objects.filter(pk=key.pk).update(**changes)
        for field, value in changes.items():
            setattr(key, field, value)
        if "base_url" in changes:
            _issue_to_sandbox(key)
        audit.record_action(key.team, actor, "key.changed", before, **changes)
    return True


def check_key(key: GatewayKey, actor) -> KeyCheck:
    """Check ``key`` with one harmless status query to its gateway (``Gateway.check``: a
    task id that cannot exist, never a paid call) and say what it found: works, wrong
    key, wrong base URL, blocked address, or unsure.

    Records ``key.checked`` in the audit trail with the key's uuid, the verdict, the HTTP
    status and the gateway's (redacted) message, never the secret; the keys page reads the
    latest one as the key's last check. A key that cannot be decrypted is "unsure" and
    sends nothing. Makes one HTTP request (at most ``STUDIO_STATUS_SECONDS``); never
    raises for what the gateway does."""
    try:
        secret = key.reveal()
    except vault.VaultError:
        check = KeyCheck(
            KeyVerdict.UNSURE, detail="The key cannot be decrypted with the server's encryption keys; replace it."
        )
    else:
        check = key.gateway_class(key.base_url, secret).check()
    detail = vault.redact(check.detail)[:300]
    audit.record_action(
        key.team,
        actor,
        "key.checked",
        f"{key.label} ({key.masked})",
        key=str(key.uuid),
        verdict=str(check.verdict),
        status_code=check.status_code,
        detail=detail,
    )
    return KeyCheck(check.verdict, status_code=check.status_code, detail=detail)


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

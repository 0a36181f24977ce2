"""A member's gateway keys: add, check, rename or point elsewhere, replace the secret, delete."""

from __future__ import annotations

from django.apps import apps
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import throttle
from videos import audit
from videos.gateways.base import KeyCheck, KeyVerdict
from videos.lib import vault
from videos.models import GatewayKey

#: What a key's last check is reset to when what it tested (secret, base URL) changes.
NOT_CHECKED = {"last_verdict": "", "last_checked_at": None}


class TooManyChecks(Exception):
    """The member has used up their key tests for now (``accounts.throttle.begin_key_check``);
    ``retry_after`` is the seconds until the next one may run. Nothing was sent."""

    def __init__(self, retry_after: int):
        super().__init__(f"too many key checks; try again in {retry_after} s")
        self.retry_after = retry_after


def _sandbox_keys():
    """``videos.sandbox.keys`` when the built-in sandbox is installed, else None."""
    if apps.is_installed("videos.sandbox"):
        from videos.sandbox import keys as sandbox_keys

        return sandbox_keys
    return None


def _issue_to_sandbox(key: GatewayKey) -> None:
    """Issue ``key``'s secret to the built-in sandbox when its base URL is the sandbox's
    (``videos/sandbox/keys.py``: the sandbox answers only the keys the studio issued)."""
    sandbox_keys = _sandbox_keys()
    if sandbox_keys is not None and sandbox_keys.serves(key.base_url):
        sandbox_keys.issue(key.reveal())


def _revoke_from_sandbox(secret: str | None, fingerprint: str, base_url: str, *, keeper: GatewayKey) -> None:
    """Stop ``secret`` (a sandbox key's old secret) calling the built-in sandbox, unless
    another stored key (not ``keeper``) has the same secret: that one keeps working."""
    sandbox_keys = _sandbox_keys()
    if secret is None or sandbox_keys is None or not sandbox_keys.serves(base_url):
        return
    if GatewayKey.objects.filter(fingerprint=fingerprint).exclude(pk=keeper.pk).exists():
        return
    sandbox_keys.revoke(secret)


def _secret_or_none(key: GatewayKey) -> str | None:
    try:
        return key.reveal()
    except vault.VaultError:
        return None


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
    changed; a key pointed at the built-in sandbox is issued to it (``add_key``), one
    pointed away from it is revoked there (unless another key has the same secret). A new
    base URL forgets the last check. Returns False when nothing changed (nothing is written)."""
    changes = {}
    if label is not None and label != key.label:
        changes["label"] = label
    if base_url is not None and base_url != key.base_url:
        changes["base_url"] = base_url
    if not changes:
        return False
    with transaction.atomic():
        before = f"{key.label} ({key.masked})"
        old_base_url = key.base_url
        written = {**changes, **(NOT_CHECKED if "base_url" in changes else {})}
        GatewayKey.objects.filter(pk=key.pk).update(**written)
        for field, value in written.items():
            setattr(key, field, value)
        if "base_url" in changes:
            _issue_to_sandbox(key)
            sandbox_keys = _sandbox_keys()
            if sandbox_keys is not None and not sandbox_keys.serves(key.base_url):
                _revoke_from_sandbox(_secret_or_none(key), key.fingerprint, old_base_url, keeper=key)
        audit.record_action(key.team, actor, "key.changed", before, **changes)
    return True


def check_key(key: GatewayKey, actor) -> KeyCheck:
    """Check ``key`` with one harmless status query to its gateway (``Gateway.check``: a
    task id that cannot exist, never a paid call) and say what it found: works, wrong
    key, wrong base URL, blocked address, or unsure.

    Stores the verdict and the time on the key (``last_verdict``, ``last_checked_at``: the
    keys page shows them) unless its secret or base URL changed meanwhile, and records
    ``key.checked`` in the audit trail with the key's uuid, the verdict, the HTTP status and
    the gateway's (redacted) message, never the secret. A key that cannot be decrypted is
    "unsure" and sends nothing. Makes one HTTP request (at most ``STUDIO_STATUS_SECONDS``);
    never raises for what the gateway does. Raises ``TooManyChecks`` (and sends nothing,
    records nothing) when ``actor`` has run ``throttle.KEY_CHECK_LIMIT`` checks in the
    last ``throttle.KEY_CHECK_WINDOW`` seconds."""
    if actor is not None:
        wait = throttle.begin_key_check(actor)
        if wait:
            raise TooManyChecks(wait)
    try:
        secret = key.reveal()
    except vault.VaultError:
        check = KeyCheck(
            KeyVerdict.UNSURE, detail=_("The key cannot be decrypted with the server's encryption keys; replace it.")
        )
    else:
        check = key.gateway_class(key.base_url, secret).check()
    detail = vault.redact(check.detail)[:300]
    now = timezone.now()
    tested = GatewayKey.objects.filter(pk=key.pk, fingerprint=key.fingerprint, base_url=key.base_url)
    if tested.update(last_verdict=str(check.verdict), last_checked_at=now):
        key.last_verdict, key.last_checked_at = str(check.verdict), now
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
    """Replace a key's secret (its label, base URL and history stay; its last check is
    forgotten). On the built-in sandbox the new secret is issued there and the old one
    revoked (unless another key has the same secret), as a gateway's console does."""
    with transaction.atomic():
        old_secret, old_fingerprint = _secret_or_none(key), key.fingerprint
        key.set_secret(secret)
        for field, value in NOT_CHECKED.items():
            setattr(key, field, value)
        key.save(update_fields=["secret_encrypted", "last4", "fingerprint", "updated_at", *NOT_CHECKED])
        if old_secret != secret:
            _revoke_from_sandbox(old_secret, old_fingerprint, key.base_url, keeper=key)
        _issue_to_sandbox(key)
        audit.record_action(key.team, actor, "key.replaced", f"{key.label} ({key.masked})", dialect=key.dialect)


def delete_key(key: GatewayKey, actor) -> None:
    """Delete a key; generations made with it stay in the history (without a key). A
    sandbox key's secret is revoked there (unless another key has the same secret)."""
    with transaction.atomic():
        audit.record_action(key.team, actor, "key.deleted", f"{key.label} ({key.masked})", dialect=key.dialect)
        _revoke_from_sandbox(_secret_or_none(key), key.fingerprint, key.base_url, keeper=key)
        key.delete()

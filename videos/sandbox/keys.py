"""The keys the sandbox accepts: only those the studio issued.

A real gateway answers only the keys it sold; the sandbox answers only the keys the
studio gave out for it (``manage.py demo``'s sandbox keys, and the keys a member adds
with a base URL on the sandbox, through ``videos.actions.add_key``). Without this any
caller with any ``Bearer`` could make the sandbox work for it.

A secret is never stored: ``SandboxKey.digest`` is an HMAC-SHA256 of it under a key
derived from ``SECRET_KEY`` (the keys in ``SECRET_KEY_FALLBACKS`` still verify, so a
rotation does not lock the demo out until its next ``manage.py demo``).
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings

from videos.sandbox.models import SandboxKey

SALT = b"videos.sandbox.keys"


def _digest(secret: str, secret_key: str | bytes) -> str:
    if isinstance(secret_key, str):
        secret_key = secret_key.encode()
    mac_key = hashlib.sha256(SALT + b"\0" + secret_key).digest()
    return hmac.new(mac_key, secret.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def issue(secret: str) -> None:
    """Let ``secret`` call the sandbox from now on (again: nothing changes)."""
    if not secret:
        raise ValueError("an empty secret cannot be issued")
    SandboxKey.objects.get_or_create(digest=_digest(secret, settings.SECRET_KEY))


def is_issued(secret: str) -> bool:
    """True when the studio issued ``secret`` for the sandbox."""
    if not secret:
        return False
    signing_keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return SandboxKey.objects.filter(digest__in=[_digest(secret, k) for k in signing_keys]).exists()


def serves(base_url: str) -> bool:
    """True when a key with ``base_url`` is a key for this sandbox: the sandbox is
    enabled and ``base_url`` is ``STUDIO_SANDBOX_URL`` or a path under it."""
    prefix = (settings.STUDIO_SANDBOX_URL or "").rstrip("/")
    if not settings.STUDIO_SANDBOX_ENABLED or not prefix:
        return False
    return base_url.rstrip("/") == prefix or base_url.startswith(prefix + "/")


def revoke(secret: str) -> None:
    """Stop ``secret`` calling the sandbox (under ``SECRET_KEY`` and its fallbacks); a
    secret that was never issued changes nothing."""
    if not secret:
        return
    signing_keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    SandboxKey.objects.filter(digest__in=[_digest(secret, k) for k in signing_keys]).delete()

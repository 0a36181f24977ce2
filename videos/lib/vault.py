"""Encryption of gateway API keys at rest, and redaction of secrets in logs.

Secrets are encrypted with ``cryptography``'s ``MultiFernet`` over the keys in
``settings.STUDIO_ENCRYPTION_KEYS`` (first key encrypts, every key decrypts), so
the encryption key can be rotated: add a new key in front, run
``manage.py rotate_keys``, then drop the old one. Decryption failures raise
``VaultError``; ciphertext is never returned in place of a secret.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class VaultError(Exception):
    """A stored secret could not be decrypted with any configured key."""


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "STUDIO_ENCRYPTION_KEYS must be url-safe base64 Fernet keys "
            "(make one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')"
        ) from exc


def fernet() -> MultiFernet:
    """The MultiFernet for the configured keys."""
    return _fernet(tuple(settings.STUDIO_ENCRYPTION_KEYS))


def encrypt(secret: str) -> str:
    """Encrypt ``secret`` with the first configured key; returns the Fernet token text."""
    return fernet().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    """Decrypt a token made by ``encrypt``. Raises VaultError when no key fits."""
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise VaultError("the stored key cannot be decrypted with the configured keys") from None


def rotate(token: str) -> str:
    """Re-encrypt ``token`` under the first configured key. Raises VaultError."""
    try:
        return fernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise VaultError("the stored key cannot be decrypted with the configured keys") from None


def fingerprint(secret: str) -> str:
    """A keyed SHA-256 of ``secret`` (hex, 64 chars), to recognise a key without storing it."""
    return hmac.new(settings.SECRET_KEY.encode(), secret.encode(), hashlib.sha256).hexdigest()


def mask(last4: str) -> str:
    """How a stored secret is shown: ``••••`` and its last four characters."""
    return f"••••{last4}"


_REDACTIONS = [
    (re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)(bearer\s+)?[^\s\"',}]+"), r"\1\2[redacted]"),
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1[redacted]"),
    (
        re.compile(r"(?i)([\"']?(?:api[_-]?key|secret|token|password)[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+"),
        r"\1[redacted]",
    ),
]


def redact(text: str) -> str:
    """Replace bearer tokens and ``authorization``/``api_key``-like values in ``text``."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecretsFilter(logging.Filter):
    """Logging filter that redacts secrets from every record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave the record to logging
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True

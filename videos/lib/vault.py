"""Encryption of gateway API keys at rest, and redaction of secrets in logs and answers.

Secrets are encrypted with ``cryptography``'s ``MultiFernet`` over the keys in
``settings.STUDIO_ENCRYPTION_KEYS`` (first key encrypts, every key decrypts), so
the encryption key can be rotated: add a new key in front, run
``manage.py rotate_keys``, then drop the old one. Decryption failures raise
``VaultError``; ciphertext is never returned in place of a secret.

Redaction: ``redact`` replaces the values of the usual secret-bearing places in any
text (headers, bearer tokens, ``?key=``, ``"key": "…"``…); ``KeyRedactor`` masks one
key's own secret wherever its gateway echoes it (whole, a long enough prefix, encoded);
``RedactSecretsFilter`` applies ``redact`` to log records.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

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


#: The value of a query parameter: up to the next ``&``, ``#``, quote, space or angle
#: bracket, percent escapes included (an encoded ``&``, ``%26``, ends it too).
_QUERY_VALUE = r"(?:%(?!26)[0-9a-fA-F]{2}|[^&#\s\"'<>%\\])+"

#: Not a value redacted already (so a second pattern does not swallow what follows it).
_FRESH = r"(?!\[redacted\])"

_REDACTIONS = [
    # Authorization: Bearer …, authorization=…, "Authorization": "…"
    (
        re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)(?!(?:bearer\s+)?\[redacted\])(bearer\s+)?[^\s\"',}]+"),
        r"\1\2[redacted]",
    ),
    # Bearer <token>, also URL-encoded (Bearer%20…, Bearer+…) and with percent escapes in the token.
    (re.compile(r"(?i)(bearer(?:\s+|%20|\+))(?:%[0-9a-f]{2}|[A-Za-z0-9._~+/=-])+"), r"\1[redacted]"),
    # ?key=…, &api_key=…, ;token=…, and their URL-encoded forms (%3Fkey%3D…, %26key%3D…).
    (
        re.compile(
            r"(?i)((?:(?<![\w.-])|(?<=%3f)|(?<=%26))"
            r"(?:key|api[_-]?key|apikey|access[_-]?token|token|secret)(?:=|%3d))" + _FRESH + _QUERY_VALUE
        ),
        r"\1[redacted]",
    ),
    # "key": "…" and 'key': '…' (also JSON-escaped: \"key\": \"…\") inside text.
    (re.compile(r"(?i)(\\?[\"']key\\?[\"']\s*:\s*\\?[\"'])" + _FRESH + r"[^\"'\\]+"), r"\1[redacted]"),
    # api_key: …, "api-key": "…", secret=…, token: …, password=… (quoted, JSON-escaped or bare).
    (
        re.compile(
            r"(?i)(\\?[\"']?(?:api[_-]?key|secret|token|password)\\?[\"']?\s*[:=]\s*\\?[\"']?)"
            + _FRESH
            + r"[^\s\"',}\\]+"
        ),
        r"\1[redacted]",
    ),
]


def redact(text: str) -> str:
    """``text`` with the values of the usual secret-bearing places replaced by ``[redacted]``.

    Caught: ``Authorization: …`` headers; ``Bearer <token>``, also as ``Bearer%20…`` or
    ``Bearer+…``; the query parameters ``key``, ``api_key``/``apikey``, ``token``,
    ``access_token`` and ``secret`` after ``?``, ``&`` or ``;`` (also URL-encoded:
    ``%3Fkey%3D…``); ``"key": "…"`` pairs (quoted, or JSON-escaped ``\\"key\\": \\"…\\"``);
    and ``api_key``/``api-key``/``secret``/``token``/``password`` followed by ``:`` or ``=``.
    This knows no particular key: a key's own secret, wherever it is echoed, is masked by
    ``KeyRedactor``. Never raises.
    """
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


#: An echo of a key is masked when it is the whole secret or its first this-many
#: characters or more (a gateway's ``sk-abc…`` truncation); a shorter prefix could be
#: ordinary text (``sk-proj-`` is every OpenAI project key's) and is left alone.
ECHOED_PREFIX_CHARS = 9


def _spellings(char: str) -> str:
    """A regex for one character of a secret as a gateway may echo it: itself (any case,
    under IGNORECASE), percent-encoded (``%2D``, ``%2d``), or JSON-escaped (``\\u002d``,
    and ``\\/`` for a slash)."""
    forms = [re.escape(char), "".join(f"%{byte:02x}" for byte in char.encode())]
    if ord(char) <= 0xFFFF:
        forms.append(re.escape(f"\\u{ord(char):04x}"))
    if char == "/":
        forms.append(re.escape("\\/"))
    return "(?:" + "|".join(forms) + ")"


class KeyRedactor:
    """Masks one gateway key's secret in text its gateway sent back.

    ``redactor(text)`` is ``text`` with each echo of the secret replaced by
    ``mask(secret[-4:])``: the whole secret, or its first ECHOED_PREFIX_CHARS characters
    or more (a truncated echo, ``sk-abc…xyz``); every character as itself in any case,
    percent-encoded or JSON-escaped (``_spellings``). A secret shorter than
    ECHOED_PREFIX_CHARS (no real gateway key is) could be ordinary text: it is masked
    only whole and standing alone, with no letter or digit touching it on either side
    (the secret ``k`` leaves ``task`` alone); an empty one masks nothing.
    ``redactor.value(data)`` does the same to every string (and dict key) of a decoded
    answer (``redact_value``). ``shown`` is the mask itself. ``repr`` never shows the secret.
    """

    __slots__ = ("_head", "_tail", "shown")

    def __init__(self, secret: str):
        self.shown = mask(secret[-4:])
        units = [_spellings(char) for char in secret]
        head = min(len(units), ECHOED_PREFIX_CHARS)
        pattern = "".join(units[:head])
        if head < ECHOED_PREFIX_CHARS:
            pattern = f"(?<![0-9A-Za-z]){pattern}(?![0-9A-Za-z])"
        self._head = re.compile(pattern, re.IGNORECASE) if units else None
        self._tail = [re.compile(unit, re.IGNORECASE) for unit in units[head:]]

    def __repr__(self) -> str:
        return f"<KeyRedactor {self.shown}>"

    def __call__(self, text: str) -> str:
        """``text`` with every echo of the secret masked; the same string when it has none."""
        if self._head is None:
            return text
        found = self._head.search(text)
        if found is None:
            return text
        parts, done = [], 0
        while found is not None:
            end = found.end()
            for unit in self._tail:  # as much more of the secret as follows, in order
                more = unit.match(text, end)
                if more is None:
                    break
                end = more.end()
            parts += [text[done : found.start()], self.shown]
            done = end
            found = self._head.search(text, end)
        parts.append(text[done:])
        return "".join(parts)

    def value(self, data: Any) -> Any:
        """``data`` with the secret masked in every string and dict key (see ``redact_value``)."""
        return redact_value(data, self)


def redact_value(data: Any, redactor: Callable[[str], str]) -> Any:
    """A copy of ``data`` (a decoded JSON answer: dicts, lists, tuples, scalars, at any
    depth) with ``redactor`` applied to every string, dict keys included. Dicts stay
    dicts, lists and tuples become lists, other scalars are kept. Iterative: a body
    nested as deep as the JSON decoder allows does not exhaust the stack. Never raises
    (beyond what ``redactor`` raises)."""
    if isinstance(data, str):
        return redactor(data)
    if not isinstance(data, (dict, list, tuple)):
        return data

    def shell(item: Any) -> Any:
        if isinstance(item, str):
            return redactor(item)
        if isinstance(item, dict):
            copy: Any = {}
        elif isinstance(item, (list, tuple)):
            copy = []
        else:
            return item
        pending.append((item, copy))
        return copy

    pending: list[tuple[Any, Any]] = []
    root = shell(data)
    while pending:
        source, copy = pending.pop()
        if isinstance(source, dict):
            for key, item in source.items():
                copy[redactor(key) if isinstance(key, str) else key] = shell(item)
        else:
            copy.extend(shell(item) for item in source)
    return root


class RedactSecretsFilter(logging.Filter):
    """Logging filter that redacts secrets (``redact``) from every record: its message
    with its arguments, the traceback of ``exc_info`` and the ``stack_info``."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave the record to logging
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            # The formatter would render the traceback (exception messages included) later,
            # past this filter: render it now, redacted; formatters use exc_text as it is.
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_TRACEBACKS = logging.Formatter()

"""The sandbox gateway's own bookkeeping: one row per task it was asked to make, and
one per key the studio issued for it."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class SandboxJob(models.Model):
    """A task at the sandbox gateway.

    ``params`` holds what the request asked for, normalised: ``seconds`` (int),
    ``width``/``height`` (pixels), ``resolution`` (wire spelling) and
    ``aspect_ratio``. ``mode`` is ``normal``, ``slow`` or ``fail`` (from the prompt).
    """

    id = models.CharField(max_length=40, primary_key=True)
    dialect = models.CharField(max_length=32)
    model = models.CharField(max_length=80)
    key_hash = models.CharField(max_length=64)
    prompt = models.TextField(blank=True)
    params = models.JSONField(default=dict)
    mode = models.CharField(max_length=10, default="normal")
    image = models.BinaryField(null=True, blank=True)
    created_at = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.id


class SandboxKey(models.Model):
    """A key the studio issued for the sandbox (``videos/sandbox/keys.py``): only a keyed
    hash of the secret (HMAC-SHA256 under a key derived from ``SECRET_KEY``), never the secret."""

    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"sandbox key {self.digest[:8]}…"

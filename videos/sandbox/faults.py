"""Fault injection for the sandbox gateway, to test the studio against a flaky gateway.

``STUDIO_SANDBOX_FAULTS`` lists faults with their probability per request, e.g.
``5xx=0.1,429=0.05,garbage=0.05,slow=0.05,ghost=0.05,reset=0.05``. Off when empty.

- ``5xx``: HTTP 503 before the request is handled (nothing is created);
- ``429``: HTTP 429 with ``Retry-After: 1``;
- ``garbage``: HTTP 200 with an HTML page instead of JSON;
- ``slow``: the answer comes ``SLOW_S`` seconds late;
- ``ghost``: the request is handled (a submit *creates the task*) and then answered 500;
- ``reset``: the connection breaks after the headers (the client sees a protocol error).
"""

from __future__ import annotations

import random
import time

from django.conf import settings
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse

SLOW_S = 2.0
KINDS = ("5xx", "429", "garbage", "slow", "ghost", "reset")


def parse(spec: str) -> dict[str, float]:
    """``"5xx=0.1,429=0.05"`` → ``{"5xx": 0.1, "429": 0.05}``. Raises ValueError for unknown kinds."""
    faults = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        kind, _, chance = part.partition("=")
        if kind not in KINDS:
            raise ValueError(f"unknown sandbox fault {kind!r}; use {', '.join(KINDS)}")
        faults[kind] = float(chance)
    return faults


def pick(faults: dict[str, float], roll: float) -> str | None:
    """The fault a roll in [0, 1) lands on, or None."""
    for kind, chance in faults.items():
        if roll < chance:
            return kind
        roll -= chance
    return None


def _broken_stream():
    raise ConnectionResetError("sandbox fault: connection reset")
    yield b""  # pragma: no cover


class SandboxFaultMiddleware:
    """Injects the configured faults into requests under ``/sandbox/``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        spec = settings.STUDIO_SANDBOX_FAULTS
        if not spec or not request.path.startswith("/sandbox/"):
            return self.get_response(request)
        fault = pick(parse(spec), random.random())
        if fault == "5xx":
            return JsonResponse({"error": {"message": "sandbox fault: service unavailable"}}, status=503)
        if fault == "429":
            response = JsonResponse({"error": {"message": "sandbox fault: rate limited"}}, status=429)
            response["Retry-After"] = "1"
            return response
        if fault == "garbage":
            return HttpResponse("<html><body>502 Bad Gateway (sandbox fault)</body></html>", content_type="text/html")
        if fault == "slow":
            time.sleep(SLOW_S)
        response = self.get_response(request)
        if fault == "ghost":
            return JsonResponse({"error": {"message": "sandbox fault: internal error"}}, status=500)
        if fault == "reset":
            return StreamingHttpResponse(_broken_stream(), content_type="application/json")
        return response

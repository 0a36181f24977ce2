"""Every error of the API as an RFC 9457 problem: ``application/problem+json`` with
``type``, ``title``, ``status``, ``detail`` (the message the browser form shows) and, for
a refused field, ``errors`` (``[{"field": ..., "message": ...}]``)."""

from __future__ import annotations

import json
import logging
from http import HTTPStatus

from django.http import HttpResponse
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """An API error: ``status`` (a 4xx), ``detail`` (words for a person), optional
    ``errors`` (per field) and response ``headers`` (``Retry-After`` on a 429)."""

    def __init__(self, status: int, detail: str, *, errors: list[dict] | None = None, headers: dict | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = str(detail)
        self.errors = errors or []
        self.headers = headers or {}


def problem_response(request, status: int, detail: str, *, errors=None, headers=None) -> HttpResponse:
    """The problem+json answer for ``status`` with ``detail`` (and ``errors`` per field)."""
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": str(detail),
        "instance": request.path if request is not None else "",
    }
    if errors:
        body["errors"] = errors
    response = HttpResponse(json.dumps(body), status=status, content_type=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def form_errors(form, rename: dict | None = None) -> list[dict]:
    """A Django form's errors as ``[{"field": name, "message": text}]`` (``field`` is
    null for a form-wide one), field names renamed by ``rename``."""
    rename = rename or {}
    out = []
    for name, messages in form.errors.items():
        field = None if name == "__all__" else rename.get(name, name)
        out.extend({"field": field, "message": str(message)} for message in messages)
    return out


def from_form(form, rename: dict | None = None, status: int = 422) -> Problem:
    """A Problem carrying a refused form's messages (its first one as ``detail``)."""
    errors = form_errors(form, rename)
    first = errors[0] if errors else {"field": None, "message": _("The request was refused.")}
    detail = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
    return Problem(status, detail, errors=errors)

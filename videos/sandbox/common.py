"""Helpers shared by the sandbox's dialect modules: auth, JSON bodies, images."""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
from typing import Any

from django.http import HttpRequest
from PIL import Image, UnidentifiedImageError

DATA_URI = re.compile(r"^data:(image/(?:png|jpeg|jpg|webp|gif));base64,(.+)$", re.S)


class Refusal(Exception):
    """The sandbox refuses a request: HTTP ``status``, a message, a dialect code, a field."""

    def __init__(self, status: int, message: str, *, code: str = "invalid_request", param: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param


def bearer_key(request: HttpRequest) -> str:
    """The API key from ``Authorization: Bearer KEY``. Raises Refusal(401)."""
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Refusal(
            401, "Missing or malformed Authorization header: use 'Bearer YOUR_API_KEY'.", code="invalid_api_key"
        )
    return key.strip()


def json_body(request: HttpRequest) -> dict[str, Any]:
    """The request's JSON object. Raises Refusal(400) for another content type or bad JSON."""
    if request.content_type != "application/json":
        raise Refusal(400, "Content-Type must be application/json.", code="invalid_content_type")
    try:
        body = json.loads(request.body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise Refusal(400, "The request body is not valid JSON.", code="invalid_json") from None
    if not isinstance(body, dict):
        raise Refusal(400, "The request body must be a JSON object.", code="invalid_json")
    return body


def decode_data_uri(value: Any, param: str) -> bytes:
    """The image bytes of a ``data:image/...;base64,`` URI that Pillow can open.

    Raises Refusal(400) naming ``param`` otherwise.
    """
    if not isinstance(value, str):
        raise Refusal(400, f"'{param}' must be a string data URI.", param=param)
    match = DATA_URI.match(value)
    if not match:
        raise Refusal(400, f"'{param}' must be a data URI such as data:image/png;base64,....", param=param)
    try:
        data = base64.b64decode(match.group(2), validate=True)
    except (binascii.Error, ValueError):
        raise Refusal(400, f"'{param}' is not valid base64.", param=param) from None
    check_image(data, param)
    return data


def check_image(data: bytes, param: str) -> None:
    """Raise Refusal(400) unless ``data`` is an image Pillow can read."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise Refusal(400, f"'{param}' is not a readable image.", param=param) from None

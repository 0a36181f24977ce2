"""Helpers shared by the sandbox's dialect modules: auth, JSON bodies, images, jobs
and their videos. Each dialect keeps its own error envelope and wording."""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
from datetime import timedelta
from typing import Any

import httpx
from django.http import FileResponse, Http404, HttpRequest
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from videos.lib import http
from videos.sandbox import engine
from videos.sandbox.models import SandboxJob

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


class Unfetchable(Exception):
    """A URL could not be fetched: ``reason`` is the httpx error's class name, or
    ``HTTP <status>`` with ``status`` set when the answer was not HTTP 200."""

    def __init__(self, reason: str, *, status: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status


def fetch(url: str) -> bytes:
    """The body at ``url``, fetched as a gateway fetches a reference image: through the
    studio's one HTTP client (routed in-process in tests). Raises Unfetchable when the
    request fails or the answer is not HTTP 200; the dialect words the refusal.

    Unguarded: the sandbox plays a remote gateway, and in development the studio's
    signed links are on 127.0.0.1. The sandbox is a development tool, off unless
    ``STUDIO_SANDBOX_ENABLED`` (or ``DEBUG``)."""
    try:
        response = http.client(guarded=False).get(url)
    except httpx.HTTPError as exc:
        raise Unfetchable(type(exc).__name__) from None
    if response.status_code != 200:
        raise Unfetchable(f"HTTP {response.status_code}", status=response.status_code)
    return response.content


def keyed_job(dialect: str, job_id: str, api_key: str) -> SandboxJob | None:
    """The ``dialect`` job ``job_id`` if ``api_key`` made it, else None: a job that does
    not exist and another key's job look alike (the caller answers 404 for both)."""
    job = SandboxJob.objects.filter(pk=job_id, dialect=dialect).first()
    if job is None or job.key_hash != engine.key_hash(api_key):
        return None
    return job


def video_response(job: SandboxJob) -> FileResponse:
    """The job's rendered MP4 (``video/mp4``). Raises Http404 when the file is not there."""
    path = engine.video_path(job)
    if not path.exists():
        raise Http404
    return FileResponse(open(path, "rb"), content_type="video/mp4")


def ready_video(job: SandboxJob) -> FileResponse:
    """The MP4 of a job the caller's key may read (a content endpoint). Raises
    Refusal(409, code ``video_not_ready``) until the job is completed, Http404 when the
    file is missing."""
    if engine.snapshot(job)[0] != "completed":
        raise Refusal(409, "The video is not ready yet.", code="video_not_ready")
    return video_response(job)


def public_video(dialect: str, job_id: str, *, lifetime: timedelta | None = None) -> FileResponse:
    """The MP4 at a keyless link, standing in for a gateway's CDN (the id is unguessable).

    Raises Http404 for an unknown id, a job not completed, or, with ``lifetime``, one
    created longer ago than that (the link has expired).
    """
    job = SandboxJob.objects.filter(pk=job_id, dialect=dialect).first()
    if (
        job is None
        or (lifetime is not None and timezone.now() - job.created_at > lifetime)
        or engine.snapshot(job)[0] != "completed"
    ):
        raise Http404
    return video_response(job)

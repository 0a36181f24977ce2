"""Helpers shared by the sandbox's dialect modules: auth, JSON bodies, images, jobs
and their videos. Each dialect keeps its own error envelope and wording.

The sandbox is no open proxy: it answers only keys the studio issued (``bearer_key``,
``videos/sandbox/keys.py``) and fetches only the studio's own signed reference links,
with a byte cap and a deadline (``fetch``)."""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
import time
from datetime import timedelta
from typing import Any

import httpx
from django.conf import settings
from django.core import signing
from django.http import FileResponse, Http404, HttpRequest
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from videos.lib import http, references
from videos.sandbox import engine, keys
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
    """The API key from ``Authorization: Bearer KEY``, if the studio issued it
    (``videos/sandbox/keys.py``). Raises Refusal(401, code ``invalid_api_key``) for a
    missing or malformed header and for a key the studio did not issue; each dialect
    words it in its own 401 envelope."""
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Refusal(
            401, "Missing or malformed Authorization header: use 'Bearer YOUR_API_KEY'.", code="invalid_api_key"
        )
    key = key.strip()
    if not keys.is_issued(key):
        raise Refusal(
            401,
            "Incorrect API key provided: the sandbox accepts only the keys the studio issued for it "
            "(manage.py demo's sandbox keys, or a key added in the studio with the sandbox's base URL).",
            code="invalid_api_key",
        )
    return key


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
    """A reference URL the sandbox will not or could not fetch. ``reason`` says which
    rule refused it, in words safe to show the caller: never the upstream status, body or
    timing (the sandbox must not help anyone map what answers where)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


#: The wall-clock limit on one reference fetch (httpx's timeouts bound each read, not the body).
FETCH_SECONDS = 10.0
FETCH_TIMEOUT = httpx.Timeout(5.0)
REFERENCE_NAME = re.compile(r"^(?P<token>[A-Za-z0-9_\-:.]+)\.(?P<ext>[A-Za-z0-9]+)$")
DEFAULT_PORTS = {"http": 80, "https": 443}


def check_reference_url(url: str) -> httpx.URL:
    """The URL, parsed as the HTTP client will send it, if it is one of the studio's own
    signed reference links: ``STUDIO_PUBLIC_URL + "/r/<token>.<ext>"`` whose token verifies
    and has not expired (``videos.lib.references``). These are the only URLs the studio
    hands a gateway to fetch (an upload given to a URL-only gateway, docs/architecture.md,
    "A generation", step 3). Raises Unfetchable naming the rule for anything else: a scheme
    but http(s), another host or port (a private address among them), another path, a
    forged or expired token."""
    public = (settings.STUDIO_PUBLIC_URL or "").rstrip("/")
    rule = f"the sandbox fetches only the studio's own signed reference links ({public or 'STUDIO_PUBLIC_URL'}/r/…)"
    if not public:
        raise Unfetchable(f"{rule}, and STUDIO_PUBLIC_URL is not set")
    try:
        parsed, home = httpx.URL(url), httpx.URL(public)
    except (httpx.InvalidURL, ValueError):  # UnicodeError is a ValueError
        raise Unfetchable(f"{rule}: this is not a valid URL") from None
    if parsed.scheme not in DEFAULT_PORTS:
        raise Unfetchable(f"{rule}: this URL is not http(s)")
    if (parsed.scheme, parsed.host, parsed.port or DEFAULT_PORTS[parsed.scheme], parsed.userinfo) != (
        home.scheme,
        home.host,
        home.port or DEFAULT_PORTS.get(home.scheme),
        b"",
    ):
        try:
            blocked = http.address_refusal(parsed.host)
        except ValueError:  # a name, not an address
            blocked = None
        where = f"on {blocked}" if blocked else "on another host"
        raise Unfetchable(f"{rule}: this URL is {where}")
    prefix = home.path.rstrip("/") + "/r/"
    match = REFERENCE_NAME.match(parsed.path.removeprefix(prefix)) if parsed.path.startswith(prefix) else None
    if match is None or parsed.query or parsed.fragment:
        raise Unfetchable(f"{rule}: this URL is not a reference link")
    try:
        references.unsign(match["token"])
    except signing.SignatureExpired:
        raise Unfetchable(f"{rule}: this link has expired") from None
    except signing.BadSignature:
        raise Unfetchable(f"{rule}: this link's signature is not valid") from None
    return parsed


def fetch(url: str) -> bytes:
    """The body at ``url``, fetched as a gateway fetches a reference image, once
    ``check_reference_url`` accepted it. Raises Unfetchable.

    Through the studio's unguarded client (routed in-process in tests): the URL can only be
    the studio's own public address, on 127.0.0.1 in development, and the client follows no
    redirect. At most ``STUDIO_MAX_REFERENCE_BYTES`` are read (a larger ``Content-Length``
    is refused before the body, a longer body as it streams), within ``FETCH_SECONDS``."""
    target = check_reference_url(url)
    cap = settings.STUDIO_MAX_REFERENCE_BYTES
    too_large = f"the image is larger than the sandbox's limit of {cap} bytes"
    failed = "the studio did not serve an image at this link"
    deadline = time.monotonic() + FETCH_SECONDS
    body = bytearray()
    try:
        # identity (and any other encoding refused): the bytes counted are the bytes kept
        headers = {"Accept-Encoding": "identity"}
        with http.client(guarded=False).stream("GET", target, headers=headers, timeout=FETCH_TIMEOUT) as response:
            if response.status_code != 200 or response.headers.get("Content-Encoding", "identity") != "identity":
                raise Unfetchable(failed)
            declared = response.headers.get("Content-Length", "").strip()
            if declared.isdigit() and int(declared) > cap:
                raise Unfetchable(too_large)  # before reading the body
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > cap:
                    raise Unfetchable(too_large)
                if time.monotonic() > deadline:
                    raise Unfetchable("the fetch took longer than the sandbox's limit")
    except httpx.HTTPError:
        raise Unfetchable(failed) from None
    return bytes(body)


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

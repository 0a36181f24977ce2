"""The one place where HTTP goes out of the studio.

Every request to a gateway goes through the client made here: timeouts, a
User-Agent, no redirects followed, no proxy settings from the environment. Tests
swap the transport with ``use_transport`` instead of patching httpx.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import time
from dataclasses import dataclass

import httpx
from django.conf import settings

USER_AGENT = "Studio/0.1 (+grok-imagine-video)"

_lock = threading.Lock()
_client: httpx.Client | None = None
_transport: httpx.BaseTransport | None = None


def make_client(transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """A new ``httpx.Client`` with the studio's timeouts, limits and User-Agent.

    Timeouts: 10 s to connect, ``STUDIO_HTTP_TIMEOUT`` seconds per read/write.
    """
    timeout = httpx.Timeout(settings.STUDIO_HTTP_TIMEOUT, connect=10.0)
    return httpx.Client(
        timeout=timeout,
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
        trust_env=False,
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
        transport=transport,
    )


def client() -> httpx.Client:
    """The process-wide client (one per worker process, so connections are reused)."""
    global _client
    with _lock:
        if _client is None:
            _client = make_client(_transport)
        return _client


def use_transport(transport: httpx.BaseTransport | None) -> None:
    """Route every later request through ``transport`` (tests); None restores the network."""
    global _client, _transport
    with _lock:
        if _client is not None:
            _client.close()
        _client = None
        _transport = transport


class DownloadError(Exception):
    """A download failed. ``permanent`` is False when trying again may work."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.message = message
        self.permanent = permanent


@dataclass
class Download:
    """A finished download in a named temporary file (the caller deletes it)."""

    path: str
    bytes: int
    sha256: str
    content_type: str


def download_to_tempfile(
    url: str,
    *,
    headers: dict[str, str] | None = None,
    max_bytes: int | None = None,
    deadline_s: float | None = None,
    chunk_size: int = 1024 * 1024,
) -> Download:
    """Stream ``url`` into a temporary file, hashing on the way; memory stays flat.

    ``max_bytes`` (default ``STUDIO_MAX_VIDEO_BYTES``) caps the size and
    ``deadline_s`` (default ``STUDIO_DOWNLOAD_SECONDS``) the wall-clock time,
    since httpx's read timeout bounds each read, not the whole body. Raises
    DownloadError: permanent for 4xx answers and oversize files, transient for
    network errors, 5xx and deadlines. A partial file is always removed.
    """
    max_bytes = max_bytes or settings.STUDIO_MAX_VIDEO_BYTES
    deadline = time.monotonic() + (deadline_s or settings.STUDIO_DOWNLOAD_SECONDS)
    fd, path = tempfile.mkstemp(prefix="studio-dl-", suffix=".part")
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as out, client().stream("GET", url, headers=headers or {}) as resp:
            if resp.status_code >= 400:
                raise DownloadError(
                    f"the video download answered HTTP {resp.status_code}",
                    permanent=400 <= resp.status_code < 500 and resp.status_code not in (408, 429),
                )
            if resp.status_code >= 300:
                raise DownloadError(f"the video download redirected (HTTP {resp.status_code})")
            for chunk in resp.iter_bytes(chunk_size):
                size += len(chunk)
                if size > max_bytes:
                    raise DownloadError(f"the video is larger than {max_bytes} bytes", permanent=True)
                if time.monotonic() > deadline:
                    raise DownloadError("the video download took too long")
                digest.update(chunk)
                out.write(chunk)
            content_type = resp.headers.get("content-type", "")
    except httpx.HTTPError as exc:
        os.unlink(path)
        raise DownloadError(f"the video download failed: {type(exc).__name__}") from exc
    except BaseException:
        os.unlink(path)
        raise
    if size == 0:
        os.unlink(path)
        raise DownloadError("the video download was empty")
    return Download(path=path, bytes=size, sha256=digest.hexdigest(), content_type=content_type)

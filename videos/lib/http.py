"""The one place where HTTP goes out of the studio.

Every request to a gateway goes through the client made here: timeouts, a
User-Agent, no redirects followed, no proxy settings from the environment. Tests
swap the transport with ``use_transport`` instead of patching httpx.

The SSRF guard
--------------
A member types a key's base URL and a gateway answers the URL of the finished
video, so the studio must not become a way to reach the services beside it. The
real network path (``make_client()`` without a transport) is guarded:

* only ``http`` and ``https`` URLs are sent (``BlockedURL`` otherwise);
* every new connection resolves the host once, checks every address it resolves
  to, and connects to the checked address itself, so a DNS answer cannot change
  between the check and the connect (rebinding). An address that is private,
  loopback, link-local, multicast, reserved, unspecified or otherwise not globally
  routable (IPv4-mapped, NAT64 and 6to4 IPv6 forms are unwrapped first) is refused
  with ``BlockedAddress``; if any address of a name is refused, the name is;
* except for the hosts in ``private_allowlist()``: the default base URLs of the
  registered gateways (handed in once by ``allow_gateway_hosts`` when the app is
  ready: this module knows no gateway), the sandbox (``STUDIO_SANDBOX_URL`` while
  ``STUDIO_SANDBOX_ENABLED``), and ``STUDIO_ALLOWED_PRIVATE_HOSTS``. They are read
  from the settings at every new connection. A key whose own base URL is on a
  private address is refused unless its host is in that setting: otherwise any
  member could point a key at an internal service.

Redirects are not followed; were they, each hop opens its own connection and is
checked the same way. Transports given to ``make_client`` or ``use_transport``
(tests) are used as they are, without the guard. ``client(guarded=False)`` is the
unguarded real network, for the built-in sandbox alone (it plays a remote gateway
that fetches the studio's own signed reference URLs, on loopback in development).
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import logging
import os
import socket
import tempfile
import threading
import time
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import httpcore
import httpx
from django.conf import settings
from django.utils.translation import gettext

USER_AGENT = "Studio/0.1 (+grok-imagine-video)"
ALLOWED_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}

log = logging.getLogger(__name__)

_lock = threading.Lock()
_clients: dict[bool, httpx.Client] = {}  # guarded → the process-wide client
_transport: httpx.BaseTransport | None = None


class BlockedURL(httpx.UnsupportedProtocol):
    """The guard refused a URL whose scheme is not http or https."""


class BlockedAddress(httpx.ConnectError, httpx.UnsupportedProtocol):
    """The guard refused to connect to ``host``:``port`` because ``address`` (what the
    host resolved to) is ``reason`` (e.g. "a loopback address").

    A ``ConnectError`` (nothing was sent) that is also an ``UnsupportedProtocol``, so
    that callers which treat an unsupported URL as permanent (``Gateway.request``,
    ``download_to_tempfile``) do not retry it: the same URL will be refused again.
    """

    def __init__(self, host: str, port: int, address: str, reason: str):
        self.host = host
        self.port = port
        self.address = address
        self.reason = reason
        shown = _show_host(host)
        if address == host:
            where = f"{shown}:{port}"
        else:
            where = gettext("%(host)s (it resolves to %(address)s)") % {
                "host": f"{shown}:{port}",
                "address": _show_host(address),
            }
        super().__init__(
            gettext(
                "refused to connect to %(where)s: %(reason)s; the studio only connects to public addresses "
                "(an administrator can allow a self-hosted gateway with STUDIO_ALLOWED_PRIVATE_HOSTS)"
            )
            % {"where": where, "reason": reason}
        )


def _show_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


# --- the check ------------------------------------------------------------------------------

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def address_refusal(address: str | IPAddress) -> str | None:
    """Why the guard refuses to connect to ``address`` (e.g. "a loopback address"), or
    None when it is a public address. IPv6 forms that carry an IPv4 address
    (IPv4-mapped ``::ffff:a.b.c.d``, NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``) are
    judged by the IPv4 address too."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    candidates: list[IPAddress] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            candidates.insert(0, ip.ipv4_mapped)
        if ip.sixtofour is not None:
            candidates.insert(0, ip.sixtofour)
        if ip in _NAT64:
            candidates.insert(0, ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    for candidate in candidates:
        reason = _refusal(candidate)
        if reason:
            return reason
    return None


def _refusal(ip: IPAddress) -> str | None:
    if ip.is_unspecified:
        return gettext("an unspecified address")
    if ip.is_loopback:
        return gettext("a loopback address")
    if ip.is_link_local:
        return gettext("a link-local address (where cloud metadata services live)")
    if ip.is_multicast:
        return gettext("a multicast address")
    if ip.is_private:
        return gettext("a private address")
    if ip.is_reserved:
        return gettext("a reserved address")
    if not ip.is_global:
        return gettext("an address that is not publicly routable")
    return None


# --- the allow-list -------------------------------------------------------------------------

HostEntry = tuple[str, int | None]  # (host as httpx spells it, port or None for any port)


#: The gateways' documented base URLs, handed in by ``allow_gateway_hosts``.
_gateway_hosts: frozenset[str] = frozenset()


def allow_gateway_hosts(base_urls: Iterable[str]) -> None:
    """Let the guard through to each of ``base_urls`` (the registered gateways' documented
    base URLs) whatever they resolve to. Called once when the app is ready
    (``videos.apps.VideosConfig.ready``), so this module need not know the gateways."""
    global _gateway_hosts
    _gateway_hosts = frozenset(base_urls)


def private_allowlist() -> set[HostEntry]:
    """The hosts the guard lets through whatever they resolve to, from the current settings.

    ``(host, port)`` pairs: the default base URL of every registered gateway, the
    sandbox's URL while the sandbox is enabled (both with the URL's port), and each
    ``STUDIO_ALLOWED_PRIVATE_HOSTS`` item (``host``, ``host:port``, ``[v6]:port`` or a
    URL; port None means any port). Hosts match as written in the URL, never by
    address: allowing ``10.0.0.5`` does not allow a name that resolves to it.
    """
    entries = {_url_entry(url) for url in _gateway_hosts}
    if settings.STUDIO_SANDBOX_ENABLED and settings.STUDIO_SANDBOX_URL:
        entries.add(_url_entry(settings.STUDIO_SANDBOX_URL))
    for item in _items(getattr(settings, "STUDIO_ALLOWED_PRIVATE_HOSTS", ())):
        entries.add(_host_entry(item))
    entries.discard(("", None))
    return entries


def is_allowed_private(host: str, port: int) -> bool:
    """True when ``host``:``port`` (as httpx spells the host) may resolve to a private address."""
    host = _normal_host(host)
    allowed = private_allowlist()
    return (host, port) in allowed or (host, None) in allowed


def _normal_host(host: str) -> str:
    """``host`` lower case without a trailing dot; an IP address in its compressed form."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host).compressed
    except ValueError:
        return host.lower().rstrip(".")


def _items(value: str | Iterable[str] | None) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        value = value.split(",")
    return [item.strip() for item in value if item and item.strip()]


@functools.lru_cache(maxsize=256)
def _url_entry(url: str) -> HostEntry:
    """(host, port) of an http(s) URL, with the scheme's default port."""
    try:
        parsed = httpx.URL(url)
        scheme = parsed.scheme
        host = _normal_host(parsed.raw_host.decode("ascii"))
    except (httpx.InvalidURL, UnicodeError, ValueError):
        log.warning("ignoring %r in the SSRF allow-list: not a URL", url)
        return ("", None)
    if scheme not in DEFAULT_PORTS or not host:
        log.warning("ignoring %r in the SSRF allow-list: not an http(s) URL", url)
        return ("", None)
    return (host, parsed.port or DEFAULT_PORTS[scheme])


@functools.lru_cache(maxsize=256)
def _host_entry(item: str) -> HostEntry:
    """(host, port or None) of a ``STUDIO_ALLOWED_PRIVATE_HOSTS`` item."""
    if "://" in item:
        return _url_entry(item)
    try:
        return (ipaddress.ip_address(item.strip("[]")).compressed, None)  # a bare IP, v6 with or without []
    except ValueError:
        pass
    try:
        parsed = httpx.URL("http://" + item)
        host = _normal_host(parsed.raw_host.decode("ascii"))
    except (httpx.InvalidURL, UnicodeError, ValueError):
        host = ""
    if not host or parsed.raw_path not in (b"/", b""):
        log.warning("ignoring %r in STUDIO_ALLOWED_PRIVATE_HOSTS: not host[:port]", item)
        return ("", None)
    return (host, parsed.port)


# --- the guarded network path ---------------------------------------------------------------


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's synchronous network backend with the address check before each connect.

    Resolves the host once, refuses it when any address is refused, then connects to
    the checked addresses in turn (never to the name, which could resolve anew).
    TLS still verifies the certificate against the URL's host name.
    """

    def __init__(self, inner: httpcore.NetworkBackend | None = None):
        self._inner = inner or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        if is_allowed_private(host, port):
            return self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        addresses = _resolve(host, port)
        for address in addresses:
            reason = address_refusal(address)
            if reason:
                raise BlockedAddress(host, port, address, reason)
        error: Exception | None = None
        for address in addresses:
            try:
                return self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options=None):
        raise httpcore.ConnectError("the studio does not connect to unix sockets")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, in the resolver's order, without repeats."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise httpcore.ConnectError(f"could not resolve {host}: {exc}") from exc
    addresses: list[str] = []
    for family, *_, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6) and sockaddr[0] not in addresses:
            addresses.append(sockaddr[0])
    if not addresses:
        raise httpcore.ConnectError(f"could not resolve {host}: no address")
    return addresses


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport on the real network, refusing non-http(s) URLs and connecting
    through ``GuardedBackend``. Takes ``httpx.HTTPTransport``'s arguments (no proxy)."""

    def __init__(self, **kwargs: typing.Any):
        if kwargs.get("proxy") is not None or kwargs.get("uds") is not None:
            raise ValueError("the guarded transport connects directly: no proxy, no unix socket")
        super().__init__(**kwargs)
        pool = self._pool
        if not isinstance(pool, httpcore.ConnectionPool) or not isinstance(
            getattr(pool, "_network_backend", None), httpcore.NetworkBackend
        ):  # pragma: no cover - httpx/httpcore changed their internals
            raise RuntimeError("cannot install the SSRF guard in this httpx/httpcore version")
        # The pool hands its backend to each connection it opens; none is open yet.
        pool._network_backend = GuardedBackend()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme not in ALLOWED_SCHEMES:
            if request.url.scheme:
                what = gettext("a %(scheme)s:// URL") % {"scheme": request.url.scheme}
            else:
                what = gettext("a URL without http(s)://")
            raise BlockedURL(
                gettext("refused %(what)s: the studio only fetches http and https URLs") % {"what": what},
                request=request,
            )
        return super().handle_request(request)


# --- clients --------------------------------------------------------------------------------


def make_client(transport: httpx.BaseTransport | None = None, *, guarded: bool = True) -> httpx.Client:
    """A new ``httpx.Client`` with the studio's timeouts, limits and User-Agent.

    Timeouts: 10 s to connect, ``STUDIO_HTTP_TIMEOUT`` seconds per read/write.
    Without ``transport`` it uses the real network through the SSRF guard
    (``GuardedTransport``), or, with ``guarded=False``, without it. A ``transport``
    given (tests) is used as it is.
    """
    timeout = httpx.Timeout(settings.STUDIO_HTTP_TIMEOUT, connect=10.0)
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=20)
    if transport is None and guarded:
        transport = GuardedTransport(limits=limits, trust_env=False)
    return httpx.Client(
        timeout=timeout,
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
        trust_env=False,
        limits=limits,
        transport=transport,
    )


def client(*, guarded: bool = True) -> httpx.Client:
    """The process-wide client (one per worker process, so connections are reused).

    ``guarded=False`` is a second client without the SSRF guard, for the built-in
    sandbox's reference-image fetch only. Both use the test transport when one is set.
    """
    with _lock:
        existing = _clients.get(guarded)
        if existing is None:
            existing = _clients[guarded] = make_client(_transport, guarded=guarded)
        return existing


def use_transport(transport: httpx.BaseTransport | None) -> None:
    """Route every later request through ``transport`` (tests); None restores the network."""
    global _transport
    with _lock:
        for existing in _clients.values():
            existing.close()
        _clients.clear()
        _transport = transport


# --- requests with a wall-clock deadline ------------------------------------------------------


class DeadlineExceeded(httpx.TimeoutException):
    """The whole exchange took longer than its wall-clock deadline (a host trickling
    bytes slower than the per-read timeout ever notices)."""


class AnswerTooLarge(httpx.HTTPError):
    """The answer is larger than the byte cap the caller set."""


def _declared_length(response: httpx.Response) -> int | None:
    try:
        return int(response.headers["content-length"])
    except (KeyError, ValueError):
        return None


def read_timeout(deadline_s: float) -> httpx.Timeout:
    """Per-phase timeouts that never outlast ``deadline_s``: each read, write and pool wait
    at most ``STUDIO_HTTP_TIMEOUT`` seconds, the connect at most 10, all at most the deadline."""
    per_read = min(float(settings.STUDIO_HTTP_TIMEOUT), deadline_s)
    return httpx.Timeout(per_read, connect=min(10.0, deadline_s))


def fetch(
    client: httpx.Client, method: str, url: str, *, deadline_s: float, max_bytes: int, **kwargs
) -> httpx.Response:
    """Send one request with ``client`` and read its whole answer within ``deadline_s``
    wall-clock seconds and ``max_bytes`` bytes; the answer, with its body read.

    The deadline is checked after every network read, so a host that trickles one byte at
    a time is cut off however slowly it goes (each read itself waits at most
    ``read_timeout``); an answer whose ``Content-Length`` is over ``max_bytes`` is refused
    before its body is read. Raises DeadlineExceeded, AnswerTooLarge, or httpx's own
    errors (``httpx.HTTPError``; BlockedAddress/BlockedURL from the address guard).
    """
    deadline = time.monotonic() + deadline_s
    with client.stream(method, url, timeout=read_timeout(deadline_s), **kwargs) as response:
        declared = _declared_length(response)
        if declared is not None and declared > max_bytes:
            raise AnswerTooLarge(f"the answer is {declared} bytes; at most {max_bytes} are read")
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > max_bytes:
                raise AnswerTooLarge(f"the answer is over {max_bytes} bytes")
            if time.monotonic() > deadline:
                raise DeadlineExceeded(f"the answer took over {deadline_s:g} s")
    # The body is decoded already: the new response must not decode it again.
    headers = [
        (name, value)
        for name, value in response.headers.multi_items()
        if name.lower() not in ("content-encoding", "content-length", "transfer-encoding")
    ]
    return httpx.Response(response.status_code, headers=headers, content=bytes(body), request=response.request)


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
    on_chunk: Callable[[int], None] | None = None,
) -> Download:
    """Stream ``url`` into a temporary file, hashing on the way; memory stays flat.

    ``on_chunk(bytes_so_far)`` is called after each network read (the archive renews
    its lease there, by time); whatever it raises aborts the download.

    ``max_bytes`` (default ``STUDIO_MAX_VIDEO_BYTES``) caps the size (a larger
    ``Content-Length`` is refused before the body is read) and ``deadline_s`` (default
    ``STUDIO_DOWNLOAD_SECONDS``) the wall-clock time, checked after every read, since
    httpx's read timeout bounds each read, not the whole body. Raises
    DownloadError: permanent for 4xx answers, oversize files and URLs the SSRF
    guard refuses (or that are not http(s)) or that cannot be parsed at all,
    transient for network errors, 5xx and deadlines. A partial file is always removed.
    """
    try:
        httpx.URL(url)  # an unclosed IPv6 bracket, a NUL, a bidi control, a lone surrogate…
    except (httpx.InvalidURL, ValueError) as exc:  # UnicodeError is a ValueError
        raise DownloadError(gettext("the video URL is not a valid URL"), permanent=True) from exc
    max_bytes = max_bytes or settings.STUDIO_MAX_VIDEO_BYTES
    deadline_s = deadline_s or settings.STUDIO_DOWNLOAD_SECONDS
    deadline = time.monotonic() + deadline_s
    # Each read waits at most a third of a lease, so a download that stalls ends before
    # the archive's lease (renewed between reads) could lapse.
    timeout = read_timeout(min(deadline_s, settings.STUDIO_LEASE_SECONDS / 3))
    fd, path = tempfile.mkstemp(prefix="studio-dl-", suffix=".part")
    digest = hashlib.sha256()
    size = 0
    try:
        with (
            os.fdopen(fd, "wb") as out,
            client().stream("GET", url, headers=headers or {}, timeout=timeout) as resp,
        ):
            if resp.status_code >= 400:
                raise DownloadError(
                    gettext("the video download answered HTTP %(status)s") % {"status": resp.status_code},
                    permanent=400 <= resp.status_code < 500 and resp.status_code not in (408, 429),
                )
            if resp.status_code >= 300:
                raise DownloadError(
                    gettext("the video download redirected (HTTP %(status)s)") % {"status": resp.status_code}
                )
            declared = _declared_length(resp)
            if declared is not None and declared > max_bytes:
                raise DownloadError(
                    gettext("the video is %(bytes)s bytes, over the %(max)s-byte cap")
                    % {"bytes": declared, "max": max_bytes},
                    permanent=True,
                )
            for chunk in resp.iter_bytes():  # each network read: the deadline holds however slow
                size += len(chunk)
                if size > max_bytes:
                    raise DownloadError(
                        gettext("the video is larger than %(max)s bytes") % {"max": max_bytes}, permanent=True
                    )
                if time.monotonic() > deadline:
                    raise DownloadError(gettext("the video download took too long"))
                digest.update(chunk)
                if on_chunk is not None:
                    on_chunk(size)
                out.write(chunk)
            content_type = resp.headers.get("content-type", "")
    except httpx.UnsupportedProtocol as exc:  # BlockedAddress, BlockedURL, or not an http(s) URL
        os.unlink(path)
        raise DownloadError(gettext("the video URL was refused (%(why)s)") % {"why": exc}, permanent=True) from exc
    except httpx.InvalidURL as exc:  # not an httpx.HTTPError
        os.unlink(path)
        raise DownloadError(gettext("the video URL is not a valid URL"), permanent=True) from exc
    except httpx.HTTPError as exc:
        os.unlink(path)
        raise DownloadError(gettext("the video download failed: %(error)s") % {"error": type(exc).__name__}) from exc
    except BaseException:
        os.unlink(path)
        raise
    if size == 0:
        os.unlink(path)
        raise DownloadError(gettext("the video download was empty"))
    return Download(path=path, bytes=size, sha256=digest.hexdigest(), content_type=content_type)

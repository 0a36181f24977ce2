"""The SSRF guard in ``videos.lib.http``: the studio connects only to public addresses over
http(s), except to allow-listed hosts (the gateways' default hosts, the sandbox,
``STUDIO_ALLOWED_PRIVATE_HOSTS``), and judges the address a name resolves to.

These tests use the real network path (no test transport) but never leave the machine:
``socket.create_connection`` is patched to reach only a local HTTP server on 127.0.0.1,
to which made-up public addresses are redirected, and any other connection attempt
fails the test. Names resolve through a patched ``socket.getaddrinfo``.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.conftest import add_key, make_generation, run_until_done
from videos.gateways.xai import XaiGateway
from videos.lib import http
from videos.models import TaskState

PUBLIC_IP = "93.184.216.34"  # made up for the tests: connections to it reach the local server
PUBLIC_IP6 = "2606:2800:220:1:248:1893:25c8:1946"


@dataclass
class LocalServer:
    """An HTTP server on 127.0.0.1 that answers ``routes`` (path → JSON) and records requests."""

    port: int = 0
    routes: dict[str, object] = field(default_factory=dict)
    seen: list[tuple[str, str, str]] = field(default_factory=list)  # (method, path, Host header)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def server() -> Iterator[LocalServer]:
    state = LocalServer()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            state.seen.append((self.command, self.path, self.headers.get("Host", "")))
            body = json.dumps(state.routes.get(self.path, {"ok": True})).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


@dataclass
class Network:
    """What the patched socket layer saw: connection attempts and name lookups."""

    connects: list[tuple[str, int]] = field(default_factory=list)
    lookups: list[str] = field(default_factory=list)
    names: dict[str, list[list[str]]] = field(default_factory=dict)

    def resolve(self, name: str, *answers: list[str]) -> None:
        """``name`` resolves to the first list of addresses, then the next (the last one stays)."""
        self.names[name] = list(answers)


@pytest.fixture
def network(monkeypatch, server, settings) -> Iterator[Network]:
    """The real network path (no test transport), kept on this machine."""
    settings.STUDIO_ALLOWED_PRIVATE_HOSTS = []
    net = Network()
    real_getaddrinfo = socket.getaddrinfo
    real_create_connection = socket.create_connection

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        if host in net.names:
            net.lookups.append(host)
            answers = net.names[host]
            addresses = answers.pop(0) if len(answers) > 1 else answers[0]
            return [
                (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (a, port, 0, 0))
                if ipaddress.ip_address(a).version == 6
                else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in addresses
            ]
        if host in ("example.com", "example.org"):
            raise AssertionError(f"the test looked up a real name: {host}")
        return real_getaddrinfo(host, port, family, type, proto, flags)

    def create_connection(address, *args, **kwargs):
        host, port = address[0], address[1]
        net.connects.append((host, port))
        if host in (PUBLIC_IP, PUBLIC_IP6):
            return real_create_connection(("127.0.0.1", server.port), *args, **kwargs)
        if (host, port) in (("127.0.0.1", server.port), ("localhost", server.port)):  # allow-listed names
            return real_create_connection(address, *args, **kwargs)
        raise AssertionError(f"the test tried to connect to {host}:{port}")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    http.use_transport(None)
    yield net
    http.use_transport(None)


# --- which addresses ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("::ffff:169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("10.0.0.5", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("fd00:ec2::254", "private"),  # AWS's IPv6 metadata address
        ("64:ff9b::a00:5", "private"),  # NAT64 of 10.0.0.5
        ("2002:a00:5::", "private"),  # 6to4 of 10.0.0.5
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", ""),  # reserved (Python counts it private too)
        ("100.100.100.200", "not publicly routable"),  # shared space; Alibaba's metadata
    ],
)
def test_internal_addresses_are_refused_with_the_reason(address, reason):
    assert reason in http.address_refusal(address)


@pytest.mark.parametrize("address", [PUBLIC_IP, "8.8.8.8", "172.32.0.1", "2606:4700:4700::1111", PUBLIC_IP6])
def test_public_addresses_pass(address):
    assert http.address_refusal(address) is None


# --- through the studio's client --------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://127.0.0.1:{port}/", "127.0.0.1:{port}: a loopback address"),
        ("http://[::1]:{port}/", "[::1]:{port}: a loopback address"),
        ("http://[::ffff:127.0.0.1]:{port}/", "[::ffff:127.0.0.1]:{port}: a loopback address"),
        ("http://0.0.0.0:{port}/", "0.0.0.0:{port}: an unspecified address"),
        ("http://2130706433:{port}/", "2130706433:{port} (it resolves to 127.0.0.1): a loopback address"),
        ("http://localhost:{port}/", "localhost:{port} (it resolves to 127.0.0.1): a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254:80: a link-local address"),
        ("https://10.0.0.5/v1/videos", "10.0.0.5:443: a private address"),
        ("http://172.16.0.1/", "172.16.0.1:80: a private address"),
        ("http://192.168.1.1:8080/", "192.168.1.1:8080: a private address"),
        ("http://[fc00::1]/", "[fc00::1]:80: a private address"),
        ("http://[fe80::1]/", "[fe80::1]:80: a link-local address"),
        ("http://224.0.0.1/", "224.0.0.1:80: a multicast address"),
    ],
)
def test_internal_addresses_are_refused_before_any_connection(network, server, url, shown):
    with pytest.raises(http.BlockedAddress) as caught:
        http.client().get(url.format(port=server.port))
    assert f"refused to connect to {shown.format(port=server.port)}" in str(caught.value)
    assert "STUDIO_ALLOWED_PRIVATE_HOSTS" in str(caught.value)
    assert isinstance(caught.value, httpx.ConnectError)  # nothing was sent
    assert network.connects == [] and server.seen == []


@pytest.mark.parametrize(
    ("name", "addresses", "refused", "reason"),
    [
        ("internal.example", ["127.0.0.1"], "127.0.0.1", "loopback"),
        ("metadata.example", ["169.254.169.254"], "169.254.169.254", "link-local"),
        ("mapped.example", ["::ffff:127.0.0.1"], "[::ffff:127.0.0.1]", "loopback"),
        ("office.example", ["192.168.0.10"], "192.168.0.10", "private"),
        ("ula.example", ["fd12:3456::5"], "[fd12:3456::5]", "private"),
        ("mixed.example", [PUBLIC_IP, "10.1.2.3"], "10.1.2.3", "private"),  # one bad address taints the name
    ],
)
def test_a_name_is_judged_by_the_addresses_it_resolves_to(network, server, name, addresses, refused, reason):
    network.resolve(name, addresses)
    with pytest.raises(http.BlockedAddress) as caught:
        http.client().get(f"https://{name}/v1/videos")
    assert f"refused to connect to {name}:443 (it resolves to {refused}): a {reason}" in str(caught.value)
    assert (caught.value.host, caught.value.port) == (name, 443)
    assert network.connects == []


@pytest.mark.parametrize(
    "url", ["ftp://example.com/video.mp4", "file:///etc/passwd", "ws://127.0.0.1:{port}/", "gopher://example.com/"]
)
def test_only_http_and_https_urls_are_fetched(network, server, url):
    with pytest.raises(httpx.UnsupportedProtocol):
        http.client().get(url.format(port=server.port))
    assert network.connects == [] and server.seen == []


def test_a_public_address_is_fetched(network, server):
    assert http.client().get(f"http://{PUBLIC_IP}/hello").json() == {"ok": True}
    assert http.client().get(f"http://[{PUBLIC_IP6}]/hello").json() == {"ok": True}
    assert network.connects == [(PUBLIC_IP, 80), (PUBLIC_IP6, 80)]


def test_a_public_name_is_resolved_once_and_the_checked_address_is_connected(network, server):
    """DNS rebinding: the second answer would be loopback; the guard connects to the first."""
    network.resolve("videos.example", [PUBLIC_IP], ["127.0.0.1"])
    response = http.client().get("http://videos.example/clip.mp4")
    assert response.status_code == 200
    assert network.lookups == ["videos.example"]
    assert network.connects == [(PUBLIC_IP, 80)]  # the address, not the name
    assert server.seen == [("GET", "/clip.mp4", "videos.example")]


def test_an_allow_listed_private_host_is_fetched_and_the_setting_is_read_per_request(network, server, settings):
    with pytest.raises(http.BlockedAddress):
        http.client().get(f"{server.url}/status")
    settings.STUDIO_ALLOWED_PRIVATE_HOSTS = ["gw.internal:8443", f"127.0.0.1:{server.port}"]
    assert http.client().get(f"{server.url}/status").json() == {"ok": True}
    assert server.seen == [("GET", "/status", f"127.0.0.1:{server.port}")]


@pytest.mark.parametrize(
    ("allowed", "url", "passes"),
    [
        ("127.0.0.1", "http://127.0.0.1:{port}/", True),  # no port: any port
        ("gw.internal:8443, 127.0.0.1:{port}", "http://127.0.0.1:{port}/", True),  # a comma-separated string
        ("http://127.0.0.1:{port}", "http://127.0.0.1:{port}/", True),  # a URL
        ("127.0.0.1:1", "http://127.0.0.1:{port}/", False),  # another port
        ("127.0.0.1:{port}", "http://localhost:{port}/", False),  # hosts match as written, not by address
        ("localhost:{port}", "http://localhost:{port}/", True),
        ("LocalHost.:{port}", "http://localhost:{port}/", True),
        ("not a host/with a path", "http://127.0.0.1:{port}/", False),  # ignored with a warning
    ],
)
def test_allow_list_items(network, server, settings, allowed, url, passes):
    settings.STUDIO_ALLOWED_PRIVATE_HOSTS = allowed.format(port=server.port)
    if passes:
        assert http.client().get(url.format(port=server.port)).status_code == 200
    else:
        with pytest.raises(http.BlockedAddress):
            http.client().get(url.format(port=server.port))


def test_an_ipv6_allow_list_item_matches_any_spelling(network, settings):
    settings.STUDIO_ALLOWED_PRIVATE_HOSTS = ["[fd00::0:5]:8080"]
    assert http.is_allowed_private("fd00::5", 8080)
    assert not http.is_allowed_private("fd00::5", 8081)


def test_the_sandbox_host_is_allowed_while_the_sandbox_is_enabled(network, server, settings):
    settings.STUDIO_SANDBOX_URL = f"{server.url}/sandbox"
    settings.STUDIO_SANDBOX_ENABLED = False
    with pytest.raises(http.BlockedAddress):
        http.client().get(f"{server.url}/sandbox/openai/v1/videos/x")
    settings.STUDIO_SANDBOX_ENABLED = True
    assert http.client().get(f"{server.url}/sandbox/openai/v1/videos/x").status_code == 200


def test_the_registered_gateways_default_hosts_are_allowed(network, server, monkeypatch):
    assert ("api.x.ai", 443) in http.private_allowlist()
    assert ("api.x.ai", 80) not in http.private_allowlist()
    # The app hands the registry's hosts in once; the helper itself knows no gateway.
    monkeypatch.setattr(http, "_gateway_hosts", http._gateway_hosts)
    http.allow_gateway_hosts([XaiGateway.default_base_url, server.url])
    assert http.client().get(f"{server.url}/v1/videos/x").status_code == 200


def test_the_studio_public_url_is_not_allowed_by_itself(network, server, settings):
    """The studio never fetches its own public URL (only the sandbox does, unguarded)."""
    settings.STUDIO_PUBLIC_URL = server.url
    with pytest.raises(http.BlockedAddress):
        http.client().get(f"{server.url}/r/token.png")


def test_the_unguarded_client_is_for_the_sandbox_alone(network, server):
    assert http.client(guarded=False) is not http.client()
    assert http.client(guarded=False).get(f"{server.url}/r/token.png").status_code == 200


def test_test_transports_bypass_the_guard():
    http.use_transport(httpx.MockTransport(lambda request: httpx.Response(204)))
    try:
        assert http.client().get("http://10.0.0.5/").status_code == 204
        assert http.client(guarded=False).get("http://10.0.0.5/").status_code == 204
    finally:
        http.use_transport(None)


def test_redirects_are_not_followed(network, server):
    assert http.client().follow_redirects is False


# --- what the pipeline makes of it -------------------------------------------------------------


def test_a_video_download_from_a_private_address_fails_permanently(network):
    network.resolve("cdn.example", ["10.20.30.40"])
    for url, shown in [
        ("http://10.0.0.5/video.mp4", "10.0.0.5:80: a private address"),
        ("https://cdn.example/video.mp4", "cdn.example:443 (it resolves to 10.20.30.40): a private address"),
        ("ftp://10.0.0.5/video.mp4", "ftp:// URL"),
    ]:
        with pytest.raises(http.DownloadError) as caught:
            http.download_to_tempfile(url)
        assert caught.value.permanent, url
        assert shown in caught.value.message
    assert network.connects == []


def test_a_finished_video_on_a_private_address_fails_the_task_with_a_clear_message(
    network, server, settings, owner, team
):
    """A self-hosted gateway on an allow-listed private host works, but the video URL it
    answers may not point elsewhere on the private network."""
    settings.STUDIO_ALLOWED_PRIVATE_HOSTS = f"127.0.0.1:{server.port}"
    server.routes["/v1/videos"] = {"id": "vid_1", "object": "video", "status": "queued", "progress": 0}
    server.routes["/v1/videos/vid_1"] = {
        "id": "vid_1",
        "status": "completed",
        "progress": 100,
        "video_url": "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    }
    key = add_key(owner, team, secret="sk-self-hosted", base_url=server.url, label="Self-hosted")
    generation = make_generation(owner, team, key)
    task = run_until_done(generation.task.pk)
    assert task.state == TaskState.FAILED, task.last_error
    assert task.last_error.startswith("The finished video could not be saved: the video URL was refused")
    assert "169.254.169.254:80: a link-local address" in task.last_error
    assert [(method, path) for method, path, _ in server.seen] == [("POST", "/v1/videos"), ("GET", "/v1/videos/vid_1")]
    assert set(network.connects) == {("127.0.0.1", server.port)}  # never 169.254.169.254


def test_a_key_on_a_private_address_fails_the_submit_naming_the_address(network, owner, team):
    key = add_key(owner, team, secret="sk-internal", base_url="http://10.0.0.5/v1", label="Internal")
    generation = make_generation(owner, team, key)
    task = run_until_done(generation.task.pk, rounds=1)
    assert task.state == TaskState.FAILED
    assert "10.0.0.5" in task.last_error
    assert network.connects == []

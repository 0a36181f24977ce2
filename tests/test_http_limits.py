"""Outbound requests end on time and within size, however the other side behaves:
a wall-clock deadline checked at every read (a trickle is cut off), and a byte cap that
refuses an announced oversize answer before reading it."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.test_faults import trickling_gateway
from videos.lib import http


@pytest.fixture
def network(settings):
    http.use_transport(None)
    yield settings
    http.use_transport(None)


def test_a_status_answer_that_trickles_is_cut_off_at_its_deadline(network):
    with trickling_gateway() as url:
        network.STUDIO_ALLOWED_PRIVATE_HOSTS = [url]
        started = time.monotonic()
        with pytest.raises(http.DeadlineExceeded):
            http.fetch(http.client(), "GET", f"{url}/v1/videos/x", deadline_s=2, max_bytes=1_000_000)
        assert time.monotonic() - started < 3.5  # one byte a second: cut at about 2 s, not 100,000 s


def test_an_announced_oversize_answer_is_refused_before_its_body_is_read(network):
    with trickling_gateway() as url:  # announces 100,000 bytes, then one byte a second
        network.STUDIO_ALLOWED_PRIVATE_HOSTS = [url]
        started = time.monotonic()
        with pytest.raises(http.AnswerTooLarge):
            http.fetch(http.client(), "GET", f"{url}/v1/videos/x", deadline_s=30, max_bytes=10_000)
        assert time.monotonic() - started < 1.0


def test_an_answer_over_the_cap_without_a_length_is_cut_at_the_cap():
    body = b"x" * 50_000
    client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, content=iter([body]))))
    with pytest.raises(http.AnswerTooLarge):
        http.fetch(client, "GET", "https://gateway.example/v1/videos/x", deadline_s=5, max_bytes=10_000)
    ok = http.fetch(client, "GET", "https://gateway.example/v1/videos/x", deadline_s=5, max_bytes=60_000)
    assert ok.status_code == 200 and ok.content == body


def test_a_gzip_answer_is_read_decoded_once():
    import gzip

    packed = gzip.compress(b'{"status": "done"}')
    answer = httpx.Response(
        200, content=packed, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}
    )
    client = httpx.Client(transport=httpx.MockTransport(lambda r: answer))
    response = http.fetch(client, "GET", "https://gateway.example/v1/videos/x", deadline_s=5, max_bytes=1000)
    assert response.json() == {"status": "done"}


def test_a_video_download_that_trickles_ends_at_its_deadline_renewing_its_lease_by_time(network):
    calls = []
    with trickling_gateway() as url:
        network.STUDIO_ALLOWED_PRIVATE_HOSTS = [url]
        started = time.monotonic()
        with pytest.raises(http.DownloadError) as caught:
            http.download_to_tempfile(f"{url}/video.mp4", deadline_s=3, on_chunk=calls.append)
    assert "took too long" in caught.value.message and not caught.value.permanent
    assert time.monotonic() - started < 4.5
    assert len(calls) >= 2  # called at each byte that came in, not once per megabyte


def test_a_video_announced_over_the_cap_is_refused_before_download(network):
    with trickling_gateway() as url:
        network.STUDIO_ALLOWED_PRIVATE_HOSTS = [url]
        started = time.monotonic()
        with pytest.raises(http.DownloadError) as caught:
            http.download_to_tempfile(f"{url}/video.mp4", max_bytes=10_000)
    assert caught.value.permanent and "over the 10000-byte cap" in caught.value.message
    assert time.monotonic() - started < 1.0

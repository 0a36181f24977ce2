"""Media in an S3-compatible bucket (S3_BUCKET): archived to it, served from it.

Against a real S3 server on loopback: moto's server mode, at STUDIO_TEST_S3_ENDPOINT
when CI started one (``.ci/services``), otherwise started here in a thread. Nothing
leaves 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import bucket_storage, make_generation, png_bytes, run_until_done
from videos import actions
from videos.lib import zipstream
from videos.lib.storage import BucketStorage, bucket_options, bucket_origin
from videos.models import Asset, NewReference, TaskState
from videos.web.downloads import download_name


def keys_in(bucket) -> set[str]:
    return {item["Key"] for item in bucket.s3.list_objects_v2(Bucket=bucket.name).get("Contents", [])}


@pytest.fixture
def archived(bucket, owner, team, key, gateway):
    generation = make_generation(owner, team, key)
    task = run_until_done(generation.task.pk)
    assert task.state == TaskState.COMPLETED, task.last_error
    asset = Asset.objects.get(generation=generation)
    body = bucket.s3.get_object(Bucket=bucket.name, Key=asset.file.name)["Body"].read()
    return SimpleNamespace(generation=generation, asset=asset, body=body, bucket=bucket.name)


def test_the_archive_puts_the_video_and_its_poster_in_the_bucket(bucket, archived, settings):
    asset = archived.asset
    assert hashlib.sha256(archived.body).hexdigest() == asset.sha256
    assert len(archived.body) == asset.bytes > 1000
    head = bucket.s3.head_object(Bucket=bucket.name, Key=asset.file.name)
    assert head["ContentType"] == "video/mp4"
    poster = bucket.s3.get_object(Bucket=bucket.name, Key=asset.poster.name)
    assert poster["ContentType"] == "image/jpeg" and poster["Body"].read()[:3] == b"\xff\xd8\xff"
    assert keys_in(bucket) == {asset.file.name, asset.poster.name}
    assert not os.path.exists(os.path.join(settings.MEDIA_ROOT, asset.file.name))  # nothing on the local disk


def test_the_studio_streams_the_video_and_its_ranges_from_the_bucket(archived, client_for, owner):
    client = client_for(owner)
    url = reverse("video_file", args=[archived.generation.uuid])
    body, size = archived.body, len(archived.body)
    full = client.get(url)
    assert full.status_code == 200 and full["Content-Type"] == "video/mp4"
    assert full["Content-Length"] == str(size) and full["Accept-Ranges"] == "bytes"
    assert b"".join(full.streaming_content) == body
    part = client.get(url, HTTP_RANGE="bytes=100-299")
    assert part.status_code == 206 and part["Content-Range"] == f"bytes 100-299/{size}"
    assert b"".join(part.streaming_content) == body[100:300]
    tail = client.get(url, HTTP_RANGE="bytes=-50")
    assert b"".join(tail.streaming_content) == body[-50:]
    beyond = client.get(url, HTTP_RANGE=f"bytes={size}-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{size}"
    download = client.get(url + "?download=1")
    assert download["Content-Disposition"].startswith("attachment;")
    poster = client.get(reverse("poster_file", args=[archived.generation.uuid]))
    assert poster.status_code == 200 and b"".join(poster.streaming_content)[:3] == b"\xff\xd8\xff"


def test_signed_delivery_sends_members_to_a_short_lived_link(archived, client_for, owner, outsider, settings):
    settings.STUDIO_MEDIA_DELIVERY = "signed"
    settings.STUDIO_MEDIA_URL_SECONDS = 120
    url = reverse("video_file", args=[archived.generation.uuid])
    response = client_for(owner).get(url + "?download=1")
    assert response.status_code == 302 and response["Cache-Control"] == "private, max-age=60"
    link = response["Location"]
    query = parse_qs(urlsplit(link).query)
    # Signed for this one object, for STUDIO_MEDIA_URL_SECONDS (moto does not check
    # signatures, so the refusal of a forged or stale link is S3's part, not tested here).
    assert query["X-Amz-Expires"] == ["120"] and len(query["X-Amz-Signature"][0]) == 64
    assert urlsplit(link).path == f"/{archived.bucket}/{archived.asset.file.name}"
    fetched = httpx.get(link)  # the browser's second request goes to the bucket itself
    assert fetched.status_code == 200 and fetched.content == archived.body
    assert fetched.headers["content-type"] == "video/mp4"
    assert fetched.headers["content-disposition"] == f'attachment; filename="{download_name(archived.generation)}"'
    ranged = httpx.get(link, headers={"Range": "bytes=0-99"})
    assert ranged.status_code == 206 and ranged.content == archived.body[:100]
    # Access is still the studio's decision: no link for someone outside the team.
    assert client_for(outsider).get(url).status_code == 404


def test_reference_links_for_gateways_stay_on_the_studio_when_delivery_is_signed(
    bucket, owner, team, key, gateway, client, settings
):
    settings.STUDIO_MEDIA_DELIVERY = "signed"
    image = png_bytes()
    generation = make_generation(owner, team, key, references=[NewReference("image/png", image, 64, 36)])
    reference = generation.reference_images.get()
    assert reference.image.name in keys_in(bucket)

    response = client.get(urlsplit(reference.signed_url()).path)
    assert response.status_code == 200  # bytes through the studio: a gateway may not follow a redirect
    assert b"".join(response.streaming_content) == image


def test_the_zip_of_several_videos_is_read_from_the_bucket(bucket, owner, team, key, gateway):
    generations = [make_generation(owner, team, key, prompt=f"Clip {n}") for n in range(2)]
    for generation in generations:
        run_until_done(generation.task.pk)
    assets = [Asset.objects.get(generation=g) for g in generations]
    entries = [
        zipstream.ZipEntry(f"clip-{n}.mp4", a.file.storage, a.file.name, a.bytes, timezone.now())
        for n, a in enumerate(assets)
    ]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(zipstream.stream_zip(entries, chunk_size=4096))))
    assert archive.namelist() == ["clip-0.mp4", "clip-1.mp4"]
    for n, asset in enumerate(assets):
        assert hashlib.sha256(archive.read(f"clip-{n}.mp4")).hexdigest() == asset.sha256


def test_a_video_missing_from_the_bucket_is_404_and_a_store_that_does_not_answer_503(
    archived, bucket, client_for, owner, settings
):
    client = client_for(owner)
    url = reverse("video_file", args=[archived.generation.uuid])
    bucket.s3.delete_object(Bucket=bucket.name, Key=archived.asset.file.name)
    assert client.get(url).status_code == 404
    settings.STORAGES = {
        **settings.STORAGES,
        "default": bucket_storage(bucket.name, "http://127.0.0.1:9", connect_timeout=1, retries={"max_attempts": 1}),
    }
    down = client.get(reverse("poster_file", args=[archived.generation.uuid]))
    assert down.status_code == 503 and down["Retry-After"]


def test_deleting_a_generation_removes_its_objects_from_the_bucket(
    bucket, owner, team, key, gateway, django_capture_on_commit_callbacks
):
    generation = make_generation(owner, team, key, references=[NewReference("image/png", png_bytes(), 64, 36)])
    run_until_done(generation.task.pk)
    assert len(keys_in(bucket)) == 3  # the reference image, the video, the poster
    with django_capture_on_commit_callbacks(execute=True):
        actions.delete_generation(generation, owner)
    assert keys_in(bucket) == set()


@pytest.mark.parametrize(
    "address",
    [
        {"region": "us-east-1", "addressing_style": "virtual"},
        {"region": "eu-west-1", "addressing_style": "virtual"},
        {"region": "eu-west-1", "addressing_style": "path"},
        {"endpoint_url": "https://minio.internal:9000", "addressing_style": "path"},
        {"endpoint_url": "https://minio.internal:9000", "addressing_style": "virtual"},
    ],
)
def test_the_csp_origin_is_the_one_the_signed_links_use(address, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    options = {"endpoint_url": None, "region": None, **address}
    storage = BucketStorage(**bucket_options("studio-media", **options))
    link = urlsplit(storage.signed_url("videos/a.mp4", expire=60, content_type="video/mp4", disposition="inline"))
    assert bucket_origin("studio-media", **options) == f"{link.scheme}://{link.netloc}"

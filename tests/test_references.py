"""Reference images for URL-only gateways: pasted URLs, and uploads at signed, expiring links."""

from __future__ import annotations

from unittest import mock

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.conftest import add_key, make_generation, png_bytes, run_until_done
from videos.models import Generation, NewReference, TaskState

HTMX = {"HTTP_HX_REQUEST": "true"}


def reapi_form(key, **overrides):
    data = {
        "key": str(key.uuid),
        "model": "grok-imagine-video-1.5-official",
        "prompt": "A slow push-in",
        "duration": "5",
        "aspect_ratio": "16:9",
        "resolution": "480p",
        "audio": "on",
    }
    data.update(overrides)
    return data


def test_an_upload_reaches_a_url_only_gateway_through_its_signed_link(gateway, owner, team):
    key = add_key(owner, team, dialect="reapi", secret="sk-reapi-0001")
    generation = make_generation(
        owner, team, key, references=[NewReference("image/png", png_bytes((320, 180)), 320, 180)]
    )
    assert run_until_done(generation.task.pk).state == TaskState.COMPLETED
    fetched = [r for r in gateway.requests if r.url.host == "studio.test"]
    assert len(fetched) == 1 and fetched[0].url.path.startswith("/r/") and fetched[0].url.path.endswith(".png")
    (submitted,) = gateway.json_bodies("POST")
    assert submitted["image_urls"] == [str(fetched[0].url)]


def test_the_signed_link_stops_working_after_it_expires(client, owner, team, key, settings):
    generation = make_generation(owner, team, key, references=[NewReference("image/png", png_bytes(), 64, 36)])
    ref = generation.reference_images.get()
    url = ref.signed_url().removeprefix(settings.STUDIO_PUBLIC_URL)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    later = __import__("time").time() + settings.STUDIO_REFERENCE_URL_SECONDS + 5
    with mock.patch("django.core.signing.time.time", return_value=later):
        assert client.get(url).status_code == 404


def test_a_forged_or_altered_link_is_404(client, owner, team, key, settings):
    generation = make_generation(owner, team, key, references=[NewReference("image/png", png_bytes(), 64, 36)])
    url = generation.reference_images.get().signed_url().removeprefix(settings.STUDIO_PUBLIC_URL)
    token = url.split("/")[2].rsplit(".", 1)[0]
    assert client.get(f"/r/{token[:-2]}xx.png").status_code == 404
    assert client.get(f"/r/{token}.jpg").status_code == 404  # the extension is part of the link


def test_an_upload_needs_a_public_address_for_a_url_only_gateway(client_for, owner, team, settings):
    settings.STUDIO_PUBLIC_URL = ""
    key = add_key(owner, team, dialect="reapi", secret="sk-reapi-0001")
    upload = SimpleUploadedFile("cat.png", png_bytes(), content_type="image/png")
    response = client_for(owner).post(reverse("generate"), {**reapi_form(key), "reference_images": [upload]})
    assert response.status_code == 400
    assert "Paste an image URL" in response.content.decode() and "STUDIO_PUBLIC_URL" in response.content.decode()
    assert not Generation.objects.exists()


def test_a_pasted_url_is_sent_as_is(gateway, client_for, owner, team):
    key = add_key(owner, team, dialect="reapi", secret="sk-reapi-0001")
    client_for(owner).post(reverse("generate"), reapi_form(key, reference_urls="https://images.example/cat.png"))
    generation = Generation.objects.get()
    assert generation.reference_images.get().source_url == "https://images.example/cat.png"
    assert not generation.reference_images.get().image


def test_a_pasted_url_must_be_http(client_for, owner, team):
    key = add_key(owner, team, dialect="reapi", secret="sk-reapi-0001")
    for bad in ("data:image/png;base64,iVBORw0KGgo=", "ftp://host/cat.png", "javascript:alert(1)"):
        response = client_for(owner).post(reverse("generate"), reapi_form(key, reference_urls=bad))
        assert response.status_code == 400 and "is not an http(s) URL" in response.content.decode()
    assert not Generation.objects.exists()


def test_switching_the_key_switches_the_options(client_for, owner, team):
    client = client_for(owner)
    jimmy = add_key(owner, team, dialect="jimmyai", secret="sk-jimmy-0001")
    reapi = add_key(owner, team, dialect="reapi", secret="sk-reapi-0001")
    html = client.get(reverse("compose_options"), {"key": str(jimmy.uuid)}, **HTMX).content.decode()
    assert '<option value="10"' in html and '<option value="15"' in html and '<option value="6"' not in html
    assert 'name="resolution"' not in html and 'name="reference_urls"' in html
    html = client.get(
        reverse("compose_options"), {"key": str(reapi.uuid), "model": "grok-imagine-video-1.5-beta"}, **HTMX
    ).content.decode()
    assert 'value="grok-imagine-video-1.5-beta" selected' in html
    assert 'name="audio"' not in html  # the beta channel has no audio switch
    html = client.get(reverse("compose_options"), {"key": str(reapi.uuid)}, **HTMX).content.decode()
    assert 'name="audio"' in html

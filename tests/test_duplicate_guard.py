"""The duplicate guard: an identical request the team made in the last 30 minutes is not
paid for again without the member saying so (issue 13, item 7)."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from tests.conftest import add_key, png_bytes
from videos.models import Generation, LedgerEntry

HTMX = {"HTTP_HX_REQUEST": "true"}


def form(key, prompt="A paper boat on a rainy street", **extra):
    data = {
        "key": str(key.uuid),
        "prompt": prompt,
        "duration": "8",
        "aspect_ratio": "16:9",
        "resolution": "480p",
    }
    return {**data, **extra}


def test_the_estimate_says_the_team_made_this_and_links_it(client_for, owner, team, key, priced):
    client = client_for(owner)
    client.post(reverse("generate"), form(key), **HTMX)
    earlier = Generation.objects.get()
    Generation.objects.filter(pk=earlier.pk).update(created_at=timezone.now() - timedelta(minutes=12))
    html = client.post(reverse("estimate"), form(key)).content.decode()
    assert "The team made this 12 minutes ago:" in html
    assert reverse("generation", args=[earlier.uuid]) in html
    other = client.post(reverse("estimate"), form(key, prompt="A different boat")).content.decode()
    assert "The team made this" not in other


def test_a_request_made_seconds_ago_is_said_to_be_less_than_a_minute_old(client_for, owner, team, key, priced):
    client = client_for(owner)
    client.post(reverse("generate"), form(key), **HTMX)
    html = client.post(reverse("estimate"), form(key)).content.decode()
    assert "The team made this less than a minute ago:" in html and "0 minutes" not in html


def test_an_identical_submit_is_held_back_until_generate_anyway(client_for, owner, team, key, priced):
    client = client_for(owner)
    client.post(reverse("generate"), form(key), **HTMX)
    earlier = Generation.objects.get()
    again = client.post(reverse("generate"), form(key), **HTMX).content.decode()
    assert "nothing was charged" in again
    assert "Generate anyway" in again and reverse("generation", args=[earlier.uuid]) in again
    assert Generation.objects.count() == 1 and LedgerEntry.objects.count() == 1
    page = client.post(reverse("generate"), form(key))  # without htmx: the page, 400
    assert page.status_code == 400 and "nothing was charged" in page.content.decode()
    client.post(reverse("generate"), form(key, allow_duplicate="on"), **HTMX)
    assert Generation.objects.count() == 2 and LedgerEntry.objects.count() == 2


def test_a_teammates_identical_request_counts(client_for, owner, team, teammate, key, bob_key, priced):
    client_for(owner).post(reverse("generate"), form(key), **HTMX)
    client = client_for(teammate)
    held = client.post(reverse("generate"), form(bob_key), **HTMX).content.decode()
    assert "nothing was charged" in held and Generation.objects.count() == 1


def test_after_thirty_minutes_it_is_no_duplicate(client_for, owner, team, key, priced):
    client = client_for(owner)
    client.post(reverse("generate"), form(key), **HTMX)
    Generation.objects.update(created_at=timezone.now() - timedelta(minutes=31))
    client.post(reverse("generate"), form(key), **HTMX)
    assert Generation.objects.count() == 2


def test_other_options_or_another_teams_request_are_no_duplicate(client_for, owner, team, outsider, key, priced):
    client = client_for(owner)
    client.post(reverse("generate"), form(key), **HTMX)
    client.post(reverse("generate"), form(key, duration="4"), **HTMX)
    assert Generation.objects.count() == 2
    mallory_key = add_key(outsider, outsider.teams.get(), secret="sk-sandbox-mallory-0004")
    client_for(outsider).post(reverse("generate"), form(mallory_key), **HTMX)
    assert Generation.objects.count() == 3


def test_spaces_in_the_prompt_do_not_hide_a_duplicate(client_for, owner, team, key, priced):
    client = client_for(owner)
    client.post(reverse("generate"), form(key), **HTMX)
    client.post(reverse("generate"), form(key, prompt="  A paper  boat on a rainy street "), **HTMX)
    assert Generation.objects.count() == 1


def test_other_reference_images_are_no_duplicate(client_for, owner, team, key, priced, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.STUDIO_PUBLIC_URL = "https://studio.example"
    client = client_for(owner)

    def upload(color):
        return SimpleUploadedFile("ref.png", png_bytes(color=color), content_type="image/png")

    client.post(reverse("generate"), {**form(key), "reference_images": upload((1, 2, 3))}, **HTMX)
    assert Generation.objects.count() == 1
    client.post(reverse("generate"), {**form(key), "reference_images": upload((200, 2, 3))}, **HTMX)
    assert Generation.objects.count() == 2
    held = client.post(reverse("generate"), {**form(key), "reference_images": upload((1, 2, 3))}, **HTMX)
    assert "nothing was charged" in held.content.decode() and Generation.objects.count() == 2

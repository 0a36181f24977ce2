"""The studio page: the compose form, its refusals, the progress cards; pages as members, viewers and outsiders see them."""

from __future__ import annotations

import re
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Membership, Role
from tests.conftest import add_key, make_generation, make_user, png_bytes, run_until_done
from videos.models import Generation, LedgerEntry, TaskState

HTMX = {"HTTP_HX_REQUEST": "true"}


def form_data(key, **overrides):
    data = {
        "key": str(key.uuid),
        "prompt": "A lighthouse in a storm",
        "duration": "2",
        "aspect_ratio": "16:9",
        "resolution": "480p",
    }
    data.update(overrides)
    return data


def test_the_studio_shows_the_compose_form_with_its_labels(client_for, owner, key):
    html = client_for(owner).get(reverse("studio")).content.decode()
    for label in (
        "Gateway key",
        "Prompt",
        "Reference images",
        "Duration (s)",
        "Aspect ratio",
        "Resolution",
        "Generate",
    ):
        assert label in html
    # The sandbox key's model offers 480p and 720p and defaults to 720p.
    assert '<option value="720p" selected>' in html and '<option value="480p">' in html


def test_the_studio_asks_for_a_key_first(client_for, owner):
    html = client_for(owner).get(reverse("studio")).content.decode()
    assert "Add a gateway key" in html and "Generate" not in html


def test_it_rejects_get_on_generate(client_for, owner, key):
    assert client_for(owner).get(reverse("generate")).status_code == 405


def test_generate_with_htmx_returns_the_new_polling_card(client_for, owner, key, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = client_for(owner).post(reverse("generate"), form_data(key), **HTMX)
    assert response.status_code == 200
    generation = Generation.objects.get()
    html = response.content.decode()
    assert f'id="card-{generation.uuid}"' in html
    assert 'hx-trigger="every 2s"' in html
    assert generation.task.state == TaskState.PENDING
    assert len(callbacks) == 1  # the submit is queued only after the transaction commits


def test_generate_without_javascript_redirects_to_the_studio(client_for, owner, key):
    response = client_for(owner).post(reverse("generate"), form_data(key))
    assert response.status_code == 302 and response["Location"] == reverse("studio")
    assert Generation.objects.count() == 1


def test_a_bad_choice_is_refused_next_to_its_field_and_nothing_is_saved(client_for, owner, key, gateway):
    response = client_for(owner).post(reverse("generate"), form_data(key, duration="99"), **HTMX)
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#compose"
    assert "Select a valid choice" in response.content.decode()
    assert not Generation.objects.exists() and gateway.requests == []


def test_a_too_long_prompt_names_the_gateways_rule(client_for, owner, key):
    response = client_for(owner).post(reverse("generate"), form_data(key, prompt="x" * 5000))
    assert response.status_code == 400
    assert "at most 4096 characters" in response.content.decode()
    assert not Generation.objects.exists()


def test_a_file_that_is_not_an_image_is_refused(client_for, owner, key):
    upload = SimpleUploadedFile("cat.png", b"not an image", content_type="image/png")
    response = client_for(owner).post(reverse("generate"), {**form_data(key), "reference_images": [upload]})
    assert response.status_code == 400
    assert "cat.png is not a readable image" in response.content.decode()


def test_reference_images_are_saved_with_the_request(client_for, owner, key):
    upload = SimpleUploadedFile("red.png", png_bytes(), content_type="image/png")
    client_for(owner).post(reverse("generate"), {**form_data(key), "reference_images": [upload]})
    ref = Generation.objects.get().reference_images.get()
    assert (ref.content_type, ref.width, ref.height) == ("image/png", 64, 36)


def test_a_member_cannot_use_a_teammates_key(client_for, owner, team, teammate, key):
    response = client_for(teammate).post(reverse("generate"), form_data(key))
    assert response.status_code == 400
    assert not Generation.objects.exists()


def test_a_viewer_cannot_generate(client_for, team):
    viewer = make_user("vera")
    Membership.objects.create(team=team, user=viewer, role=Role.VIEWER)
    viewer_key = add_key(viewer, team, secret="sk-viewer-key-0000")
    response = client_for(viewer).post(reverse("generate"), form_data(viewer_key))
    assert response.status_code == 403
    assert not Generation.objects.exists()


def test_choosing_a_key_rerenders_its_options(client_for, owner, key):
    response = client_for(owner).get(reverse("compose_options"), {"key": str(key.uuid)}, **HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="options"')
    assert "Duration (s)" in html and "15 s" in html and "720p" in html


def test_the_card_polls_while_running_and_stops_when_done(client_for, owner, team, key, gateway):
    generation = make_generation(owner, team, key)
    client = client_for(owner)
    running = client.get(reverse("card", args=[generation.uuid]), **HTMX)
    assert running.status_code == 200 and 'name="card"' in running.content.decode()  # the page's poller follows it
    run_until_done(generation.task.pk)
    done = client.get(reverse("card", args=[generation.uuid]), **HTMX)
    assert done.status_code == 286  # htmx stops polling
    html = done.content.decode()
    assert "<video" in html and reverse("video_file", args=[generation.uuid]) in html
    assert reverse("poster_file", args=[generation.uuid]) in html
    assert 'name="card"' not in html


def test_a_failed_card_shows_the_gateways_message(client_for, owner, team, key, gateway):
    generation = make_generation(owner, team, key, prompt="[fail] please")
    run_until_done(generation.task.pk)
    html = client_for(owner).get(reverse("card", args=[generation.uuid]), **HTMX).content.decode()
    assert "Failed" in html and "[fail]" in html


def test_pages_need_a_login(client):
    for name in ("studio", "history", "keys", "teams"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_pages_carry_a_csp_with_a_script_nonce(client_for, owner, key):
    response = client_for(owner).get(reverse("studio"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in response.content.decode()
    assert "hx-on" not in response.content.decode()


# --- one submission, one generation -------------------------------------------------------------


def submission_token(html: str) -> str:
    return re.search(r'name="submission" id="submission" value="([0-9a-f]{32})"', html).group(1)


def test_a_second_post_of_the_same_form_returns_the_first_generation(client_for, owner, key, priced):
    client = client_for(owner)
    token = submission_token(client.get(reverse("studio")).content.decode())
    data = form_data(key, submission=token)

    first = client.post(reverse("generate"), data, **HTMX)
    again = client.post(reverse("generate"), data, **HTMX)
    plain = client.post(reverse("generate"), data, follow=True)

    assert Generation.objects.count() == 1 and LedgerEntry.objects.filter(kind="hold").count() == 1
    assert first.status_code == 200 and 'class="card' in first.content.decode()
    assert again.status_code == 204 and again["HX-Reswap"] == "none"
    assert "already queued" in plain.content.decode()
    fresh = submission_token(first.content.decode())  # the form on the page gets a new token
    assert fresh != token and 'hx-swap-oob="true"' in first.content.decode()
    # The same request again on purpose: past the duplicate guard ("Generate anyway").
    client.post(reverse("generate"), form_data(key, submission=fresh, allow_duplicate="on"), **HTMX)
    assert Generation.objects.count() == 2


def test_each_rendering_of_the_form_carries_its_own_token(client_for, owner, key):
    client = client_for(owner)
    tokens = {submission_token(client.get(reverse("studio")).content.decode()) for _ in range(3)}
    assert len(tokens) == 3


def test_a_forged_token_is_refused_where_the_form_is(client_for, owner, key):
    response = client_for(owner).post(reverse("generate"), form_data(key, submission="x" * 40))
    assert response.status_code == 400 and "This form is out of date" in response.content.decode()
    assert not Generation.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_posts_of_one_form_make_one_generation_and_one_hold(owner, team, key, priced):
    from django.db import connections

    from videos import actions
    from videos.gateways.base import GenerationInput

    choices = GenerationInput(model=key.gateway_class.spec().model, prompt="twice", duration=2, resolution="480p")
    start, made, errors = threading.Barrier(2), [], []

    def post():
        try:
            start.wait()
            made.append(
                actions.create_generation(team=team, author=owner, key=key, choices=choices, submission_token="a" * 32)
            )
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len({g.pk for g in made}) == 1 and [getattr(g, "repeated", False) for g in made].count(True) == 1
    assert Generation.objects.count() == 1 and LedgerEntry.objects.filter(kind="hold").count() == 1

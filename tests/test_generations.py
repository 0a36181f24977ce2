"""A generation: its page and files, and what a member can do to it (remix, retry, cancel, favorite, delete)."""

from __future__ import annotations

import os
from decimal import Decimal

from django.urls import reverse

from accounts.models import Membership, Role
from tests.conftest import add_key, make_generation, make_user, png_bytes, run_until_done
from videos.models import (
    AuditEntry,
    Billing,
    Event,
    Generation,
    LedgerEntry,
    NewReference,
    Notification,
    Price,
    ReferenceImage,
    TaskState,
)

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_remix_opens_the_form_prefilled_and_links_the_child(gateway, client_for, owner, team, key):
    parent = make_generation(
        owner,
        team,
        key,
        prompt="A fox in the snow",
        references=[NewReference("image/png", png_bytes(), 64, 36)],
        duration=3,
        aspect_ratio="9:16",
    )
    client = client_for(owner)
    response = client.get(reverse("remix", args=[parent.uuid]), follow=True)
    html = response.content.decode()
    assert "A fox in the snow" in html and "Remix of" in html and "its 1 reference image will be reused" in html
    assert '<option value="3" selected>' in html and '<option value="9:16" selected>' in html
    data = {
        "key": str(key.uuid),
        "parent": str(parent.uuid),
        "prompt": "A fox in the snow, at night",
        "duration": "3",
        "aspect_ratio": "9:16",
        "resolution": "480p",
    }
    client.post(reverse("generate"), data)
    child = Generation.objects.exclude(pk=parent.pk).get()
    assert child.parent == parent
    ref = child.reference_images.get()
    with ref.image.open("rb") as fh:
        assert fh.read() == png_bytes()
    detail = client.get(reverse("generation", args=[parent.uuid])).content.decode()
    assert "Remixes" in detail and "at night" in detail


def test_a_remix_cannot_point_at_another_teams_generation(client_for, owner, team, key, outsider):
    other_key = add_key(outsider, outsider.teams.get(), secret="sk-mallory-0001")
    theirs = make_generation(outsider, outsider.teams.get(), other_key, prompt="secret plan")
    client = client_for(owner)
    assert client.get(reverse("remix", args=[theirs.uuid])).status_code == 404
    html = client.get(reverse("studio"), {"remix": str(theirs.uuid)}).content.decode()
    assert "secret plan" not in html
    data = {
        "key": str(key.uuid),
        "parent": str(theirs.uuid),
        "prompt": "mine",
        "duration": "2",
        "aspect_ratio": "16:9",
        "resolution": "480p",
    }
    client.post(reverse("generate"), data)
    assert Generation.objects.get(prompt="mine").parent is None


def _price_sandbox(usd_per_second: str = "0.1") -> None:
    Price.objects.create(
        dialect="openai-preview",
        model="grok-imagine-video-1.5-preview",
        resolution="480p",
        usd_per_second=Decimal(usd_per_second),
        source="t",
        read_on="2026-11-01",
    )


def test_retry_sends_the_same_generation_again_on_its_own_card(gateway, client_for, owner, team, key):
    _price_sandbox()
    generation = make_generation(owner, team, key, prompt="try again", duration=2)
    client = client_for(owner)
    client.post(reverse("cancel", args=[generation.uuid]))

    response = client.post(reverse("retry", args=[generation.uuid]))

    assert response.status_code == 302 and response["Location"] == reverse("generation", args=[generation.uuid])
    assert Generation.objects.count() == 1
    assert run_until_done(generation.task.pk).state == TaskState.COMPLETED
    generation.refresh_from_db()
    assert generation.billing == Billing.CHARGED and generation.cost_usd == Decimal("0.2")
    kinds = list(LedgerEntry.objects.filter(generation=generation).order_by("pk").values_list("kind", flat=True))
    assert kinds == ["hold", "release", "hold", "charge"]
    assert list(Event.objects.filter(generation=generation, kind="retried").values_list("state", flat=True)) == [
        TaskState.PENDING
    ]
    assert AuditEntry.objects.filter(action="generation.retried", actor=owner).count() == 1
    assert "Remixed from" not in client.get(reverse("generation", args=[generation.uuid])).content.decode()


def test_retry_over_the_budget_is_refused_and_changes_nothing(gateway, client_for, owner, team, key):
    _price_sandbox()
    generation = make_generation(owner, team, key, duration=2)
    client = client_for(owner)
    client.post(reverse("cancel", args=[generation.uuid]))
    team.monthly_budget_usd = Decimal("0.10")
    team.save()

    response = client.post(reverse("retry", args=[generation.uuid]), follow=True)

    page = response.content.decode()
    assert "Not retried: The team&#x27;s monthly budget is $0.10" in page and "would go $0.10 over" in page
    generation.task.refresh_from_db()
    assert generation.task.state == TaskState.CANCELLED
    assert LedgerEntry.objects.filter(generation=generation, kind="hold").count() == 1
    assert not Event.objects.filter(generation=generation, kind="retried").exists()


def test_retry_is_only_for_an_ended_generation_of_ones_own(gateway, client_for, owner, team, teammate, key):
    running = make_generation(owner, team, key, prompt="still going")
    done = make_generation(owner, team, key, prompt="done")
    run_until_done(done.task.pk)
    client = client_for(owner)

    for generation in (running, done):
        page = client.post(reverse("retry", args=[generation.uuid]), follow=True).content.decode()
        assert "Only a failed or cancelled generation can be retried." in page
    assert client.get(reverse("retry", args=[done.uuid])).status_code == 405
    client.post(reverse("cancel", args=[running.uuid]))
    assert client_for(teammate).post(reverse("retry", args=[running.uuid])).status_code == 403
    running.task.refresh_from_db()
    assert running.task.state == TaskState.CANCELLED


def test_cancel_stops_a_running_one_and_releases_its_hold(gateway, client_for, owner, team, key):
    Price.objects.create(
        dialect="openai-preview",
        model="grok-imagine-video-1.5-preview",
        resolution="480p",
        usd_per_second=Decimal("0.1"),
        source="t",
        read_on="2026-11-01",
    )
    generation = make_generation(owner, team, key)
    client_for(owner).post(reverse("cancel", args=[generation.uuid]))
    generation.refresh_from_db()
    generation.task.refresh_from_db()
    assert generation.task.state == TaskState.CANCELLED and generation.billing == Billing.RELEASED
    assert run_until_done(generation.task.pk).state == TaskState.CANCELLED
    assert gateway.requests == []  # never sent
    assert AuditEntry.objects.filter(action="generation.cancelled", actor=owner).exists()


def test_a_member_cannot_cancel_or_delete_a_teammates_generation(gateway, client_for, owner, team, teammate, key):
    generation = make_generation(owner, team, key)
    client = client_for(teammate)
    assert client.post(reverse("cancel", args=[generation.uuid])).status_code == 403
    assert client.post(reverse("delete", args=[generation.uuid])).status_code == 403
    assert Generation.objects.filter(pk=generation.pk).exists()


def test_delete_removes_the_generation_and_its_files(
    gateway, client_for, owner, team, key, django_capture_on_commit_callbacks
):
    generation = make_generation(owner, team, key, references=[NewReference("image/png", png_bytes(), 64, 36)])
    run_until_done(generation.task.pk)
    paths = [generation.asset.file.path, generation.asset.poster.path, ReferenceImage.objects.get().image.path]
    assert all(os.path.exists(p) for p in paths)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(owner).post(reverse("delete", args=[generation.uuid]))
    assert not Generation.objects.exists()
    assert not any(os.path.exists(p) for p in paths)
    entry = AuditEntry.objects.get(action="generation.deleted")
    assert entry.actor == owner and "A paper boat" in entry.target


def test_an_admin_may_delete_a_members_generation(gateway, client_for, owner, team, teammate):
    bob_key = add_key(teammate, team, secret="sk-bob-0001")
    generation = make_generation(teammate, team, bob_key)
    client_for(owner).post(reverse("delete", args=[generation.uuid]))
    assert not Generation.objects.exists()


def test_favorite_toggles_for_the_member_only(gateway, client_for, owner, team, teammate, key):
    generation = make_generation(owner, team, key)
    client = client_for(teammate)
    html = client.post(reverse("favorite", args=[generation.uuid]), **HTMX).content.decode()
    assert "★ Favorite" in html and 'aria-pressed="true"' in html
    assert list(generation.favorited_by.all()) == [teammate]
    client.post(reverse("favorite", args=[generation.uuid]), **HTMX)
    assert not generation.favorited_by.exists()


def test_a_viewer_can_favorite_but_not_remix(gateway, client_for, owner, team, key):
    viewer = make_user("vera")
    Membership.objects.create(team=team, user=viewer, role=Role.VIEWER)
    generation = make_generation(owner, team, key)
    client = client_for(viewer)
    assert client.post(reverse("favorite", args=[generation.uuid])).status_code == 302
    assert client.get(reverse("remix", args=[generation.uuid])).status_code == 403
    assert client.post(reverse("delete", args=[generation.uuid])).status_code == 403


def test_outsiders_get_404_on_every_action(gateway, client_for, owner, team, key, outsider):
    generation = make_generation(owner, team, key)
    client = client_for(outsider)
    for name, method in [
        ("remix", "get"),
        ("retry", "post"),
        ("cancel", "post"),
        ("favorite", "post"),
        ("delete", "post"),
    ]:
        assert getattr(client, method)(reverse(name, args=[generation.uuid])).status_code == 404, name
    assert Generation.objects.filter(pk=generation.pk).exists()


def test_the_author_is_notified_when_a_video_completes_or_fails(gateway, owner, team, key):
    done = make_generation(owner, team, key, prompt="will work")
    failed = make_generation(owner, team, key, prompt="[fail] will not")
    run_until_done(done.task.pk)
    run_until_done(failed.task.pk)
    messages = list(Notification.objects.filter(user=owner).values_list("message", flat=True))
    assert any("“will work” is ready" in m for m in messages)
    assert any("“[fail] will not” failed" in m for m in messages)


def test_key_changes_are_audited_without_the_secret(client_for, owner):
    client = client_for(owner)
    client.post(
        reverse("keys"),
        {
            "dialect": "openai-preview",
            "label": "Mine",
            "base_url": "https://duoyuanx.com",
            "secret": "sk-live-secret-9876",
        },
    )
    key = owner.gateway_keys.get()
    client.post(reverse("key_replace", args=[key.uuid]), {"secret": "sk-live-secret-5555"})
    client.post(reverse("key_delete", args=[key.uuid]))
    entries = list(AuditEntry.objects.order_by("created_at", "pk").values_list("action", "target"))
    assert [a for a, _ in entries] == ["key.added", "key.replaced", "key.deleted"]
    assert entries[0][1] == "Mine (••••9876)"
    assert "sk-live-secret" not in str(list(AuditEntry.objects.values_list("target", "data")))


# --- the generation's page and its files --------------------------------------------------------


def test_the_video_is_served_with_range_support(client_for, owner, team, key, gateway):
    generation = make_generation(owner, team, key)
    run_until_done(generation.task.pk)
    client = client_for(owner)
    full = client.get(reverse("video_file", args=[generation.uuid]))
    assert full.status_code == 200 and full["Content-Type"] == "video/mp4"
    body = b"".join(full.streaming_content)
    part = client.get(reverse("video_file", args=[generation.uuid]), HTTP_RANGE="bytes=0-99")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 0-99/{len(body)}"
    assert b"".join(part.streaming_content) == body[:100]


def test_an_outsider_gets_404_on_every_generation_url(client_for, owner, team, key, outsider, gateway):
    generation = make_generation(owner, team, key, references=[NewReference("image/png", png_bytes(), 64, 36)])
    run_until_done(generation.task.pk)
    client = client_for(outsider)
    for name, args in [
        ("generation", [generation.uuid]),
        ("card", [generation.uuid]),
        ("video_file", [generation.uuid]),
        ("poster_file", [generation.uuid]),
        ("reference_file", [generation.uuid, 0]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 404, name
    assert "A paper boat" not in client.get(reverse("history")).content.decode()


def test_a_teammate_sees_the_generation_and_its_timeline(client_for, owner, team, teammate, key, gateway):
    generation = make_generation(owner, team, key)
    run_until_done(generation.task.pk)
    html = client_for(teammate).get(reverse("generation", args=[generation.uuid])).content.decode()
    assert "Timeline" in html and "archived" in html and "Download MP4" in html
    assert "sk-sandbox" not in html

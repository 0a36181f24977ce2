"""A submit whose outcome is unknown: the task needs attention, says the gateway may have
created it, is never resent on its own, and the member resubmits or abandons it."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role
from tests.conftest import add_key, make_generation, make_user, run_until_done
from videos import actions
from videos.models import AuditEntry, Billing, Event, LedgerEntry, Price, Task, TaskState
from videos.worker import queue, tasks

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def price(db) -> Price:
    """A price for the sandbox model at 480p, so every generation holds its estimate."""
    return Price.objects.create(
        dialect="openai-preview",
        model="grok-imagine-video-1.5-preview",
        resolution="480p",
        usd_per_second=Decimal("0.1"),
        source="t",
        read_on="2026-11-01",
    )


def posts(gateway) -> int:
    return sum(1 for r in gateway.requests if r.method == "POST")


def needing_attention(gateway, author, team, key):
    """A generation whose submit got a 500 (the gateway may have created it); the fault is
    removed again, so anything sent afterwards would succeed."""
    fault = (lambda r: r.method == "POST", lambda r: httpx.Response(500, text="oops"))
    gateway.faults.append(fault)
    before = posts(gateway)
    generation = make_generation(author, team, key)
    task = run_until_done(generation.task.pk)
    gateway.faults.remove(fault)
    assert task.state == TaskState.NEEDS_ATTENTION
    assert posts(gateway) == before + 1
    generation.refresh_from_db()
    return generation


def ledger(generation) -> list[str]:
    return list(LedgerEntry.objects.filter(generation=generation).order_by("pk").values_list("kind", flat=True))


def sweep_everything(rounds: int = 3) -> None:
    """Make every task due and sweep, as a worker would over time."""
    for _ in range(rounds):
        Task.objects.update(next_poll_at=timezone.now(), leased_until=None)
        tasks.sweep()


def test_a_500_at_submit_needs_attention_and_the_pages_say_why(gateway, client_for, owner, team, key, price):
    generation = needing_attention(gateway, owner, team, key)
    assert generation.billing == Billing.HELD  # the hold stays open while it waits
    client = client_for(owner)
    resubmit = f'action="{reverse("resubmit", args=[generation.uuid])}"'
    abandon = f'action="{reverse("abandon", args=[generation.uuid])}"'

    detail = client.get(reverse("generation", args=[generation.uuid])).content.decode()
    card = client.get(reverse("card", args=[generation.uuid]), **HTMX)
    studio = client.get(reverse("studio")).content.decode()
    assert card.status_code == 286  # ended: the card stops polling
    for html in (detail, card.content.decode(), studio):
        assert "Needs attention" in html
        assert "may have created this task" in html
        assert "may bill twice" in html or "billed twice" in html
        assert resubmit in html and abandon in html


def test_a_task_that_needs_attention_is_never_resent_by_sweeps_or_the_queue(gateway, owner, team, key):
    generation = needing_attention(gateway, owner, team, key)
    sweep_everything()
    assert tasks.submit_task(generation.task.pk) is False
    task = Task.objects.get(pk=generation.task.pk)
    assert task.state == TaskState.NEEDS_ATTENTION
    assert posts(gateway) == 1


def test_resubmit_sends_exactly_once_more_and_charges_once(
    gateway, client_for, owner, team, key, price, monkeypatch, django_capture_on_commit_callbacks
):
    generation = needing_attention(gateway, owner, team, key)
    queued = []
    monkeypatch.setattr(queue, "enqueue", lambda func, *args: queued.append((func, *args)))

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner).post(reverse("resubmit", args=[generation.uuid]))
    assert response.status_code == 302 and response["Location"] == reverse("generation", args=[generation.uuid])
    assert queued == [("videos.worker.tasks.submit_task", generation.task.pk)]
    task = Task.objects.get(pk=generation.task.pk)
    assert task.state == TaskState.PENDING
    assert (task.attempts, task.external_id, task.lease_token, task.leased_until) == (0, "", "", None)
    assert task.finished_at is None and task.next_poll_at > timezone.now()
    assert posts(gateway) == 1  # nothing sent until the queued submit runs

    task = run_until_done(task.pk)
    sweep_everything()
    assert task.state == TaskState.COMPLETED, task.last_error
    assert posts(gateway) == 2  # the first (lost) one and exactly one more
    generation.refresh_from_db()
    assert generation.billing == Billing.CHARGED and generation.cost_usd == Decimal("0.1")
    assert ledger(generation) == [LedgerEntry.Kind.HOLD, LedgerEntry.Kind.CHARGE]
    event = Event.objects.get(generation=generation, kind="resubmitted")
    assert event.message == "Resubmitted by alice: the gateway may bill twice if it had created the first one."
    assert AuditEntry.objects.filter(action="generation.resubmitted", actor=owner).count() == 1


def test_abandon_fails_it_releases_the_hold_and_never_sends_it_again(gateway, client_for, owner, team, key, price):
    generation = needing_attention(gateway, owner, team, key)
    client = client_for(owner)
    response = client.post(reverse("abandon", args=[generation.uuid]))
    assert response.status_code == 302
    task = Task.objects.get(pk=generation.task.pk)
    assert task.state == TaskState.FAILED
    assert task.last_error == "Abandoned by alice; if the gateway had created it, it may still bill it."
    assert task.finished_at is not None and task.next_poll_at is None
    generation.refresh_from_db()
    assert generation.billing == Billing.RELEASED
    assert ledger(generation) == [LedgerEntry.Kind.HOLD, LedgerEntry.Kind.RELEASE]
    assert Event.objects.filter(generation=generation, kind="abandoned", state=TaskState.FAILED).exists()
    assert AuditEntry.objects.filter(action="generation.abandoned", actor=owner).count() == 1

    sweep_everything()
    assert tasks.submit_task(task.pk) is False
    assert posts(gateway) == 1
    detail = client.get(reverse("generation", args=[generation.uuid])).content.decode()
    card = client.get(reverse("card", args=[generation.uuid]), **HTMX).content.decode()
    for html in (detail, card):
        assert "Not charged" in html and "it may still bill it" in html
        assert reverse("resubmit", args=[generation.uuid]) not in html
        assert reverse("abandon", args=[generation.uuid]) not in html


def test_resubmit_and_abandon_do_nothing_outside_needs_attention(gateway, client_for, owner, team, key, price):
    pending = make_generation(owner, team, key, prompt="still pending")
    assert actions.resubmit(pending, owner) is False
    assert actions.abandon(pending, owner) is False
    client = client_for(owner)
    for name in ("resubmit", "abandon"):
        response = client.post(reverse(name, args=[pending.uuid]), follow=True)
        assert "It no longer needs attention." in response.content.decode()
    task = Task.objects.get(pk=pending.task.pk)
    assert task.state == TaskState.PENDING
    pending.refresh_from_db()
    assert pending.billing == Billing.HELD

    abandoned = needing_attention(gateway, owner, team, key)
    assert actions.abandon(abandoned, owner) is True
    assert actions.abandon(abandoned, owner) is False  # once only: one release
    assert actions.resubmit(abandoned, owner) is False
    assert Task.objects.get(pk=abandoned.task.pk).state == TaskState.FAILED
    assert ledger(abandoned) == [LedgerEntry.Kind.HOLD, LedgerEntry.Kind.RELEASE]

    resubmitted = needing_attention(gateway, owner, team, key)
    assert actions.resubmit(resubmitted, owner) is True
    assert actions.resubmit(resubmitted, owner) is False  # a second click queues nothing more
    assert actions.abandon(resubmitted, owner) is False
    assert Task.objects.get(pk=resubmitted.task.pk).state == TaskState.PENDING
    assert Event.objects.filter(generation=resubmitted, kind="resubmitted").count() == 1
    assert AuditEntry.objects.filter(action="generation.resubmitted").count() == 1


def test_a_member_cannot_act_on_a_teammates_generation(gateway, client_for, owner, team, teammate, key):
    generation = needing_attention(gateway, owner, team, key)
    client = client_for(teammate)
    html = client.get(reverse("generation", args=[generation.uuid])).content.decode()
    assert "may have created this task" in html
    assert reverse("resubmit", args=[generation.uuid]) not in html
    assert reverse("abandon", args=[generation.uuid]) not in html
    assert client.post(reverse("resubmit", args=[generation.uuid])).status_code == 403
    assert client.post(reverse("abandon", args=[generation.uuid])).status_code == 403
    assert Task.objects.get(pk=generation.task.pk).state == TaskState.NEEDS_ATTENTION


def test_a_member_may_act_on_their_own_and_an_admin_on_anyones(gateway, client_for, owner, team, teammate):
    bob_key = add_key(teammate, team, secret="sk-bob-0001")
    mine = needing_attention(gateway, teammate, team, bob_key)
    theirs = needing_attention(gateway, teammate, team, bob_key)
    assert client_for(teammate).post(reverse("abandon", args=[mine.uuid])).status_code == 302
    assert Task.objects.get(pk=mine.task.pk).state == TaskState.FAILED

    admin = client_for(owner)  # the team's owner manages it
    html = admin.get(reverse("generation", args=[theirs.uuid])).content.decode()
    assert reverse("resubmit", args=[theirs.uuid]) in html
    assert admin.post(reverse("resubmit", args=[theirs.uuid])).status_code == 302
    assert Task.objects.get(pk=theirs.task.pk).state == TaskState.PENDING
    assert AuditEntry.objects.filter(action="generation.resubmitted", actor=owner).exists()


def test_a_viewer_cannot_resubmit_or_abandon(gateway, client_for, owner, team, key):
    viewer = make_user("vera")
    Membership.objects.create(team=team, user=viewer, role=Role.VIEWER)
    generation = needing_attention(gateway, owner, team, key)
    client = client_for(viewer)
    assert client.post(reverse("resubmit", args=[generation.uuid])).status_code == 403
    assert client.post(reverse("abandon", args=[generation.uuid])).status_code == 403
    assert Task.objects.get(pk=generation.task.pk).state == TaskState.NEEDS_ATTENTION


def test_outsiders_get_404(gateway, client_for, owner, team, key, outsider):
    generation = needing_attention(gateway, owner, team, key)
    client = client_for(outsider)
    assert client.post(reverse("resubmit", args=[generation.uuid])).status_code == 404
    assert client.post(reverse("abandon", args=[generation.uuid])).status_code == 404
    assert Task.objects.get(pk=generation.task.pk).state == TaskState.NEEDS_ATTENTION


def test_only_post_is_allowed(gateway, client_for, owner, team, key):
    generation = needing_attention(gateway, owner, team, key)
    client = client_for(owner)
    for name in ("resubmit", "abandon"):
        assert client.get(reverse(name, args=[generation.uuid])).status_code == 405
    assert Task.objects.get(pk=generation.task.pk).state == TaskState.NEEDS_ATTENTION

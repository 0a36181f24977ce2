"""Prices, estimates, the ledger and budgets (issue: know the cost, never pay for what failed)."""

from __future__ import annotations

import math
import threading
from datetime import date
from decimal import Decimal

import httpx
import pytest
from django.db import connection
from django.urls import reverse

from accounts.models import Membership
from tests.conftest import add_key, make_generation, run_until_done
from videos import actions, billing
from videos.gateways import REGISTRY
from videos.lib import http
from videos.models import AuditEntry, Billing, Event, Generation, LedgerEntry, Price, Task, TaskState
from videos.worker import tasks

HTMX = {"HTTP_HX_REQUEST": "true"}


def cents(amount) -> Decimal:
    return Decimal(amount).quantize(Decimal("0.01"))


# --- the price book and the estimate ---------------------------------------------------


def expected(dialect, model, resolution, seconds, images):
    """The gateways' own formulas, written out independently of videos.billing."""
    rates = {
        ("reapi", "grok-imagine-video-1.5-official", "480p"): 0.02,
        ("reapi", "grok-imagine-video-1.5-official", "720p"): 0.04,
        ("reapi", "grok-imagine-video-1.5-beta", "480p"): 0.083375,
        ("reapi", "grok-imagine-video-1.5-beta", "720p"): 0.14375,
        ("xai", "grok-imagine-video-1.5-preview", "480p"): 0.08,
        ("xai", "grok-imagine-video-1.5-preview", "720p"): 0.14,
    }
    rate = rates.get((dialect, model, resolution))
    if rate is None:
        return None
    if dialect == "reapi":  # docs/gateways.md §5: credits = ceil(per_second_usd × duration × 1000), 1 credit = $0.001
        return Decimal(math.ceil(round(rate * seconds * 1000, 6))) / 1000
    return Decimal(str(rate)) * seconds + Decimal("0.01") * images  # docs/gateways.md §6: +$0.01 per input image


def test_every_documented_combination_with_a_known_price_is_estimated_to_the_cent(db):
    checked = 0
    for dialect, gateway in REGISTRY.items():
        for spec in gateway.models:
            for resolution in spec.resolutions or (None,):
                for seconds in spec.durations:
                    for images in range(0, spec.max_reference_images + 1):
                        want = expected(dialect, spec.model, resolution, seconds, images)
                        got = billing.estimate(dialect, spec.model, resolution, seconds, images)
                        if want is None:
                            assert got.amount is None and "Price unknown" in got.words
                        else:
                            assert cents(got.amount) == cents(want), (dialect, spec.model, resolution, seconds, images)
                            checked += 1
    assert checked > 50


def test_the_estimate_says_the_formula_in_words(db):
    estimate = billing.estimate("xai", "grok-imagine-video-1.5-preview", "720p", 8, 1)
    assert estimate.words == "8 s × $0.14/s at 720p + 1 image × $0.01 = $1.13"
    reapi = billing.estimate("reapi", "grok-imagine-video-1.5-beta", "480p", 7, 0)
    assert reapi.words == "7 s × $0.083375/s at 480p = 584 credits of $0.001 = $0.584"


def test_an_unknown_price_is_never_zero(db):
    estimate = billing.estimate("openai-preview", "grok-imagine-video-1.5-preview", "720p", 6)
    assert estimate.amount is None
    assert billing.usd(estimate.amount) == "price unknown"


def test_the_compose_form_shows_the_estimate_and_other_keys(client_for, owner, team, key, priced):
    add_key(owner, team, label="Second sandbox", secret="sk-second-key-0002")
    client = client_for(owner)
    response = client.post(
        reverse("estimate"),
        {"key": str(key.uuid), "duration": "8", "resolution": "480p", "aspect_ratio": "16:9"},
        **HTMX,
    )
    html = response.content.decode()
    assert "8 s × $0.05/s at 480p = $0.40" in html
    assert "Through Second sandbox · OpenAI-format (grok-imagine-video-1.5-preview): $0.40" in html
    unknown = client.post(reverse("estimate"), {"key": str(key.uuid), "duration": "8", "resolution": "720p"}, **HTMX)
    assert "price unknown" in unknown.content.decode() and "$0.00" not in unknown.content.decode()


# --- the ledger ---------------------------------------------------------------------------


def test_a_submission_holds_the_estimate_and_stores_it(gateway, owner, team, key, priced):
    generation = make_generation(owner, team, key, duration=4)
    generation.refresh_from_db()
    assert generation.billing == Billing.HELD and generation.estimate_usd == Decimal("0.2")
    assert generation.estimate_words == "4 s × $0.05/s at 480p = $0.20"
    hold = LedgerEntry.objects.get(generation=generation)
    assert (hold.kind, hold.amount_usd, hold.member, hold.key, hold.dialect) == (
        "hold",
        Decimal("0.2"),
        owner,
        key,
        "openai-preview",
    )


def test_after_a_mix_the_ledger_balances_and_failures_are_not_charged(gateway, client_for, owner, team, key, priced):
    done = [make_generation(owner, team, key, duration=2) for _ in range(3)]
    failed = [make_generation(owner, team, key, prompt="[fail] this", duration=2) for _ in range(2)]
    for generation in done + failed:
        run_until_done(generation.task.pk)
    team.approval_threshold_usd = Decimal("0.01")
    team.save()
    rejected = make_generation(owner, team, key, duration=2)
    actions.decline_spending(rejected, owner)
    charges = LedgerEntry.objects.filter(kind="charge")
    assert (
        sum(e.amount_usd for e in charges)
        == sum(Generation.objects.get(pk=g.pk).cost_usd for g in done)
        == Decimal("0.3")
    )
    assert not Generation.objects.filter(billing=Billing.HELD).exists()
    for generation in failed + [rejected]:
        generation.refresh_from_db()
        assert generation.billing == Billing.RELEASED and generation.cost_usd == 0
    html = client_for(owner).get(reverse("card", args=[failed[0].uuid]), **HTMX).content.decode()
    assert "Not charged" in html


def test_a_hold_ends_exactly_once(gateway, owner, team, key, priced):
    generation = make_generation(owner, team, key, duration=2)
    assert billing.charge(generation) == Decimal("0.1")
    assert billing.charge(generation) is None
    assert billing.release(generation) is False
    assert LedgerEntry.objects.filter(generation=generation).count() == 2  # the hold and one charge


def _xai_answering_done(duration, tmp_path) -> httpx.MockTransport:
    """An xAI gateway (its real adapter, on a fake wire) that accepts the request, reports
    it done with ``duration`` (its ``video.duration``), and serves a real 2 s MP4."""
    from videos.sandbox.render import render_video

    clip = tmp_path / "clip.mp4"
    render_video(clip, width=160, height=90, seconds=2, prompt="reported")
    done = {"status": "done", "video": {"url": "https://vidgen.x.ai/clip.mp4", "duration": duration}}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/videos/generations":
            return httpx.Response(200, json={"request_id": "req-1"})
        if request.url.path == "/v1/videos/req-1":
            return httpx.Response(200, json=done)
        return httpx.Response(200, content=clip.read_bytes(), headers={"Content-Type": "video/mp4"})

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(("reported", "charged"), [(6, "0.84"), (None, "1.40"), ("garbage", "1.40")])
def test_the_charge_uses_the_duration_the_gateway_reports(db, owner, team, tmp_path, reported, charged):
    """Asked for 10 s at 720p ($0.14/s): the charge follows the poll answer's ``video.duration``
    where xAI reports one, and the requested duration where it does not (or reports junk)."""
    Price.objects.update_or_create(
        dialect="xai", model="grok-imagine-video-1.5-preview", resolution="720p",
        defaults={"usd_per_second": Decimal("0.14"), "source": "test", "read_on": date(2026, 11, 1)},
    )  # fmt: skip
    key = add_key(owner, team, dialect="xai", secret="xai-key-0001", base_url="https://api.x.ai")
    http.use_transport(_xai_answering_done(reported, tmp_path))
    try:
        generation = make_generation(owner, team, key, duration=10, resolution="720p", aspect_ratio="16:9")
        assert generation.estimate_usd == Decimal("1.40")
        assert run_until_done(generation.task.pk).state == TaskState.COMPLETED
    finally:
        http.use_transport(None)
    generation.refresh_from_db()
    assert generation.cost_usd == Decimal(charged) and generation.billing == Billing.CHARGED
    charge = LedgerEntry.objects.get(generation=generation, kind=LedgerEntry.Kind.CHARGE)
    assert charge.amount_usd == Decimal(charged)


# --- budgets ------------------------------------------------------------------------------


def test_a_submission_over_the_team_budget_is_refused_with_the_amounts(client_for, owner, team, key, priced):
    team.monthly_budget_usd = Decimal("0.50")
    team.save()
    make_generation(owner, team, key, duration=8)  # $0.40 held
    data = {"key": str(key.uuid), "prompt": "one more", "duration": "4", "aspect_ratio": "16:9", "resolution": "480p"}
    response = client_for(owner).post(reverse("generate"), data, **HTMX)
    html = response.content.decode()
    assert "The team&#x27;s monthly budget is $0.50: $0.40 is already charged or held this month" in html
    assert "would go $0.10 over" in html
    assert Generation.objects.count() == 1 and Task.objects.count() == 1


def test_a_member_cap_is_counted_per_member(owner, team, teammate, key, priced):
    membership = teammate.memberships.get(team=team)
    membership.monthly_cap_usd = Decimal("0.10")
    membership.save()
    bob_key = add_key(teammate, team, secret="sk-bob-key-0001")
    make_generation(owner, team, key, duration=8)  # Alice's spend does not count against Bob
    make_generation(teammate, team, bob_key, duration=2)
    with pytest.raises(billing.BudgetExceeded, match="Your monthly cap is \\$0.10"):
        make_generation(teammate, team, bob_key, duration=2)


@pytest.mark.django_db(transaction=True)
def test_twenty_racing_submissions_against_room_for_five(owner, team, key, priced):
    team.monthly_budget_usd = Decimal("1.00")  # room for five $0.20 requests
    team.save()
    results, barrier = [], threading.Barrier(20)

    def submit():
        try:
            barrier.wait()
            make_generation(owner, team, key, duration=4)
            results.append("ok")
        except billing.BudgetExceeded:
            results.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("ok") == 5 and results.count("refused") == 15
    assert Generation.objects.count() == 5
    assert billing.committed_usd(team) == Decimal("1.00")


# --- approvals ----------------------------------------------------------------------------


def test_an_over_threshold_request_waits_and_is_sent_only_when_approved(
    gateway, client_for, owner, team, teammate, priced
):
    team.approval_threshold_usd = Decimal("0.30")
    team.save()
    bob_key = add_key(teammate, team, secret="sk-bob-key-0001")
    cheap = make_generation(teammate, team, bob_key, duration=2)
    costly = make_generation(teammate, team, bob_key, duration=8)
    assert cheap.task.state == TaskState.PENDING
    assert costly.task.state == TaskState.AWAITING_APPROVAL

    tasks.submit_task(costly.task.pk)
    tasks.sweep()
    assert Task.objects.get(pk=costly.task.pk).state == TaskState.AWAITING_APPROVAL
    assert not any(r.method == "POST" for r in gateway.requests)
    assert client_for(teammate).post(reverse("approve_spending", args=[costly.uuid])).status_code == 403
    client = client_for(owner)
    assert costly.prompt[:20] in client.get(reverse("approvals")).content.decode()
    client.post(reverse("approve_spending", args=[costly.uuid]))
    assert run_until_done(costly.task.pk).state == TaskState.COMPLETED
    approved = AuditEntry.objects.get(action="generation.approved")
    assert approved.actor == owner and approved.data["uuid"] == str(costly.uuid)


def test_a_declined_request_is_never_sent(gateway, client_for, owner, team, key, priced):
    team.approval_threshold_usd = Decimal("0.01")
    team.save()
    generation = make_generation(owner, team, key, duration=2)
    client_for(owner).post(reverse("decline_spending", args=[generation.uuid]), {"reason": "Too costly"})
    task = run_until_done(generation.task.pk)
    assert task.state == TaskState.CANCELLED and "Declined" in task.last_error
    assert AuditEntry.objects.filter(action="generation.declined", actor=owner).count() == 1
    assert gateway.requests == []
    generation.refresh_from_db()
    assert generation.billing == Billing.RELEASED


# --- spend --------------------------------------------------------------------------------


def test_the_spend_page_sums_this_months_charges(gateway, client_for, owner, team, teammate, key, priced):
    bob_key = add_key(teammate, team, secret="sk-bob-key-0001")
    for generation in (
        make_generation(owner, team, key, duration=2),
        make_generation(teammate, team, bob_key, duration=4),
    ):
        run_until_done(generation.task.pk)
    html = client_for(teammate).get(reverse("spend")).content.decode()
    assert "$0.30" in html  # team
    assert "$0.20" in html  # me (bob)
    assert "openai-preview" in html and "alice" in html and "bob" in html


def test_owners_set_budgets_and_members_cannot(client_for, owner, team, teammate):
    membership = teammate.memberships.get(team=team)
    data = {"monthly_budget_usd": "25.00", "approval_threshold_usd": "2", f"cap_{membership.pk}": "5"}
    assert client_for(teammate).post(reverse("budget"), data).status_code == 403
    client_for(owner).post(reverse("budget"), data)
    team.refresh_from_db()
    membership.refresh_from_db()
    assert (team.monthly_budget_usd, team.approval_threshold_usd, membership.monthly_cap_usd) == (
        Decimal("25.00"),
        Decimal("2"),
        Decimal("5"),
    )


# --- the compose estimate is the request's -----------------------------------------------------


def estimate_shown(html: str) -> str:
    """The amount in the compose form's estimate."""
    return html.split('class="estimate-this"', 1)[1].split("<strong>", 1)[1].split("</strong>", 1)[0]


def test_a_remix_estimate_counts_the_reused_reference_image_and_equals_the_hold(gateway, client_for, owner, team, key):
    """The remixed form holds 3 s at 480p with the parent's reference image: the estimate
    on first render is what the submit then holds, per-image fee included."""
    from tests.conftest import png_bytes
    from videos.models import NewReference

    Price.objects.create(
        dialect="openai-preview", model="grok-imagine-video-1.5-preview", resolution="480p",
        usd_per_second=Decimal("0.05"), usd_per_image=Decimal("0.01"), source="test", read_on=date(2026, 11, 1),
    )  # fmt: skip
    parent = make_generation(
        owner, team, key, prompt="A fox", references=[NewReference("image/png", png_bytes(), 64, 36)], duration=3
    )
    client = client_for(owner)

    page = client.get(reverse("studio"), {"remix": str(parent.uuid)}).content.decode()

    assert estimate_shown(page) == "$0.16"  # 3 s × $0.05 + 1 image × $0.01
    data = {"key": key.uuid, "parent": parent.uuid, "prompt": "A fox", "duration": "3", "resolution": "480p"}
    data["allow_duplicate"] = "on"  # the same request as its parent's: past the duplicate guard
    data["aspect_ratio"] = parent.options["aspect_ratio"]
    assert estimate_shown(client.post(reverse("estimate"), data).content.decode()) == "$0.16"
    client.post(reverse("generate"), data)
    child = Generation.objects.get(parent=parent)
    assert child.estimate_usd == Decimal("0.16") and child.reference_images.count() == 1


def test_the_estimate_falls_back_to_the_models_defaults_for_a_forged_choice(client_for, owner, key, priced):
    """A duration or resolution the model does not offer is priced at its default, never
    at the forged value (a 10,000 s estimate would read as a real price)."""
    spec = key.gateway_class.spec()
    client = client_for(owner)
    forged_duration = {"key": key.uuid, "prompt": "x", "duration": "10000", "resolution": "480p"}
    html = client.post(reverse("estimate"), forged_duration).content.decode()
    assert estimate_shown(html) == billing.usd(Decimal("0.05") * spec.default_duration)
    assert "10000 s" not in html
    Price.objects.create(
        dialect="openai-preview", model=spec.model, resolution=spec.default_resolution,
        usd_per_second=Decimal("0.07"), source="test", read_on=date(2026, 11, 1),
    )  # fmt: skip
    forged_resolution = {"key": key.uuid, "prompt": "x", "duration": "2", "resolution": "4k"}
    html = client.post(reverse("estimate"), forged_resolution).content.decode()
    assert f"2 s × $0.07/s at {spec.default_resolution} = $0.14" in html and "4k" not in html


# --- unpriced requests under a budget ---------------------------------------------------------


@pytest.mark.parametrize("limit", ["budget", "cap"])
def test_an_unpriced_request_waits_for_approval_while_a_budget_or_cap_is_set(gateway, owner, team, teammate, limit):
    """A budget cannot count what it cannot price: the request is held, saying why, and
    nothing reaches the gateway until an owner or admin approves it."""
    if limit == "budget":
        team.monthly_budget_usd = Decimal("0.40")
        team.save()
    else:
        Membership.objects.filter(team=team, user=teammate).update(monthly_cap_usd=Decimal("0.40"))
    bob_key = add_key(teammate, team, secret="sk-bob-unpriced-0001")
    generation = make_generation(teammate, team, bob_key, duration=15, resolution="720p")

    assert generation.billing == Billing.UNPRICED
    assert generation.task.state == TaskState.AWAITING_APPROVAL and generation.approval == "waiting"
    name = "the team's monthly budget" if limit == "budget" else "your monthly cap"
    line = Event.objects.get(generation=generation, kind="approval").message
    assert line.endswith(f"its price is unknown, so {name} cannot count it.")
    tasks.submit_task(generation.task.pk)
    tasks.sweep()
    assert gateway.requests == []


def test_a_team_that_refuses_unpriced_requests_refuses_them_where_they_are_typed(gateway, client_for, owner, team, key):
    team.monthly_budget_usd = Decimal("0.40")
    team.unpriced_policy = "refuse"
    team.save()
    data = {"key": key.uuid, "prompt": "no price", "duration": "15", "aspect_ratio": "16:9", "resolution": "720p"}

    response = client_for(owner).post(reverse("generate"), data)

    assert response.status_code == 400
    assert "has no price in the price book, so the team&#x27;s monthly budget cannot count it" in (
        response.content.decode()
    )
    assert not Generation.objects.exists() and not LedgerEntry.objects.exists() and gateway.requests == []


def test_without_budgets_an_unpriced_request_is_sent_as_before(gateway, owner, team, key):
    generation = make_generation(owner, team, key, duration=2, resolution="720p")
    assert generation.task.state == TaskState.PENDING and generation.approval == "not_needed"
    assert run_until_done(generation.task.pk).state == TaskState.COMPLETED


def test_the_team_page_sets_the_unpriced_policy_and_the_trail_records_it(client_for, owner, team):
    client = client_for(owner)
    client.post(reverse("budget"), {"monthly_budget_usd": "5", "unpriced_policy": "refuse"})
    team.refresh_from_db()
    assert team.unpriced_policy == "refuse"
    entry = AuditEntry.objects.get(action="budget.changed")
    assert entry.data["unpriced_policy"] == {"old": "approval", "new": "refuse"}
    assert "Requests of unknown price" in client.get(reverse("teams")).content.decode()

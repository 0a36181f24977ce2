"""A team's first week with money (issue 12, items 2–5): team prices, Spend that lists every
finished generation, warnings before Generate, approvers told and declines with a reason."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Membership, Role
from tests.conftest import add_key, make_generation, run_until_done
from videos import actions, billing
from videos.models import (
    Approval,
    AuditEntry,
    Billing,
    Generation,
    LedgerEntry,
    Notification,
    TaskState,
    TeamPrice,
)

HTMX = {"HTTP_HX_REQUEST": "true"}
OPENAI = "openai-preview|grok-imagine-video-1.5-preview"


def estimate_html(client, key, *, duration="8", resolution="480p") -> str:
    response = client.post(
        reverse("estimate"),
        {"key": str(key.uuid), "duration": duration, "resolution": resolution, "aspect_ratio": "16:9"},
        **HTMX,
    )
    assert response.status_code == 200
    return response.content.decode()


def set_price(client, **fields):
    data = {"line": OPENAI, "resolution": "720p", "usd_per_second": "0.10", "usd_per_image": "0", "rounding": "exact"}
    return client.post(reverse("prices"), {**data, **fields})


# --- item 2: team prices ----------------------------------------------------------------------


def test_an_owner_prices_an_unpriced_gateway_and_the_estimate_says_team_price(client_for, owner, team, key):
    client = client_for(owner)
    before = estimate_html(client, key, resolution="720p")
    assert "price unknown" in before and "site admin" not in before
    assert f'href="{reverse("prices")}"' in before  # an owner is shown where to set it

    response = set_price(client)
    assert response.status_code == 302
    after = estimate_html(client, key, resolution="720p")
    assert "8 s × $0.1/s at 720p = $0.80" in after and "team price" in after
    assert AuditEntry.objects.filter(team=team, action="price.set", actor=owner).count() == 1
    page = client.get(reverse("prices")).content.decode()
    assert "grok-imagine-video-1.5-preview" in page and "$0.10/s" in page


def test_a_team_price_overrides_the_price_book_for_its_own_team_only(client_for, owner, team, key, outsider, priced):
    client = client_for(owner)
    assert "price book" in estimate_html(client, key)  # $0.05/s in the book
    set_price(client, resolution="480p", usd_per_second="0.07")
    html = estimate_html(client, key)
    assert "= $0.56" in html and "team price" in html

    other_team = outsider.teams.get()
    other_key = add_key(outsider, other_team, secret="sk-sandbox-mallory-01")
    other = estimate_html(client_for(outsider), other_key)
    assert "= $0.40" in other and "price book" in other and "team price" not in other


def test_holds_and_charges_use_the_team_price(gateway, client_for, owner, team, key):
    actions.set_team_price(
        team, owner, dialect="openai-preview", model="grok-imagine-video-1.5-preview", resolution="480p",
        usd_per_second=Decimal("0.03"), usd_per_image=Decimal("0"),
    )  # fmt: skip
    generation = make_generation(owner, team, key, duration=4)
    assert generation.estimate_usd == Decimal("0.12") and generation.billing == Billing.HELD
    assert run_until_done(generation.task.pk).state == TaskState.COMPLETED
    generation.refresh_from_db()
    assert generation.billing == Billing.CHARGED and generation.cost_usd == Decimal("0.12")
    assert LedgerEntry.objects.charges(team, billing.month_start()).get().amount_usd == Decimal("0.12")


def test_a_member_is_told_who_can_price_it_and_cannot_set_a_price(client_for, team, teammate, bob_key):
    client = client_for(teammate)
    html = estimate_html(client, bob_key, resolution="720p")
    assert "An owner or admin of the team can set its price." in html and "site admin" not in html
    assert f'href="{reverse("prices")}"' not in html
    assert set_price(client).status_code == 403
    assert not TeamPrice.objects.exists()
    page = client.get(reverse("prices")).content.decode()  # members may look
    assert "owners and admins can set its prices." in page and 'id="team-price-form"' not in page


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"usd_per_second": "-0.05"}, "usd_per_second", "greater than or equal to 0"),
        ({"usd_per_second": "250"}, "usd_per_second", "less than or equal to 10"),
        ({"usd_per_second": "NaN"}, "usd_per_second", "Enter a number"),
        ({"usd_per_second": "Infinity"}, "usd_per_second", "Enter a number"),
        ({"usd_per_second": "0.0000001"}, "usd_per_second", "decimal places"),
        ({"usd_per_image": "-1"}, "usd_per_image", "greater than or equal to 0"),
        ({"resolution": "4k"}, "resolution", "comes in 480p, 720p"),
        ({"resolution": "<script>alert(1)</script>"}, "resolution", "comes in 480p, 720p"),
        ({"line": "evil|model"}, "line", "Select a valid choice"),
        ({"line": "jimmyai|grok-imagine-video-1.5", "resolution": "720p"}, "resolution", "has no resolution"),
        ({"rounding": "free"}, "rounding", "Select a valid choice"),
    ],
)
def test_a_bad_or_hostile_price_is_refused_where_it_was_typed(client_for, owner, team, fields, field, message):
    response = set_price(client_for(owner), **fields)
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html and "<script>alert(1)</script>" not in html
    assert not TeamPrice.objects.exists() and not AuditEntry.objects.filter(action="price.set").exists()


def test_removing_a_team_price_goes_back_to_the_price_book(client_for, owner, team, key, outsider, priced):
    client = client_for(owner)
    set_price(client, resolution="480p", usd_per_second="0.07")
    # another team cannot remove it (its lookup is inside the poster's team)
    assert client_for(outsider).post(reverse("prices"), {"remove": f"{OPENAI}|480p"}).status_code == 404
    assert TeamPrice.objects.count() == 1
    client = client_for(owner)
    assert client.post(reverse("prices"), {"remove": f"{OPENAI}|480p"}).status_code == 302
    assert not TeamPrice.objects.exists()
    assert "= $0.40" in estimate_html(client, key) and "price book" in estimate_html(client, key)


def test_a_sandbox_request_is_a_rehearsal_priced_as_the_real_one_and_not_billed(
    gateway, client_for, owner, team, key, priced, settings
):
    settings.STUDIO_SANDBOX_BILLED = False
    team.monthly_budget_usd = Decimal("0.10")
    team.approval_threshold_usd = Decimal("0.01")
    team.save()
    client = client_for(owner)
    html = estimate_html(client, key)
    assert "= $0.40" in html and "price book · sandbox: not billed" in html
    assert "On the real gateway: Needs approval by an owner or admin: over $0.01." in html

    generation = make_generation(owner, team, key, duration=2)  # over budget and threshold: not refused, not held
    assert generation.approval == Approval.NOT_NEEDED and not generation.billed
    assert billing.committed_usd(team) == 0
    assert run_until_done(generation.task.pk).state == TaskState.COMPLETED
    charge = LedgerEntry.objects.get(generation=generation, kind=LedgerEntry.Kind.CHARGE)
    assert charge.amount_usd == Decimal("0.10") and charge.billed is False
    assert not LedgerEntry.objects.charges(team, billing.month_start()).exists()
    spend = client.get(reverse("spend")).content.decode()
    assert "Sandbox rehearsals" in spend and "Sandbox: $0.10, not billed" in spend
    assert "Over budget." not in spend


# --- item 3: Spend lists every finished generation ------------------------------------------


def test_spend_lists_every_finished_generation_and_counts_the_unpriced(gateway, client_for, owner, team, key, priced):
    priced_one = make_generation(owner, team, key, prompt="Priced lighthouse", duration=2)
    unpriced_one = make_generation(owner, team, key, prompt="Unpriced harbour", resolution="720p")
    failed = make_generation(owner, team, key, prompt="[fail] Failed kite", resolution="720p")
    running = make_generation(owner, team, key, prompt="Still running tram")
    for generation in (priced_one, unpriced_one, failed):
        run_until_done(generation.task.pk)
    html = client_for(owner).get(reverse("spend")).content.decode()
    finished = html.split('id="finished"', 1)[1]
    assert "3 generations" in finished and "1 unpriced" in finished
    assert "Priced lighthouse" in finished and "Cost $0.10" in finished
    assert "Unpriced harbour" in finished and "Price unknown" in finished
    assert "Failed kite" in finished and "Not charged" in finished
    assert running.prompt not in finished
    assert "Ran with no price (not in these totals): openai-preview 1." in html


# --- item 4: warn before, not after ---------------------------------------------------------


def test_the_estimate_warns_of_the_approval_threshold_before_generate(
    client_for, owner, team, teammate, bob_key, priced
):
    team.approval_threshold_usd = Decimal("1.00")
    team.save()
    assert "Needs approval" not in estimate_html(client_for(teammate), bob_key, duration="8")  # $0.40
    team.approval_threshold_usd = Decimal("0.10")
    team.save()
    html = estimate_html(client_for(teammate), bob_key)
    assert "Needs approval by an owner or admin: over $0.10." in html and "Yours too" not in html


def test_an_owners_estimate_says_why_their_own_request_waits_too(client_for, owner, team, key, priced):
    team.approval_threshold_usd = Decimal("0.10")
    team.save()
    html = estimate_html(client_for(owner), key)
    assert "Needs approval by an owner or admin: over $0.10. Yours too" in html and "approve it on Approvals" in html


def test_the_estimate_warns_of_the_members_cap_and_the_teams_budget(client_for, owner, team, teammate, bob_key, priced):
    Membership.objects.filter(team=team, user=teammate).update(monthly_cap_usd=Decimal("0.20"))
    html = estimate_html(client_for(teammate), bob_key)
    assert "Refused if sent: Your monthly cap is $0.20: $0.00 is already charged or held this month" in html
    team.monthly_budget_usd = Decimal("0.30")
    team.save()
    html = estimate_html(client_for(teammate), bob_key)
    assert "Refused if sent: The team&#x27;s monthly budget is $0.30" in html and "$0.10 over" in html
    # and what it says is what happens: the same request is refused, nothing saved
    response = client_for(teammate).post(
        reverse("generate"),
        {
            "key": str(bob_key.uuid),
            "prompt": "A long pan",
            "duration": "8",
            "resolution": "480p",
            "aspect_ratio": "16:9",
        },
    )
    assert response.status_code == 400 and not Generation.objects.exists()


def test_spend_shows_an_over_budget_state_plainly(gateway, client_for, owner, team, key, priced):
    assert "Over budget." not in client_for(owner).get(reverse("spend")).content.decode()
    make_generation(owner, team, key, duration=2)  # $0.10 held
    team.monthly_budget_usd = Decimal("0.10")
    team.save()
    html = client_for(owner).get(reverse("spend")).content.decode()
    assert 'id="over-budget"' in html and "Over budget." in html
    assert "$0.10 charged or held this month of its $0.10 budget: new requests are refused" in html


# --- item 5: approvers notified, a reason for declining -------------------------------------


def waiting_request(team, author, key) -> Generation:
    team.approval_threshold_usd = Decimal("0.01")
    team.save()
    generation = make_generation(author, team, key, prompt="A costly aerial shot", duration=2)
    assert generation.approval == Approval.WAITING
    return generation


def test_approvers_are_notified_and_the_waiting_count_is_scoped(
    client_for, owner, team, teammate, bob_key, outsider, priced
):
    admin = Membership.objects.create(team=team, user=type(owner).objects.create_user("ada"), role=Role.ADMIN).user
    generation = waiting_request(team, teammate, bob_key)
    for approver in (owner, admin):
        note = Notification.objects.get(user=approver)
        assert note.generation == generation and "bob asks for approval of “A costly aerial shot”" in note.message
        assert "over the team's approval threshold of $0.01" in note.message
    assert not Notification.objects.filter(user=teammate).exists()  # a member approves nothing
    assert Generation.objects.awaiting_approval(team).count() == 1
    assert Generation.objects.awaiting_approval(outsider.teams.get()).count() == 0


def test_an_owners_own_request_waits_and_says_why(owner, team, key, priced):
    generation = waiting_request(team, owner, key)
    note = Notification.objects.get(user=owner, generation=generation)
    assert "waits for approval, yours included" in note.message and "Approve it on Approvals" in note.message


def test_declining_asks_for_a_reason_and_tells_the_requester(client_for, owner, team, teammate, bob_key, priced):
    generation = waiting_request(team, teammate, bob_key)
    client = client_for(owner)
    assert 'name="reason"' in client.get(reverse("approvals")).content.decode()

    refused = client.post(reverse("decline_spending", args=[generation.uuid]), {"reason": "   "})
    assert refused.status_code == 400 and "This field is required." in refused.content.decode()
    generation.refresh_from_db()
    assert generation.approval == Approval.WAITING and generation.task.state == TaskState.AWAITING_APPROVAL

    reason = "Too long for a draft: try 6 s at 480p"
    assert client.post(reverse("decline_spending", args=[generation.uuid]), {"reason": reason}).status_code == 302
    generation.refresh_from_db()
    assert generation.approval == Approval.DECLINED and generation.decline_reason == reason
    assert generation.billing == Billing.RELEASED
    note = Notification.objects.get(user=teammate, generation=generation)
    assert "alice declined your request" in note.message and reason in note.message
    assert AuditEntry.objects.get(action="generation.declined").data["reason"] == reason
    detail = client_for(teammate).get(reverse("generation", args=[generation.uuid])).content.decode()
    assert reason in detail


def test_a_hostile_decline_reason_is_escaped_and_a_nul_refused(client_for, owner, team, teammate, bob_key, priced):
    generation = waiting_request(team, teammate, bob_key)
    nul = client_for(owner).post(reverse("decline_spending", args=[generation.uuid]), {"reason": "no\x00pe"})
    assert nul.status_code == 400 and "Null characters are not allowed." in nul.content.decode()
    assert Generation.objects.get(pk=generation.pk).approval == Approval.WAITING

    reason = "<img src=x onerror=alert(1)> not now"
    client_for(owner).post(reverse("decline_spending", args=[generation.uuid]), {"reason": reason})
    assert Generation.objects.get(pk=generation.pk).decline_reason == reason
    for page in (reverse("notifications"), reverse("generation", args=[generation.uuid])):
        html = client_for(teammate).get(page).content.decode()
        assert "&lt;img src=x onerror=alert(1)&gt; not now" in html and "<img src=x" not in html


def test_a_too_long_reason_is_refused(client_for, owner, team, teammate, bob_key, priced):
    generation = waiting_request(team, teammate, bob_key)
    response = client_for(owner).post(reverse("decline_spending", args=[generation.uuid]), {"reason": "x" * 201})
    assert response.status_code == 400 and "at most 200 characters" in response.content.decode()
    assert Generation.objects.get(pk=generation.pk).approval == Approval.WAITING


def test_approving_tells_the_requester(client_for, owner, team, teammate, bob_key, priced):
    generation = waiting_request(team, teammate, bob_key)
    client_for(owner).post(reverse("approve_spending", args=[generation.uuid]))
    note = Notification.objects.get(user=teammate, generation=generation)
    assert "alice approved your request" in note.message

"""Every object URL is team-scoped: a member of another team gets 404, sees nothing and
changes nothing.

The tests walk ``project.urls`` rather than listing views, so a new view cannot forget:
every pattern with a path parameter is requested as an outsider (GET and POST, with and
without htmx) for real objects of the owner's team; a parameter the tests do not know
how to fill fails the test until ``OBJECTS`` below is extended. Every page without a
parameter is rendered for the owner and for the outsider, whose pages must show none
of the owner's team.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern

from accounts.models import Invitation, Membership, Role, Team, User
from tests.conftest import make_generation, png_bytes, run_until_done
from videos import audit
from videos.models import (
    Approval,
    Asset,
    AuditEntry,
    Event,
    GatewayKey,
    Generation,
    LedgerEntry,
    NewReference,
    Notification,
    ReferenceImage,
    Review,
    Task,
    TaskState,
)

HTMX = {"HTTP_HX_REQUEST": "true"}

# Distinctive words of the owner's team: none may reach an outsider's page.
PROMPT = "Scoping canary qv7x: a paper boat on a rainy street"
KEY_LABEL = "Alice canary key kz9w"
NOTE = "Canary notification nb4t"

# Not team object URLs: the Django admin (site staff only) and the in-process sandbox
# gateway (a fake third-party API, with its own ids, mounted only in development and tests).
SKIPPED_PREFIXES = ("admin/", "sandbox/")

# Parameterised URLs that are deliberately reachable from outside the team. Each needs a
# reason; adding one here is a design decision, not a way to quiet the test.
PUBLIC_BY_DESIGN = {
    # An invitation link admits whoever opens it (logged in): the unguessable token is
    # the permission, like a shared link, valid 7 days and for one use.
    "accept_invite": "the invitation token is the credential; opening it is how an outsider joins",
    # Gateways fetch uploaded reference images from this signed, expiring URL without
    # logging in: the signature is the permission (forged or expired: 404, tested in
    # test_references).
    "reference_public": "a signed, expiring URL for gateways; the signature is the permission",
}

# What an outsider posts to every object URL: enough for each action to succeed were the
# object not scoped (a review decision, a role, a new secret, a delete confirmation).
POST_DATA = {
    "decision": "accept",
    "comment": "outsider was here",
    "role": Role.VIEWER,
    "secret": "sk-outsider-override-9999",
    "confirm": "1",
    "next": "/",
}

# The pages without parameters that every member has, and those that list the team's
# generations (the owner sees the canary prompt there, which proves the check can fail).
PAGES = {"studio", "history", "keys", "spend", "approvals", "review_queue", "audit_log", "notifications", "teams"}
PAGES_WITH_THE_PROMPT = {"studio", "history", "approvals", "review_queue", "audit_log", "notifications"}


# --- the world: an owner's team with one of everything, and an outsider ------------------------


@dataclass
class World:
    owner: User
    outsider: User
    team: Team
    key: GatewayKey
    done: Generation  # completed and archived (video, poster, reference image), awaiting review
    waiting: Generation  # waiting for approval (still active, so it could be cancelled)
    stuck: Generation  # needs attention (so it could be resubmitted or abandoned)
    memberships: list[Membership]
    invitation: Invitation

    def canaries(self) -> list[str]:
        """Strings of the owner's team that no page of the outsider may contain."""
        return [
            PROMPT,
            KEY_LABEL,
            self.invitation.token,
            str(self.team.uuid),
            str(self.key.uuid),
            str(self.done.uuid),
            str(self.waiting.uuid),
            str(self.stuck.uuid),
        ]


@pytest.fixture
def world(owner, team, teammate, key, outsider, gateway) -> World:
    key.label = KEY_LABEL
    key.save(update_fields=["label"])
    done = make_generation(owner, team, key, prompt=PROMPT, references=[NewReference("image/png", png_bytes(), 64, 36)])
    assert run_until_done(done.task.pk).state == TaskState.COMPLETED
    Generation.objects.filter(pk=done.pk).update(review=Review.AWAITING)
    done = Generation.objects.select_related("asset", "task").get(pk=done.pk)
    assert done.asset.file and done.asset.poster and done.reference_images.get().image

    stuck = make_generation(owner, team, key, prompt=f"{PROMPT} (stuck)")
    Task.objects.filter(generation=stuck).update(state=TaskState.NEEDS_ATTENTION)  # what a lost submit leaves

    Team.objects.filter(pk=team.pk).update(approval_threshold_usd=Decimal("0"))
    waiting = make_generation(owner, team, key, prompt=f"{PROMPT} (waiting)")
    assert waiting.approval == Approval.WAITING and waiting.task.state == TaskState.AWAITING_APPROVAL

    invitation = Invitation.objects.create(team=team, role=Role.ADMIN, created_by=owner)
    audit.notify(owner, team, f"{NOTE}: {PROMPT}", generation=done)
    team.refresh_from_db()
    return World(
        owner=owner,
        outsider=outsider,
        team=team,
        key=key,
        done=done,
        waiting=waiting,
        stuck=stuck,
        memberships=list(team.memberships.order_by("pk")),
        invitation=invitation,
    )


def logged_in(user: User) -> Client:
    client = Client()  # does not enforce CSRF, so a refused POST is the view's doing
    client.force_login(user)
    return client


def body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def snapshot(team: Team) -> dict:
    """Every row of ``team`` and of its generations, and whether their files exist."""
    rows = {
        "team": Team.objects.filter(pk=team.pk),
        "memberships": Membership.objects.filter(team=team),
        "invitations": Invitation.objects.filter(team=team),
        "keys": GatewayKey.objects.filter(team=team),
        "generations": Generation.objects.filter(team=team),
        "tasks": Task.objects.filter(generation__team=team),
        "assets": Asset.objects.filter(generation__team=team),
        "references": ReferenceImage.objects.filter(generation__team=team),
        "events": Event.objects.filter(generation__team=team),
        "favorites": Generation.favorited_by.through.objects.filter(generation__team=team),
        "ledger": LedgerEntry.objects.filter(team=team),
        "audit": AuditEntry.objects.filter(team=team),
        "notifications": Notification.objects.filter(team=team),
    }
    state = {name: list(qs.order_by("pk").values()) for name, qs in rows.items()}
    files = []
    for asset in Asset.objects.filter(generation__team=team):
        files += [asset.file, asset.poster]
    files += [ref.image for ref in ReferenceImage.objects.filter(generation__team=team) if ref.image]
    state["files"] = sorted((f.name, f.storage.exists(f.name)) for f in files)
    return state


# --- walking the URL configuration -----------------------------------------------------------------

PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Route:
    route: str  # the full route, e.g. "generations/<uuid:uuid>/card"
    name: str | None
    callback: object
    converters: dict
    params: tuple[str, ...]
    regex: bool = False

    def __str__(self) -> str:
        return f"{self.route} ({self.name or 'unnamed'})"

    def url(self, values: dict) -> str:
        if self.regex:
            assert not self.params, self
            return "/" + self.route.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\", "")
        path = PARAMETER.sub(lambda m: self.converters[m["name"]].to_url(values[m["name"]]), self.route)
        return "/" + path


def walk(patterns=None, prefix: str = "", converters: dict | None = None, regex: bool = False):
    """Every URLPattern of the project's URL configuration (outside SKIPPED_PREFIXES)."""
    patterns = get_resolver().url_patterns if patterns is None else patterns
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if route.lstrip("^").startswith(SKIPPED_PREFIXES):
            continue
        is_regex = regex or isinstance(pattern.pattern, RegexPattern)
        found = {**(converters or {}), **getattr(pattern.pattern, "converters", {})}
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, route, found, is_regex)
        elif isinstance(pattern, URLPattern):
            if is_regex:
                params = tuple(pattern.pattern.regex.groupindex) or ("(unnamed group)",) * pattern.pattern.regex.groups
            else:
                params = tuple(m["name"] for m in PARAMETER.finditer(route))
            yield Route(route, pattern.name, pattern.callback, found, params, is_regex)


def objects_for(route: Route, param: str, world: World) -> list | None:
    """The owner's objects a parameter can name, the fully populated one first; None for a
    parameter this test does not know (extend this map with the new view's objects)."""
    section = route.route.split("/", 1)[0]
    by_section = {
        ("generations", "uuid"): [world.done.uuid, world.waiting.uuid, world.stuck.uuid],
        ("keys", "uuid"): [world.key.uuid],
    }
    by_name = {
        "position": [0],  # a generation's reference images (``done`` has one, at 0)
        "membership_id": [m.pk for m in world.memberships],  # the owner's, then the teammate's
        "token": [world.invitation.token],
    }
    return by_section.get((section, param), by_name.get(param))


def fillings(route: Route, world: World) -> list[dict]:
    choices = [objects_for(route, param, world) for param in route.params]
    return [dict(zip(route.params, values, strict=True)) for values in itertools.product(*choices)]


def object_routes(world: World) -> list[Route]:
    """The parameterised routes to test; fails naming any parameter it cannot fill."""
    routes, unknown = [], []
    for route in walk():
        if not route.params or route.name in PUBLIC_BY_DESIGN:
            continue
        missing = [p for p in route.params if route.regex or objects_for(route, p, world) is None]
        if missing:
            unknown.append(f"{route}: {', '.join(missing)}")
        else:
            routes.append(route)
    assert not unknown, (
        "These URL parameters name objects this test cannot fill; add the owner's objects for them "
        "to objects_for() in tests/test_scoping.py (or, if the URL is public by design, to "
        "PUBLIC_BY_DESIGN with the reason):\n  " + "\n  ".join(unknown)
    )
    return routes


# --- the tests ---------------------------------------------------------------------------------------


def test_every_object_url_is_404_for_a_member_of_another_team(world):
    routes = object_routes(world)
    assert {"generation", "card", "video_file", "key_delete", "change_role"} <= {r.name for r in routes}
    owner, outsider = logged_in(world.owner), logged_in(world.outsider)

    # The owner reaches every GET-able one with the fully populated objects: they exist.
    gettable = set()
    for route in routes:
        url = route.url(fillings(route, world)[0])
        assert resolve(url).func is route.callback, f"{route}: built {url}, which resolves elsewhere"
        status = owner.get(url).status_code
        if status != 405:
            assert status != 404 and status < 500, f"the owner gets {status} for {url} ({route})"
            gettable.add(route.name)
    assert {"generation", "card", "video_file", "poster_file", "reference_file", "remix"} <= gettable

    before = snapshot(world.team)
    problems = []
    for route in routes:
        for values in fillings(route, world):
            url = route.url(values)
            statuses = {}
            for label, method, headers in [
                ("GET", "get", {}),
                ("GET htmx", "get", HTMX),
                ("POST", "post", {}),
                ("POST htmx", "post", HTMX),
            ]:
                data = POST_DATA if method == "post" else None
                response = getattr(outsider, method)(url, data, **headers)
                statuses[label] = response.status_code
                text = body(response)
                shown = [c for c in world.canaries() if c in text and c not in url]
                if shown:
                    problems.append(f"{label} {url} ({route}) shows the owner's team: {shown}")
            if not set(statuses.values()) <= {404, 405} or 404 not in statuses.values():
                problems.append(f"{url} ({route}) answers the outsider {statuses}; expected 404 (405 for a method)")
    assert not problems, "Object URLs leak to another team:\n  " + "\n  ".join(problems)

    assert snapshot(world.team) == before, "an outsider's request changed the owner's team"
    assert Generation.objects.filter(pk=world.done.pk, asset__isnull=False).exists()
    assert GatewayKey.objects.filter(pk=world.key.pk, secret_encrypted=world.key.secret_encrypted).exists()
    assert not Membership.objects.filter(team=world.team, user=world.outsider).exists()
    assert set(Membership.objects.filter(team=world.team).values_list("pk", "role")) == {
        (m.pk, m.role) for m in world.memberships
    }


def test_pages_without_parameters_show_an_outsider_nothing_of_another_team(world):
    routes = [r for r in walk() if not r.params]
    assert PAGES <= {r.name for r in routes}, "a page this test expects is no longer in the URL configuration"
    owner, outsider = logged_in(world.owner), logged_in(world.outsider)

    for route in routes:
        url = route.url({})
        response = owner.get(url)
        assert response.status_code < 500, f"the owner gets {response.status_code} for {url}"
        if route.name in PAGES:
            assert response.status_code == 200, f"{route} does not render for the owner"
        if route.name in PAGES_WITH_THE_PROMPT:
            assert PROMPT in body(response), f"{route} does not show the owner their generation"
    assert KEY_LABEL in body(owner.get("/keys/"))
    assert world.invitation.token in body(owner.get("/teams/"))

    before = snapshot(world.team)
    problems = []
    for route in routes:
        url = route.url({})
        for label, headers in [("GET", {}), ("GET htmx", HTMX)]:
            response = outsider.get(url, **headers)
            if response.status_code >= 500:
                problems.append(f"{label} {url} ({route}) fails with {response.status_code}")
            if route.name in PAGES and response.status_code != 200:
                problems.append(f"{label} {url} ({route}) answers the outsider {response.status_code}, not 200")
            shown = [c for c in world.canaries() if c in body(response)]
            if shown:
                problems.append(f"{label} {url} ({route}) shows the owner's team: {shown}")
    assert not problems, "Pages show another team:\n  " + "\n  ".join(problems)
    assert snapshot(world.team) == before


def test_object_ids_in_the_query_or_the_form_are_scoped_too(world):
    """Views that take the owner's ids from the query string or the posted form (not the
    path) neither show nor touch them for an outsider."""
    outsider = logged_in(world.outsider)
    ids = [str(g.uuid) for g in (world.done, world.waiting, world.stuck)]
    before = snapshot(world.team)
    responses = {
        "remix in the studio": outsider.get("/", {"remix": ids[0]}),
        "compose options for the owner's key": outsider.get("/compose/options", {"key": str(world.key.uuid)}),
        "estimate with the owner's key": outsider.post("/compose/estimate", {"key": str(world.key.uuid)}, **HTMX),
        "History filtered by the owner": outsider.get("/history/", {"member": world.owner.username, "q": "paper boat"}),
    }
    generate = outsider.post(
        "/generate",
        {"key": str(world.key.uuid), "parent": ids[0], "prompt": "outsider", "duration": "1"},
    )
    assert generate.status_code == 400
    responses["generate with the owner's key"] = generate
    for action in ("zip", "favorite", "unfavorite", "review", "delete"):
        response = outsider.post("/history/bulk", {"action": action, "ids": ids, "confirm": "1"})
        assert response.status_code == 302, f"bulk {action} with the owner's ids: {response.status_code}"
        assert response.get("Content-Type") != "application/zip"
        responses[f"bulk {action}"] = response
    assert outsider.post("/teams/switch", {"team": str(world.team.uuid)}).status_code == 404
    caps = {f"cap_{m.pk}": "1.00" for m in world.memberships}
    outsider.post("/teams/budget", {"monthly_budget_usd": "1.00", **caps})

    for what, response in responses.items():
        shown = [c for c in world.canaries() if c in body(response)]
        assert not shown, f"{what} shows the owner's team: {shown}"
    assert snapshot(world.team) == before, "an outsider's request changed the owner's team"
    # Still in their own team after trying to switch to the owner's.
    assert "mallory" in body(outsider.get("/teams/")) and "alice" not in body(outsider.get("/teams/"))


# --- joining (issue 12, items 6–8) -------------------------------------------------------------------

# Django's password-reset link admits whoever holds it, logged out: the signed, expiring,
# one-use token (bound to the user's password hash) is the permission; a forged one renders
# "used or expired" (tests/test_joining.py).
PUBLIC_BY_DESIGN["password_reset_confirm"] = "Django's signed, one-use reset link; its token is the credential"


def test_an_outsider_cannot_leave_for_or_revoke_in_another_team(world):
    """The team posted to ``leave_team`` and the invitation named to ``revoke_invitation``
    are looked up among the outsider's own: 404, nothing changes."""
    outsider = logged_in(world.outsider)
    before = snapshot(world.team)
    assert outsider.post("/account/leave", {"team": str(world.team.uuid)}).status_code == 404
    assert outsider.post(f"/teams/invitations/{world.invitation.token}/revoke").status_code == 404
    assert snapshot(world.team) == before
    assert Invitation.objects.get(pk=world.invitation.pk).is_usable


PAGES.add("account")  # every member has an account page: it renders for the outsider too
# The audit trail's CSV export lists the same entries as the page (polish, issue 12 item 19).
PAGES_WITH_THE_PROMPT |= {"audit_export"}


# --- webhooks (issue 15, item 3) -----------------------------------------------------------------------

PAGES.add("webhooks")  # owners and admins have a Webhooks page: the outsider owns a team too
_objects_for_before_webhooks = objects_for


def _webhook_objects(world: World):
    """The owner's webhook endpoint (with a canary URL) and one logged delivery, made once."""
    from videos import webhooks
    from videos.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

    endpoint = WebhookEndpoint.objects.filter(team=world.team).first()
    if endpoint is None:
        endpoint = WebhookEndpoint(
            team=world.team, url="https://hooks.example.com/canary-wh3k", events=[WebhookEvent.GENERATION_COMPLETED]
        )
        endpoint.set_secret(webhooks.new_secret())
        endpoint.save()
        webhooks.emit(world.team, WebhookEvent.GENERATION_COMPLETED, {"canary": PROMPT})
    return endpoint, WebhookDelivery.objects.filter(endpoint=endpoint).first()


def objects_for(route: Route, param: str, world: World) -> list | None:  # noqa: F811 - extends the one above
    """``objects_for``, knowing the webhook URLs: an endpoint's uuid, a delivery's uuid."""
    if route.route.startswith("webhooks/"):
        endpoint, delivery = _webhook_objects(world)
        return {"uuid": [endpoint.uuid], "delivery": [delivery.uuid]}.get(param)
    return _objects_for_before_webhooks(route, param, world)


def test_webhook_urls_are_walked_and_404_for_another_team(world):
    """The walk above reaches every webhook URL (so each is 404 for the outsider)."""
    names = {r.name for r in object_routes(world)}
    assert {"webhook", "webhook_test", "webhook_delete", "webhook_redeliver"} <= names


# --- keys and prices (issue 12 followup: key tests, key edits, the Prices page) ------------------------

PAGES.add("prices")  # every member sees their own team's prices: it renders for the outsider too


def test_an_outsider_can_neither_test_nor_edit_a_key_nor_see_the_teams_prices(world, gateway):
    """The key test and edit URLs are among the object URLs walked above; posting to them
    as an outsider sends nothing to the gateway and changes nothing. The Prices page
    (``/spend/prices/``) shows the owner their team's price and the outsider none of it."""
    from videos import actions

    assert {"key_check", "key_edit"} <= {r.name for r in object_routes(world)}
    canary_model = "canary-model-pr7q"
    actions.set_team_price(
        world.team,
        world.owner,
        dialect=world.key.dialect,
        model=canary_model,
        resolution="",
        usd_per_second=Decimal("1.25"),
    )
    assert canary_model in body(logged_in(world.owner).get("/spend/prices/"))

    outsider = logged_in(world.outsider)
    sent_before = len(gateway.requests)
    before = snapshot(world.team)
    for url, data in [
        (f"/keys/{world.key.uuid}/check", {}),
        (f"/keys/{world.key.uuid}/edit", {"label": "outsider", "base_url": "https://outsider.example"}),
    ]:
        for headers in ({}, HTMX):
            response = outsider.post(url, data, **headers)
            assert response.status_code == 404 and KEY_LABEL not in body(response), url
    for headers in ({}, HTMX):
        page = body(outsider.get("/spend/prices/", **headers))
        assert canary_model not in page and not [c for c in world.canaries() if c in page]
    assert len(gateway.requests) == sent_before, "an outsider's key test reached the gateway"
    assert snapshot(world.team) == before


# --- share links (issue 14, item 3) ----------------------------------------------------------------

# A share link shows one video to whoever holds its token, with no login: the unguessable
# token (only its SHA-256 stored) is the credential; revoked, expired, guessed or tampered:
# 404 (tests/test_share.py).
PUBLIC_BY_DESIGN["share_page"] = "a share link's token is the credential for its one video"
PUBLIC_BY_DESIGN["share_video"] = "the video of a share link, under the same token"
PUBLIC_BY_DESIGN["share_poster"] = "the poster of a share link's video, under the same token"


def test_a_share_link_reaches_its_one_video_and_no_other_studio_url(world):
    """A guest holding a live link to ``done`` (and an outsider logged in elsewhere) gets
    that video and nothing else: every other page of the studio sends them to log in or is
    404, with none of the team in it; the other videos of the team stay out of reach."""
    from datetime import timedelta

    from django.utils import timezone

    from videos import actions

    Generation.objects.filter(pk=world.done.pk).update(review=Review.ACCEPTED)
    world.done.refresh_from_db()
    link, token = actions.create_share_link(world.done, world.owner, expires_at=timezone.now() + timedelta(days=2))
    assert link.generation_id == world.done.pk
    guest = Client()
    page = guest.get(f"/s/{token}/")
    assert page.status_code == 200 and PROMPT in body(page)
    for other in (world.waiting, world.stuck):
        assert str(other.uuid) not in body(page)
    assert guest.get(f"/s/{token}/video.mp4").status_code == 200

    studio_urls = [r.url({}) for r in walk() if not r.params]
    studio_urls += [f"/generations/{g.uuid}/" for g in (world.done, world.waiting, world.stuck)]
    studio_urls += [f"/generations/{world.done.uuid}/video.mp4", f"/generations/{world.done.uuid}/share"]
    for visitor in (guest, logged_in(world.outsider)):
        for url in studio_urls:
            response = visitor.get(url)
            text = body(response)
            assert response.status_code in {200, 302, 404, 405}, (url, response.status_code)
            if response.status_code == 302:
                assert response["Location"].startswith("/accounts/login/") or visitor is not guest, url
            shown = [c for c in world.canaries() if c in text]
            assert not shown, f"{url} shows the team to someone holding only a share link: {shown}"
    assert world.outsider.username not in body(page)


# --- frames and sequences (issue 13, items 3–4) ------------------------------------------------------

PAGES.add("sequences")  # every member has the team's sequences page
_objects_before_sequences = objects_for
_snapshot_before_sequences = snapshot


def _sequence_world(world: World):
    """The owner's rendered sequence (one shot: ``done``) and a frame of ``done``, made once."""
    if not hasattr(world, "sequence"):
        from videos import actions
        from videos.models import Frame
        from videos.worker.render import render_task

        actions.frame_as_reference(world.done, 0.5, world.owner)
        sequence = actions.create_sequence(world.team, world.owner, "Canary sequence sq3m")
        actions.add_shot(sequence, world.done, world.owner)
        actions.render_sequence(sequence, world.owner)
        sequence.refresh_from_db()
        assert render_task(sequence.pk, sequence.render_token)
        world.sequence = sequence
        world.frame = Frame.objects.get(generation=world.done)
    return world.sequence, world.frame


def objects_for(route: Route, param: str, world: World) -> list | None:  # noqa: F811 (extends the one above)
    section = route.route.split("/", 1)[0]
    if (section, param) == ("sequences", "uuid") or param == "shot_id":
        sequence, _frame = _sequence_world(world)
        return [sequence.uuid] if param == "uuid" else [sequence.shots.get().pk]
    if (section, param) == ("frames", "uuid"):
        return [_sequence_world(world)[1].uuid]
    return _objects_before_sequences(route, param, world)


def snapshot(team: Team) -> dict:  # noqa: F811 (adds the team's sequences, shots and frames)
    from videos.models import Frame, Sequence, Shot

    state = _snapshot_before_sequences(team)
    state["sequences"] = list(Sequence.objects.filter(team=team).order_by("pk").values())
    state["shots"] = list(Shot.objects.filter(sequence__team=team).order_by("pk").values())
    state["frames"] = list(Frame.objects.filter(team=team).order_by("pk").values())
    return state


# --- boards and the prompt library (issue 13) -------------------------------------------------------
# Their URLs take a board's or a template's uuid: the owner's team gets one of each (the board
# holding the finished video), so the walk above asks for them as the outsider too.

BOARD_CANARY = "Canary board bd3q"
TEMPLATE_CANARY = "Canary template tp8m"
_objects_for_without_boards = objects_for


def _board_and_template(world: World):
    from videos.models import Board, BoardItem, PromptTemplate

    board, _ = Board.objects.get_or_create(team=world.team, name=BOARD_CANARY, defaults={"created_by": world.owner})
    BoardItem.objects.get_or_create(board=board, generation=world.done)
    template, _ = PromptTemplate.objects.get_or_create(
        team=world.team,
        name=TEMPLATE_CANARY,
        defaults={"prompt": PROMPT, "dialect": world.key.dialect, "model": world.done.model_name, "options": {}},
    )
    return board, template


def objects_for(route: Route, param: str, world: World) -> list | None:  # noqa: F811 (extends the one above)
    section = route.route.split("/", 1)[0]
    if param == "uuid" and section in ("boards", "prompts"):
        board, template = _board_and_template(world)
        return [board.uuid if section == "boards" else template.uuid]
    return _objects_for_without_boards(route, param, world)


def test_an_outsider_sees_no_board_or_template_of_another_team_and_cannot_use_them(world):
    board, template = _board_and_template(world)
    outsider = logged_in(world.outsider)
    for path in ("/boards/", "/prompts/", "/history/", f"/?template={template.uuid}"):
        page = body(outsider.get(path))
        assert BOARD_CANARY not in page and TEMPLATE_CANARY not in page and PROMPT not in page, path
        assert str(board.uuid) not in page and str(template.uuid) not in page, path
    assert outsider.get("/history/", {"board": str(board.uuid)}).status_code == 200  # ignored, not an error
    from tests.conftest import add_key

    theirs = world.outsider.teams.get()
    mine = make_generation(world.outsider, theirs, add_key(world.outsider, theirs, secret="sk-sandbox-mallory-09"))
    before = board.items.count()
    assert outsider.post("/boards/add", {"board": str(board.uuid), "ids": [str(mine.uuid)]}).status_code == 404
    assert (
        outsider.post(
            "/history/bulk", {"action": "board", "board": str(board.uuid), "ids": [str(mine.uuid)]}
        ).status_code
        == 404
    )
    assert board.items.count() == before


# --- the API and access tokens (issue 15, items 1–2) ---------------------------------------------

# The API authenticates access tokens, not sessions: a session's outsider would get 401
# there, so its URLs are walked with tokens below rather than by the session walks above.
SKIPPED_PREFIXES = (*SKIPPED_PREFIXES, "api/")
_objects_for_pages = objects_for


def objects_for(route: Route, param: str, world: World) -> list | None:  # noqa: F811
    """As above, and the owner's access token for ``revoke_token`` (made once per world)."""
    if param == "prefix":
        if getattr(world, "token_prefix", None) is None:
            from accounts.models import AccessToken
            from tests.test_api_tokens import make_token

            make_token(world.owner, world.team)
            world.token_prefix = AccessToken.objects.get(user=world.owner).prefix
        return [world.token_prefix]
    return _objects_for_pages(route, param, world)


# A body each action would take, so only the id can refuse it.
API_BODIES = {"favorite": '{"favorite": true}', "review": '{"decision": "accept"}', "remix": '{"prompt": "outsider"}'}


def test_an_api_token_of_another_team_gets_404_for_every_id(world):
    """Every API URL that takes a generation id answers an outsider's token 404 (405 for a
    method it does not take), whatever the method, and changes nothing; the owner's token
    reaches them."""
    from tests.test_api_tokens import bearer, make_token
    from videos.api.endpoints import api

    owner = bearer(make_token(world.owner, world.team, name="owner"))
    outsider = bearer(make_token(world.outsider, world.outsider.teams.get(), name="outsider"))
    routes = [str(p.pattern) for p in api.urls[0] if "<generation_id>" in str(p.pattern)]
    assert {"generations/<generation_id>", "generations/<generation_id>/video"} <= set(routes)
    client = Client()
    for route in routes:
        url = "/api/v1/" + route.replace("<generation_id>", str(world.done.uuid))
        status = client.get(url, **owner).status_code
        assert status in (200, 405), f"the owner's token gets {status} for {url}"
    before = snapshot(world.team)
    problems = []
    for route in routes:
        for generation in (world.done, world.waiting, world.stuck):
            url = "/api/v1/" + route.replace("<generation_id>", str(generation.uuid))
            for method in ("get", "post", "put"):
                data = None if method == "get" else API_BODIES.get(route.rsplit("/", 1)[-1], "{}")
                response = getattr(client, method)(url, data, content_type="application/json", **outsider)
                shown = [c for c in world.canaries() if c in body(response) and c not in url]
                if response.status_code not in (404, 405) or shown:
                    problems.append(f"{method.upper()} {url}: {response.status_code} {shown}")
    listing = client.get("/api/v1/generations", {"q": "canary"}, **outsider)
    assert listing.status_code == 200 and listing.json()["items"] == []
    assert not problems, "API URLs leak to another team:\n  " + "\n  ".join(problems)
    assert snapshot(world.team) == before, "an outsider's token changed the owner's team"


# --- notes on the timeline and versions (issue 14, items 1 and 2) --------------------------------------

_objects_for_before_notes = objects_for


def _note_objects(world: World):
    """A note (with the canary prompt in it) on the owner's finished video, and a remix of it
    (its next version), made once."""
    from videos import actions
    from videos.models import Note

    note = Note.objects.filter(generation=world.done, parent__isnull=True).first()
    if note is None:
        note = actions.add_note(world.done, world.owner, f"{PROMPT} (note)", 0.5)
        actions.reply(note, world.owner, f"{PROMPT} (reply)")
    version = Generation.objects.filter(parent=world.done).first()
    if version is None:
        version = make_generation(world.owner, world.team, world.key, prompt=f"{PROMPT} (v2)")
        Generation.objects.filter(pk=version.pk).update(parent=world.done)
    return note, version


def objects_for(route: Route, param: str, world: World) -> list | None:  # noqa: F811 - extends the one above
    """``objects_for``, knowing a note's uuid and the other version a comparison names."""
    if route.route.startswith("generations/") and param in ("note", "other"):
        note, version = _note_objects(world)
        return {"note": [note.uuid], "other": [version.uuid]}[param]
    return _objects_for_before_notes(route, param, world)


def test_note_and_compare_urls_are_walked_and_an_outsider_leaves_no_note(world):
    """The walk above reaches every note URL and the comparison (so each is 404 for the
    outsider); posting a note, a reply or a resolve as the outsider stores nothing."""
    from videos.models import Note

    names = {r.name for r in object_routes(world)}
    assert {"note_add", "note_reply", "note_resolve", "note_reopen", "compare"} <= names
    note, version = _note_objects(world)
    owner, outsider = logged_in(world.owner), logged_in(world.outsider)
    assert owner.get(f"/generations/{world.done.uuid}/compare/{version.uuid}").status_code == 200
    before = list(Note.objects.values_list("pk", "resolved_at"))
    for url, data in [
        (f"/generations/{world.done.uuid}/notes", {"time": "0.2", "body": "outsider was here"}),
        (f"/generations/{world.done.uuid}/notes/{note.uuid}/reply", {"body": "outsider", "resolve": "1"}),
        (f"/generations/{world.done.uuid}/notes/{note.uuid}/resolve", {}),
    ]:
        for headers in ({}, HTMX):
            response = outsider.post(url, data, **headers)
            assert response.status_code == 404 and PROMPT not in body(response), url
    assert list(Note.objects.values_list("pk", "resolved_at")) == before
    page = body(outsider.get(f"/generations/{world.done.uuid}/compare/{version.uuid}"))
    assert PROMPT not in page


# --- sequences on boards and board share links (issue 13 item 5, issue 14 items 3–4, follow-up) -------
# The board's URLs (its sequences, its share links) take the board's uuid, walked above; the
# sequence posted to ``board_sequence_add`` is looked up in the outsider's own team.

PUBLIC_BY_DESIGN["share_board_video"] = (
    "a board share link's video: the token is the credential, the video on the board"
)
PUBLIC_BY_DESIGN["share_board_poster"] = (
    "a board share link's poster: the token is the credential, the video on the board"
)


def test_an_outsider_cannot_put_sequences_on_another_teams_board_or_take_them_off(world):
    from videos import actions
    from videos.models import BoardItem, ShareLink

    board, _template = _board_and_template(world)
    sequence, _frame = _sequence_world(world)
    theirs = world.outsider.teams.get()
    their_board = actions.create_board(theirs, world.outsider, name="Outsider board")
    their_sequence = actions.create_sequence(theirs, world.outsider, "Outsider sequence")
    outsider = logged_in(world.outsider)
    before = list(BoardItem.objects.order_by("pk").values())
    for data in (
        {"board": str(board.uuid), "sequence": str(their_sequence.uuid)},
        {"board": str(their_board.uuid), "sequence": str(sequence.uuid)},
        {"board": str(board.uuid), "sequence": str(sequence.uuid)},
    ):
        response = outsider.post("/boards/sequence", data)
        assert response.status_code == 404 and BOARD_CANARY not in body(response), data
    day = "2099-01-01"
    assert outsider.post(f"/boards/{board.uuid}/share", {"expires_on": day}).status_code == 404
    assert list(BoardItem.objects.order_by("pk").values()) == before
    assert not ShareLink.objects.filter(board=board).exists()


# --- takes (issue 13): a group of takes is named by its id --------------------------------------

_objects_for_before_takes = objects_for


def objects_for(route: Route, param: str, world: World) -> list | None:  # noqa: F811 - extends the one above
    """``objects_for``, knowing a take group: ``done`` is made the first take of one."""
    if route.route.startswith("takes/") and param == "group":
        if world.done.take_group is None:
            import uuid

            world.done.take_group = uuid.uuid4()
            Generation.objects.filter(pk=world.done.pk).update(take_group=world.done.take_group)
        return [world.done.take_group]
    return _objects_for_before_takes(route, param, world)


def test_take_urls_are_walked_and_an_outsider_changes_no_take(world):
    """The walk reaches the takes grid and the choose/archive actions (each 404 for the outsider)."""
    names = {r.name for r in object_routes(world)}
    assert {"takes", "choose_take", "archive_other_takes"} <= names
    outsider = logged_in(world.outsider)
    for url in (f"/generations/{world.done.uuid}/choose", f"/generations/{world.done.uuid}/archive-others"):
        assert outsider.post(url).status_code == 404
    assert not Generation.objects.filter(team=world.team, chosen_take=True).exists()

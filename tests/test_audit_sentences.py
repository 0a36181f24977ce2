"""Every action the studio records reads as a sentence on the audit trail and in its CSV.

The names are collected from the source (every ``record_action(...)`` call in ``accounts/``
and ``videos/``), so a new action without a sentence fails here, not on an owner's screen.
"""

from __future__ import annotations

import ast
import csv
import io
import logging
from html import unescape
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils.html import strip_tags

from accounts.models import AccessToken, Membership, Role
from tests.conftest import make_generation
from tests.test_browser import CHROMIUM, browser_type_launch_args, demo_with_sandbox_key, log_in  # noqa: F401
from tests.test_frames import finished_from, write_clip
from videos import actions
from videos.audit import ACTIONS, record_action
from videos.models import AuditEntry, Board, PromptTemplate, Sequence, WebhookEndpoint
from videos.web.activity import OTHER_SENTENCE, SENTENCES

ROOT = Path(__file__).resolve().parent.parent


# --- the names in the code ---------------------------------------------------------------------


def recorded_names(source: str, where: str = "<source>") -> tuple[set[str], list[str]]:
    """The action names ``source``'s ``record_action`` calls pass (the third argument or
    ``action=``; every string of a conditional expression), and the call sites whose name
    is not written out (so nobody can read it off the code)."""
    names, unreadable = set(), []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if (func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)) != "record_action":
            continue
        arg = node.args[2] if len(node.args) > 2 else next((k.value for k in node.keywords if k.arg == "action"), None)
        strings = [n.value for n in ast.walk(arg) if isinstance(n, ast.Constant)] if arg is not None else []
        if not strings or not all(isinstance(s, str) for s in strings) or isinstance(arg, ast.Name | ast.JoinedStr):
            unreadable.append(f"{where}:{node.lineno}")
            continue
        names.update(strings)
    return names, unreadable


def names_in_code() -> tuple[set[str], list[str]]:
    names, unreadable = set(), []
    for package in ("accounts", "videos"):
        for path in sorted((ROOT / package).rglob("*.py")):
            found, bad = recorded_names(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
            names |= found
            unreadable += bad
    return names, unreadable


def test_the_collector_reads_every_way_a_name_is_passed():
    source = """
audit.record_action(team, actor, "a.one", "t")
record_action(team, actor, action="a.two")
audit.record_action(team, actor, "a.three" if on else "a.four", url)
audit.record_action(team, actor, name, url)
audit.record_action(team, actor, f"a.{verb}", url)
other(team, actor, "not.an_action")
"""
    names, unreadable = recorded_names(source)
    assert names == {"a.one", "a.two", "a.three", "a.four"}
    assert unreadable == ["<source>:5", "<source>:6"]


def test_every_action_the_code_records_is_registered_and_reads_as_a_sentence():
    names, unreadable = names_in_code()
    assert not unreadable, f"write the action name out at {unreadable}: the audit page needs a sentence for it"
    assert len(names) > 50  # the collector found the studio's calls, not nothing
    assert sorted(names - ACTIONS) == [], "recorded but missing from videos.audit.ACTIONS"
    assert sorted(ACTIONS - names) == [], "in videos.audit.ACTIONS but recorded nowhere"
    assert sorted(ACTIONS - set(SENTENCES)) == [], "no sentence in videos/web/activity.py SENTENCES"
    assert sorted(set(SENTENCES) - ACTIONS) == [], "a sentence for an action nobody records"


def test_an_unknown_action_name_fails_loudly_in_debug_and_records_nothing(settings, team, owner):
    settings.STUDIO_AUDIT_STRICT = True
    with pytest.raises(ValueError, match="key.addded"):
        record_action(team, owner, "key.addded", "Main key")
    assert not AuditEntry.objects.exists()
    record_action(team, owner, "key.added", "Main key")  # a registered one goes through
    assert AuditEntry.objects.get().action == "key.added"


def test_an_unknown_action_name_in_production_is_kept_and_logged(settings, team, owner, caplog):
    settings.STUDIO_AUDIT_STRICT = False
    with caplog.at_level(logging.WARNING, logger="videos.audit"):
        record_action(team, owner, "key.addded", "Main key")
    assert AuditEntry.objects.get().action == "key.addded"  # the trail never loses an entry
    assert "key.addded" in caplog.text


# --- what each sentence says ------------------------------------------------------------------

SUNSET = "“sunset over the sea”"
KEY = "Main key (••••1111)"
HOOK = "https://hooks.example.com/studio"
TOKEN = "CI script (stu_ab12…)"

#: (action, target, data, the sentence alice reads) for every registered action, and the
#: variants some of them have.
CASES = [
    ("generation.submitted", SUNSET, {}, f"alice asked for {SUNSET}"),
    ("generation.approved", SUNSET, {}, f"alice approved spending on {SUNSET}"),
    ("generation.declined", SUNSET, {}, f"alice declined spending on {SUNSET}"),
    ("generation.retried", SUNSET, {}, f"alice retried {SUNSET}"),
    ("generation.cancelled", SUNSET, {}, f"alice cancelled {SUNSET}"),
    ("generation.deleted", SUNSET, {}, f"alice deleted {SUNSET}"),
    ("generation.resubmitted", SUNSET, {}, f"alice sent {SUNSET} to the gateway again"),
    ("generation.abandoned", SUNSET, {}, f"alice gave up on {SUNSET}"),
    ("generation.take_chosen", SUNSET, {}, f"alice chose {SUNSET} as the take"),
    ("generation.takes_archived", SUNSET, {"archived": 3}, f"alice archived the other takes of {SUNSET}"),
    ("generation.sent_to_review", SUNSET, {}, f"alice sent {SUNSET} to review"),
    ("generation.reviewed", SUNSET, {"decision": "accepted"}, f"alice accepted {SUNSET}"),
    ("generation.reviewed", SUNSET, {"decision": "changes"}, f"alice asked for changes to {SUNSET}"),
    ("generations.downloaded", "3 videos as a ZIP", {"count": 3}, "alice downloaded 3 videos as a ZIP"),
    ("frame.taken", SUNSET, {"time_s": 2.5}, f"alice took a frame at 0:02.5 from {SUNSET}"),
    ("sequence.created", "Opening", {}, "alice made the sequence “Opening”"),
    ("sequence.shot_added", f"{SUNSET} → Opening", {"position": 1}, f"alice added {SUNSET} to the sequence “Opening”"),
    ("sequence.shot_removed", "Opening", {"shot": 4}, "alice took a shot out of the sequence “Opening”"),
    ("sequence.reordered", "Opening", {}, "alice reordered the shots of the sequence “Opening”"),
    ("sequence.rendered", "Opening", {}, "alice rendered the sequence “Opening”"),
    ("sequence.deleted", "Opening", {}, "alice deleted the sequence “Opening”"),
    ("note.added", SUNSET, {"at": 1.0}, f"alice left a note on {SUNSET}"),
    ("note.replied", SUNSET, {}, f"alice replied to a note on {SUNSET}"),
    ("note.resolved", SUNSET, {}, f"alice resolved a note on {SUNSET}"),
    ("note.reopened", SUNSET, {}, f"alice reopened a note on {SUNSET}"),
    ("share.created", SUNSET, {"link": "ab12cd"}, f"alice made a share link to {SUNSET}"),
    ("share.revoked", SUNSET, {"link": "ab12cd"}, f"alice revoked a share link to {SUNSET}"),
    ("share.viewed", SUNSET, {"link": "ab12cd"}, f"A guest opened a share link to {SUNSET}"),
    ("share.guest_note", SUNSET, {"guest_name": "Dana"}, f"A guest left a note on {SUNSET}"),
    ("board.created", "Launch", {}, "alice made the board “Launch”"),
    ("board.changed", "Launch", {"was": "Draft"}, "alice edited the board “Launch”"),
    ("board.deleted", "Launch", {}, "alice deleted the board “Launch”"),
    ("board.items_added", "Launch", {"count": 2}, "alice added videos to the board “Launch”"),
    ("board.items_removed", "Launch", {"count": 1}, "alice took videos off the board “Launch”"),
    (
        "board.sequence_added",
        "Launch",
        {"sequence": "Opening"},
        "alice added the sequence “Opening” to the board “Launch”",
    ),
    (
        "board.sequence_removed",
        "Launch",
        {"sequence": "Opening"},
        "alice took the sequence “Opening” off the board “Launch”",
    ),
    ("template.saved", "Ocean pan", {}, "alice saved the prompt template “Ocean pan”"),
    ("template.changed", "Ocean pan", {"was": "Sea"}, "alice edited the prompt template “Ocean pan”"),
    ("template.deleted", "Ocean pan", {}, "alice deleted the prompt template “Ocean pan”"),
    ("key.added", KEY, {"dialect": "xai"}, f"alice added the key {KEY}"),
    ("key.changed", KEY, {"base_url": "https://gw.example.com"}, f"alice pointed the key {KEY} at another address"),
    ("key.changed", KEY, {"label": "Spare key"}, f"alice renamed the key {KEY} to “Spare key”"),
    ("key.checked", KEY, {"verdict": "works", "status_code": 404}, f"alice checked the key {KEY}: it works"),
    ("key.checked", KEY, {"verdict": "wrong_key", "status_code": 401}, f"alice checked the key {KEY}: wrong key"),
    ("key.replaced", KEY, {}, f"alice replaced the secret of the key {KEY}"),
    ("key.deleted", KEY, {}, f"alice deleted the key {KEY}"),
    (
        "price.set",
        "xai grok-imagine-video at 720p",
        {"new": True},
        "alice set a team price for xai grok-imagine-video at 720p",
    ),
    (
        "price.set",
        "xai grok-imagine-video",
        {"new": False},
        "alice changed the team's price for xai grok-imagine-video",
    ),
    ("price.deleted", "xai grok-imagine-video", {}, "alice removed the team's price for xai grok-imagine-video"),
    ("webhook.added", HOOK, {"events": ["generation.completed"]}, f"alice added the webhook endpoint {HOOK}"),
    ("webhook.deleted", HOOK, {}, f"alice deleted the webhook endpoint {HOOK}"),
    ("webhook.enabled", HOOK, {}, f"alice turned on the webhook endpoint {HOOK}"),
    ("webhook.disabled", HOOK, {}, f"alice turned off the webhook endpoint {HOOK}"),
    ("webhook.tested", HOOK, {}, f"alice sent a test event to the webhook endpoint {HOOK}"),
    ("webhook.redelivered", HOOK, {"msg_id": "msg_1"}, f"alice sent an event again to the webhook endpoint {HOOK}"),
    (
        "team.renamed",
        "Night crew",
        {"old": "Day crew", "new": "Night crew"},
        "alice renamed the team “Day crew” to “Night crew”",
    ),
    ("team.export_gate", "Night crew", {"approved_only": True}, "alice let only approved videos leave the studio"),
    ("team.export_gate", "Night crew", {"approved_only": False}, "alice let every finished video leave the studio"),
    ("budget.changed", "Night crew", {}, "alice changed the budgets of Night crew"),
    (
        "member.invited",
        "Invitation link as viewer",
        {"role": "viewer"},
        "alice made an invitation link for a new viewer",
    ),
    (
        "member.invitation_revoked",
        "Invitation link as admin",
        {"role": "admin"},
        "alice revoked an invitation link for a new admin",
    ),
    ("member.joined", "alice", {"role": "member"}, "alice joined the team"),
    ("member.removed", "carol", {"role": "viewer"}, "alice removed carol (viewer) from the team"),
    ("member.left", "alice", {"role": "member"}, "alice left the team"),
    ("member.role_changed", "carol", {"old": "member", "new": "admin"}, "alice made carol admin"),
    ("token.created", TOKEN, {"prefix": "ab12"}, f"alice made the access token {TOKEN}"),
    ("token.first_used", TOKEN, {"prefix": "ab12"}, f"alice used the access token {TOKEN} for the first time"),
    ("token.revoked", TOKEN, {"prefix": "ab12"}, f"alice revoked the access token {TOKEN}"),
]


def test_the_cases_cover_every_registered_action():
    assert {action for action, *_ in CASES} == ACTIONS


def page_cells(client) -> list[str]:
    """The audit page's sentences as a member reads them (text), newest first."""
    html = client.get(reverse("audit_log")).content.decode()
    cells = [part.split("</td>")[0] for part in html.split('<td class="audit-sentence">')[1:]]
    return [unescape(strip_tags(cell)).strip() for cell in cells]


def export_rows(client, **query) -> list[dict]:
    response = client.get(reverse("audit_export"), query)
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


@pytest.mark.parametrize(("action", "target", "data", "words"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_action_reads_as_its_sentence_on_the_page_and_in_the_csv(
    client_for, owner, team, action, target, data, words
):
    record_action(team, owner, action, target, **data)
    client = client_for(owner)
    assert page_cells(client) == [words]
    fallback = str(OTHER_SENTENCE).split("%(action)s")[0] % {"actor": "alice"}
    assert not words.startswith(fallback)  # not the bare "alice: key.added …" fallback
    (row,) = export_rows(client)
    assert row["sentence"] == words and row["action"] == action


def test_the_studio_itself_turning_off_an_endpoint_reads_as_the_studio(client_for, owner, team):
    record_action(team, None, "webhook.disabled", HOOK, reason="It failed for a day.")
    expected = f"The studio turned off the webhook endpoint {HOOK}"
    client = client_for(owner)
    assert page_cells(client) == [expected]
    assert export_rows(client)[0]["sentence"] == expected


def test_an_entry_from_a_retired_action_still_reads(client_for, owner, team, settings):
    settings.STUDIO_AUDIT_STRICT = False
    record_action(team, owner, "spending.old_name", "Night crew")
    assert page_cells(client_for(owner)) == ["alice: spending.old_name Night crew"]


def test_what_people_typed_in_a_sentence_stays_text(client_for, owner, team):
    record_action(team, owner, "team.renamed", "<b>Night</b>", old="<script>alert(1)</script>", new="<b>Night</b>")
    record_action(team, owner, "sequence.shot_added", "“<img src=x onerror=alert(1)>” → <i>Cut</i>")
    html = client_for(owner).get(reverse("audit_log")).content.decode()
    assert "<script>alert(1)" not in html and "<img src=x" not in html and "<i>Cut</i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;i&gt;Cut&lt;/i&gt;" in html


# --- links to the targets ---------------------------------------------------------------------


def sentence_links(client) -> list[str | None]:
    """The link of each sentence on the audit page (None for one without), newest first."""
    html = client.get(reverse("audit_log")).content.decode()
    cells = [part.split("</td>")[0] for part in html.split('<td class="audit-sentence">')[1:]]
    return [cell.split('href="')[1].split('"')[0] if 'href="' in cell else None for cell in cells]


def test_a_sequence_board_template_and_endpoint_link_to_their_pages(client_for, owner, team, key):
    made = make_generation(owner, team, key, prompt="Sunset over the sea")
    sequence = actions.create_sequence(team, owner, "Opening")
    board = actions.create_board(team, owner, name="Launch")
    PromptTemplate.objects.create(team=team, name="Ocean pan", prompt="The sea", dialect="xai", model="m")
    endpoint = WebhookEndpoint.objects.create(team=team, url=HOOK, secret_encrypted="x")
    record_action(team, owner, "template.saved", "Ocean pan")
    record_action(team, owner, "webhook.added", HOOK)
    record_action(team, owner, "frame.taken", "“Sunset over the sea”", uuid=str(made.uuid), time_s=1.0)
    record_action(team, owner, "price.set", "xai m", new=True)
    record_action(team, owner, "team.renamed", team.name, old="Old", new=team.name)
    links = sentence_links(client_for(owner))
    assert links == [
        reverse("teams"),
        reverse("prices"),
        reverse("generation", args=[made.uuid]),
        reverse("webhook", args=[endpoint.uuid]),
        reverse("prompts"),
        reverse("board", args=[board.uuid]),
        reverse("sequence", args=[sequence.uuid]),
        # the generation's own submission, recorded as it was made
        reverse("generation", args=[made.uuid]),
    ]
    client = client_for(owner)
    for link in links:
        assert client.get(link).status_code == 200  # each opens for the member reading the trail


def test_a_deleted_target_is_named_but_not_linked(client_for, owner, team):
    sequence = actions.create_sequence(team, owner, "Opening")
    board = actions.create_board(team, owner, name="Launch")
    actions.delete_sequence(sequence, owner)
    actions.delete_board(board, owner)
    assert not Sequence.objects.exists() and not Board.objects.exists()
    client = client_for(owner)
    assert sentence_links(client) == [None] * 4
    assert page_cells(client)[:2] == ["alice deleted the board “Launch”", "alice deleted the sequence “Opening”"]


def test_a_target_of_another_team_with_the_same_name_is_never_linked(client_for, owner, team, outsider):
    theirs = outsider.teams.get()
    sequence = actions.create_sequence(theirs, outsider, "Opening")
    actions.create_board(theirs, outsider, name="Launch")
    WebhookEndpoint.objects.create(team=theirs, url=HOOK, secret_encrypted="x")
    record_action(team, owner, "board.created", "Launch")
    record_action(team, owner, "webhook.added", HOOK)
    record_action(team, owner, "sequence.created", "Opening", uuid=str(sequence.uuid))  # a forged uuid
    assert sentence_links(client_for(owner)) == [None, None, None]


def test_an_access_token_links_to_the_account_page_only_for_its_owner(client_for, owner, team):
    admin = Membership.objects.create(
        team=team, user=type(owner).objects.create_user("carol", password="pw-carol-123"), role=Role.ADMIN
    ).user
    record_action(team, owner, "token.created", TOKEN, prefix="ab12")
    assert sentence_links(client_for(owner)) == [reverse("account") + "#tokens"]
    assert sentence_links(client_for(admin)) == [None]  # carol cannot see alice's tokens
    assert not AccessToken.objects.exists()


def test_real_actions_read_as_sentences_in_the_csv_too(client_for, owner, team, key, tmp_path):
    write_clip(tmp_path / "clip.mp4", seconds=1.0)
    made = finished_from(tmp_path / "clip.mp4", owner, team, key, prompt="Sunset over the sea")
    sequence = actions.create_sequence(team, owner, "Opening")
    actions.add_shot(sequence, made, owner)
    actions.frame_as_reference(made, 0.5, owner)
    client = client_for(owner)
    rows = export_rows(client, action="sequence.shot_added")
    assert [r["sentence"] for r in rows] == ["alice added “Sunset over the sea” to the sequence “Opening”"]
    rows = export_rows(client, action="frame.taken")
    assert [r["sentence"] for r in rows] == ["alice took a frame at 0:00.5 from “Sunset over the sea”"]
    assert sentence_links(client)[0] == reverse("generation", args=[made.uuid])


# --- in the browser ---------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, 375])
def test_the_audit_trail_reads_as_linked_sentences_at_both_widths(page, live_server, width):
    from playwright.sync_api import expect

    from videos.models import GatewayKey

    user = demo_with_sandbox_key(live_server)
    team = GatewayKey.objects.get(owner=user).team
    board = actions.create_board(team, user, name="Launch week: the long board name that wraps")
    sequence = actions.create_sequence(team, user, "Opening titles")
    long_url = "https://hooks.example.com/" + "studio-events-" * 8
    WebhookEndpoint.objects.create(team=team, url=long_url, secret_encrypted="x")
    record_action(team, user, "webhook.added", long_url, events=["generation.completed"])
    record_action(team, None, "webhook.disabled", long_url, reason="It failed for a day.")
    record_action(team, user, "sequence.rendered", sequence.name, uuid=str(sequence.uuid))
    record_action(team, user, "team.export_gate", team.name, approved_only=True)
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server)
    page.goto(f"{live_server.url}/audit/")
    sentences = page.locator(".audit-sentence")
    expect(sentences.first).to_contain_text("let only approved videos leave the studio")
    expect(page.get_by_role("link", name="Opening titles").first).to_have_attribute(
        "href", reverse("sequence", args=[sequence.uuid])
    )
    expect(page.get_by_role("link", name=board.name)).to_have_attribute("href", reverse("board", args=[board.uuid]))
    expect(page.locator(".audit-sentence", has_text="The studio turned off the webhook endpoint")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=f"/tmp/wt-audit-{width}.png", full_page=True)
    page.get_by_role("link", name=board.name).click()
    expect(page.get_by_role("heading", name=board.name)).to_be_visible()


def test_every_registered_action_has_a_name_in_the_filter_in_both_languages(client_for, owner, team):
    from django.utils import translation

    from videos.web.activity import ACTION_LABELS

    assert set(ACTION_LABELS) == set(ACTIONS)
    with translation.override("en"):
        english = {name: str(label) for name, label in ACTION_LABELS.items()}
    with translation.override("zh-hans"):
        untranslated = [name for name, label in ACTION_LABELS.items() if str(label) == english[name]]
    assert not untranslated
    record_action(team, owner, "key.added", "Sandbox")
    page = client_for(owner).get(reverse("audit_log"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert '<option value="key.added">密钥已添加</option>' in page

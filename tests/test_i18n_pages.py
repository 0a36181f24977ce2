"""Every page a member, a reviewer or a guest reaches, asked for in Chinese
(``Accept-Language: zh-Hans``), speaks Chinese: no English word is left in its text or in
the attributes people read (title, placeholder, aria-label, alt, button values), beyond
names and terms used as they are. The data on the pages is Chinese too, so what English
remains is the studio's own."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import Membership, Role
from tests.conftest import add_key, awaiting, finished, make_generation
from videos.actions import boards, notes, sequences, share, templates, webhooks
from videos.models import Generation, Task, TaskState

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
PROMPT = "海边的灯塔，黄昏，镜头缓慢推进"

#: Latin words that stay as they are in the Chinese interface: names, units and formats.
# fmt: off
KEPT = {
    # the product, the model and the gateways (names)
    "studio", "grok", "imagine", "xai", "sora", "preview", "openai", "aijisu", "jimmyai", "reapi", "sandbox",
    "multipart", "video", "pro", "max", "official", "beta",  # in names such as grok-imagine-video-1.5-beta
    "standard",  # the Standard Webhooks specification
    "cms", "ceil",  # an example use, and the credits formula "ceil(rate × seconds × 1000)"
    # formats, protocols and units
    "mp4", "png", "jpg", "jpeg", "webp", "csv", "zip", "json", "api", "url", "urls", "http", "https", "usd",
    "utc", "gmt", "webhook", "webhooks", "post", "get", "hmac", "sha", "uuid", "idempotency", "key",
    "curl", "httpx", "bearer", "authorization", "openapi", "ctrl", "cmd", "enter", "esc", "tab", "english",
    # the test's own data: people, keys, time zones
    "alice", "bob", "carol", "demo", "asia", "shanghai", "europe",
}
# fmt: on

#: The gateways' own status words, quoted in the timeline (lower case, as on the wire).
GATEWAY_WORDS = {"queued", "pending", "processing", "in_progress", "running", "completed", "succeeded", "failed"}

#: Text not written by the studio that may hold Latin letters: addresses, ids, secrets.
NOT_OURS = re.compile(
    r"https?://\S+|[\w.+-]+@[\w.-]+|\b[0-9a-f]{8}-[0-9a-f-]{27}\b|\bsk-[\w-]+|\bst_[\w-]+|\bwhsec_\S+"
    r"|\b\d+(?:\.\d+)?\s*(?:p|s|ms|kb|mb|gb|px|fps)\b|[A-Za-z_]+/[A-Za-z_]+",
    re.IGNORECASE,
)
READ_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "label"}
LITERAL = {"script", "style", "template", "code", "pre", "kbd", "samp"}


class VisibleText(HTMLParser):
    """The text a person reads on a page: text nodes outside script, style and template,
    the attributes above, and the values of buttons. Left out: code (``<code>``, ``<pre>``,
    ``<kbd>``, ``<samp>``: identifiers and data, typed or read as they are) and the time zone
    list, whose entries are the tz database's names (``Asia/Shanghai``)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag in LITERAL or (tag == "select" and values.get("name") == "time_zone"):
            self.hidden.append(tag)
        if self.hidden:
            return
        for name in READ_ATTRIBUTES & set(values):
            self.parts.append(values[name] or "")
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(values["value"])

    def handle_endtag(self, tag):
        if self.hidden and self.hidden[-1] == tag:
            self.hidden.pop()

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def english_left(html: str) -> list[str]:
    """The Latin words of three letters or more on the page that are not kept names, and
    any ASCII colon, comma or full stop right after a Chinese character (Chinese text takes
    the full-width ones, as in Django's own ``label_suffix``)."""
    parser = VisibleText()
    parser.feed(html)
    found = []
    for part in parser.parts:
        found += [
            f"ASCII {mark!r} after {char}" for char, mark in re.findall(r"([\u4e00-\u9fff])([:,.;?!])(?!\d)", part)
        ]
        text = NOT_OURS.sub(" ", part)
        for word in re.findall(r"(?<![A-Za-z0-9_-])[A-Za-z][A-Za-z'’-]*[A-Za-z](?![A-Za-z0-9_-])", text):
            if len(word) < 3 or word in GATEWAY_WORDS:
                continue
            if not all(piece.lower() in KEPT for piece in re.split(r"[-'’]", word) if piece):
                found.append(word)
    return found


def assert_chinese(client, url: str, **extra) -> str:
    response = client.get(url, **ZH, **extra)
    assert response.status_code == 200, f"{url} answered {response.status_code}"
    html = response.content.decode()
    assert re.search(r"[\u4e00-\u9fff]", html), f"{url} has no Chinese at all"
    left = english_left(html)
    assert not left, f"{url} still shows English: {sorted(set(left))[:30]}"
    return html


@pytest.fixture
def studio(client, owner, team, gateway):
    """A team with a bit of everything, made in Chinese by members who chose Chinese:
    videos in every state, a board, a sequence, notes, a template, a webhook, a share link,
    a token, a second member."""
    with translation.override("zh-hans"):
        return make_studio(client, owner, team)


def make_studio(client, owner, team) -> dict:
    owner.language = "zh-hans"
    owner.save()
    team.name = "灯塔工作组"
    team.save()
    key = add_key(owner, team, label="沙盒密钥")
    done = finished(owner, team, key, prompt=PROMPT)
    waiting = awaiting(owner, team, key, prompt="雨中的纸船")
    failed = make_generation(owner, team, key, prompt="夜晚的城市")
    Task.objects.filter(pk=failed.task.pk).update(state=TaskState.FAILED, last_error="")
    running = make_generation(owner, team, key, prompt="山间的云海")
    Task.objects.filter(pk=running.task.pk).update(state=TaskState.PROCESSING, progress=40)
    teammate = Membership.objects.create(
        team=team,
        user=type(owner).objects.create_user("bob", password="pw-bob-123", language="zh-hans"),
        role=Role.MEMBER,
    )
    board = boards.create_board(team, owner, name="情绪板", description="黄昏的色调")
    boards.add_to_board(board, [done, waiting], owner)
    sequence = sequences.create_sequence(team, owner, "第一场")
    sequences.add_shot(sequence, done, owner)
    note = notes.add_note(done, owner, "这里的光线太暗", 0.5)
    notes.reply(note, teammate.user, "我来调整")
    templates.save_template(
        team, owner, name="灯塔模板", tags="海边, 黄昏", prompt=PROMPT, dialect=key.dialect,
        model=done.model_name, options=done.options,
    )  # fmt: skip
    endpoint, _secret = webhooks.add_endpoint(team, owner, "https://hooks.example.com/studio", ["generation.completed"])
    link, token = share.create_share_link(done, owner, expires_at=timezone.now() + timedelta(days=7))
    client.force_login(owner)
    made = client.post(
        reverse("create_token"),
        {
            "team": str(team.uuid),
            "name": "脚本",
            "scopes": ["read"],
            "expires": (timezone.now() + timedelta(days=30)).date().isoformat(),
        },
        **ZH,
    )
    assert made.status_code == 200, made.content.decode()[:500]
    return {
        "team": team,
        "key": key,
        "done": done,
        "waiting": waiting,
        "failed": failed,
        "running": running,
        "board": board,
        "sequence": sequence,
        "endpoint": endpoint,
        "share_token": token,
    }


MEMBER_PAGES = [
    "studio", "history", "review_queue", "audit_log", "notifications", "keys", "spend", "prices", "approvals",
    "webhooks", "sequences", "boards", "prompts", "account", "teams",
]  # fmt: skip


@pytest.mark.parametrize("name", MEMBER_PAGES)
def test_each_page_speaks_chinese(client, studio, name):
    assert_chinese(client, reverse(name))


@pytest.mark.parametrize("which", ["done", "waiting", "failed", "running"])
def test_the_detail_page_speaks_chinese_in_every_state(client, studio, which):
    assert_chinese(client, reverse("generation", args=[studio[which].uuid]))


def test_the_pages_of_a_board_a_sequence_a_webhook_and_a_share_speak_chinese(client, studio):
    assert_chinese(client, reverse("board", args=[studio["board"].uuid]))
    assert_chinese(client, reverse("sequence", args=[studio["sequence"].uuid]))
    assert_chinese(client, reverse("webhook", args=[studio["endpoint"].uuid]))
    assert_chinese(client, reverse("share_create", args=[studio["done"].uuid]))
    assert_chinese(client, reverse("board_share", args=[studio["board"].uuid]))
    assert_chinese(client, reverse("password_change"))


def test_the_guest_page_speaks_chinese(client, studio):
    client.logout()
    assert_chinese(client, reverse("share_page", args=[studio["share_token"]]))


@pytest.mark.parametrize(
    "name", ["login", "signup", "password_reset", "password_reset_done", "password_reset_complete"]
)
def test_the_pages_before_logging_in_speak_chinese(client, db, name):
    assert_chinese(client, reverse(name))


def test_a_form_error_is_in_chinese_where_it_was_made(client, studio):
    response = client.post(reverse("generate"), {"key": str(studio["key"].uuid), "prompt": ""}, **ZH)
    html = response.content.decode()
    assert re.search(r"[\u4e00-\u9fff]", html)
    assert "This field is required" not in html and "required" not in english_left(html)


def test_a_chinese_member_gets_chinese_notifications_from_an_english_one(client, studio):
    """Bob reads English; Alice chose Chinese: Bob's note mentioning her reaches her in Chinese."""
    from accounts import actions as account_actions
    from videos.models import Notification

    owner = studio["team"].memberships.get(role=Role.OWNER).user
    account_actions.set_language(owner, "zh-hans")
    bob = studio["team"].memberships.get(user__username="bob").user
    notes.add_note(studio["done"], bob, "@alice have a look at 0.5 s", 0.5)
    latest = Notification.objects.filter(user=owner).order_by("-pk").first()
    assert latest is not None and re.search(r"[\u4e00-\u9fff]", latest.message)


def test_the_worker_writes_in_the_language_the_request_was_made_in(studio, owner, team):
    """The worker's own message for a request made in Chinese (its key deleted before it
    was sent) reads in Chinese; the same for a request made in English reads in English."""
    from django.utils import translation

    from tests.conftest import run_until_done

    ended = {}
    for language, prompt in (("zh-hans", "失败的请求"), ("en", "An English request")):
        key = add_key(owner, team, secret=f"sk-sandbox-alice-{language}", label=f"密钥 {language}")
        with translation.override(language):
            generation = make_generation(owner, team, key, prompt=prompt)
        assert Generation.objects.get(pk=generation.pk).language == language
        key.delete()
        ended[language] = run_until_done(generation.task.pk)
    assert ended["zh-hans"].state == ended["en"].state == TaskState.FAILED
    assert re.search(r"[\u4e00-\u9fff]", ended["zh-hans"].last_error), ended["zh-hans"].last_error
    assert "deleted" in ended["en"].last_error


def test_a_refused_key_says_why_in_chinese_at_its_fields(client, studio):
    response = client.post(
        reverse("keys"),
        {"dialect": "openai-preview", "label": "坏的", "base_url": "ftp://example.com", "secret": "short"},
        **ZH,
    )
    html = response.content.decode()
    assert "That does not look like an API key" not in html
    with translation.override("zh-hans"):
        assert translation.gettext("That does not look like an API key (8+ characters, no spaces).") in html
    assert not english_left(html)


def test_the_estimate_and_a_flash_message_are_in_chinese(client, studio):
    key = studio["key"]
    estimate = client.post(
        reverse("estimate"), {"key": str(key.uuid), "prompt": PROMPT, "duration": "1", "resolution": "480p"}, **ZH
    )
    assert estimate.status_code == 200 and re.search(r"[\u4e00-\u9fff]", estimate.content.decode())
    assert not english_left(estimate.content.decode())
    cancelled = client.post(reverse("cancel", args=[studio["running"].uuid]), follow=True, **ZH)
    with translation.override("zh-hans"):
        flash = [str(m) for m in cancelled.context["messages"]]
    assert flash and all(re.search(r"[\u4e00-\u9fff]", m) for m in flash), flash


def test_a_refusal_page_is_in_chinese(client, studio):
    viewer = type(studio["team"].memberships.first().user).objects.create_user("carol", password="pw-carol-123")
    Membership.objects.create(team=studio["team"], user=viewer, role=Role.VIEWER)
    client.force_login(viewer)
    response = client.post(reverse("retry", args=[studio["failed"].uuid]), **ZH)
    assert response.status_code == 403
    html = response.content.decode()
    assert re.search(r"[\u4e00-\u9fff]", html) and not english_left(html)


def test_an_email_is_written_in_its_recipients_language(client, studio, mailoutbox, django_capture_on_commit_callbacks):
    """Alice chose Chinese; Bob's mention reaches her inbox in Chinese, whatever Bob reads."""
    owner = studio["team"].memberships.get(role=Role.OWNER).user
    owner.email = "alice@example.com"
    owner.save()
    bob = studio["team"].memberships.get(user__username="bob").user
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        notes.add_note(Generation.objects.get(pk=studio["done"].pk), bob, "@alice look at this", 0.2)
    sent = [m for m in mailoutbox if "alice@example.com" in m.to]
    assert sent, "no email to alice"
    assert re.search(r"[\u4e00-\u9fff]", sent[-1].subject + sent[-1].body)


def test_a_member_who_chose_no_language_gets_notes_in_their_browsers(studio):
    """Carol never chose a language; her browser asks for Chinese. What Bob (reading
    English) writes to her while she is away reaches her in Chinese."""
    from django.test import Client

    client = Client()  # her own browser: no language cookie from Alice's choice
    carol = type(studio["team"].memberships.first().user).objects.create_user("carol", password="pw-carol-123")
    Membership.objects.create(team=studio["team"], user=carol, role=Role.MEMBER)
    client.force_login(carol)
    client.get(reverse("studio"), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9,en;q=0.5")
    carol.refresh_from_db()
    assert (carol.language, carol.browser_language, carol.interface_language) == ("", "zh-hans", "zh-hans")
    bob = studio["team"].memberships.get(user__username="bob").user
    with translation.override("en"):
        notes.add_note(Generation.objects.get(pk=studio["done"].pk), bob, "@carol over to you", 0.1)
    from videos.models import Notification

    told = Notification.objects.get(user=carol)
    assert re.search(r"[\u4e00-\u9fff]", told.message), told.message
    again = client.get(reverse("studio"), HTTP_ACCEPT_LANGUAGE="en")
    assert again["Content-Language"] == "en"
    carol.refresh_from_db()
    assert carol.interface_language == "en"  # it follows the browser, as the pages do


def test_takes_compare_and_a_waiting_approval_speak_chinese(client, studio, owner, team, priced):
    """Two takes of one request and their grid, a video compared with its remix, and a request over the
    approval threshold on the approvals page and its card."""
    from decimal import Decimal

    from videos.actions import generations
    from videos.gateways.base import GenerationInput

    key = studio["key"]
    spec = key.gateway_class.spec(None)
    choices = GenerationInput(
        model=spec.model, prompt="两个镜次", duration=1, aspect_ratio=spec.default_aspect_ratio,
        resolution=spec.resolutions[0], audio=spec.default_audio if spec.audio else None,
    )  # fmt: skip
    with translation.override("zh-hans"):
        takes = generations.create_takes(team=team, author=owner, key=key, choices=choices, takes=2)
        remix = generations.create_generation(team=team, author=owner, key=key, choices=choices, parent=studio["done"])
        team.approval_threshold_usd = Decimal("0.01")
        team.save()
        generations.create_generation(team=team, author=owner, key=key, choices=choices)
    assert_chinese(client, reverse("takes", args=[takes[0].take_group]))
    assert_chinese(client, reverse("compare", args=[studio["done"].uuid, remix.uuid]))
    html = assert_chinese(client, reverse("approvals"))
    assert "两个镜次" in html
    assert_chinese(client, reverse("studio"))


def test_the_password_reset_email_is_in_the_accounts_language(client, studio, mailoutbox):
    owner = studio["team"].memberships.get(role=Role.OWNER).user
    owner.email = "alice@example.com"
    owner.save()
    from django.test import Client

    Client().post(reverse("password_reset"), {"email": "alice@example.com"}, HTTP_ACCEPT_LANGUAGE="en")
    assert len(mailoutbox) == 1
    assert re.search(r"[\u4e00-\u9fff]", mailoutbox[0].subject) and re.search(r"[\u4e00-\u9fff]", mailoutbox[0].body)

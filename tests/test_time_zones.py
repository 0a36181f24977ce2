"""Time zones and the language choice (issue 16, items 4 and 3's groundwork): every date and
time a member sees is in their zone (taken from the browser on a first visit, editable on the
account page), the audit trail says which zone, and the language follows the browser unless
the member chose one, which is kept on their account."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils.html import escape

from accounts.models import User
from tests.conftest import make_generation
from videos.audit import record_action
from videos.models import AuditEntry, Event, Generation

pytestmark = pytest.mark.django_db

#: Midnight UTC: 08:00 in Asia/Shanghai (UTC+8, no daylight saving time).
MIDNIGHT_UTC = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


def in_zone(user: User, name: str) -> User:
    User.objects.filter(pk=user.pk).update(time_zone=name)
    user.refresh_from_db()
    return user


def at_midnight_utc(owner, team, key) -> Generation:
    generation = make_generation(owner, team, key, prompt="A lantern festival at night")
    Generation.objects.filter(pk=generation.pk).update(created_at=MIDNIGHT_UTC)
    Event.objects.filter(generation=generation).update(created_at=MIDNIGHT_UTC)
    return Generation.objects.get(pk=generation.pk)


def test_a_member_in_shanghai_sees_a_midnight_utc_generation_at_0800_on_history_and_its_page(
    client_for, owner, team, key
):
    generation = at_midnight_utc(owner, team, key)
    client = client_for(in_zone(owner, "Asia/Shanghai"))

    history = client.get(reverse("history")).content.decode()
    assert 'datetime="2026-12-01T08:00:00+08:00"' in history
    assert 'title="2026-12-01 08:00"' in history

    detail = client.get(reverse("generation", args=[generation.uuid])).content.decode()
    assert 'datetime="2026-12-01T08:00:00+08:00"' in detail
    assert "8 a.m." in detail  # "Requested", in the page's own format
    assert ">08:00:00</time>" in detail  # the timeline's first line


def test_a_member_with_no_zone_sees_the_server_zone(client_for, owner, team, key):
    generation = at_midnight_utc(owner, team, key)
    detail = client_for(owner).get(reverse("generation", args=[generation.uuid])).content.decode()
    assert settings.TIME_ZONE == "UTC"
    assert 'datetime="2026-12-01T00:00:00+00:00"' in detail and ">00:00:00</time>" in detail


def test_the_audit_page_and_its_csv_are_in_the_members_zone_and_say_which(client_for, owner, team):
    entry = record_action(team, owner, "key.added", "Main key")
    AuditEntry.objects.filter(pk=entry.pk).update(created_at=MIDNIGHT_UTC)
    client = client_for(in_zone(owner, "Asia/Shanghai"))

    page = client.get(reverse("audit_log")).content.decode()
    assert "Times in Asia/Shanghai" in page
    assert ">2026-12-01 08:00:00</time>" in page

    export = client.get(reverse("audit_export"))
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert rows[1][0] == "2026-12-01T08:00:00+08:00"  # ISO 8601 with the zone's offset

    in_zone(owner, "America/New_York")  # the day before, there
    assert "Times in America/New_York" in client.get(reverse("audit_log")).content.decode()
    rows = list(csv.reader(io.StringIO(b"".join(client.get(reverse("audit_export")).streaming_content).decode())))
    assert rows[1][0].lstrip("\ufeff") == "2026-11-30T19:00:00-05:00"


def test_the_audit_day_filter_counts_days_in_the_members_zone(client_for, owner, team):
    entry = record_action(team, owner, "key.added", "Main key")
    evening = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)  # 1 Dec, 04:00 in Shanghai
    AuditEntry.objects.filter(pk=entry.pk).update(created_at=evening)
    client = client_for(in_zone(owner, "Asia/Shanghai"))
    assert "Main key" in client.get(reverse("audit_log"), {"since": "2026-12-01"}).content.decode()
    in_zone(owner, "UTC")
    assert "Main key" not in client.get(reverse("audit_log"), {"since": "2026-12-01"}).content.decode()


def test_the_first_visit_reports_the_browsers_zone_once(client_for, owner, team):
    client = client_for(owner)
    page = client.get(reverse("account")).content.decode()
    assert "js/timezone.js" in page and f'data-url="{reverse("detect_time_zone")}"' in page

    response = client.post(reverse("detect_time_zone"), {"time_zone": "Asia/Shanghai"})
    assert response.status_code == 204
    owner.refresh_from_db()
    assert owner.time_zone == "Asia/Shanghai"
    assert "js/timezone.js" not in client.get(reverse("account")).content.decode()  # asked once

    # Another tab or browser reporting later changes nothing: the zone is the member's now.
    assert client.post(reverse("detect_time_zone"), {"time_zone": "Europe/Paris"}).status_code == 204
    owner.refresh_from_db()
    assert owner.time_zone == "Asia/Shanghai"


@pytest.mark.parametrize(
    "name",
    [
        "Mars/Olympus_Mons",
        "../../../etc/passwd",
        "/etc/localtime",
        "Asia/Shanghai\x00",
        " Asia/Shanghai",
        "x" * 5000,
        "Factory",
        "",
    ],
)
def test_a_bad_zone_name_from_the_browser_is_refused_and_never_stored(client_for, owner, team, name):
    response = client_for(owner).post(reverse("detect_time_zone"), {"time_zone": name})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    owner.refresh_from_db()
    assert owner.time_zone == ""


def test_a_visitor_who_is_not_logged_in_cannot_report_a_zone(client, owner):
    response = client.post(reverse("detect_time_zone"), {"time_zone": "Asia/Shanghai"})
    assert response.status_code == 302 and reverse("login") in response["Location"]
    owner.refresh_from_db()
    assert owner.time_zone == ""


def test_the_account_page_edits_the_zone_and_says_it(client_for, owner, team):
    client = client_for(in_zone(owner, "Asia/Shanghai"))
    page = client.get(reverse("account")).content.decode()
    assert "Times on your pages are in Asia/Shanghai." in page
    assert '<optgroup label="Asia">' in page and '<option value="Asia/Shanghai" selected>' in page

    response = client.post(reverse("preferences"), {"time_zone": "Europe/Paris", "language": ""}, follow=True)
    assert response.status_code == 200
    owner.refresh_from_db()
    assert owner.time_zone == "Europe/Paris"
    assert "Times on your pages are in Europe/Paris." in response.content.decode()

    client.post(reverse("preferences"), {"time_zone": "", "language": ""})  # back to the server's
    owner.refresh_from_db()
    assert owner.time_zone == ""


def test_a_bad_zone_on_the_account_page_is_shown_by_its_field_and_nothing_is_saved(client_for, owner, team):
    client = client_for(in_zone(owner, "Asia/Shanghai"))
    response = client.post(reverse("preferences"), {"time_zone": "<b>Mars</b>", "language": "zh-hans"})
    assert response.status_code == 400
    html = response.content.decode()
    assert '<ul class="errorlist' in html and escape("“<b>Mars</b>” is not a time zone") in html
    assert "<b>Mars</b>" not in html
    owner.refresh_from_db()
    assert (owner.time_zone, owner.language) == ("Asia/Shanghai", "")  # the language was not half-saved

    response = client.post(reverse("preferences"), {"time_zone": "Asia/Shanghai", "language": "fr"})
    assert response.status_code == 400 and "Choose a language from the list." in response.content.decode()
    owner.refresh_from_db()
    assert owner.language == ""


def page_language(response) -> str:
    html = response.content.decode()
    start = html.index('<html lang="') + len('<html lang="')
    return html[start : html.index('"', start)]


def test_the_language_follows_the_browser_until_a_member_chooses_one(client, owner, team):
    anonymous = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9,en;q=0.5")
    assert page_language(anonymous) == "zh-hans" and anonymous["Content-Language"] == "zh-hans"
    assert page_language(client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-GB")) == "en"

    client.force_login(owner)
    assert page_language(client.get(reverse("account"), HTTP_ACCEPT_LANGUAGE="zh-CN")) == "zh-hans"
    assert page_language(client.get(reverse("account"), HTTP_ACCEPT_LANGUAGE="en")) == "en"


def test_a_chosen_language_overrides_the_browser_and_persists_across_logins(client, owner, team):
    owner.set_password("owner-pass-123")
    owner.save()
    assert client.login(username=owner.username, password="owner-pass-123")
    client.post(reverse("preferences"), {"time_zone": "", "language": "zh-hans"})
    owner.refresh_from_db()
    assert owner.language == "zh-hans"
    response = client.get(reverse("account"), HTTP_ACCEPT_LANGUAGE="en")
    assert page_language(response) == "zh-hans" and response["Content-Language"] == "zh-hans"

    client.post(reverse("logout"))
    client.cookies.clear()  # another browser: only the account remembers
    response = client.post(
        reverse("login"), {"username": owner.username, "password": "owner-pass-123"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 302
    response = client.get(reverse("account"), HTTP_ACCEPT_LANGUAGE="en")
    assert page_language(response) == "zh-hans"
    # The browser now keeps it too: after logging out, the login page stays in it.
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    client.post(reverse("logout"))
    assert page_language(client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en")) == "zh-hans"

    # "Follow the browser" gives the choice back to Accept-Language, in this browser too.
    client.login(username=owner.username, password="owner-pass-123")
    client.post(reverse("preferences"), {"time_zone": "", "language": ""})
    assert page_language(client.get(reverse("account"), HTTP_ACCEPT_LANGUAGE="en")) == "en"


def test_the_spend_page_month_start_stays_in_utc_as_it_says(client_for, owner, team):
    page = client_for(in_zone(owner, "America/Los_Angeles")).get(reverse("spend")).content.decode()
    assert "since 1 " in page and "(UTC)" in page


def test_a_moment_kept_in_an_audit_entrys_details_is_shown_in_the_members_zone(client_for, owner, team):
    entry = record_action(team, owner, "member.invited", "Invitation link", expires_at="2026-12-09T01:00+00:00")
    AuditEntry.objects.filter(pk=entry.pk).update(created_at=MIDNIGHT_UTC)
    client = client_for(in_zone(owner, "Asia/Shanghai"))
    assert "2026-12-09T09:00+08:00" in client.get(reverse("audit_log")).content.decode()
    rows = list(csv.reader(io.StringIO(b"".join(client.get(reverse("audit_export")).streaming_content).decode())))
    assert "expires_at: 2026-12-09T09:00+08:00" in rows[1][5]


def test_the_history_day_filter_counts_days_in_the_members_zone(client_for, owner, team, key):
    generation = make_generation(owner, team, key, prompt="A lantern festival at night")
    Generation.objects.filter(pk=generation.pk).update(created_at=datetime(2026, 11, 30, 20, 0, tzinfo=UTC))
    client = client_for(in_zone(owner, "Asia/Shanghai"))  # 1 Dec, 04:00 there
    assert "A lantern festival" in client.get(reverse("history"), {"since": "2026-12-01"}).content.decode()
    in_zone(owner, "UTC")
    assert "A lantern festival" not in client.get(reverse("history"), {"since": "2026-12-01"}).content.decode()

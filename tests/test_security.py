"""Security: login throttling, where a ``next`` may lead, CSRF on forms and htmx posts, and
`check --deploy` with the production environment documented in docs/operations.md."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from cryptography.fernet import Fernet
from django.test import Client
from django.urls import reverse

from accounts import throttle
from tests.conftest import make_generation

BASE_DIR = Path(__file__).resolve().parent.parent
MESSAGE = "Too many failed attempts; try again in"
GENERIC = "Please enter a correct username and password"


def attempt(client, username, password, ip="198.51.100.7", **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip, **extra)


def fail(client, username, times, ip="198.51.100.7"):
    for _ in range(times):
        response = attempt(client, username, "wrong-password", ip)
        assert response.status_code == 200
        assert GENERIC in response.content.decode()


# --- throttling ---------------------------------------------------------------------------


def test_sixth_attempt_is_refused_with_429_and_the_wait(client, owner, settings):
    fail(client, "alice", settings.LOGIN_FAILURE_LIMIT)
    response = attempt(client, "alice", "pw-alice-123")  # even the right password now
    assert response.status_code == 429
    assert f"{MESSAGE} 15 minutes." in response.content.decode()
    assert 14 * 60 < int(response["Retry-After"]) <= 15 * 60
    assert "_auth_user_id" not in client.session


def test_a_success_resets_the_username_budget(client, owner, settings):
    fail(client, "alice", settings.LOGIN_FAILURE_LIMIT - 1)
    assert attempt(client, "alice", "pw-alice-123").status_code == 302
    client.logout()
    fail(client, "alice", settings.LOGIN_FAILURE_LIMIT)  # a fresh budget of five
    assert attempt(client, "alice", "wrong-password").status_code == 429


def test_the_lockout_ends_when_the_window_passes(client, owner, settings, monkeypatch):
    fail(client, "alice", settings.LOGIN_FAILURE_LIMIT)
    assert attempt(client, "alice", "pw-alice-123").status_code == 429
    later = throttle.time.time() + settings.LOGIN_FAILURE_WINDOW + 1
    monkeypatch.setattr(throttle.time, "time", lambda: later)
    throttle._cache().clear()  # what expiry does: the cache's own clock is not patched
    assert attempt(client, "alice", "pw-alice-123").status_code == 302


def test_other_users_from_the_same_address_are_not_affected(client, owner, teammate, settings):
    fail(client, "alice", settings.LOGIN_FAILURE_LIMIT, ip="198.51.100.7")
    assert attempt(client, "alice", "pw-alice-123", ip="198.51.100.7").status_code == 429
    # Another user from the same address still signs in: one person's typos do not lock the office.
    assert attempt(client, "bob", "pw-bob-123", ip="198.51.100.7").status_code == 302


def test_guessing_from_elsewhere_cannot_lock_the_user_out(client, owner, settings):
    """An attacker hammering alice's username from other addresses: each address is
    stopped, and alice, from an address with no failures, signs in with her password."""
    attackers = ["198.51.100.7", "198.51.100.8", "2001:db8:66::1"]
    for ip in attackers:
        fail(client, "alice", settings.LOGIN_FAILURE_LIMIT, ip=ip)
        for _ in range(3):  # and keeps trying: refused before the password is checked
            assert attempt(client, "alice", "wrong-password", ip=ip).status_code == 429
    assert attempt(client, "alice", "pw-alice-123", ip=attackers[0]).status_code == 429

    response = attempt(client, "alice", "pw-alice-123", ip="203.0.113.9")

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(owner.pk)
    # Her sign-in did not lift the attacker's own refusal.
    client.logout()
    assert attempt(client, "alice", "pw-alice-123", ip=attackers[0]).status_code == 429


def test_an_address_over_its_budget_is_refused_for_any_username(client, owner, teammate, settings):
    per_user = settings.LOGIN_FAILURE_LIMIT
    names = [f"user{n}" for n in range(settings.LOGIN_IP_FAILURE_LIMIT // per_user)]
    for name in names:
        fail(client, name, per_user, ip="198.51.100.7")
    fail(client, "carol", settings.LOGIN_IP_FAILURE_LIMIT - per_user * len(names), ip="198.51.100.7")

    refused = attempt(client, "bob", "pw-bob-123", ip="198.51.100.7")  # a username it never tried

    assert refused.status_code == 429
    assert MESSAGE in refused.content.decode()
    assert 14 * 60 < int(refused["Retry-After"]) <= 15 * 60
    assert "_auth_user_id" not in client.session
    assert attempt(client, "bob", "pw-bob-123", ip="203.0.113.9").status_code == 302


def test_the_address_budget_stops_spraying_across_usernames(client, owner, settings):
    settings.LOGIN_IP_FAILURE_LIMIT = 8
    for n in range(8):
        fail(client, f"user{n}", 1, ip="198.51.100.7")
    refused = attempt(client, "alice", "pw-alice-123", ip="198.51.100.7")
    assert refused.status_code == 429
    assert MESSAGE in refused.content.decode()
    assert attempt(client, "alice", "pw-alice-123", ip="203.0.113.9").status_code == 302
    # Refused for the address, the attempt did not count against alice's own budget.
    client.logout()
    fail(client, "alice", settings.LOGIN_FAILURE_LIMIT - 1, ip="203.0.113.9")


def test_ipv6_addresses_count_per_slash_64(client, owner, settings):
    settings.LOGIN_IP_FAILURE_LIMIT = 3
    for n in range(3):
        fail(client, f"user{n}", 1, ip=f"2001:db8:1:2::{n + 1}")
    assert attempt(client, "alice", "pw-alice-123", ip="2001:db8:1:2::ff").status_code == 429
    assert attempt(client, "alice", "pw-alice-123", ip="2001:db8:1:3::1").status_code == 302


def test_no_user_enumeration(client, owner, settings):
    """A wrong password for a real user and any password for a made-up one read the same,
    before the lockout and during it."""
    real = attempt(client, "alice", "wrong-password", ip="198.51.100.7")
    made_up = attempt(client, "nobody-by-this-name", "wrong-password", ip="203.0.113.9")
    assert real.status_code == made_up.status_code == 200
    assert real.context["form"].errors == made_up.context["form"].errors
    fail(client, "alice", settings.LOGIN_FAILURE_LIMIT - 1, ip="198.51.100.7")
    fail(client, "nobody-by-this-name", settings.LOGIN_FAILURE_LIMIT - 1, ip="203.0.113.9")
    real = attempt(client, "alice", "wrong-password", ip="198.51.100.7")
    made_up = attempt(client, "nobody-by-this-name", "wrong-password", ip="203.0.113.9")
    assert real.status_code == made_up.status_code == 429
    assert real.context["form"].errors == made_up.context["form"].errors
    assert f"{MESSAGE} 15 minutes." in made_up.content.decode()
    assert abs(int(real["Retry-After"]) - int(made_up["Retry-After"])) <= 2


def test_username_spellings_share_a_budget(client, owner, settings):
    fail(client, "alice", 3)
    fail(client, "ALICE", settings.LOGIN_FAILURE_LIMIT - 3)
    assert attempt(client, "Alice", "pw-alice-123").status_code == 429


def test_the_client_address_comes_from_the_trusted_proxy(client, owner, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.LOGIN_IP_FAILURE_LIMIT = 2
    # The client prepends a fake address each time; the proxy's entry (the last) is what counts.
    for n in range(2):
        response = attempt(client, f"user{n}", "x", ip="10.0.0.2", HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, 198.51.100.7")
        assert response.status_code == 200
    blocked = attempt(client, "alice", "pw-alice-123", ip="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.9, 198.51.100.7")
    assert blocked.status_code == 429
    # Everyone else behind the same proxy is still let in.
    assert (
        attempt(client, "alice", "pw-alice-123", ip="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 302
    )


def test_the_admin_login_is_throttled_too(client, owner, settings):
    owner.is_staff = True
    owner.save()
    url = reverse("admin:login")
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        client.post(url, {"username": "alice", "password": "wrong"}, REMOTE_ADDR="198.51.100.7")
    response = client.post(url, {"username": "alice", "password": "pw-alice-123"}, REMOTE_ADDR="198.51.100.7")
    assert MESSAGE in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_parallel_guesses_cannot_overrun_the_budget(settings):
    """Slots are taken atomically before the password is checked: twenty guesses at once
    get five tries, not twenty."""
    from concurrent.futures import ThreadPoolExecutor

    from django.test import RequestFactory

    settings.CACHES = {
        **settings.CACHES,
        "login_throttle": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    settings.LOGIN_IP_FAILURE_LIMIT = 100
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR="198.51.100.7")
    with ThreadPoolExecutor(max_workers=20) as pool:
        attempts = list(pool.map(lambda _: throttle.begin(request, "alice"), range(20)))
    assert sum(not a.refused for a in attempts) == settings.LOGIN_FAILURE_LIMIT


def test_a_right_password_signs_in_as_before(client, owner):
    response = attempt(client, "alice", "pw-alice-123")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(owner.pk)


# --- where a `next` may lead ----------------------------------------------------------------

HOSTILE_NEXT = {
    "absolute": "https://evil.example/",
    "scheme-relative": "//evil.example/path",
    "backslashes": "/\\evil.example",
    "javascript": "javascript:alert(1)",
    "data": "data:text/html,<script>alert(1)</script>",
    "very-long": "/history/?q=" + "a" * 5000,
    "nul": "/history/\x00",
    "header-splitting": "/history/\r\nSet-Cookie: hacked=1",
    "bare-word": "javascript",
    "view-name": "logout",
}


@pytest.mark.parametrize("value", HOSTILE_NEXT.values(), ids=HOSTILE_NEXT.keys())
def test_favorite_never_follows_a_next_off_the_site(client_for, owner, key, value):
    generation = make_generation(owner, owner.teams.get(), key)
    client = client_for(owner)
    url = reverse("favorite", args=[generation.uuid])

    from_body = client.post(url, {"next": value})
    from_query = client.post(url, QUERY_STRING=f"next={quote(value, safe='')}")

    home = reverse("generation", args=[generation.uuid])
    assert (from_body.status_code, from_body["Location"]) == (302, home)
    assert (from_query.status_code, from_query["Location"]) == (302, home)
    assert "hacked" not in from_body.cookies and not generation.favorited_by.exists()  # toggled twice


def test_favorite_follows_a_next_on_the_site(client_for, owner, key):
    generation = make_generation(owner, owner.teams.get(), key)
    back = reverse("history") + "?q=boat&page=2"
    response = client_for(owner).post(reverse("favorite", args=[generation.uuid]), {"next": back})
    assert (response.status_code, response["Location"]) == (302, back)
    assert list(generation.favorited_by.all()) == [owner]


def test_over_https_a_next_may_not_drop_to_http(client_for, owner, key):
    generation = make_generation(owner, owner.teams.get(), key)
    url = reverse("favorite", args=[generation.uuid])
    response = client_for(owner).post(url, {"next": "http://testserver/history/"}, secure=True)
    assert response["Location"] == reverse("generation", args=[generation.uuid])


@pytest.mark.parametrize("value", ["https://evil.example/", "//evil.example", "javascript:alert(1)"])
def test_signing_in_never_follows_a_next_off_the_site(client, owner, value):
    login = f"{reverse('login')}?next={quote(value, safe='')}"
    assert "evil.example" not in client.get(login).content.decode()

    response = client.post(login, {"username": "alice", "password": "pw-alice-123"}, REMOTE_ADDR="198.51.100.7")

    assert (response.status_code, response["Location"]) == (302, reverse("studio"))
    assert client.session["_auth_user_id"] == str(owner.pk)


def test_signing_in_follows_a_next_on_the_site(client, owner):
    login = f"{reverse('login')}?next={quote(reverse('history'))}"
    response = client.post(login, {"username": "alice", "password": "pw-alice-123"}, REMOTE_ADDR="198.51.100.7")
    assert response["Location"] == reverse("history")


# --- CSRF ---------------------------------------------------------------------------------


def test_the_login_form_needs_its_csrf_token(owner):
    browser = Client(enforce_csrf_checks=True)
    data = {"username": "alice", "password": "pw-alice-123"}
    assert browser.post(reverse("login"), data).status_code == 403
    browser.get(reverse("login"))  # sets the CSRF cookie; the form carries the token
    token = browser.cookies["csrftoken"].value
    assert browser.post(reverse("login"), {**data, "csrfmiddlewaretoken": token}).status_code == 302


def test_an_htmx_post_needs_the_csrf_header(owner, key):
    generation = make_generation(owner, owner.teams.get(), key)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    browser.get(reverse("studio"))
    url = reverse("favorite", args=[generation.uuid])
    assert browser.post(url, HTTP_HX_REQUEST="true").status_code == 403
    token = browser.cookies["csrftoken"].value
    assert browser.post(url, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=token).status_code != 403


def test_https_redirect_spares_the_health_probe(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get(reverse("login")).status_code == 301
    assert client.get(reverse("healthz")).status_code == 200


# --- check --deploy -----------------------------------------------------------------------


def documented_environment() -> dict[str, str]:
    """The variables of the production environment block in docs/operations.md, with the
    elided secrets (``…``) filled in."""
    readme = (BASE_DIR / "docs" / "operations.md").read_text()
    section = readme.split("\n## Production\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    env = {}
    for line in block.splitlines():
        name, _, value = line.split("#", 1)[0].strip().partition("=")
        if name:
            env[name] = value.strip()
    secrets = {
        "SECRET_KEY": "x8Jq2-Vn0rLk4_pWz7Ht1Ys6Bm3Cd9Fg5Rj0Ua8Ne2Qo4Ti6Xv1Zb7Kl3Mh9Pw5Sc",
        "STUDIO_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    }
    return {name: secrets.get(name, "not-a-real-secret") if value == "…" else value for name, value in env.items()}


def production_environment(**overrides) -> dict[str, str]:
    """The documented production environment and nothing from this process's (the test
    settings' variables would leak in)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "project.settings",
        **documented_environment(),
    }
    env.update(overrides)
    return env


def data_in(folder: Path) -> dict[str, str]:
    """The database and media in ``folder`` (the checks open the database: a JSONField asks
    SQLite what it supports)."""
    return {"SQLITE_PATH": str(folder / "db.sqlite3"), "MEDIA_ROOT": str(folder / "media")}


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_documented_environment_is_a_production_one():
    env = documented_environment()
    assert env["DEBUG"] == "false"
    assert env["SECURE_SSL_REDIRECT"] == "true"
    assert {"SECRET_KEY", "STUDIO_ENCRYPTION_KEYS", "ALLOWED_HOSTS", "SECURE_HSTS_SECONDS"} <= env.keys()


def test_check_deploy_is_clean_with_the_production_environment(tmp_path):
    result = check_deploy(production_environment(**data_in(tmp_path)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "overrides, issue",
    [
        ({"DEBUG": "true"}, "security.W018"),
        ({"SECURE_SSL_REDIRECT": "false"}, "security.W008"),
        ({"SECURE_COOKIES": "false"}, "security.W012"),
        ({"EMAIL_BACKEND": ""}, "mail.E001"),
    ],
)
def test_check_deploy_reports_a_weakened_environment(tmp_path, overrides, issue):
    result = check_deploy(production_environment(**data_in(tmp_path), **overrides))
    assert result.returncode != 0
    assert issue in result.stderr

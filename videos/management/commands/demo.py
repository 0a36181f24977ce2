"""``manage.py demo``: a demo team, login and one sandbox key per dialect (idempotent).

The sandbox answers only keys the studio issued (``videos/sandbox/keys.py``): new demo keys
are issued by ``actions.add_key``, existing ones again each time the command runs."""

from __future__ import annotations

import secrets

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import actions as account_actions
from accounts.models import Membership, Role, User
from videos import actions
from videos.gateways import REGISTRY
from videos.lib import vault
from videos.models import GatewayKey

USERNAME = "demo"
PASSWORD = "demo-studio"


class Command(BaseCommand):
    help = "Create (or refresh) the demo login, its team and sandbox keys, and print them."

    @transaction.atomic
    def handle(self, *args, **options):
        user, created = User.objects.get_or_create(username=USERNAME, defaults={"email": "demo@example.com"})
        user.set_password(PASSWORD)
        user.save()
        membership = Membership.objects.filter(user=user, role=Role.OWNER).select_related("team").first()
        team = membership.team if membership else account_actions.create_team("Demo team", user)
        sandbox_keys = None
        if apps.is_installed("videos.sandbox"):
            from videos.sandbox import keys as sandbox_keys
        for dialect, gateway in REGISTRY.items():
            base_url = settings.STUDIO_SANDBOX_URL + gateway.sandbox_path
            key = GatewayKey.objects.filter(team=team, owner=user, dialect=dialect, label="Sandbox").first()
            if key is None:
                key = GatewayKey(dialect=dialect, label="Sandbox", base_url=base_url)
                key.set_secret("sk-sandbox-" + secrets.token_hex(16))
                actions.add_key(key, team, user)  # issues it to the sandbox
            else:
                actions.update_key(key, user, base_url=base_url)
                if sandbox_keys is not None and sandbox_keys.serves(base_url):
                    # A demo key made before the sandbox checked keys, or under another SECRET_KEY.
                    try:
                        secret = key.reveal()
                    except vault.VaultError:  # its encryption key is gone: give it a new secret
                        secret = "sk-sandbox-" + secrets.token_hex(16)
                        actions.replace_key_secret(key, secret, user)
                    sandbox_keys.issue(secret)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo login: username {USERNAME!r}, password {PASSWORD!r} "
                f"(team {team.name!r}, {len(REGISTRY)} sandbox key(s) at {settings.STUDIO_SANDBOX_URL})"
            )
        )

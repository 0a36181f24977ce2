"""``manage.py rotate_keys``: re-encrypt every stored gateway key under the first
key of ``STUDIO_ENCRYPTION_KEYS`` (after putting a new key in front)."""

from django.core.management.base import BaseCommand, CommandError

from videos.lib import vault
from videos.models import GatewayKey


class Command(BaseCommand):
    help = "Re-encrypt all gateway keys with the newest encryption key."

    def handle(self, *args, **options):
        rotated, failed = 0, []
        for key in GatewayKey.objects.only("pk", "secret_encrypted").iterator():
            try:
                token = vault.rotate(key.secret_encrypted)
            except vault.VaultError:
                failed.append(key.pk)
                continue
            GatewayKey.objects.filter(pk=key.pk, secret_encrypted=key.secret_encrypted).update(secret_encrypted=token)
            rotated += 1
        self.stdout.write(f"Re-encrypted {rotated} key(s).")
        if failed:
            raise CommandError(f"{len(failed)} key(s) could not be decrypted with any configured key: ids {failed}")

"""``manage.py sandbox_key``: issue a key to a sandbox the studio does not reach through its
own database (a sandbox served by another process, with its own database).

The studio issues its sandbox keys itself (``videos.actions.add_key``, ``manage.py demo``);
this is for a sandbox that plays a separate gateway. The secret is read from standard input,
one per line, so it shows in no process list.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from videos.sandbox import keys


class Command(BaseCommand):
    help = "Issue the API keys read from standard input (one per line) to this sandbox."

    def handle(self, *args, **options):
        secrets = [line.strip() for line in sys.stdin if line.strip()]
        if not secrets:
            raise CommandError("no key on standard input (one per line)")
        for secret in secrets:
            keys.issue(secret)
        self.stdout.write(f"Issued {len(secrets)} key(s) to the sandbox.")

"""``manage.py runstudio``: the web server and the django-q2 worker together.

One Ctrl-C stops both. The children run in sessions of their own so the
terminal's Ctrl-C reaches only this process; it then stops the web server and
sends SIGTERM to the worker's main process alone, because ``qcluster`` hangs
when the signal reaches its whole process group (seen every time with django-q2
1.11; docs/operations.md has the matching systemd ``KillMode=mixed``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand

STOP_GRACE_S = 20


class Command(BaseCommand):
    help = "Run the development web server and the background worker; Ctrl-C stops both."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args, addrport: str, **options):
        manage = [sys.executable, "manage.py"]
        web = subprocess.Popen([*manage, "runserver", addrport], start_new_session=True)
        worker = subprocess.Popen([*manage, "qcluster"], start_new_session=True)
        self.stdout.write(
            self.style.SUCCESS(
                f"Studio on http://{addrport}/ (web pid {web.pid}, worker pid {worker.pid}). Ctrl-C stops both."
            )
        )
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping and web.poll() is None and worker.poll() is None:
                time.sleep(0.2)
        finally:
            self.stdout.write("Stopping the web server and the worker…")
            _stop(web, signal.SIGINT, group=True)
            _stop(worker, signal.SIGTERM, group=False)
            for proc in (web, worker):
                try:
                    proc.wait(timeout=STOP_GRACE_S)
                except subprocess.TimeoutExpired:
                    pass
                # Whatever is left in the group (a worker orphaned by a crashed cluster
                # process, or one that ignored the grace period) is killed now.
                _kill_group(proc)
            self.stdout.write("Stopped.")
        if not stopping:
            failed = web if web.returncode is not None else worker
            sys.exit(failed.returncode or 1)


def _stop(proc: subprocess.Popen, sig: int, *, group: bool) -> None:
    if proc.poll() is not None:
        return
    try:
        if group:
            os.killpg(proc.pid, sig)
        else:
            os.kill(proc.pid, sig)
    except ProcessLookupError:
        pass


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()

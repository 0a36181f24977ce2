"""N in-flight tasks polled by the real sweep loop, against the sandbox gateway on loopback.

    .venv/bin/python bench/poller.py [--tasks 100 1000 5000] [--seconds 60]
        [--gateway sandbox|mock] [--workers 1] [--database-url postgres://…]

Each run: N openai-preview generations whose tasks are PROCESSING (submitted 0–3 s
before the start), each completing at the gateway at a time drawn uniformly from the
run. ``videos.worker.tasks.sweep_loop`` polls them for the whole run (``STUDIO_POLL_CONCURRENCY``
threads, ``STUDIO_SWEEP_BATCH`` per pass) in ``--workers`` processes at once (one
sweeper lease each, ``STUDIO_SWEEPERS``); ``videos.worker.queue.enqueue`` is a no-op, so
nothing is downloaded: measuring stops at the change to ARCHIVING (the "completed"
event the studio records).

- ``--gateway sandbox`` (default): the studio's own sandbox, served by gunicorn in a
  separate process on 127.0.0.1, reached through the studio's real HTTP stack (SSRF
  guard, one client per process). The sandbox's jobs are written so that each reports
  "completed" from its drawn time on (its video is a hard link to one small MP4).
- ``--gateway mock``: an ``httpx.MockTransport`` in the worker process: the studio's own
  cost without any HTTP.

Prints the lag from the gateway reporting completion to the studio knowing it, gateway
requests per task against what the gateway's 3 s cadence requires, polls of one task
less than 1 s apart (two workers on one task), and CPU time of the workers and of the
sandbox. The database is a throwaway SQLite file, or with ``--database-url`` a throwaway
PostgreSQL database on that server. Never asserts anything.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import queue
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid as uuidlib
from collections import Counter, defaultdict
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402

MOCK_URL = "https://gateway.bench.test"
SANDBOX_RUN_SECONDS = 10
SECRET = "sk-bench-0001"
CADENCE_S = 3.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its live children (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == pid or int(fields[1]) == pid:  # fields[1]: the parent's pid
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def start_sandbox(port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "ALLOWED_HOSTS": "127.0.0.1",
        "STUDIO_SANDBOX_ENABLED": "true",
        "STUDIO_SANDBOX_BACKGROUND_RENDER": "false",
        "STUDIO_SANDBOX_RUN_SECONDS": str(SANDBOX_RUN_SECONDS),
        "LOG_LEVEL": "WARNING",
    }
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    server = subprocess.Popen(
        [gunicorn, "project.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4",
         "--log-level", "warning"],
        cwd=_common.ROOT, env=env,
    )  # fmt: skip
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("the sandbox server did not start")


def worker(seconds: float, results, poll_log: bool) -> None:
    """One worker: the sweep loop for ``seconds``, counting gateway requests."""
    from django.db import connections

    from videos.gateways import base
    from videos.worker import tasks

    polls: list[tuple[str, float]] = []
    lock = threading.Lock()
    original = base.Gateway.request

    def counted(self, method, path, *args, **kwargs):
        with lock:
            polls.append((path.rsplit("/", 1)[-1], time.time()))
        return original(self, method, path, *args, **kwargs)

    base.Gateway.request = counted
    cpu0 = time.process_time()
    steps = tasks.sweep_loop(seconds=seconds, requeue=False)
    results.put({"steps": steps, "cpu": time.process_time() - cpu0, "polls": polls if poll_log else []})
    connections.close_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, nargs="+", default=[1000])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each run (default 60)")
    parser.add_argument("--gateway", choices=["sandbox", "mock"], default="sandbox")
    parser.add_argument("--workers", type=int, default=1, help="worker processes polling at once (default 1)")
    parser.add_argument("--database-url", default="", help="a PostgreSQL server to make a throwaway database on")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.seconds < 20:
        parser.error("--seconds must be at least 20")

    port = free_port()
    _common.setup(
        {
            "STUDIO_SWEEPERS": str(args.workers),
            "STUDIO_ALLOWED_PRIVATE_HOSTS": f"127.0.0.1:{port}",
            "STUDIO_SANDBOX_ENABLED": "true",
            "STUDIO_SANDBOX_RUN_SECONDS": str(SANDBOX_RUN_SECONDS),
        },
        database_url=args.database_url,
    )
    import logging

    import httpx
    from django.conf import settings
    from django.db import connections
    from django.utils import timezone

    from accounts.models import Team, User
    from tests.test_history import insert_rows
    from videos.gateways.openai_preview import MODEL, OpenAIPreviewGateway
    from videos.lib import http
    from videos.models import Event, GatewayKey, Generation, Task, TaskState
    from videos.sandbox import engine
    from videos.sandbox.models import SandboxJob
    from videos.sandbox.render import render_video

    logging.getLogger("videos").setLevel(logging.WARNING)  # not one line per state change
    from videos.worker import queue as studio_queue

    studio_queue.enqueue = lambda *a, **k: None  # no archive, no django-q: stop at ARCHIVING

    server = start_sandbox(port) if args.gateway == "sandbox" else None
    base_url = f"http://127.0.0.1:{port}/sandbox/openai" if server else MOCK_URL
    print(_common.machine())
    print(
        f"how: the real videos.worker.tasks.sweep_loop in {args.workers} worker process(es), against "
        + (
            f"the sandbox gateway in gunicorn (2 processes × 4 threads) on 127.0.0.1:{port}"
            if server
            else "an httpx.MockTransport gateway (no HTTP)"
        )
        + f"; {_common.database()}; no django-q cluster;"
    )
    print(
        f"     STUDIO_POLL_CONCURRENCY={settings.STUDIO_POLL_CONCURRENCY}, STUDIO_SWEEP_BATCH={settings.STUDIO_SWEEP_BATCH}; "
        "per-task cadence is the gateway's: openai-preview polls every 3 s for the first 2 min "
        "(then 10 s to 10 min, then 30 s), so a lag of up to ~3 s is by design."
    )

    from videos.sandbox import keys as sandbox_keys

    owner = User.objects.create_user(username="alice", password="pw-alice-bench-123")
    Team.create_personal(owner)
    team = owner.teams.get()
    key = GatewayKey(team=team, owner=owner, dialect="openai-preview", label="Bench", base_url=base_url)
    key.set_secret(SECRET)
    key.save()
    sandbox_keys.issue(SECRET)  # the sandbox answers only the keys the studio issued for it
    gw = OpenAIPreviewGateway.__new__(OpenAIPreviewGateway)  # poll_interval only reads age_s
    rng = random.Random(args.seed)
    template = os.path.join(settings.MEDIA_ROOT, "bench-template.mp4")
    if server:
        os.makedirs(os.path.join(settings.MEDIA_ROOT, "sandbox"), exist_ok=True)
        render_video(template, width=160, height=90, seconds=1, prompt="bench")

    try:
        for n in args.tasks:
            Generation.objects.filter(team=team).delete()
            SandboxJob.objects.all().delete()
            start = timezone.now()
            submitted, done_at = {}, {}
            for _i in range(n):
                external = engine.new_job_id()
                submitted[external] = start - timedelta(seconds=rng.uniform(0, CADENCE_S))
                done_at[external] = start + timedelta(seconds=rng.uniform(2, args.seconds - 8))
            externals = list(submitted)
            insert_rows(
                Generation,
                [
                    {"team": team.pk, "author": owner.pk, "key": key.pk, "dialect": "openai-preview",
                     "model_name": MODEL, "key_label": "Bench", "prompt": f"Bench clip {i}",
                     "uuid": uuidlib.uuid4(), "created_at": submitted[e]}
                    for i, e in enumerate(externals)
                ],
            )  # fmt: skip
            pks = list(Generation.objects.filter(team=team).order_by("pk").values_list("pk", flat=True))
            insert_rows(
                Task,
                [
                    {"generation": pk, "state": TaskState.PROCESSING, "external_id": e, "status_word": "in_progress",
                     "submitted_at": submitted[e], "next_poll_at": submitted[e] + timedelta(seconds=gw.poll_interval(0))}
                    for pk, e in zip(pks, externals, strict=True)
                ],
            )  # fmt: skip
            if server:
                # The sandbox reports "completed" from created_at + its run time on.
                SandboxJob.objects.bulk_create(
                    [
                        SandboxJob(id=e, dialect="openai-preview", model=MODEL, key_hash=engine.key_hash(SECRET),
                                   prompt="bench", params={"seconds": 1, "aspect_ratio": "16:9", "resolution": "90P", "width": 160, "height": 90},
                                   created_at=done_at[e] - timedelta(seconds=SANDBOX_RUN_SECONDS))
                        for e in externals
                    ],
                    batch_size=1000,
                )  # fmt: skip
                for e in externals:
                    os.link(template, engine.video_path(SandboxJob(id=e)))
            else:

                def answer(request: httpx.Request, done_at=done_at) -> httpx.Response:
                    external = request.url.path.rsplit("/", 1)[-1]
                    if timezone.now() >= done_at[external]:
                        body = {"id": external, "status": "completed", "progress": 100,
                                "video_url": f"{MOCK_URL}/v1/videos/{external}/content"}  # fmt: skip
                    else:
                        body = {"id": external, "status": "in_progress", "progress": 50}
                    return httpx.Response(
                        200, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
                    )

                http.use_transport(httpx.MockTransport(answer))

            server_cpu0 = cpu_seconds(server.pid) if server else 0.0
            wall0 = time.perf_counter()
            remaining = args.seconds - (timezone.now() - start).total_seconds()
            results = multiprocessing.get_context("fork").SimpleQueue()
            connections.close_all()  # each process opens its own
            if args.workers == 1:  # in this process (a queue.Queue: a pipe would fill up and block)
                local: queue.Queue = queue.Queue()
                worker(remaining, local, True)
                outcomes = [local.get()]
            else:
                procs = [
                    multiprocessing.get_context("fork").Process(target=worker, args=(remaining, results, True))
                    for _ in range(args.workers)
                ]
                for proc in procs:
                    proc.start()
                outcomes = [results.get() for _ in procs]
                for proc in procs:
                    proc.join()
            wall = time.perf_counter() - wall0
            server_cpu = (cpu_seconds(server.pid) - server_cpu0) if server else 0.0
            http.use_transport(None)

            requests: Counter[str] = Counter()
            times: dict[str, list[float]] = defaultdict(list)
            for outcome in outcomes:
                for external, at in outcome["polls"]:
                    requests[external] += 1
                    times[external].append(at)
            doubled = sum(
                1 for ts in times.values() for a, b in zip(sorted(ts), sorted(ts)[1:], strict=False) if b - a < 1.0
            )
            seen = dict(
                Event.objects.filter(generation__team=team, kind="completed").values_list(
                    "generation__task__external_id", "created_at"
                )
            )
            due = [e for e in externals if done_at[e] <= start + timedelta(seconds=args.seconds)]
            lags = [(seen[e] - done_at[e]).total_seconds() for e in due if e in seen]
            missed = len([e for e in due if e not in seen])
            # What the cadence requires: polls at submitted + 3 s, + 6 s, … until the first at/after completion.
            needed = [math.ceil((done_at[e] - submitted[e]).total_seconds() / CADENCE_S) for e in due if e in seen]
            made = [requests[e] for e in due if e in seen]
            states = Counter(Task.objects.filter(generation__team=team).values_list("state", flat=True))
            worker_cpu = sum(o["cpu"] for o in outcomes)
            total_requests = sum(requests.values())
            print(f"\n== {n:,} tasks in flight, {args.workers} worker(s), run {wall:.1f} s wall")
            print(
                f"  completed and seen by the studio: {len(lags):,} of {len(due):,} (missed in the run: {missed}); "
                f"states at the end: {dict(states)}"
            )
            print(
                f"  lag completion → studio saw it:   p50 {_common.pct(lags, 50):5.2f} s   p95 {_common.pct(lags, 95):5.2f} s   "
                f"max {max(lags) if lags else float('nan'):5.2f} s   (the 3 s cadence alone: uniform 0–3 s, p95 ≈ 2.85 s)"
            )
            ratio = sum(made) / sum(needed) if needed else float("nan")
            print(
                f"  gateway requests per task:        {sum(made) / max(1, len(made)):5.2f} made vs "
                f"{sum(needed) / max(1, len(needed)):5.2f} the 3 s cadence requires  (= {ratio:.2f}×; total {total_requests:,}); "
                f"polls of one task < 1 s apart: {doubled}"
            )
            print(
                f"  sweep steps: {sum(o['steps'] for o in outcomes):,};  worker CPU {worker_cpu:.1f} s = "
                f"{100 * worker_cpu / wall:.0f}% of one core ({1000 * worker_cpu / max(1, total_requests):.2f} ms per request)"
                + (f";  sandbox CPU {server_cpu:.1f} s = {100 * server_cpu / wall:.0f}% of one core" if server else "")
            )
            p95_ok = bool(lags) and _common.pct(lags, 95) <= CADENCE_S + 2 and missed == 0
            print(
                f"  goal (1,000 on one worker: p95 < cadence + 2 s, requests ≤ the cadence's): "
                f"{_common.verdict(p95_ok and ratio <= 1.01 and doubled == 0)}"
            )
    finally:
        if server:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()

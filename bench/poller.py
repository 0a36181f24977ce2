"""N in-flight tasks polled by the real sweep loop against a fake gateway, in-process.

    .venv/bin/python bench/poller.py [--tasks 100 1000 5000] [--seconds 60]

Each run: N openai-preview generations whose tasks are PROCESSING (submitted 0–3 s
before the start), a fake gateway (an ``httpx.MockTransport`` installed with
``videos.http.use_transport``) that answers "in_progress" until a per-task completion
time drawn uniformly from the run, then "completed". ``videos.tasks.sweep_loop`` runs
for the whole run (``STUDIO_POLL_CONCURRENCY`` threads, ``STUDIO_SWEEP_BATCH`` per pass);
``videos.pipeline.enqueue`` is a no-op, so nothing is downloaded: measuring stops at the
change to ARCHIVING (the "completed" event the studio records). Prints the lag from
completion to the studio seeing it, gateway requests per task against what the
gateway's cadence requires, and the process's CPU time. Never asserts anything.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import threading
import time
import uuid as uuidlib
from collections import Counter
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402

BASE_URL = "https://gateway.bench.test"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, nargs="+", default=[1000])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each run (default 60)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.seconds < 20:
        parser.error("--seconds must be at least 20")

    _common.setup()
    import logging

    import httpx
    from django.conf import settings
    from django.utils import timezone

    from accounts.models import Team, User
    from tests.test_gallery import insert_rows
    from videos import http, pipeline, tasks
    from videos.gateways.openai_preview import MODEL, OpenAIPreviewGateway
    from videos.models import Event, GatewayKey, Generation, Task, TaskState

    logging.getLogger("videos").setLevel(logging.WARNING)  # not one line per state change
    pipeline.enqueue = lambda *a, **k: None  # no archive, no django-q: stop at ARCHIVING

    print(_common.machine())
    print(
        "how: in-process; the real videos.tasks.sweep_loop against an httpx.MockTransport gateway "
        "(no network, no django-q cluster), SQLite file DB in WAL mode;"
    )
    print(
        f"     STUDIO_POLL_CONCURRENCY={settings.STUDIO_POLL_CONCURRENCY}, STUDIO_SWEEP_BATCH={settings.STUDIO_SWEEP_BATCH}; "
        "per-task cadence is the gateway's: openai-preview polls every 3 s for the first 2 min "
        "(then 10 s to 10 min, then 30 s), so a lag of up to ~3 s is by design."
    )

    owner = User.objects.create_user(username="alice", password="pw-alice-bench-123")
    Team.create_personal(owner)
    team = owner.teams.get()
    key = GatewayKey(team=team, owner=owner, dialect="openai-preview", label="Bench", base_url=BASE_URL)
    key.set_secret("sk-bench-0001")
    key.save()
    gw = OpenAIPreviewGateway.__new__(OpenAIPreviewGateway)  # poll_interval only reads age_s
    rng = random.Random(args.seed)

    for n in args.tasks:
        Generation.objects.filter(team=team).delete()
        start = timezone.now()
        submitted = {}
        done_at = {}
        gens = []
        for _i in range(n):
            external = f"video_{uuidlib.uuid4().hex}"
            sub = start - timedelta(seconds=rng.uniform(0, 3))
            submitted[external] = sub
            done_at[external] = start + timedelta(seconds=rng.uniform(2, args.seconds - 8))
            gens.append(external)
        insert_rows(
            Generation,
            [
                {
                    "team": team.pk,
                    "author": owner.pk,
                    "key": key.pk,
                    "dialect": "openai-preview",
                    "model_name": MODEL,
                    "key_label": "Bench",
                    "prompt": f"Bench clip {i}",
                    "uuid": uuidlib.uuid4(),
                    "created_at": submitted[e],
                }
                for i, e in enumerate(gens)
            ],
        )
        pks = list(Generation.objects.filter(team=team).order_by("pk").values_list("pk", flat=True))
        insert_rows(
            Task,
            [
                {
                    "generation": pk,
                    "state": TaskState.PROCESSING,
                    "external_id": e,
                    "status_word": "in_progress",
                    "submitted_at": submitted[e],
                    "next_poll_at": submitted[e] + timedelta(seconds=gw.poll_interval(0)),
                }
                for pk, e in zip(pks, gens, strict=True)
            ],
        )

        requests: Counter[str] = Counter()
        lock = threading.Lock()

        def answer(request: httpx.Request, lock=lock, requests=requests, done_at=done_at) -> httpx.Response:
            external = request.url.path.rsplit("/", 1)[-1]
            with lock:
                requests[external] += 1
            if external not in done_at:
                return httpx.Response(404, json={"error": {"message": "no such video"}})
            if timezone.now() >= done_at[external]:
                body = {
                    "id": external,
                    "status": "completed",
                    "progress": 100,
                    "video_url": f"{BASE_URL}/v1/videos/{external}/content",
                }
            else:
                body = {"id": external, "status": "in_progress", "progress": 50}
            return httpx.Response(200, content=json.dumps(body).encode(), headers={"content-type": "application/json"})

        http.use_transport(httpx.MockTransport(answer))
        cpu0, wall0 = time.process_time(), time.perf_counter()
        remaining = args.seconds - (timezone.now() - start).total_seconds()
        steps = tasks.sweep_loop(seconds=remaining, requeue=False)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        http.use_transport(None)

        seen = {
            ext: created
            for ext, created in Event.objects.filter(generation__team=team, kind="completed").values_list(
                "generation__task__external_id", "created_at"
            )
        }
        due = [e for e in gens if done_at[e] <= start + timedelta(seconds=args.seconds)]
        lags = [(seen[e] - done_at[e]).total_seconds() for e in due if e in seen]
        missed = len([e for e in due if e not in seen])
        # What the cadence requires: polls at submitted + 3 s, + 6 s, … until the first at/after completion.
        needed = [math.ceil((done_at[e] - submitted[e]).total_seconds() / 3.0) for e in due if e in seen]
        made = [requests[e] for e in due if e in seen]
        states = Counter(Task.objects.filter(generation__team=team).values_list("state", flat=True))
        print(f"\n== {n:,} tasks in flight, run {wall:.1f} s wall")
        print(
            f"  completed and seen by the studio: {len(lags):,} of {len(due):,} (missed in the run: {missed}); "
            f"states at the end: {dict(states)}"
        )
        print(
            f"  lag completion → studio saw it:   p50 {_common.pct(lags, 50):5.2f} s   p95 {_common.pct(lags, 95):5.2f} s   "
            f"max {max(lags) if lags else float('nan'):5.2f} s   (cadence alone: uniform 0–3 s, p95 ≈ 2.85 s)"
        )
        ratio = sum(made) / sum(needed) if needed else float("nan")
        print(
            f"  gateway requests per task:        {sum(made) / max(1, len(made)):5.2f} made vs "
            f"{sum(needed) / max(1, len(needed)):5.2f} the 3 s cadence requires  (= {ratio:.2f}×; total {sum(requests.values()):,} requests)"
        )
        print(
            f"  sweep steps run: {steps:,};  CPU time of the process: {cpu:.2f} s = {100 * cpu / wall:.0f}% of one core, "
            f"{1000 * cpu / max(1, sum(requests.values())):.2f} ms CPU per gateway request"
        )


if __name__ == "__main__":
    main()

"""The README's "API from zero" in Python: estimate, create with an Idempotency-Key, poll,
download. Run it with your token and the studio's API address:

    STUDIO_API=http://127.0.0.1:8000/api/v1 STUDIO_TOKEN=stk_... python docs/api_example.py boat.mp4

It sends through your first gateway key in the token's team; needs only httpx."""

import os
import sys
import time
import uuid

import httpx

api = httpx.Client(
    base_url=os.environ["STUDIO_API"],
    headers={"Authorization": f"Bearer {os.environ['STUDIO_TOKEN']}"},
    timeout=30,
)


def call(method: str, path: str, **kwargs) -> dict:
    """One API call; a refusal (problem+json) stops the script with its words."""
    response = api.request(method, path, **kwargs)
    if response.is_error:
        sys.exit(f"{response.status_code}: {response.json()['detail']}")
    return response.json()


key = call("GET", "/keys")[0]["key"]
request = {"key": key, "prompt": "A paper boat on a rainy street", "duration": 2, "resolution": "480p"}
print("estimate:", call("POST", "/estimate", json=request)["estimate"]["words"])

# The same Idempotency-Key on a retry after a dropped connection returns the same generation.
idempotency_key = str(uuid.uuid4())
for attempt in range(3):
    try:
        generation = call("POST", "/generations", json=request, headers={"Idempotency-Key": idempotency_key})
        break
    except httpx.TransportError:
        time.sleep(2**attempt)
else:
    sys.exit("the studio did not answer")

while generation["state"] not in ("completed", "failed", "cancelled", "needs_attention"):
    time.sleep(2)
    generation = call("GET", f"/generations/{generation['id']}")
    print(generation["state"], f"{generation['progress']}%")
if generation["state"] != "completed":
    sys.exit(f"{generation['state']}: {generation['error']}")

with api.stream("GET", f"/generations/{generation['id']}/video", follow_redirects=True) as video:
    video.raise_for_status()
    with open(sys.argv[1] if len(sys.argv) > 1 else "video.mp4", "wb") as out:
        for chunk in video.iter_bytes():
            out.write(chunk)
print("saved; cost:", generation["cost_usd"] or generation["estimate"])

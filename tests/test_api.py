"""The REST API as a script sees it: the same validation, estimates, budgets and ledger as
the compose form; idempotent creates; History's filters with a cursor; files; actions;
problem+json for every refusal; the per-token rate limit; other teams' ids 404."""

from __future__ import annotations

import base64
import json
from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import Membership, Role
from tests.conftest import add_key, make_generation, make_user, png_bytes, run_until_done
from tests.test_api_tokens import bearer, make_token
from videos import billing
from videos.models import Generation, LedgerEntry, Review, TaskState

PROBLEM = "application/problem+json"


class Api:
    """A test client speaking JSON to /api/v1/ with one token."""

    def __init__(self, plain: str):
        self.client = Client()
        self.headers = bearer(plain)

    def get(self, path, **query):
        return self.client.get(f"/api/v1{path}", query, **self.headers)

    def post(self, path, body=None, *, raw: bytes | str | None = None, **headers):
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
        return self.client.post(f"/api/v1{path}", data, content_type="application/json", **self.headers, **extra)

    def put(self, path, body):
        return self.client.put(f"/api/v1{path}", json.dumps(body), content_type="application/json", **self.headers)


@pytest.fixture
def api(owner, team):
    return Api(make_token(owner, team))


def request_body(key, **fields):
    return {
        "key": str(key.uuid),
        "prompt": "A paper boat on a rainy street",
        "duration": 1,
        "resolution": "480p",
    } | fields


def assert_problem(response, status, detail=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"]
    if detail is not None:
        assert detail in body["detail"], body
    return body


# --- keys and estimates ---------------------------------------------------------------------


def test_my_keys_list_their_gateways_models_and_options(api, owner, team, key, teammate):
    add_key(teammate, team, secret="sk-sandbox-bob-0001", label="Bob's")
    keys = api.get("/keys").json()
    assert [k["key"] for k in keys] == [str(key.uuid)]  # never a teammate's
    spec = key.gateway_class.spec()
    model = keys[0]["models"][0]
    assert model["model"] == spec.model
    assert model["options"]["durations"] == list(spec.durations) and model["options"]["resolutions"] == ["480p", "720p"]
    assert "secret" not in json.dumps(keys) and keys[0]["masked"].endswith(key.last4)


def test_the_estimate_is_the_forms_with_my_other_keys(api, owner, team, key, priced):
    other = add_key(owner, team, secret="sk-sandbox-alice-0002", label="Second")
    answer = api.post("/estimate", request_body(key, duration=4)).json()
    assert answer["estimate"] == {"amount_usd": "0.2", "words": "4 s × $0.05/s at 480p = $0.20"}
    assert [(o["key"], o["amount_usd"]) for o in answer["others"]] == [(str(other.uuid), "0.2")]
    assert not Generation.objects.exists()


def test_an_unpriced_estimate_says_so(api, key):
    answer = api.post("/estimate", request_body(key)).json()
    assert answer["estimate"]["amount_usd"] is None and "Price unknown" in answer["estimate"]["words"]


# --- create ---------------------------------------------------------------------------------


def test_create_queues_a_generation_with_its_hold(api, owner, key, priced):
    response = api.post("/generations", request_body(key, duration=2))
    assert response.status_code == 201
    body = response.json()
    generation = Generation.objects.get()
    assert body["id"] == str(generation.uuid) and body["state"] == TaskState.PENDING
    assert body["estimate_usd"] == "0.1" and generation.author == owner
    assert LedgerEntry.objects.get(kind="hold").amount_usd == Decimal("0.1")


def test_create_takes_reference_images_as_base64(api, key):
    image = base64.b64encode(png_bytes()).decode()
    response = api.post("/generations", request_body(key, reference_images=[{"data": image}]))
    assert response.status_code == 201
    ref = Generation.objects.get().reference_images.get()
    assert (ref.content_type, ref.width, ref.height) == ("image/png", 64, 36)


def test_reference_urls_for_a_gateway_that_takes_files_are_refused(api, key):
    body = request_body(key, reference_images=[{"url": "https://example.com/a.png"}])
    assert_problem(api.post("/generations", body), 422, "as base64 data")
    assert not Generation.objects.exists()


def test_reference_urls_go_to_a_gateway_that_fetches_them(owner, team):
    key = add_key(owner, team, dialect="xai", secret="sk-sandbox-alice-xai1")
    api = Api(make_token(owner, team))
    body = request_body(key, reference_images=[{"url": "https://example.com/a.png"}])
    assert api.post("/generations", body).status_code == 201
    assert Generation.objects.get().reference_images.get().source_url == "https://example.com/a.png"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"duration": 99}, "duration: Select a valid choice"),
        ({"prompt": "x" * 5000}, "at most 4096 characters"),
        ({"prompt": ""}, "prompt: This field is required."),
        ({"resolution": "4k"}, "resolution: Select a valid choice"),
        ({"reference_images": [{"data": base64.b64encode(b"not an image").decode()}]}, "is not a readable image"),
        ({"reference_images": [{"data": "%%%"}]}, "not valid base64"),
    ],
)
def test_the_forms_refusals_are_problems_and_nothing_is_made(api, key, fields, message):
    assert_problem(api.post("/generations", request_body(key, **fields)), 422, message)
    assert not Generation.objects.exists() and not LedgerEntry.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"prompt": "no key"},
        {"key": "not-a-uuid", "prompt": "x"},
        {"key": 5, "prompt": "x"},
        {"key": "00000000-0000-0000-0000-000000000000", "prompt": "x", "colour": "red"},
        {"key": "00000000-0000-0000-0000-000000000000", "prompt": ["x"]},
        {"key": "00000000-0000-0000-0000-000000000000", "prompt": "x", "duration": "six"},
        {"key": "00000000-0000-0000-0000-000000000000", "reference_images": [{"url": "a", "data": "b"}]},
        [1, 2],
    ],
)
def test_wrong_types_and_unknown_fields_are_problems(api, key, body):
    body = assert_problem(api.post("/generations", body), 422)
    assert body["errors"] and not Generation.objects.exists()


@pytest.mark.parametrize("raw", ["{", "null", "\x00", r'{"key": "\ud800", "prompt": "\ud800"}', b"\xff\xfe"])
def test_bodies_that_are_not_json_are_problems(api, key, raw):
    response = api.post("/generations", raw=raw)
    assert response.status_code in (400, 422) and response["Content-Type"] == PROBLEM
    assert not Generation.objects.exists()


def test_a_huge_body_is_refused_and_nothing_is_made(api, key):
    huge = json.dumps(request_body(key, prompt="x" * (6 * 1024 * 1024)))
    assert_problem(api.post("/generations", raw=huge), 413)
    assert not Generation.objects.exists()


def test_a_teammates_key_is_not_mine_to_use(api, team, teammate):
    theirs = add_key(teammate, team, secret="sk-sandbox-bob-0001")
    assert_problem(api.post("/generations", request_body(theirs)), 422, "key: Select a valid choice")


def test_the_budget_refuses_as_the_form_does(api, team, key, priced):
    team.monthly_budget_usd = Decimal("0.01")
    team.save()
    body = assert_problem(api.post("/generations", request_body(key, duration=2)), 422)
    assert "budget" in body["detail"].lower()
    assert not Generation.objects.exists() and not LedgerEntry.objects.exists()


def test_over_the_threshold_it_waits_for_approval(api, team, key, priced):
    team.approval_threshold_usd = Decimal("0.01")
    team.save()
    body = api.post("/generations", request_body(key, duration=2)).json()
    assert body["state"] == TaskState.AWAITING_APPROVAL and body["approval"] == "waiting"


# --- idempotency ----------------------------------------------------------------------------


def test_a_retried_create_with_the_same_key_makes_one_generation_and_one_hold(api, key, priced):
    body = request_body(key, duration=2)
    first = api.post("/generations", body, **{"Idempotency-Key": "order-42"})
    # The connection dropped before the answer arrived; the script sends it again.
    again = api.post("/generations", body, **{"Idempotency-Key": "order-42"})
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"] and again.json()["repeated"] is True
    assert Generation.objects.count() == 1 and LedgerEntry.objects.filter(kind="hold").count() == 1


def test_the_same_key_with_another_body_is_a_conflict(api, key):
    api.post("/generations", request_body(key), **{"Idempotency-Key": "order-42"})
    changed = api.post("/generations", request_body(key, prompt="Another boat"), **{"Idempotency-Key": "order-42"})
    assert_problem(changed, 409, "different request body")
    assert Generation.objects.count() == 1


def test_two_racing_creates_with_one_key_and_two_bodies_make_one_generation(api, key, team, owner, monkeypatch):
    """B passes the endpoint's check for an earlier use of its key before A is saved (A,
    with the same key and another body, commits in between): the check under the team lock
    still finds A, and B is a 409 that makes and holds nothing."""
    from types import SimpleNamespace

    from videos import actions
    from videos.api import schemas
    from videos.api.compose import submission_token
    from videos.gateways.base import GenerationInput

    real = actions.create_generation
    raced = []

    def a_sneaks_in_first(**kwargs):
        if not raced:  # B, between its own check and its save: A is saved now
            body = schemas.GenerationIn(**request_body(key))
            _, token = submission_token(SimpleNamespace(team=team), "order-7", body)
            choices = GenerationInput(**{**kwargs["choices"].model_dump(), "prompt": body.prompt})
            raced.append(real(**{**kwargs, "choices": choices, "submission_token": token}))
        return real(**kwargs)

    monkeypatch.setattr(actions, "create_generation", a_sneaks_in_first)
    b = api.post("/generations", request_body(key, prompt="Another boat"), **{"Idempotency-Key": "order-7"})
    assert raced and raced[0].prompt == request_body(key)["prompt"]
    assert_problem(b, 409, "different request body")
    assert list(Generation.objects.values_list("prompt", flat=True)) == [request_body(key)["prompt"]]
    assert LedgerEntry.objects.filter(kind="hold").count() <= 1


def test_another_idempotency_key_makes_another_generation(api, key):
    api.post("/generations", request_body(key), **{"Idempotency-Key": "a"})
    api.post("/generations", request_body(key), **{"Idempotency-Key": "b"})
    assert Generation.objects.count() == 2


@pytest.mark.parametrize("value", ["", "has space", "x" * 256, "ключ", "tab\there"])
def test_malformed_idempotency_keys_are_refused(api, key, value):
    assert_problem(api.post("/generations", request_body(key), **{"Idempotency-Key": value}), 400, "Idempotency-Key")
    assert not Generation.objects.exists()


# --- list, get, files -----------------------------------------------------------------------


def test_the_list_filters_as_history_does_and_pages_by_cursor(api, owner, team, key, teammate):
    made = [make_generation(owner, team, key, prompt=f"boat {n}") for n in range(5)]
    theirs = add_key(teammate, team, secret="sk-sandbox-bob-0001")
    make_generation(teammate, team, theirs, prompt="a cat")
    first = api.get("/generations", q="boat", limit=2).json()
    assert [g["prompt"] for g in first["items"]] == ["boat 4", "boat 3"]
    second = api.get("/generations", q="boat", limit=2, cursor=first["next"]).json()
    third = api.get("/generations", q="boat", limit=2, cursor=second["next"]).json()
    assert [g["prompt"] for g in second["items"] + third["items"]] == ["boat 2", "boat 1", "boat 0"]
    assert third["next"] is None
    assert [g["prompt"] for g in api.get("/generations", member="bob").json()["items"]] == ["a cat"]
    oldest = api.get("/generations", sort="oldest", limit=1).json()["items"]
    assert oldest[0]["id"] == str(made[0].uuid)


@pytest.mark.parametrize(
    "query",
    [{"state": "exploded"}, {"since": "2026-13-01"}, {"cursor": "forged"}, {"limit": 0}, {"sort": "random"}],
)
def test_bad_filters_are_problems(api, key, query):
    response = api.get("/generations", **query)
    assert response.status_code in (400, 422) and response["Content-Type"] == PROBLEM


def test_one_generation_with_its_timeline_lineage_and_files(api, owner, team, key, gateway):
    generation = make_generation(owner, team, key)
    assert run_until_done(generation.task.pk).state == TaskState.COMPLETED
    child = make_generation(owner, team, key, prompt="child")
    Generation.objects.filter(pk=child.pk).update(parent=generation)
    body = api.get(f"/generations/{generation.uuid}").json()
    assert body["state"] == "completed" and body["progress"] == 100
    assert body["remixes"] == [str(child.uuid)] and body["options"]["duration"] == 1
    assert [e["kind"] for e in body["timeline"]][0] == "created"
    assert api.get(f"/generations/{child.uuid}").json()["parent"] == str(generation.uuid)
    video = api.get(f"/generations/{generation.uuid}/video")
    assert video.status_code == 200 and video["Content-Type"] == "video/mp4"
    assert b"ftyp" in b"".join(video.streaming_content)[:64]
    poster = api.get(f"/generations/{generation.uuid}/poster")
    assert poster.status_code == 200 and poster["Content-Type"] == "image/jpeg"
    assert body["video_url"].endswith(f"/api/v1/generations/{generation.uuid}/video")


def test_no_video_yet_is_a_problem(api, owner, team, key):
    generation = make_generation(owner, team, key)
    assert_problem(api.get(f"/generations/{generation.uuid}/video"), 404, "no video yet")


# --- actions --------------------------------------------------------------------------------


def test_cancel_retry_and_favorite(api, owner, team, key, priced):
    generation = make_generation(owner, team, key)
    cancelled = api.post(f"/generations/{generation.uuid}/cancel").json()
    assert cancelled["done"] and cancelled["generation"]["state"] == "cancelled"
    assert api.post(f"/generations/{generation.uuid}/cancel").json()["done"] is False
    retried = api.post(f"/generations/{generation.uuid}/retry").json()
    assert retried["done"] and retried["generation"]["state"] == "pending"
    assert LedgerEntry.objects.filter(kind="hold").count() == 2
    assert api.put(f"/generations/{generation.uuid}/favorite", {"favorite": True}).json() == {"favorite": True}
    assert api.get(f"/generations/{generation.uuid}").json()["favorite"] is True
    assert [g["id"] for g in api.get("/generations", favorites="true").json()["items"]] == [str(generation.uuid)]


def test_a_member_cannot_cancel_a_teammates_generation(owner, team, key, teammate):
    generation = make_generation(owner, team, key)
    answer = Api(make_token(teammate, team)).post(f"/generations/{generation.uuid}/cancel")
    assert_problem(answer, 403, "Only its author or an admin")
    assert Generation.objects.get().task.state == TaskState.PENDING


def test_remix_starts_from_the_parent(api, owner, team, key):
    parent = make_generation(owner, team, key, prompt="A paper boat", duration=3)
    response = api.post(f"/generations/{parent.uuid}/remix", {"prompt": "A paper plane"})
    assert response.status_code == 201
    child = Generation.objects.get(uuid=response.json()["id"])
    assert child.parent == parent and child.prompt == "A paper plane" and child.options["duration"] == 3


def test_review_verdicts_need_the_scope_and_the_role(owner, team, key, teammate):
    from tests.conftest import awaiting

    generation = awaiting(owner, team, key)
    member = Api(make_token(teammate, team))
    assert_problem(member.post(f"/generations/{generation.uuid}/review", {"decision": "accept"}), 403)
    reviewer = Api(make_token(owner, team))
    assert_problem(
        reviewer.post(f"/generations/{generation.uuid}/review", {"decision": "reject"}), 422, "comment is required"
    )
    decided = reviewer.post(f"/generations/{generation.uuid}/review", {"decision": "accept"}).json()
    assert decided["done"] and Generation.objects.get().review == Review.ACCEPTED


def test_approvals_for_admin_tokens(api, owner, team, key, priced):
    team.approval_threshold_usd = Decimal("0.01")
    team.save()
    made = api.post("/generations", request_body(key, duration=2)).json()
    assert [g["id"] for g in api.get("/approvals").json()] == [made["id"]]
    assert api.post(f"/generations/{made['id']}/approve").json()["generation"]["approval"] == "approved"
    no_admin = Api(make_token(owner, team, scopes=("read", "generate")))
    assert_problem(no_admin.get("/approvals"), 403, "admin")


def test_spend(api, owner, team, key, priced):
    generation = make_generation(owner, team, key, duration=2)
    billing.charge(generation)
    spend = api.get("/spend").json()
    assert spend["team_total_usd"] == "0.1" and spend["my_total_usd"] == "0.1"
    assert spend["by_gateway"] == [{"name": "openai-preview", "total_usd": "0.1", "count": 1}]


# --- outsiders, limits, unknown paths -------------------------------------------------------


def test_another_teams_ids_are_404(owner, team, key, outsider):
    generation = make_generation(owner, team, key)
    theirs = Api(make_token(outsider, outsider.teams.get()))
    for path in ("", "/video", "/poster"):
        assert_problem(theirs.get(f"/generations/{generation.uuid}{path}"), 404)
    for path in ("/cancel", "/retry", "/remix", "/approve", "/decline"):
        assert_problem(theirs.post(f"/generations/{generation.uuid}{path}"), 404)
    assert_problem(theirs.put(f"/generations/{generation.uuid}/favorite", {"favorite": True}), 404)
    assert_problem(theirs.post(f"/generations/{generation.uuid}/review", {"decision": "accept"}), 404)
    assert theirs.get("/generations").json()["items"] == []
    assert Generation.objects.get().task.state == TaskState.PENDING


@pytest.mark.parametrize("path", ["/generations/not-a-uuid", "/nothing/here", "/generations/1/video"])
def test_unknown_paths_and_ids_are_problems(api, path):
    assert_problem(api.get(path), 404)


@pytest.fixture
def still_clock(monkeypatch):
    """The rate limit's clock held 30 s into a minute, so no window ends mid-test."""
    monkeypatch.setattr("videos.api.auth.clock", lambda: 1_800_000_030.0)


def test_the_rate_limit_answers_429_with_retry_after(api, key, settings, still_clock):
    settings.STUDIO_API_RATE_LIMIT = 3
    for _ in range(3):
        assert api.get("/keys").status_code == 200
    refused = api.get("/keys")
    body = assert_problem(refused, 429, "3 a minute")
    assert int(refused["Retry-After"]) == 30 and body["detail"]


def test_another_token_has_its_own_limit(api, owner, team, key, settings, still_clock):
    settings.STUDIO_API_RATE_LIMIT = 1
    api.get("/keys")
    assert api.get("/keys").status_code == 429
    assert Api(make_token(owner, team, name="second")).get("/keys").status_code == 200


def test_viewers_read_but_do_not_act(team, owner, key):
    viewer = make_user("vera")
    Membership.objects.create(team=team, user=viewer, role=Role.VIEWER)
    generation = make_generation(owner, team, key)
    api = Api(make_token(viewer, team))
    assert api.get(f"/generations/{generation.uuid}").status_code == 200
    assert_problem(api.post(f"/generations/{generation.uuid}/cancel"), 403)


def test_the_schema_is_openapi_3_1_with_docs(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.1")
    assert "/api/v1/generations" in schema["paths"]
    assert schema["components"]["securitySchemes"]["TokenAuth"] == {"type": "http", "scheme": "bearer"}
    refusal = schema["paths"]["/api/v1/generations"]["post"]["responses"]["422"]["content"]
    assert list(refusal) == ["application/problem+json"]
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and b"swagger-ui-bundle.js" in docs.content and b"cdn." not in docs.content


def test_under_signed_delivery_the_video_is_a_redirect_to_a_signed_link(bucket, owner, team, key, gateway, settings):
    import httpx

    generation = make_generation(owner, team, key)
    assert run_until_done(generation.task.pk).state == TaskState.COMPLETED
    settings.STUDIO_MEDIA_DELIVERY = "signed"
    api = Api(make_token(owner, team))
    response = api.get(f"/generations/{generation.uuid}/video")
    assert response.status_code == 302 and "X-Amz-Signature=" in response["Location"]
    fetched = httpx.get(response["Location"])
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "video/mp4"
    assert b"ftyp" in fetched.content[:64]


def test_a_method_a_path_does_not_take_is_a_problem(api):
    response = api.client.delete("/api/v1/keys", **api.headers)
    assert_problem(response, 405, "GET")
    assert response["Allow"] == "GET"


def test_a_finished_video_is_sent_to_review_once(api, owner, team, key):
    from tests.conftest import awaiting

    generation = awaiting(owner, team, key)
    Generation.objects.filter(pk=generation.pk).update(review=Review.NONE)
    assert api.post(f"/generations/{generation.uuid}/send-to-review").json()["done"] is True
    assert Generation.objects.get().review == Review.AWAITING
    assert api.post(f"/generations/{generation.uuid}/send-to-review").json()["done"] is False

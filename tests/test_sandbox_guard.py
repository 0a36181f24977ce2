"""The sandbox is no open proxy: it answers only keys the studio issued, fetches only the
studio's own signed reference links (with a byte cap and a deadline, and nothing of the
upstream answer in its refusals), and ``check --deploy`` warns when it is on in production."""

from __future__ import annotations

import hashlib
import io
import time
from unittest import mock

import httpx
import pytest
from django.core import signing
from django.core.files.base import ContentFile
from django.core.management import call_command

from tests.conftest import SANDBOX_HOST, STUDIO_HOST, add_key, make_generation, png_bytes, run_until_done
from tests.test_security import check_deploy, data_in, production_environment
from videos import actions
from videos.lib import references
from videos.models import Asset, GatewayKey, Generation, NewReference, ReferenceImage, TaskState
from videos.sandbox import checks, common, keys
from videos.sandbox.models import SandboxJob, SandboxKey

SANDBOX = f"http://{SANDBOX_HOST}/sandbox"
ISSUED = "sk-sandbox-guard-0001"
UPSTREAM = "UPSTREAM-SAYS-418"  # what a host the sandbox must not fetch would answer


@pytest.fixture
def issued(db):
    keys.issue(ISSUED)
    return ISSUED


@pytest.fixture
def signed_png(owner, team):
    """A real signed link of the studio to an uploaded 320×180 PNG."""
    generation = Generation.objects.create(team=team, author=owner, dialect="reapi", model_name="m", prompt="x")
    ref = ReferenceImage(generation=generation, position=0, content_type="image/png", width=320, height=180)
    ref.image.save("reference", ContentFile(png_bytes((320, 180))), save=True)
    url = ref.signed_url()
    assert url.startswith(f"http://{STUDIO_HOST}/r/")
    return url


def signed_link(pk: int = 999_999, ext: str = "png") -> str:
    """A correctly signed link of the studio (its reference need not exist)."""
    return references.signed_url(pk, ext)


def _client(gateway) -> httpx.Client:
    return httpx.Client(transport=gateway)


def _auth(key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key else {}


# --- each dialect: how to create, where the status is, what its envelope looks like ---------

JSON_BODIES = {
    "openai": lambda url: {"model": "grok-imagine-video-1.5-preview", "prompt": "a cat", "seconds": "1"},
    "aijisu": lambda url: {"model": "grok-video-1.5", "prompt": "a cat", "image_url": url, "duration": 1},
    "jimmyai": lambda url: {"model": "grok-imagine-video-1.5", "prompt": "a cat", "image_urls": [url], "duration": 10},
    "reapi": lambda url: {
        "model": "grok-imagine-video-1.5-beta",
        "prompt": "a cat",
        "image_urls": [url],
        "duration": 1,
    },
    "xai": lambda url: {
        "model": "grok-imagine-video-1.5-preview",
        "prompt": "a cat",
        "duration": 1,
        "image": {"url": url},
    },
}
CREATE = {
    "openai": "/openai/v1/videos",
    "multipart": "/multipart/v1/videos",
    "aijisu": "/aijisu/v1/videos",
    "jimmyai": "/jimmyai/api/open-api/v1/grok/videos",
    "reapi": "/reapi/api/v1/videos/generations",
    "xai": "/xai/v1/videos/generations",
}
STATUS = {
    "openai": ["/openai/v1/videos/{id}", "/openai/v1/videos/{id}/content"],
    "multipart": ["/multipart/v1/videos/{id}", "/multipart/v1/videos/{id}/content"],
    "aijisu": ["/aijisu/v1/videos/{id}", "/aijisu/v1/videos/generations/{id}", "/aijisu/v1/videos/{id}/content"],
    "jimmyai": ["/jimmyai/api/open-api/v1/videos/{id}"],
    "reapi": ["/reapi/api/v1/tasks/{id}"],
    "xai": ["/xai/v1/videos/{id}"],
}
DIALECT_NAME = {"openai": "openai-preview"}  # the SandboxJob.dialect where it differs
URL_DIALECTS = ["aijisu", "jimmyai", "reapi", "xai"]


def create(gateway, dialect: str, key: str | None, url: str = "") -> httpx.Response:
    """POST a create that is valid but for the key (and, for the URL dialects, ``url``)."""
    if dialect == "multipart":
        return _client(gateway).post(
            SANDBOX + CREATE[dialect],
            data={"model": "grok-video-1.5", "prompt": "a cat", "seconds": "1"},
            files={"input_reference": ("ref.png", png_bytes(), "image/png")},
            headers=_auth(key),
        )
    return _client(gateway).post(SANDBOX + CREATE[dialect], json=JSON_BODIES[dialect](url), headers=_auth(key))


def job_id(answer: dict) -> str:
    data = answer.get("data") or answer
    return data.get("task_id") or data.get("request_id") or data["id"]


def message_of(dialect: str, response: httpx.Response, status: int) -> str:
    """The refusal's message, after checking the dialect's own envelope at ``status``."""
    assert response.status_code == status, response.text
    answer = response.json()
    if dialect in ("openai", "multipart", "aijisu"):  # OpenAI's envelope (docs/gateways.md §1.3, §2.3, §3.3)
        assert set(answer["error"]) == {"message", "type", "param", "code"}
        if status == 401:
            assert answer["error"]["code"] == "invalid_api_key"
        return answer["error"]["message"]
    if dialect == "jimmyai":  # {"code", "msg", "data": null} (docs/gateways.md §4.3)
        assert answer["code"] == str(status * 100) and answer["data"] is None
        return answer["msg"]
    if dialect == "reapi":  # {"error": {code, message, request_id}} (docs/gateways.md §5.3)
        assert set(answer["error"]) == {"code", "message", "request_id"}
        assert answer["error"]["code"] == (10001 if status == 401 else 20003)
        return answer["error"]["message"]
    assert set(answer) == {"code", "error"}  # xAI's envelope (docs/gateways.md §6.3)
    return answer["error"]


# --- a key the studio issued ------------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "made-up-key", "sk-sandbox-" + "0" * 32])
@pytest.mark.parametrize("dialect", list(CREATE))
def test_a_create_without_a_key_the_studio_issued_is_401(gateway, signed_png, dialect, key):
    response = create(gateway, dialect, key, signed_png)
    message = message_of(dialect, response, 401)
    assert "Bearer" in message if key is None else "the studio issued" in message
    assert not SandboxJob.objects.exists()
    assert not [r for r in gateway.requests if r.url.host == STUDIO_HOST]  # nothing fetched for it


@pytest.mark.parametrize("key", [None, "made-up-key"])
@pytest.mark.parametrize("dialect", list(CREATE))
def test_a_status_or_content_query_without_a_key_the_studio_issued_is_401(gateway, issued, signed_png, dialect, key):
    made = create(gateway, dialect, issued, signed_png)
    assert made.status_code == 200, made.text
    task = job_id(made.json())
    for path in STATUS[dialect]:
        response = _client(gateway).get(SANDBOX + path.format(id=task), headers=_auth(key))
        message_of(dialect, response, 401)
        assert _client(gateway).get(SANDBOX + path.format(id=task), headers=_auth(issued)).status_code == 200


def test_an_unknown_id_is_401_to_a_made_up_key_and_404_to_an_issued_one(gateway, issued):
    url = f"{SANDBOX}/openai/v1/videos/video_nope"
    assert _client(gateway).get(url, headers=_auth("made-up")).status_code == 401
    assert _client(gateway).get(url, headers=_auth(issued)).status_code == 404


def test_keys_are_stored_as_a_keyed_hash_only(db, settings):
    keys.issue("sk-sandbox-secret-4242")
    keys.issue("sk-sandbox-secret-4242")  # again: nothing changes
    (row,) = SandboxKey.objects.all()
    assert "4242" not in row.digest and len(row.digest) == 64 and row.created_at
    assert keys.is_issued("sk-sandbox-secret-4242")
    assert not keys.is_issued("sk-sandbox-secret-4243") and not keys.is_issued("")
    assert row.digest != hashlib.sha256(b"sk-sandbox-secret-4242").hexdigest()  # keyed, not a bare hash
    old = settings.SECRET_KEY
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    assert not keys.is_issued("sk-sandbox-secret-4242")
    settings.SECRET_KEY_FALLBACKS = [old]
    assert keys.is_issued("sk-sandbox-secret-4242")  # a rotation keeps the issued keys


def test_adding_a_key_on_the_sandbox_issues_it_and_no_other(db, owner, team, settings):
    on_sandbox = GatewayKey(dialect="openai-preview", label="S", base_url=settings.STUDIO_SANDBOX_URL + "/openai")
    on_sandbox.set_secret("sk-member-made-0001")
    actions.add_key(on_sandbox, team, owner)
    elsewhere = GatewayKey(dialect="openai-preview", label="E", base_url="https://duoyuanx.com")
    elsewhere.set_secret("sk-member-made-0002")
    actions.add_key(elsewhere, team, owner)
    lookalike = GatewayKey(dialect="openai-preview", label="L", base_url=settings.STUDIO_SANDBOX_URL + "x/openai")
    lookalike.set_secret("sk-member-made-0003")
    actions.add_key(lookalike, team, owner)
    assert keys.is_issued("sk-member-made-0001")
    assert not keys.is_issued("sk-member-made-0002") and not keys.is_issued("sk-member-made-0003")

    settings.STUDIO_SANDBOX_ENABLED = False
    off = GatewayKey(dialect="openai-preview", label="O", base_url=settings.STUDIO_SANDBOX_URL + "/openai")
    off.set_secret("sk-member-made-0004")
    actions.add_key(off, team, owner)
    assert not keys.is_issued("sk-member-made-0004")


def test_a_key_a_member_adds_through_the_form_calls_the_sandbox(gateway, client_for, owner, team, settings):
    from django.urls import reverse

    settings.STUDIO_SANDBOX_URL = SANDBOX  # where this test's worker reaches the in-process sandbox
    response = client_for(owner).post(
        reverse("keys"),
        {"dialect": "openai-preview", "label": "Mine", "base_url": f"{SANDBOX}/openai", "secret": "sk-mine-00000001"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    key = GatewayKey.objects.get(label="Mine")
    assert keys.is_issued("sk-mine-00000001")
    generation = make_generation(owner, team, key)
    assert run_until_done(generation.task.pk).state == TaskState.COMPLETED


def test_the_demo_issues_its_keys_and_those_made_before(db, settings):
    call_command("demo", stdout=io.StringIO())
    demo_keys = list(GatewayKey.objects.filter(owner__username="demo", label="Sandbox"))
    assert demo_keys and all(keys.is_issued(key.reveal()) for key in demo_keys)
    SandboxKey.objects.all().delete()  # demo keys made before the sandbox checked keys
    call_command("demo", stdout=io.StringIO())
    assert GatewayKey.objects.filter(owner__username="demo", label="Sandbox").count() == len(demo_keys)
    assert all(keys.is_issued(key.reveal()) for key in demo_keys)


def test_a_sandbox_on_its_own_database_is_issued_keys_from_standard_input(db, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("sk-separate-0001\n\nsk-separate-0002\n"))
    out = io.StringIO()
    call_command("sandbox_key", stdout=out)
    assert "Issued 2 key(s)" in out.getvalue()
    assert keys.is_issued("sk-separate-0001") and keys.is_issued("sk-separate-0002")


# --- only the studio's own signed reference links ----------------------------------------------


@pytest.fixture
def upstream(gateway):
    """Every host but the studio's answers 418 with a telltale body, if the sandbox asks."""
    gateway.faults.append(
        (lambda r: r.url.host not in (SANDBOX_HOST, STUDIO_HOST), lambda r: httpx.Response(418, text=UPSTREAM))
    )
    return gateway


def forged() -> str:
    url = signed_link()
    token = url.rsplit("/", 1)[1].rsplit(".", 1)[0]
    return url.replace(token, token[:-2] + ("aa" if not token.endswith("aa") else "bb"))


REFUSED = {
    "private address": ("http://10.0.0.5/r/{token}.png", "a private address"),
    "loopback": ("http://127.0.0.1:8000/r/{token}.png", "a loopback address"),
    "metadata service": ("http://169.254.169.254/latest/meta-data/", "a link-local address"),
    "another host": ("https://images.example/cat.png", "another host"),
    "the studio's host on another port": (f"http://{STUDIO_HOST}:8080/r/{{token}}.png", "another host"),
    "credentials in the URL": (f"http://user:pw@{STUDIO_HOST}/r/{{token}}.png", "another host"),
    "unsigned studio URL": (f"http://{STUDIO_HOST}/r/just-a-name.png", "signature is not valid"),
    "another path of the studio": (f"http://{STUDIO_HOST}/media/references/x.png", "not a reference link"),
    "a query": (f"http://{STUDIO_HOST}/r/{{token}}.png?x=1", "not a reference link"),
    "forged token": ("FORGED", "signature is not valid"),
}


def _token() -> str:
    return signed_link().rsplit("/", 1)[1].rsplit(".", 1)[0]


@pytest.mark.parametrize("case", list(REFUSED))
@pytest.mark.parametrize("dialect", URL_DIALECTS)
def test_a_reference_url_that_is_not_a_signed_link_of_the_studio_is_refused(upstream, issued, dialect, case):
    template, rule = REFUSED[case]
    url = forged() if template == "FORGED" else template.format(token=_token())
    message = message_of(dialect, create(upstream, dialect, issued, url), 400)
    assert "signed reference links" in message and rule in message
    assert "418" not in message and UPSTREAM not in message and "HTTP" not in message
    assert not [r for r in upstream.requests if r.url.host not in (SANDBOX_HOST,)]  # fetched nothing at all
    assert not SandboxJob.objects.exists()


@pytest.mark.parametrize("dialect", URL_DIALECTS)
def test_an_expired_signed_link_is_refused(upstream, issued, signed_png, dialect, settings):
    later = time.time() + settings.STUDIO_REFERENCE_URL_SECONDS + 5
    with mock.patch("django.core.signing.time.time", return_value=later):
        message = message_of(dialect, create(upstream, dialect, issued, signed_png), 400)
    assert "expired" in message
    assert not [r for r in upstream.requests if r.url.host == STUDIO_HOST]


@pytest.mark.parametrize("dialect", URL_DIALECTS)
def test_a_signed_link_the_studio_does_not_serve_says_so_without_its_status(gateway, issued, dialect):
    gateway.faults.append((lambda r: r.url.host == STUDIO_HOST, lambda r: httpx.Response(503, text=UPSTREAM)))
    message = message_of(dialect, create(gateway, dialect, issued, signed_link()), 400)
    assert "did not serve an image" in message
    assert "503" not in message and UPSTREAM not in message and "HTTP" not in message


def test_a_missing_reference_behind_a_valid_signature_is_refused_without_the_404(gateway, issued):
    message = message_of("reapi", create(gateway, "reapi", issued, signed_link(pk=424242)), 400)
    assert "did not serve an image" in message and "404" not in message


@pytest.mark.parametrize("url", ["ftp://studio.test/r/{token}.png", "file:///etc/passwd", "gopher://studio.test/"])
def test_the_fetch_refuses_a_scheme_but_http(db, url):
    with pytest.raises(common.Unfetchable, match="not http"):
        common.fetch(url.format(token=_token()))


def test_without_a_public_address_nothing_is_fetched(db, settings):
    url = signed_link()
    settings.STUDIO_PUBLIC_URL = ""
    with pytest.raises(common.Unfetchable, match="STUDIO_PUBLIC_URL is not set"):
        common.fetch(url)


@pytest.mark.parametrize("dialect", URL_DIALECTS)
def test_a_signed_link_of_the_studio_is_fetched(gateway, issued, signed_png, dialect):
    response = create(gateway, dialect, issued, signed_png)
    assert response.status_code == 200, response.text
    (fetched,) = [r for r in gateway.requests if r.url.host == STUDIO_HOST]
    assert str(fetched.url) == signed_png and fetched.headers["Accept-Encoding"] == "identity"
    job = SandboxJob.objects.get(pk=job_id(response.json()))
    assert bytes(job.image) == png_bytes((320, 180))


@pytest.mark.parametrize("dialect", ["aijisu", "jimmyai", "reapi", "xai"])
def test_an_upload_goes_end_to_end_through_its_signed_link(gateway, owner, team, dialect):
    key = add_key(owner, team, dialect=dialect, secret=f"sk-guard-{dialect}-0001")
    reference = NewReference("image/png", png_bytes((320, 180)), 320, 180)
    generation = make_generation(owner, team, key, references=[reference])
    task = run_until_done(generation.task.pk)
    assert task.state == TaskState.COMPLETED, task.last_error
    assert Asset.objects.filter(generation=generation).exists()
    fetched = [r for r in gateway.requests if r.url.host == STUDIO_HOST]
    assert len(fetched) == 1 and fetched[0].url.path.startswith("/r/")


def test_a_pasted_url_fails_the_task_with_the_sandboxs_rule(gateway, owner, team):
    key = add_key(owner, team, dialect="reapi", secret="sk-guard-pasted-0001")
    generation = make_generation(owner, team, key, references=[NewReference(url="https://images.example/cat.png")])
    task = run_until_done(generation.task.pk)
    assert task.state == TaskState.FAILED
    assert "signed reference links" in task.last_error and "another host" in task.last_error


# --- a size cap while streaming, a deadline --------------------------------------------------


class Body(httpx.SyncByteStream):
    """A response body of ``chunks`` chunks of ``size`` bytes that counts what was read."""

    def __init__(self, chunks: int, size: int = 1024, pause: float = 0.0):
        self.chunks, self.size, self.pause, self.read = chunks, size, pause, 0

    def __iter__(self):
        for _ in range(self.chunks):
            if self.pause:
                time.sleep(self.pause)
            self.read += 1
            yield b"\x89" * self.size


def serve(gateway, body: Body, headers: dict[str, str]):
    gateway.faults.append(
        (lambda r: r.url.host == STUDIO_HOST, lambda r: httpx.Response(200, headers=headers, stream=body))
    )


@pytest.mark.parametrize("dialect", URL_DIALECTS)
def test_a_reference_declared_larger_than_the_cap_is_refused_before_its_body(gateway, issued, dialect, settings):
    settings.STUDIO_MAX_REFERENCE_BYTES = 4096
    body = Body(chunks=100)
    serve(gateway, body, {"Content-Type": "image/png", "Content-Length": str(100 * 1024)})
    message = message_of(dialect, create(gateway, dialect, issued, signed_link()), 400)
    assert "larger than the sandbox's limit of 4096 bytes" in message
    assert body.read == 0


@pytest.mark.parametrize("dialect", URL_DIALECTS)
def test_a_chunked_reference_over_the_cap_is_cut_off_while_streaming(gateway, issued, dialect, settings):
    settings.STUDIO_MAX_REFERENCE_BYTES = 4096
    body = Body(chunks=10_000)  # about 10 MB, and no Content-Length
    serve(gateway, body, {"Content-Type": "image/png", "Transfer-Encoding": "chunked"})
    message = message_of(dialect, create(gateway, dialect, issued, signed_link()), 400)
    assert "larger than the sandbox's limit of 4096 bytes" in message
    assert body.read <= 6  # stopped just past the cap


def test_a_reference_that_lies_about_its_length_is_cut_off_too(gateway, issued, settings):
    settings.STUDIO_MAX_REFERENCE_BYTES = 4096
    body = Body(chunks=1000)
    serve(gateway, body, {"Content-Type": "image/png", "Content-Length": "10"})
    with pytest.raises(common.Unfetchable, match="larger than"):
        common.fetch(signed_link())
    assert body.read <= 6


def test_a_reference_that_trickles_is_cut_off_at_the_deadline(gateway, issued, monkeypatch):
    monkeypatch.setattr(common, "FETCH_SECONDS", 0.2)
    body = Body(chunks=50, size=10, pause=0.05)
    serve(gateway, body, {"Content-Type": "image/png"})
    started = time.monotonic()
    with pytest.raises(common.Unfetchable, match="took longer"):
        common.fetch(signed_link())
    assert time.monotonic() - started < 1.5 and body.read < 50


def test_a_compressed_reference_is_refused(gateway, issued):
    gateway.faults.append(
        (
            lambda r: r.url.host == STUDIO_HOST,
            lambda r: httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=b"\x1f\x8b..."),
        )
    )
    with pytest.raises(common.Unfetchable, match="did not serve an image"):
        common.fetch(signed_link())


def test_a_reference_under_the_cap_is_fetched_whole(gateway, issued, settings):
    settings.STUDIO_MAX_REFERENCE_BYTES = 4096
    serve(gateway, Body(chunks=4), {"Content-Type": "image/png", "Content-Length": "4096"})
    assert common.fetch(signed_link()) == b"\x89" * 4096


def test_data_uris_and_uploaded_files_work_as_before(gateway, issued):
    import base64

    data_uri = "data:image/png;base64," + base64.b64encode(png_bytes()).decode()
    xai = _client(gateway).post(
        f"{SANDBOX}/xai/v1/videos/generations",
        json={"model": "grok-imagine-video-1.5-preview", "prompt": "a cat", "duration": 1, "image": {"url": data_uri}},
        headers=_auth(issued),
    )
    assert xai.status_code == 200, xai.text
    openai = _client(gateway).post(
        f"{SANDBOX}/openai/v1/videos",
        json={"model": "grok-imagine-video-1.5-preview", "prompt": "a cat", "seconds": "1", "image": data_uri},
        headers=_auth(issued),
    )
    assert openai.status_code == 200, openai.text
    assert create(gateway, "multipart", issued).status_code == 200
    assert not [r for r in gateway.requests if r.url.host == STUDIO_HOST]
    assert SandboxJob.objects.filter(image__isnull=False).count() == 3


# --- check --deploy ------------------------------------------------------------------------------


def test_the_check_warns_with_the_sandbox_on_and_debug_off(settings):
    settings.STUDIO_SANDBOX_ENABLED, settings.DEBUG = True, False
    (warning,) = checks.sandbox_off_in_production()
    assert warning.id == "studio.W001" and "STUDIO_SANDBOX_ENABLED" in warning.msg and warning.hint
    settings.DEBUG = True
    assert checks.sandbox_off_in_production() == []
    settings.STUDIO_SANDBOX_ENABLED, settings.DEBUG = False, False
    assert checks.sandbox_off_in_production() == []


def test_check_deploy_warns_when_production_enables_the_sandbox(tmp_path):
    result = check_deploy(production_environment(**data_in(tmp_path), STUDIO_SANDBOX_ENABLED="true"))
    assert result.returncode != 0
    assert "studio.W001" in result.stderr and "STUDIO_SANDBOX_ENABLED" in result.stderr


def test_signing_is_what_the_studio_uses(db):
    """The sandbox verifies with the studio's own helper: a token of another salt is no link."""
    other = signing.dumps(1, salt="something-else", compress=True)
    with pytest.raises(common.Unfetchable, match="signature is not valid"):
        common.check_reference_url(f"http://{STUDIO_HOST}/r/{other}.png")
    assert common.check_reference_url(signed_link()).host == STUDIO_HOST

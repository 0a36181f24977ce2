"""Hostile, malformed, oversized and wrong-typed input to the studio's forms and htmx
endpoints: every one is answered below 500, with a message naming the problem, and
nothing is saved when nothing valid was given.

Property-based (hypothesis) where the input space is wide, explicit cases at known
edges. All hypothesis examples of one test share the test's transaction (pytest-django
``db``), so the properties compare counts before and after each request (deltas).

Known bugs are pinned by ``xfail(strict=True)`` tests with explicit minimal inputs;
the property strategies leave exactly those inputs out (each spot is marked
``KNOWN BUG``) so the properties stay green meanwhile. When a fix lands, its xfail
test turns XPASS (red): drop the mark and the exclusion together.
"""

from __future__ import annotations

import io
import struct
import unicodedata
import uuid
import zlib
from urllib.parse import quote_from_bytes, urlencode, urlsplit

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image

from accounts.models import Membership, Role, Team
from tests.conftest import add_key, make_generation, png_bytes
from videos.actions import Favorite
from videos.gateways import REGISTRY
from videos.models import GatewayKey, Generation, ReferenceImage, Review

HTMX = {"HTTP_HX_REQUEST": "true"}
# Dialects whose first model makes video from text alone: one bad field is then the only
# thing wrong with an otherwise valid request.
TEXT_TO_VIDEO = [d for d, cls in REGISTRY.items() if cls.spec().text_to_video]
# Text-to-video and fetching references by URL: the pasted-URL field exists.
URL_TEXT_TO_VIDEO = "xai"


def examples(n: int):
    """Hypothesis settings for these tests: ``n`` examples, no deadline (Django renders
    whole pages), function-scoped fixtures shared by the examples (deltas are asserted),
    and no example database (failures are reproduced from the printed example)."""
    return hypothesis_settings(
        max_examples=n,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


# --- fixtures and helpers -------------------------------------------------------------------


@pytest.fixture
def keys(owner, team) -> dict[str, GatewayKey]:
    """One key of the owner's per dialect."""
    return {dialect: add_key(owner, team, dialect=dialect, label=dialect) for dialect in REGISTRY}


@pytest.fixture
def foreign(outsider, team, teammate):
    """What belongs to someone else: another team's key and generation, a teammate's key."""
    other_team = outsider.teams.get()
    outsider_key = add_key(outsider, other_team, secret="sk-mallory-0001", label="Mallory's")
    return {
        "team": other_team,
        "key": outsider_key,
        "generation": make_generation(outsider, other_team, outsider_key, prompt="Mallory's boat"),
        "teammate_key": add_key(teammate, team, secret="sk-bob-key-0001", label="Bob's"),
    }


def compose(key: GatewayKey, /, **overrides) -> dict:
    """A valid compose POST for ``key``'s first model (shortest clip, default options)."""
    spec = key.gateway_class.spec()
    data = {"key": str(key.uuid), "model": spec.model, "prompt": "A paper boat", "duration": str(min(spec.durations))}
    if spec.aspect_ratios:
        data["aspect_ratio"] = spec.default_aspect_ratio
    if spec.resolutions:
        data["resolution"] = spec.default_resolution
    data.update(overrides)
    return data


def post(client, name: str, data, *, htmx: bool = False, **extra):
    return client.post(reverse(name), data, **(HTMX if htmx else {}), **extra)


def shows_form_errors(response) -> bool:
    return b'class="errorlist' in response.content


def refused(response, *, htmx: bool) -> None:
    """The compose form came back with its errors: 400 for a page, 200 (re-targeted) for htmx."""
    assert response.status_code == (200 if htmx else 400), response.status_code
    assert shows_form_errors(response), response.content[:2000]
    if htmx:
        assert response["HX-Retarget"] == "#compose"


def accepted(response, *, htmx: bool) -> None:
    assert response.status_code == (200 if htmx else 302), response.status_code
    if htmx:
        assert b"card" in response.content


def error_messages(response) -> list[str]:
    return [m.message for m in get_messages(response.wsgi_request) if m.level_tag == "error"]


# --- strategies -------------------------------------------------------------------------------

# Characters that break naive text handling: NUL and controls, bidi overrides and isolates,
# zero-width joiners and spaces, BOM, combining marks, emoji sequences and modifiers, tags,
# noncharacters, Unicode line breaks, HTML and template metacharacters.
EDGE_CHARS = (
    "\x00\x01\x07\x08\x1b\x7f\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068"
    "\u2069\ufeff\u0301\u0336\u20dd\u0644\u0627\u05d0\u3000\u00a0\ufffd\uffff\ufdd0\U0001f600\U0001f468"
    "\U0001f469\U0001f467\U0001f3fd\U000e0041\U0010fffd \t\r\n\x0b\x0c\x1c\x85\u2028\u2029<>&\"'{}%"
)
PROMPTS = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.sampled_from(EDGE_CHARS), max_size=120),
    # Huge: around the gateways' 4096 and the form's 20000 characters.
    st.builds(
        lambda unit, n: unit * n,
        st.sampled_from(["x", "é", "e\u0301", "\U0001f600", "\u200b", " ", "\U0001f468\u200d\U0001f469"]),
        st.integers(1000, 22000),
    ),
    st.sampled_from(["", " ", "\n\t ", "\x00", "A boat\x00", "x" * 4096, "x" * 4097, " " + "x" * 4096 + " "]),
)

# Values no compose field offers: numbers out of range, floats, signs, padding, Unicode
# digits, other gateways' spellings, JSON-ish words.
JUNK_OPTIONS = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.floats().map(repr),
    st.text(max_size=40),
    st.sampled_from(
        [
            " 6",
            "6 ",
            "6.0",
            "06",
            "+6",
            "0x6",
            "1e1",
            "٦",
            "６",
            "-1",
            "0",
            "16:9 ",
            " 16:9",
            "16/9",
            "720P",
            "1080p",
            "4k",
            "auto",
            "None",
            "null",
            "[]",
            "{}",
            "true",
            "\x00",
            "6\x00",
            "16:9\u200b",
        ]
    ),
)


def offered(gateway, field: str, raw) -> bool:
    """Whether the compose form offers ``raw`` for ``field`` (Django reads the last of several values)."""
    value = raw[-1] if isinstance(raw, list) else raw
    spec = gateway.spec()
    if field == "model":
        return value == "" or value in {m.model for m in gateway.models}
    if field == "duration":
        return value in {str(d) for d in spec.durations}
    if field == "aspect_ratio":
        return value in spec.aspect_ratios
    if field == "resolution":
        return value in spec.resolutions
    return True  # audio: a checkbox reads any value as on or off


def png_with_header(width: int, height: int) -> bytes:
    """A well-formed PNG (valid CRCs) whose IHDR claims ``width``×``height`` pixels, with a
    tiny IDAT: a decompression-bomb header, or a plain "too many pixels" one."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def encoded(kind: str, size=(64, 36)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (10, 20, 30)).save(buf, kind)
    return buf.getvalue()


def jpeg_claiming(width: int, height: int) -> bytes:
    """A real JPEG whose SOF0 marker is patched to claim ``width``×``height``."""
    data = bytearray(encoded("JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


PNG = png_bytes()
IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8", b"RIFF", b"GIF8", b"BM", b"II*", b"MM\x00")
CRAFTED_UPLOADS = [
    b"",  # empty
    b"\x89PNG\r\n\x1a\n",  # the signature alone
    PNG[:33],  # signature and IHDR, nothing else
    png_with_header(100_000, 100_000),  # 10¹⁰ pixels: Pillow's decompression-bomb error
    png_with_header(2**31 - 1, 2**31 - 1),  # the largest dimensions PNG allows
    png_with_header(7_000, 7_000),  # 49 Mpx: over the studio's 40 Mpx cap, under Pillow's
    png_with_header(0, 0),
    jpeg_claiming(65_000, 65_000),
    encoded("GIF"),  # real images of kinds the gateways do not take
    encoded("BMP"),
    encoded("TIFF"),
    b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
    b"<?php system($_GET['c']); ?>",
    b"%PDF-1.7\n",
]
UPLOAD_BYTES = st.one_of(
    st.binary(max_size=3000).filter(lambda b: not b.startswith(IMAGE_MAGIC)),
    st.integers(0, len(PNG) - 13).map(lambda n: PNG[:n]),  # cut anywhere before IEND
    st.sampled_from(CRAFTED_UPLOADS),
)
FILE_NAMES = st.one_of(
    st.text(
        alphabet=st.characters(exclude_categories=("Cs",), exclude_characters='/\\"\r\n\x00'), min_size=1, max_size=80
    ).map(lambda s: s + ".png"),
    st.sampled_from(
        [
            "image.png",
            "../../../etc/passwd.png",
            "a" * 300 + ".png",
            "\u202egnp.exe",
            "con.png",
            ".png",
            "<zz-evil onerror=alert(1)>.png",
            "photo.PNG",
            "x.png.php",
            "\U0001f600.png",
        ]
    ),
)

HOSTILE_URLS = [
    "javascript:alert(1)",
    "JAVASCRIPT:alert(document.cookie)",
    " javascript:alert(1)",
    "data:image/png;base64,iVBORw0KGgo=",
    "file:///etc/passwd",
    "ftp://example.com/a.png",
    "gopher://example.com/",
    "//example.com/a.png",
    "http://",
    "https://",
    "http:///a.png",
    "http:example.com/a.png",
    "http://user:pass@/a.png",
    "https://" + "a" * 2100 + ".com/x.png",
    "https://example.com/" + "a" * 2100 + ".png",
    "http://example.com/\x00.png",
    "https://example.com/a.png\nhttps://example.com/b.png",  # xAI takes one image
    "example.com/a.png",
    "\u202ehttps://example.com/a.png",
]


REFERENCE_URLS = st.one_of(
    st.sampled_from(HOSTILE_URLS),
    st.builds(
        str.__add__,
        st.sampled_from(
            ["http://", "https://", "HTTP://", "javascript:", "data:", "file://", "", "ht\ttp://", "http:"]
        ),
        st.text(max_size=60),
    ),
    st.lists(st.sampled_from(HOSTILE_URLS + ["https://example.com/a.png"]), min_size=2, max_size=4).map("\n".join),
    st.text(max_size=100),
)


# --- the compose form: prompts ------------------------------------------------------------------


@examples(120)
@given(prompt=PROMPTS, htmx=st.booleans(), dialect=st.sampled_from(TEXT_TO_VIDEO))
def test_any_prompt_is_saved_verbatim_or_refused_with_a_message(client_for, owner, keys, prompt, htmx, dialect):
    client = client_for(owner)
    before = Generation.objects.count()
    # Examples may repeat a prompt: past the duplicate guard ("Generate anyway").
    response = post(client, "generate", compose(keys[dialect], prompt=prompt, allow_duplicate="on"), htmx=htmx)
    assert response.status_code < 500
    text = prompt.strip()
    visible = any(unicodedata.category(ch) not in ("Cc", "Cf", "Zs", "Zl", "Zp") for ch in text)
    valid = visible and "\x00" not in text and len(text) <= keys[dialect].gateway_class.spec().max_prompt_chars
    if valid:
        accepted(response, htmx=htmx)
        assert Generation.objects.count() == before + 1
        assert Generation.objects.latest("pk").prompt == text  # no mangling of Unicode
    else:
        refused(response, htmx=htmx)
        assert Generation.objects.count() == before


@pytest.mark.parametrize("prompt", ["\u200b", "\u200b\u200c\u200d\ufeff", "\u202e\u2066 \u2069\u200e", "\x1b\x7f"])
def test_a_prompt_with_nothing_visible_is_refused_as_empty(client_for, owner, keys, prompt):
    client = client_for(owner)
    before = Generation.objects.count()
    response = post(client, "generate", compose(keys["openai-preview"], prompt=prompt))
    refused(response, htmx=False)
    assert b"needs a prompt" in response.content
    assert Generation.objects.count() == before


@examples(40)
@given(
    raw=st.one_of(
        st.binary(max_size=200),
        st.lists(st.characters(categories=["Cs"]), min_size=1, max_size=8).map(
            lambda cs: "".join(cs).encode("utf-8", "surrogatepass")  # lone surrogates as CESU-8
        ),
        st.sampled_from([b"\xff\xfe", b"\xc0\xaf", b"\xed\xa0\x80", b"A boat \xe2\x80", b"\xf4\x90\x80\x80"]),
    ),
    htmx=st.booleans(),
)
def test_a_prompt_of_bytes_that_are_not_utf8_never_breaks_the_form(client_for, owner, keys, raw, htmx):
    """Lone surrogates and invalid UTF-8 cannot be typed, but a forged body carries them."""
    client = client_for(owner)
    fields = urlencode({k: v for k, v in compose(keys["openai-preview"]).items() if k != "prompt"})
    body = f"{fields}&prompt={quote_from_bytes(raw)}"
    before = Generation.objects.count()
    response = client.post(
        reverse("generate"), body, content_type="application/x-www-form-urlencoded", **(HTMX if htmx else {})
    )
    assert response.status_code < 500
    if Generation.objects.count() == before:
        refused(response, htmx=htmx)
    else:
        saved = Generation.objects.latest("pk").prompt
        saved.encode("utf-8")  # stored as valid Unicode (undecodable bytes became U+FFFD)
        assert saved == raw.decode("utf-8", "replace").strip()


def test_a_multipart_body_with_undecodable_bytes_never_breaks_the_form(client_for, owner, keys):
    client = client_for(owner)
    boundary = "studioboundary"
    parts = [(k, v.encode()) for k, v in compose(keys["openai-preview"]).items() if k != "prompt"]
    parts.append(("prompt", b"A boat \xed\xa0\x80\xff on the river"))
    body = (
        b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'.encode() + v + b"\r\n"
            for k, v in parts
        )
        + f"--{boundary}--\r\n".encode()
    )
    response = client.post(reverse("generate"), body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code < 500


def test_a_prompt_larger_than_the_request_limit_is_a_400_and_saves_nothing(client_for, owner, keys, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    client = client_for(owner)
    before = Generation.objects.count()
    for htmx in (False, True):
        response = post(client, "generate", compose(keys["openai-preview"], prompt="x" * 200_000), htmx=htmx)
        assert response.status_code == 400
    assert Generation.objects.count() == before


def test_too_many_fields_is_a_400_and_saves_nothing(client_for, owner, keys):
    client = client_for(owner)
    data = compose(keys["openai-preview"]) | {f"junk{i}": "x" for i in range(1200)}
    before = Generation.objects.count()
    assert post(client, "generate", data).status_code == 400
    assert Generation.objects.count() == before


# --- the compose form: forged options, keys and parents ------------------------------------


@examples(150)
@given(
    dialect=st.sampled_from(TEXT_TO_VIDEO),
    field=st.sampled_from(["model", "duration", "aspect_ratio", "resolution", "audio"]),
    value=st.one_of(JUNK_OPTIONS, st.lists(JUNK_OPTIONS, min_size=2, max_size=3)),
    htmx=st.booleans(),
)
def test_a_forged_option_is_refused_with_a_message(client_for, owner, keys, dialect, field, value, htmx):
    client = client_for(owner)
    key = keys[dialect]
    before = Generation.objects.count()
    response = post(client, "generate", compose(key, **{field: value}), htmx=htmx)
    assert response.status_code < 500
    if not offered(key.gateway_class, field, value):
        refused(response, htmx=htmx)  # with a message, also for a one-model gateway's hidden model
        assert Generation.objects.count() == before
    elif Generation.objects.count() > before:
        generation = Generation.objects.latest("pk")
        spec = key.gateway_class.spec(generation.model_name)
        assert generation.options["duration"] in spec.durations
        assert generation.options["aspect_ratio"] in (spec.aspect_ratios or (None,))
        assert generation.options["resolution"] in (spec.resolutions or (None,))
        if not spec.audio:  # a forged audio switch on a gateway without one is not stored
            assert generation.options["audio"] is None


@examples(40)
@given(
    which=st.sampled_from(["outsider", "teammate", "random", "junk", "empty", "list"]),
    junk=st.text(max_size=60),
    htmx=st.booleans(),
)
def test_a_forged_key_is_refused_and_never_used(client_for, owner, keys, foreign, which, junk, htmx):
    client = client_for(owner)
    forged = {
        "outsider": str(foreign["key"].uuid),
        "teammate": str(foreign["teammate_key"].uuid),
        "random": str(uuid.uuid4()),
        "junk": junk,
        "empty": "",
        "list": [str(foreign["key"].uuid), str(foreign["teammate_key"].uuid)],
    }[which]
    before = Generation.objects.count()
    response = post(client, "generate", compose(keys["openai-preview"], key=forged), htmx=htmx)
    assert response.status_code < 500
    refused(response, htmx=htmx)
    assert Generation.objects.count() == before
    assert not Generation.objects.filter(key__in=[foreign["key"], foreign["teammate_key"]], author=owner).exists()


@pytest.mark.parametrize("which", ["outsider", "random", "junk"])
def test_a_forged_parent_is_dropped_not_linked(client_for, owner, team, keys, foreign, which):
    client = client_for(owner)
    parent = {"outsider": str(foreign["generation"].uuid), "random": str(uuid.uuid4()), "junk": "../1"}[which]
    before = Generation.objects.count()
    response = post(client, "generate", compose(keys["openai-preview"], parent=parent))
    if which == "junk":  # the hidden UUID field refuses it, with a message
        refused(response, htmx=False)
        assert Generation.objects.count() == before
        return
    assert response.status_code == 302
    generation = Generation.objects.filter(team=team).latest("pk")
    assert generation.parent is None


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("field, value", [("model", "0"), ("model", "grok-video-1.5-pro"), ("parent", "../1")])
def test_an_error_on_a_field_the_form_renders_hidden_is_shown(client_for, owner, keys, field, value, htmx):
    client = client_for(owner)
    before = Generation.objects.count()
    response = post(client, "generate", compose(keys["openai-preview"], **{field: value}), htmx=htmx)
    assert Generation.objects.count() == before
    refused(response, htmx=htmx)


# --- the compose form: uploads ---------------------------------------------------------------


@examples(80)
@given(
    uploads=st.lists(st.tuples(FILE_NAMES, UPLOAD_BYTES), min_size=1, max_size=5),
    htmx=st.booleans(),
)
def test_uploads_that_are_not_images_are_refused_naming_the_file(client_for, owner, keys, uploads, htmx):
    client = client_for(owner)
    files = [SimpleUploadedFile(name, data, content_type="image/png") for name, data in uploads]
    before = (Generation.objects.count(), ReferenceImage.objects.count())
    response = post(client, "generate", compose(keys["openai-preview"], reference_images=files), htmx=htmx)
    assert response.status_code < 500
    refused(response, htmx=htmx)
    assert (Generation.objects.count(), ReferenceImage.objects.count()) == before
    assert b"<zz-evil" not in response.content  # file names are escaped in the messages


@pytest.mark.parametrize(
    "data, words",
    [
        (png_with_header(100_000, 100_000), b"is not a readable image"),
        (png_with_header(7_000, 7_000), b"that is too large"),
        (jpeg_claiming(65_000, 65_000), b"is not a readable image"),
        (encoded("GIF"), b"use PNG, JPEG or WebP"),
        (PNG[: len(PNG) // 2], b"is not a readable image"),
        (b"", b"empty"),
    ],
    ids=["png-bomb", "png-over-cap", "jpeg-bomb", "gif", "truncated-png", "empty"],
)
def test_each_kind_of_bad_image_gets_its_own_message(client_for, owner, keys, data, words):
    client = client_for(owner)
    upload = SimpleUploadedFile("bad.png", data, content_type="image/png")
    response = post(client, "generate", compose(keys["openai-preview"], reference_images=[upload]))
    refused(response, htmx=False)
    assert words in response.content


def test_an_upload_over_the_byte_cap_is_refused_with_its_size(client_for, owner, keys, settings):
    settings.STUDIO_MAX_REFERENCE_BYTES = 50_000
    client = client_for(owner)
    big = encoded("PNG", size=(400, 400)) + bytes(60_000)
    before = Generation.objects.count()
    upload = SimpleUploadedFile("big.png", big, content_type="image/png")
    response = post(client, "generate", compose(keys["openai-preview"], reference_images=[upload]))
    refused(response, htmx=False)
    assert b"the limit is" in response.content
    assert Generation.objects.count() == before


@pytest.mark.parametrize("kind", ["JPEG", "WEBP"])
def test_an_image_with_headers_but_no_pixel_data_is_refused(client_for, owner, keys, kind):
    data = encoded(kind)
    cut = data[: data.index(b"\xff\xda")] if kind == "JPEG" else data[:30] + bytes(200)
    client = client_for(owner)
    before = Generation.objects.count()
    upload = SimpleUploadedFile("headers-only.jpg", cut, content_type="image/jpeg")
    response = post(client, "generate", compose(keys["openai-preview"], reference_images=[upload]))
    assert Generation.objects.count() == before
    refused(response, htmx=False)


# --- the compose form: pasted reference URLs -----------------------------------------------


@examples(80)
@given(urls=REFERENCE_URLS, htmx=st.booleans())
def test_reference_urls_other_than_one_public_http_url_are_refused(client_for, owner, keys, urls, htmx):
    client = client_for(owner)
    before = Generation.objects.count()
    response = post(client, "generate", compose(keys[URL_TEXT_TO_VIDEO], reference_urls=urls), htmx=htmx)
    assert response.status_code < 500
    if Generation.objects.count() == before:
        refused(response, htmx=htmx)
        return
    stored = list(Generation.objects.latest("pk").reference_images.values_list("source_url", flat=True))
    assert len(stored) <= 1
    for url in stored:
        parts = urlsplit(url)
        assert parts.scheme in ("http", "https") and parts.hostname and len(url) <= 2000


@pytest.mark.parametrize("urls", HOSTILE_URLS)
def test_each_hostile_reference_url_is_refused(client_for, owner, keys, urls):
    client = client_for(owner)
    before = Generation.objects.count()
    response = post(client, "generate", compose(keys[URL_TEXT_TO_VIDEO], reference_urls=urls))
    refused(response, htmx=False)
    assert Generation.objects.count() == before


@pytest.mark.parametrize("url", ["http://[::1", "https://example.com\uff03@evil.example/a.png"])
def test_a_reference_url_python_cannot_split_is_refused_not_a_500(client_for, owner, keys, url):
    client = client_for(owner)
    client.raise_request_exception = False
    response = post(client, "generate", compose(keys[URL_TEXT_TO_VIDEO], reference_urls=url))
    assert response.status_code < 500
    refused(response, htmx=False)


def test_a_reference_url_with_whitespace_is_refused_at_the_form(client_for, owner, keys):
    client = client_for(owner)
    before = Generation.objects.count()
    response = post(client, "generate", compose(keys[URL_TEXT_TO_VIDEO], reference_urls="https://example.com/a b.png"))
    assert Generation.objects.count() == before
    refused(response, htmx=False)


# --- estimate and compose options ----------------------------------------------------------

COMPOSE_FIELDS = ["key", "model", "prompt", "duration", "aspect_ratio", "resolution", "audio", "reference_urls"]
JUNK_FIELDS = st.dictionaries(
    st.one_of(st.sampled_from(COMPOSE_FIELDS), st.text(alphabet="abcdefghijklmnopqrstuvwxyz_-[]0", max_size=10)),
    st.one_of(
        JUNK_OPTIONS,
        st.integers(-(10**17), 10**17).map(str),
        st.lists(JUNK_OPTIONS, min_size=2, max_size=3),
        st.sampled_from(HOSTILE_URLS),
    ),
    max_size=8,
)


@examples(80)
@given(fields=JUNK_FIELDS, dialect=st.sampled_from(list(REGISTRY)), keep_key=st.booleans())
def test_the_live_estimate_answers_any_junk_and_saves_nothing(client_for, owner, keys, fields, dialect, keep_key):
    client = client_for(owner)
    if keep_key:
        fields = {**fields, "key": str(keys[dialect].uuid)}
    before = Generation.objects.count()
    response = post(client, "estimate", fields, htmx=True)
    assert response.status_code == 200
    assert Generation.objects.count() == before


@examples(60)
@given(
    key=st.one_of(st.text(max_size=60), st.uuids().map(str), st.sampled_from(["", "None", "../", "%00"])),
    model=st.one_of(st.text(max_size=60), st.sampled_from(["", "grok-1.5", "grok-video-1.5-pro", "null"])),
)
def test_compose_options_answer_any_key_and_model(client_for, owner, keys, foreign, key, model):
    client = client_for(owner)
    response = client.get(reverse("compose_options"), {"key": key, "model": model}, **HTMX)
    assert response.status_code == 200
    assert b'id="options"' in response.content
    assert response.context["form"].selected_key.owner == owner  # a forged key falls back to one of mine


@pytest.mark.parametrize("key", ["outsider", "teammate"])
def test_compose_options_never_show_someone_elses_key(client_for, owner, keys, foreign, key):
    forged = foreign["key" if key == "outsider" else "teammate_key"]
    response = client_for(owner).get(reverse("compose_options"), {"key": str(forged.uuid)}, **HTMX)
    assert response.status_code == 200
    assert response.context["form"].selected_key in keys.values()


@pytest.mark.parametrize("endpoint", ["estimate", "generate"])
@pytest.mark.parametrize("duration", ["9" * 40, "9" * 4300])
@pytest.mark.parametrize("dialect", ["xai", "reapi"])
def test_an_estimate_for_a_huge_duration_is_not_a_500(client_for, owner, keys, endpoint, duration, dialect):
    client = client_for(owner)
    client.raise_request_exception = False
    response = post(client, endpoint, {"key": str(keys[dialect].uuid), "duration": duration, "prompt": "x"})
    assert response.status_code < 500


# --- History's filters ----------------------------------------------------------------------

DATE_TEXT = st.one_of(
    st.dates().map(str),
    st.text(max_size=20),
    st.sampled_from(["2026-02-30", "2026-13-01", "0000-01-01", "10000-01-01", "-2026-01-01", "2026-1-1", "now"]),
)
PAGES = st.one_of(
    st.integers().map(str),
    st.text(max_size=12),
    st.sampled_from(["", "0", "-1", "1.5", "1e3", "٣", "abc", "9" * 5000, "NaN", "0x10", str(2**63 // 24 + 2)]),
)
GALLERY_QUERY = st.fixed_dictionaries(
    {},
    optional={
        "q": st.one_of(st.text(max_size=250), st.sampled_from(["%", "_", "\\", "' OR 1=1 --", "\x00"])),
        "gateway": st.one_of(st.sampled_from(list(REGISTRY)), st.text(max_size=20)),
        "member": st.one_of(st.sampled_from(["alice", "mallory", "bob"]), st.text(max_size=20)),
        "since": DATE_TEXT,
        "until": DATE_TEXT,
        "state": st.one_of(st.sampled_from(["running", "completed", "failed", "pending"]), st.text(max_size=20)),
        "review": st.one_of(st.sampled_from([r.value for r in Review]), st.text(max_size=20)),
        "favorites": st.one_of(st.sampled_from(["on", "1", "true", "0", "false"]), st.text(max_size=5)),
        "sort": st.one_of(st.sampled_from(["newest", "oldest"]), st.text(max_size=20)),
        "page": PAGES,
    },
)


@examples(120)
@given(query=GALLERY_QUERY, htmx=st.booleans())
def test_the_history_answers_any_filters_and_names_the_ignored_ones(client_for, owner, team, keys, query, htmx):
    client = client_for(owner)
    before = (Generation.objects.count(), Favorite.objects.count())
    response = client.get(reverse("history"), query, **(HTMX if htmx else {}))
    assert response.status_code == 200
    assert (Generation.objects.count(), Favorite.objects.count()) == before
    form = response.context["form"]
    html = response.content.decode()
    for name in form.errors:  # each ignored filter is named above the tiles
        assert f"Ignored “{form.fields[name].label}”" in html


def test_the_last_representable_day_as_until_is_not_a_500(client_for, owner, team):
    client = client_for(owner)
    client.raise_request_exception = False
    response = client.get(reverse("history"), {"until": "9999-12-31"})
    assert response.status_code == 200
    assert "Ignored “To”" in response.content.decode()


@pytest.mark.parametrize("number", [str(10**30), str(2**63 // 24 + 2)])
def test_a_page_number_past_the_databases_integers_is_not_a_500(client_for, owner, team, number):
    client = client_for(owner)
    client.raise_request_exception = False
    assert client.get(reverse("history"), {"page": number}).status_code == 200


# --- bulk actions ---------------------------------------------------------------------------


@examples(60)
@given(
    ids=st.lists(
        st.one_of(st.text(max_size=40), st.uuids().map(str), st.just("FOREIGN"), st.sampled_from(["", "None", "1"])),
        max_size=8,
    ),
    many=st.booleans(),
    action=st.one_of(st.sampled_from(["zip", "favorite", "unfavorite", "review", "delete"]), st.text(max_size=12)),
    confirm=st.sampled_from(["", "1", "yes"]),
)
def test_bulk_with_junk_or_foreign_ids_changes_nothing_and_says_why(
    client_for, owner, team, foreign, ids, many, action, confirm
):
    client = client_for(owner)
    ids = [str(foreign["generation"].uuid) if i == "FOREIGN" else i for i in ids]
    if many:  # over BULK_LIMIT distinct ids
        ids += [str(uuid.uuid4()) for _ in range(201)]
    before = (
        Generation.objects.count(),
        Favorite.objects.count(),
        Generation.objects.filter(review=Review.NONE).count(),
    )
    response = client.post(reverse("bulk"), {"ids": ids, "action": action, "confirm": confirm})
    assert response.status_code == 302
    assert (
        Generation.objects.count(),
        Favorite.objects.count(),
        Generation.objects.filter(review=Review.NONE).count(),
    ) == before
    assert error_messages(response), "nothing was done and no message said why"


# --- keys ---------------------------------------------------------------------------------

BASE_URLS = st.one_of(
    st.sampled_from(
        [
            "javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "file:///etc/passwd",
            "ftp://example.com",
            "gopher://example.com",
            "http://[::1",
            "https://example.com\uff03@evil.example",
            "//example.com",
            "example.com",
            "https://" + "a" * 400 + ".com",
            "http://localhost:99999",
            "https://exa mple.com",
            "https://example.com/\x00",
            "\u202ehttps://example.com",
            "https://",
            "http://user:pw@",
        ]
    ),
    st.builds(str.__add__, st.sampled_from(["http://", "https://", "ftp://", ""]), st.text(max_size=40)),
)


@examples(80)
@given(
    dialect=st.one_of(st.sampled_from(list(REGISTRY)), st.text(max_size=20)),
    label=st.one_of(st.text(max_size=20), st.text(min_size=81, max_size=200), st.sampled_from(["", "\x00", " "])),
    base_url=BASE_URLS,
    secret=st.one_of(st.text(max_size=30), st.sampled_from(["sk-" + "x" * 600, "sk-with space-1", "sk-valid-0001"])),
)
def test_the_key_form_saves_only_a_sound_key_and_names_each_problem(
    client_for, owner, team, dialect, label, base_url, secret
):
    client = client_for(owner)
    before = GatewayKey.objects.count()
    response = client.post(
        reverse("keys"), {"dialect": dialect, "label": label, "base_url": base_url, "secret": secret}
    )
    assert response.status_code < 500
    if GatewayKey.objects.count() == before:
        assert response.status_code == 200
        assert shows_form_errors(response)
        return
    assert response.status_code == 302
    key = GatewayKey.objects.latest("pk")
    assert key.dialect in REGISTRY and 0 < len(key.label) <= 80 and "\x00" not in key.label
    assert urlsplit(key.base_url).scheme in ("http", "https") and urlsplit(key.base_url).hostname
    assert key.reveal() == secret.strip()


@examples(40)
@given(secret=st.one_of(st.text(max_size=30), st.sampled_from(["", "\x00" * 9, "sk-" + "x" * 600, "a b c d e f g"])))
def test_replacing_a_secret_with_junk_keeps_the_old_one_and_says_why(client_for, owner, team, key, secret):
    client = client_for(owner)
    old = GatewayKey.objects.get(pk=key.pk).reveal()
    response = client.post(reverse("key_replace", args=[key.uuid]), {"secret": secret})
    assert response.status_code == 302
    now = GatewayKey.objects.get(pk=key.pk).reveal()
    if now == old:
        assert error_messages(response)
    else:
        assert now == secret.strip() and len(now) >= 8 and not any(ch.isspace() for ch in now)


@pytest.mark.parametrize("which", ["outsider", "teammate", "random"])
@pytest.mark.parametrize("action", ["key_replace", "key_delete"])
def test_someone_elses_key_is_a_404(client_for, owner, foreign, which, action):
    target = {"outsider": foreign["key"].uuid, "teammate": foreign["teammate_key"].uuid, "random": uuid.uuid4()}
    response = client_for(owner).post(reverse(action, args=[target[which]]), {"secret": "sk-forged-000001"})
    assert response.status_code == 404
    assert GatewayKey.objects.filter(pk__in=[foreign["key"].pk, foreign["teammate_key"].pk]).count() == 2
    assert foreign["key"].reveal() == "sk-mallory-0001"


@examples(30)
@given(dialect=st.one_of(st.text(max_size=30), st.sampled_from(list(REGISTRY))))
def test_the_base_url_prefill_answers_any_dialect(client_for, owner, team, dialect):
    response = client_for(owner).get(reverse("key_base_url"), {"dialect": dialect}, **HTMX)
    assert response.status_code == 200


# --- teams, budgets, roles, review ----------------------------------------------------------


@pytest.mark.parametrize("team_id", ["abc", "1", "' OR 1=1 --"])
def test_switching_to_a_team_that_is_not_a_uuid_is_not_a_500(client_for, owner, team, team_id):
    client = client_for(owner)
    client.raise_request_exception = False
    assert client.post(reverse("switch_team"), {"team": team_id}).status_code < 500


@pytest.mark.parametrize("which", ["outsider", "random", "missing"])
def test_switching_to_someone_elses_team_is_a_404(client_for, owner, team, foreign, which):
    client = client_for(owner)
    data = {"outsider": {"team": str(foreign["team"].uuid)}, "random": {"team": str(uuid.uuid4())}, "missing": {}}
    assert client.post(reverse("switch_team"), data[which]).status_code == 404
    assert client.get(reverse("studio")).context["team"] == team


MONEY = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.text(max_size=20),
    st.sampled_from(["", "-1", "1e999999", "NaN", "Infinity", "-0", "1,5", "٣", "9" * 30, "0.001", "12.50"]),
)


@examples(60)
@given(budget=MONEY, threshold=MONEY, cap=MONEY)
def test_a_budget_form_with_junk_changes_nothing_or_only_sound_amounts(client_for, owner, team, budget, threshold, cap):
    client = client_for(owner)
    membership = Membership.objects.get(team=team, user=owner)
    response = client.post(
        reverse("budget"),
        {"monthly_budget_usd": budget, "approval_threshold_usd": threshold, f"cap_{membership.pk}": cap},
    )
    assert response.status_code == 302
    team = Team.objects.get(pk=team.pk)
    membership.refresh_from_db()
    for amount in (team.monthly_budget_usd, team.approval_threshold_usd, membership.monthly_cap_usd):
        assert amount is None or (amount.is_finite() and amount >= 0)
    if not [m for m in get_messages(response.wsgi_request) if m.level_tag == "success"]:
        assert error_messages(response)


@examples(30)
@given(role=st.one_of(st.text(max_size=20), st.sampled_from(["owner", "OWNER", "admin ", "superuser", ""])))
def test_changing_a_role_to_junk_is_refused_with_a_message(client_for, owner, team, teammate, role):
    client = client_for(owner)
    membership = Membership.objects.get(team=team, user=teammate)
    old = membership.role
    response = client.post(reverse("change_role", args=[membership.pk]), {"role": role})
    assert response.status_code == 302
    membership.refresh_from_db()
    if role in Role.values and role != old:
        assert membership.role == role  # a real role: an owner may give any
        membership.role = old
        membership.save()
    elif role != old:
        assert membership.role == old
        assert "Choose one of the roles offered." in error_messages(response)


@examples(30)
@given(
    decision=st.one_of(st.text(max_size=20), st.sampled_from(["accept", "reject", "changes"])),
    comment=st.text(max_size=1200),
    htmx=st.booleans(),
)
def test_a_review_decision_on_another_teams_generation_is_a_404(
    client_for, owner, team, foreign, decision, comment, htmx
):
    client = client_for(owner)
    url = reverse("review_decide", args=[foreign["generation"].uuid])
    response = client.post(url, {"decision": decision, "comment": comment}, **(HTMX if htmx else {}))
    assert response.status_code == 404
    assert Generation.objects.get(pk=foreign["generation"].pk).review == Review.NONE


@examples(30)
@given(query=st.dictionaries(st.sampled_from(["action", "actor", "page"]), st.text(max_size=30), max_size=3))
def test_the_audit_trail_and_notifications_answer_any_query(client_for, owner, team, query):
    client = client_for(owner)
    assert client.get(reverse("audit_log"), query).status_code == 200
    assert client.get(reverse("notifications"), {"page": query.get("page", "")}).status_code == 200

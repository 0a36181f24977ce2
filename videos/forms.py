"""Forms: gateway keys and the compose form whose options follow the chosen key."""

from __future__ import annotations

import io
import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, ngettext
from PIL import Image, UnidentifiedImageError

from videos.gateways import REGISTRY, dialect_choices
from videos.gateways.base import GenerationInput, OptionSpec, ReferenceForm, ReferenceImageData
from videos.lib.references import NoPublicAddress
from videos.models import Frame, GatewayKey, NewReference, Price, WebhookEvent
from videos.webhooks import url_problem

IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
#: What the gateways' request models take as an image URL (``^https?://\S+$``).
HTTP_URL = re.compile(r"https?://\S+")
#: Unicode categories with nothing to see: controls, format (zero-width, bidi), separators.
INVISIBLE = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})


#: Django writes a form label's suffix as ``gettext(":")`` (``Form.label_suffix``); marked here
#: so the catalog gives Chinese its full-width colon.
LABEL_SUFFIX = gettext_noop(":")


class GatewayKeyForm(forms.ModelForm):
    """Add a key: gateway, label, base URL (prefilled from the gateway's docs) and secret."""

    secret = forms.CharField(
        label=_("API key"),
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        max_length=500,
        strip=True,
        help_text=_("Stored encrypted; after saving only its last four characters are shown."),
    )

    class Meta:
        model = GatewayKey
        fields = ["dialect", "label", "base_url"]
        labels = {"dialect": _("Gateway"), "label": _("Label"), "base_url": _("Base URL")}
        help_texts = {"base_url": _("Any host that speaks this gateway's dialect.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dialect"] = forms.ChoiceField(label=_("Gateway"), choices=dialect_choices())
        self.fields["base_url"].assume_scheme = "https"
        if not self.is_bound and not self.initial.get("base_url"):
            gateway = REGISTRY.get(self.initial.get("dialect")) or next(iter(REGISTRY.values()))
            self.initial["base_url"] = gateway.default_base_url

    def clean_base_url(self) -> str:
        url = self.cleaned_data["base_url"].rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise forms.ValidationError(_("Use an http:// or https:// address."))
        return url

    def clean_secret(self) -> str:
        secret = self.cleaned_data["secret"]
        if len(secret) < 8 or any(ch.isspace() for ch in secret):
            raise forms.ValidationError(_("That does not look like an API key (8+ characters, no spaces)."))
        return secret

    def save(self, commit: bool = True) -> GatewayKey:
        key = super().save(commit=False)
        key.set_secret(self.cleaned_data["secret"])
        if commit:
            key.save()
        return key


class KeyEditForm(forms.ModelForm):
    """Edit a key: its label and base URL (the secret is replaced separately, or stays).

    Bound without an instance, so a refused edit changes nothing: the view passes the
    cleaned values to ``actions.update_key``."""

    class Meta:
        model = GatewayKey
        fields = ["label", "base_url"]
        labels = {"label": _("Label"), "base_url": _("Base URL")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["base_url"].assume_scheme = "https"

    clean_base_url = GatewayKeyForm.clean_base_url


class ReplaceSecretForm(forms.Form):
    secret = GatewayKeyForm.base_fields["secret"]

    clean_secret = GatewayKeyForm.clean_secret


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Several uploaded files; each checked to be a PNG, JPEG or WebP image within the caps."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else ([data] if data else [])
        return [super(MultipleImageField, self).clean(item, initial) for item in files if item]


@dataclass
class CheckedImage:
    content_type: str
    data: bytes
    width: int
    height: int


def check_image(upload) -> CheckedImage:
    """Read an upload and verify it is a real PNG/JPEG/WebP within the byte and pixel caps.

    Raises forms.ValidationError with a message naming the file.
    """
    name = getattr(upload, "name", "image")
    if upload.size > settings.STUDIO_MAX_REFERENCE_BYTES:
        raise forms.ValidationError(
            _("%(name)s is %(size).1f MB; the limit is %(limit).0f MB.")
            % {"name": name, "size": upload.size / 1e6, "limit": settings.STUDIO_MAX_REFERENCE_BYTES / 1e6}
        )
    data = upload.read()
    try:
        with Image.open(io.BytesIO(data)) as img:
            kind = img.format
            width, height = img.size
            if width * height > settings.STUDIO_MAX_REFERENCE_PIXELS:
                raise forms.ValidationError(
                    _("%(name)s is %(width)d×%(height)d pixels; that is too large.")
                    % {"name": name, "width": width, "height": height}
                )
            img.verify()
        # verify() checks PNG chunks but nothing of JPEG or WebP: decode the pixels (within
        # the cap just checked) so a file cut after its headers is refused here too.
        with Image.open(io.BytesIO(data)) as img:
            img.load()
        # libwebp decodes a VP8 stream padded with zeros without complaint; the RIFF header
        # still tells: it gives the file's length, which a cut or padded file does not have.
        if kind == "WEBP" and int.from_bytes(data[4:8], "little") + 8 != len(data):
            raise OSError("WebP RIFF size does not match the file")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise forms.ValidationError(_("%(name)s is not a readable image.") % {"name": name}) from None
    if kind not in IMAGE_TYPES:
        raise forms.ValidationError(
            _("%(name)s is a %(kind)s image; use PNG, JPEG or WebP.") % {"name": name, "kind": kind}
        )
    return CheckedImage(IMAGE_TYPES[kind], data, width, height)


class ComposeForm(forms.Form):
    """The compose form. Its option fields are those of the chosen key's gateway and model.

    ``keys`` is the queryset of keys this member may use in this team. After
    ``is_valid()``, ``cleaned_data["choices"]`` is a GenerationInput and
    ``cleaned_data["references"]`` a list of ``models.NewReference`` (uploads
    first, then pasted URLs).
    """

    key = forms.ModelChoiceField(
        queryset=GatewayKey.objects.none(), to_field_name="uuid", label=_("Gateway key"), empty_label=None
    )
    model = forms.ChoiceField(label=_("Model"), required=False)  # empty: the gateway's first model
    prompt = forms.CharField(
        label=_("Prompt"),
        widget=forms.Textarea(
            attrs={"rows": 4, "placeholder": _("A paper boat drifting down a rain-soaked street at dusk…")}
        ),
        max_length=20000,
        required=False,
        strip=True,
    )
    reference_images = MultipleImageField(label=_("Reference images"), required=False)
    reference_urls = forms.CharField(
        label=_("Reference image URLs"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "https://example.com/picture.jpg"}),
        help_text=_("Public http(s) addresses the gateway downloads, one per line."),
        max_length=8000,
    )
    parent = forms.UUIDField(
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid": _("The generation to remix is not a valid id; start from its page again.")},
    )
    frame = forms.UUIDField(
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid": _("The frame to start from is not a valid id; take it again.")},
    )
    prompt_template = forms.UUIDField(required=False, widget=forms.HiddenInput)  # the library's, counted as used
    submission = forms.RegexField(
        regex=r"^[0-9a-f]{32}$",
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid": _("This form is out of date; reload the page and submit again.")},
    )
    duration = forms.TypedChoiceField(label=_("Duration (s)"), coerce=int)
    aspect_ratio = forms.ChoiceField(label=_("Aspect ratio"))
    resolution = forms.ChoiceField(label=_("Resolution"))
    audio = forms.BooleanField(label=_("Audio"), required=False, help_text=_("Generate a soundtrack."))
    takes = forms.IntegerField(
        label=_("Takes"),
        min_value=1,
        max_value=4,
        initial=1,
        required=False,
        help_text=_("1 to 4 takes of this request, each a video of its own, billed each."),
        widget=forms.NumberInput(attrs={"min": 1, "max": 4, "step": 1, "inputmode": "numeric"}),
        error_messages={
            "invalid": _("Enter a whole number of takes, from 1 to 4."),
            "min_value": _("Ask for at least 1 take (at most 4)."),
            "max_value": _("At most 4 takes of one request."),
        },
    )
    allow_duplicate = forms.BooleanField(label=_("Generate anyway"), required=False)
    compare_keys = forms.ModelMultipleChoiceField(
        queryset=GatewayKey.objects.none(),
        to_field_name="uuid",
        required=False,
        label=_("Compare through several gateways"),
        error_messages={
            "invalid_choice": _("Pick only your own keys to compare."),
            "invalid_pk_value": _("Pick only your own keys to compare."),
        },
    )

    def __init__(self, *args, keys, parents=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["key"].queryset = keys
        self.fields["compare_keys"].queryset = keys
        # One token per rendering of the form: a second post of it returns the first generation.
        self.initial.setdefault("submission", uuid.uuid4().hex)
        self.parents = parents  # the team's generations a remix may start from
        self.remix_of = self._parent()
        self.from_frame = self._frame()
        self.selected_key = self._selected_key(keys)
        self.gateway = self.selected_key.gateway_class if self.selected_key else None
        self.spec: OptionSpec | None = self._selected_spec()
        self._apply_spec()

    def _wanted(self, name: str):
        return self.data.get(name) if self.is_bound else self.initial.get(name)

    def _selected_key(self, keys) -> GatewayKey | None:
        wanted = self._wanted("key")
        if wanted:
            try:
                found = keys.filter(uuid=wanted).first()
            except (ValueError, ValidationError):  # not a UUID
                found = None
            if found:
                return found
        return keys.first()

    def _parent(self):
        wanted = self._wanted("parent")
        if not wanted or self.parents is None:
            return None
        try:
            return self.parents.filter(uuid=wanted).first()
        except (ValueError, ValidationError):
            return None

    def _frame(self):
        """The team's ``Frame`` the form starts from (``frame``: its uuid), or None."""
        wanted = self._wanted("frame")
        if not wanted or self.parents is None:
            return None
        try:
            return Frame.objects.filter(generation__in=self.parents.values("pk"), uuid=wanted).first()
        except (ValueError, ValidationError):
            return None

    def _frame_references(self) -> tuple[list[CheckedImage], list[str]]:
        """A form started from a frame has that frame (a PNG) as its reference image."""
        with self.from_frame.image.open("rb") as fh:
            data = fh.read()
        return [CheckedImage("image/png", data, self.from_frame.width, self.from_frame.height)], []

    def _inherited_references(self) -> tuple[list[CheckedImage], list[str]]:
        """The reference images used when none are given: a frame's, else a remix's parent's."""
        if self.from_frame is not None:
            return self._frame_references()
        if self.remix_of is not None:
            return self._parent_references()
        return [], []

    def _selected_spec(self) -> OptionSpec | None:
        if self.gateway is None:
            return None
        try:
            return self.gateway.spec(self._wanted("model") or None)
        except KeyError:
            return self.gateway.spec()

    def _apply_spec(self) -> None:
        spec = self.spec
        if spec is None:
            for name in ("model", "duration", "aspect_ratio", "resolution"):
                self.fields[name].choices = []
            return
        self.initial.setdefault("key", self.selected_key.uuid)
        self.fields["model"].choices = [(m.model, m.label) for m in self.gateway.models]
        self.initial["model"] = spec.model
        self.fields["prompt"].required = spec.prompt_required
        self.fields["duration"].choices = [(d, _("%(seconds)d s") % {"seconds": d}) for d in spec.durations]
        self.initial.setdefault("duration", spec.default_duration)
        for name, values, default in (
            ("aspect_ratio", spec.aspect_ratios, spec.default_aspect_ratio),
            ("resolution", spec.resolutions, spec.default_resolution),
        ):
            if values:
                self.fields[name].choices = [(v, v) for v in values]
                if self.initial.get(name) not in values:
                    self.initial[name] = default
            else:
                del self.fields[name]
        if spec.audio:
            self.initial.setdefault("audio", spec.default_audio)
        else:
            del self.fields["audio"]
        if spec.reference_form != ReferenceForm.URL:
            del self.fields["reference_urls"]
        how = {
            ReferenceForm.DATA_URI: _("sent inline"),
            ReferenceForm.FILE: _("uploaded with the request"),
            ReferenceForm.URL: _("shared at a signed link the gateway downloads"),
        }[spec.reference_form]
        n = spec.max_reference_images
        if spec.text_to_video:
            words = ngettext(
                "Up to %(n)d PNG, JPEG or WebP image, %(how)s; optional.",
                "Up to %(n)d PNG, JPEG or WebP images, %(how)s; optional.",
                n,
            )
        else:
            words = ngettext(
                "Up to %(n)d PNG, JPEG or WebP image, %(how)s; this model needs one.",
                "Up to %(n)d PNG, JPEG or WebP images, %(how)s; this model needs one.",
                n,
            )
        self.fields["reference_images"].help_text = words % {"n": n, "how": how}

    def _parent_references(self) -> tuple[list[CheckedImage], list[str]]:
        """A remix reuses its parent's reference images unless new ones are given."""
        images, urls = [], []
        for ref in self.remix_of.reference_images.all():
            if ref.image:
                with ref.image.open("rb") as fh:
                    images.append(CheckedImage(ref.content_type, fh.read(), ref.width, ref.height))
            elif ref.source_url:
                urls.append(ref.source_url)
        return images, urls

    def _reference_data(self, images: list[CheckedImage], urls: list[str]) -> list[ReferenceImageData]:
        """The reference images as the adapters see them. An upload to a gateway that
        fetches by URL will be served at its signed link (``STUDIO_PUBLIC_URL``), so it
        is given that address's form here; the real link is made when it is sent."""
        link = settings.STUDIO_PUBLIC_URL + "/r/upload" if settings.STUDIO_PUBLIC_URL else ""
        return [ReferenceImageData(i.content_type, i.data, link) for i in images] + [
            ReferenceImageData("", b"", url) for url in urls
        ]

    def draft(self) -> GenerationInput | None:
        """The request the form holds as it stands, for its estimate on every render:
        fresh, prefilled (remix), re-rendered after a key or model change, or bound to
        a post that may not validate. Choices the model does not offer fall back to its
        defaults; reference images are the uploads and pasted URLs (a remix without new
        ones: its parent's). None without a key. Never raises."""
        spec = self.spec
        if spec is None:
            return None

        def wanted(name, values, default):
            value = self._wanted(name)
            if name == "duration":
                try:
                    value = int(value)
                except (TypeError, ValueError):
                    return default
            return value if value in values else default

        images, urls = [], []
        if self.is_bound:
            for upload in self.files.getlist("reference_images") if self.files else []:
                upload.seek(0)
                images.append(CheckedImage(upload.content_type or "", upload.read(), 0, 0))
                upload.seek(0)
            urls = [line.strip() for line in str(self.data.get("reference_urls", "")).splitlines() if line.strip()]
        if not images and not urls:
            images, urls = self._inherited_references()
        audio = self._wanted("audio") if self.is_bound else self.initial.get("audio")
        return GenerationInput(
            model=spec.model,
            prompt=str(self._wanted("prompt") or ""),
            duration=wanted("duration", spec.durations, spec.default_duration),
            aspect_ratio=wanted("aspect_ratio", spec.aspect_ratios, spec.default_aspect_ratio)
            if spec.aspect_ratios
            else None,
            resolution=wanted("resolution", spec.resolutions, spec.default_resolution) if spec.resolutions else None,
            audio=bool(audio) if spec.audio else None,
            references=self._reference_data(images, urls)[:50],
        )

    def request_options(self) -> dict:
        """What the valid form asks to generate, as the create actions take it: ``key``,
        ``choices``, ``references`` and ``parent`` (None without one)."""
        return {
            "key": self.cleaned_data["key"],
            "choices": self.cleaned_data["choices"],
            "references": self.cleaned_data["references"],
            "parent": self.cleaned_data.get("parent"),
        }

    def take_count(self) -> int:
        """The number of takes the form asks for as it stands, for the estimate: 1 when it
        is missing or not a whole number from 1 to 4 (its error shows on submit)."""
        try:
            wanted = int(str(self._wanted("takes") or 1).strip())
        except ValueError:
            return 1
        return wanted if 1 <= wanted <= 4 else 1

    def clean_takes(self) -> int:
        return self.cleaned_data.get("takes") or 1

    def _compare_legs(self, cleaned, choices: GenerationInput) -> list:
        """With 2 or 3 keys ticked to compare: each key with the request as its gateway takes
        it (``billing.gateway_fits``); an error on the field, naming the key and the reason,
        when one cannot take it, or for 1 or 4+ keys, or with more than one take. [] without."""
        from videos import billing

        chosen = cleaned.get("key")
        keys = sorted(cleaned.get("compare_keys") or [], key=lambda k: (k != chosen, k.label, k.pk))  # the form's first
        if not keys:
            return []
        if not 2 <= len(keys) <= 3:
            self.add_error("compare_keys", _("Pick 2 or 3 of your keys to compare, not %(n)d.") % {"n": len(keys)})
            return []
        if (cleaned.get("takes") or 1) > 1:
            self.add_error("compare_keys", _("Compare gateways with 1 take each; set Takes to 1."))
            return []
        legs = []
        for fit in billing.gateway_fits(choices, keys):
            if not fit.fits:
                self.add_error(
                    "compare_keys",
                    _("%(key)s cannot take this request: %(why)s")
                    % {"key": fit.key.label, "why": " ".join(fit.problems)},
                )
            legs.append((fit.key, fit.choices))
        return legs

    def clean_reference_images(self):
        files = self.cleaned_data.get("reference_images") or []
        checked, errors = [], []
        for upload in files:
            try:
                checked.append(check_image(upload))
            except forms.ValidationError as exc:
                errors.extend(exc.messages)
        if errors:
            raise forms.ValidationError(errors)
        if checked and self.spec and self.spec.reference_form == ReferenceForm.URL and not settings.STUDIO_PUBLIC_URL:
            raise forms.ValidationError(NoPublicAddress.message)
        return checked

    def clean_prompt(self) -> str:
        prompt = self.cleaned_data.get("prompt") or ""
        # Only zero-width, bidi, control or space characters: nothing to read, so no prompt.
        return prompt if any(unicodedata.category(ch) not in INVISIBLE for ch in prompt) else ""

    def clean_reference_urls(self) -> list[str]:
        urls = [line.strip() for line in self.cleaned_data.get("reference_urls", "").splitlines() if line.strip()]
        for url in urls:
            try:
                parts = urlsplit(url)
                hostname = parts.hostname
            except ValueError:  # an unterminated IPv6 host, a netloc that NFKC normalisation changes
                parts, hostname = None, None
            if (
                parts is None
                or not hostname
                or not HTTP_URL.fullmatch(url)
                or any(unicodedata.category(ch) in INVISIBLE for ch in url)
            ):
                raise forms.ValidationError(_("%(url)s is not an http(s) URL.") % {"url": url[:80]})
            if len(url) > 2000:
                raise forms.ValidationError(_("A reference URL may be at most 2000 characters."))
        return urls

    def clean(self):
        cleaned = super().clean()
        key = cleaned.get("key")
        if key is None or self.spec is None or self.errors:
            return cleaned
        images = cleaned.get("reference_images") or []
        urls = cleaned.get("reference_urls") or []
        if not images and not urls:
            images, urls = self._inherited_references()
        choices = GenerationInput(
            model=self.spec.model,
            prompt=cleaned.get("prompt") or "",
            duration=cleaned["duration"],
            aspect_ratio=cleaned.get("aspect_ratio"),
            resolution=cleaned.get("resolution"),
            audio=cleaned.get("audio") if "audio" in self.fields else None,
            references=self._reference_data(images, urls),
        )
        problems = self.gateway.validate_choices(choices)
        compared = cleaned.get("compare_keys") or []
        if len(compared) >= 2 and key not in compared:
            problems = {}  # sent through the ticked keys only, each checked in _compare_legs
        field_for = {"references": "reference_images"}
        for field, message in problems.items():
            name = field_for.get(field, field)
            self.add_error(name if name in self.fields else None, message)
        cleaned["choices"] = choices
        cleaned["legs"] = self._compare_legs(cleaned, choices)
        cleaned["parent"] = self.remix_of
        cleaned["frame"] = self.from_frame
        cleaned["references"] = [NewReference(i.content_type, i.data, i.width, i.height) for i in images] + [
            NewReference(url=url) for url in urls
        ]
        return cleaned


# --- money: a team's own prices and the reason for declining a spend -------------------------

#: The most a team price may be per second or per image (USD): far above any gateway's
#: price (docs/gateways.md §5.7, §6.7: cents a second), so a typo of a few digits is caught.
PRICE_MAX_USD = Decimal("10")


def price_lines() -> list[tuple[str, str]]:
    """``("<dialect>|<model>", label)`` choices: every model of every registered gateway."""
    return [
        (f"{dialect}|{spec.model}", f"{cls.label}: {spec.label}")
        for dialect, cls in REGISTRY.items()
        for spec in cls.models
    ]


class TeamPriceForm(forms.Form):
    """A team's price for one gateway's model at one resolution: USD per second of video
    and per input image, and the gateway's rounding. ``cleaned_data`` gains ``dialect``
    and ``model``; the resolution must be one the model has ('' for a gateway without)."""

    line = forms.ChoiceField(label=_("Gateway and model"), choices=())
    resolution = forms.CharField(
        label=_("Resolution"),
        required=False,
        max_length=10,
        help_text=_("As the compose form spells it (480p, 720p, …); empty for a gateway without one."),
    )
    usd_per_second = forms.DecimalField(
        label=_("USD per second of video"), min_value=Decimal("0"), max_value=PRICE_MAX_USD, decimal_places=6
    )
    usd_per_image = forms.DecimalField(
        label=_("USD per input image"),
        min_value=Decimal("0"),
        max_value=PRICE_MAX_USD,
        decimal_places=6,
        initial=Decimal("0"),
        required=False,
    )
    rounding = forms.ChoiceField(label=_("Rounding"), choices=Price.Rounding.choices, initial=Price.Rounding.EXACT)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].choices = price_lines()

    def clean(self):
        cleaned = super().clean()
        line = cleaned.get("line")
        if not line:
            return cleaned
        dialect, model = line.split("|", 1)
        spec = next(s for s in REGISTRY[dialect].models if s.model == model)
        resolution = (cleaned.get("resolution") or "").strip()
        if spec.resolutions and resolution not in spec.resolutions:
            self.add_error(
                "resolution",
                _("%(model)s comes in %(choices)s.") % {"model": spec.label, "choices": ", ".join(spec.resolutions)},
            )
        elif not spec.resolutions and resolution:
            self.add_error("resolution", _("%(model)s has no resolution: leave it empty.") % {"model": spec.label})
        cleaned.update(dialect=dialect, model=model, resolution=resolution)
        if cleaned.get("usd_per_image") is None:
            cleaned["usd_per_image"] = Decimal("0")
        return cleaned


class DeclineForm(forms.Form):
    """Why an owner or admin declines a request's spending; its author is told."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        strip=True,
        help_text=_("Told to the requester, e.g. “Too long for a draft: try 6 s at 480p.”"),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class WebhookEndpointForm(forms.Form):
    """Add a webhook endpoint: its URL (checked by ``videos.webhooks.url_problem``, the
    address guard's rules) and the events it hears about."""

    url = forms.CharField(
        label=_("Endpoint URL"),
        max_length=500,
        strip=True,
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/hooks/studio", "autocomplete": "off"}),
        help_text=_("The studio posts each event here, signed (Standard Webhooks)."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=WebhookEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[WebhookEvent.GENERATION_COMPLETED, WebhookEvent.GENERATION_FAILED],
        error_messages={"required": _("Choose at least one event.")},
    )

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        problem = url_problem(url)
        if problem:
            raise ValidationError(problem)
        return url


# --- share links (issue 14) ----------------------------------------------------------------------

#: The furthest a share link's expiry date may be, in days from today (``actions.MAX_SHARE_DAYS``).
SHARE_DAYS = 30


def _share_default_expiry():
    return timezone.localdate() + timedelta(days=7)


class ShareForm(forms.Form):
    """A new share link: the last day it works (required, at most ``SHARE_DAYS`` days ahead),
    an optional password, whether guests may leave notes and download the video."""

    expires_on = forms.DateField(
        label=_("Works until (the end of this day)"),
        widget=forms.DateInput(attrs={"type": "date"}),
        initial=_share_default_expiry,
    )
    password = forms.CharField(
        label=_("Password (optional)"),
        required=False,
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    allow_notes = forms.BooleanField(label=_("Guests may leave notes"), required=False, initial=True)
    allow_download = forms.BooleanField(label=_("Guests may download the video"), required=False)

    def clean_expires_on(self):
        day = self.cleaned_data["expires_on"]
        today = timezone.localdate()
        if day < today:
            raise ValidationError(_("Pick today or a later day."))
        if day > today + timedelta(days=SHARE_DAYS - 1):
            raise ValidationError(_("A share link lasts at most %(days)d days.") % {"days": SHARE_DAYS})
        return day

    def expires_at(self):
        """When the link stops working: the end of ``expires_on`` (local time), aware."""
        next_day = self.cleaned_data["expires_on"] + timedelta(days=1)
        return timezone.make_aware(datetime.combine(next_day, time.min))


class SharePasswordForm(forms.Form):
    password = forms.CharField(label=_("Password"), max_length=128, strip=False, widget=forms.PasswordInput)


class GuestNoteForm(forms.Form):
    """A guest's note: their name, the note, and the time code (seconds) it is pinned to."""

    guest_name = forms.CharField(label=_("Your name"), max_length=200)
    body = forms.CharField(label=_("Note"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    time_s = forms.FloatField(
        label=_("At (seconds)"), required=False, min_value=0, widget=forms.NumberInput(attrs={"step": "0.1"})
    )


# --- seq: frames and sequences (issue 13) ---------------------------------------------------


class FrameForm(forms.Form):
    """The time (seconds) of the frame to take; the button ``last`` takes the last frame."""

    time_s = forms.FloatField(
        label=_("Frame at (s)"),
        required=False,
        min_value=0,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
        error_messages={
            "min_value": _("Pick a time from 0 s, the start of the video."),
            "invalid": _("Type a time in seconds, such as 3.2."),
        },
    )

    def clean(self):
        cleaned = super().clean()
        if not self.errors and cleaned.get("time_s") is None and "last" not in self.data:
            self.add_error("time_s", _("Type a time in seconds, or take the last frame."))
        return cleaned


class SequenceForm(forms.Form):
    """A new sequence's name."""

    name = forms.CharField(label=_("Name"), max_length=120, strip=True)


class AddShotForm(forms.Form):
    """Which of the team's sequences a video goes to (``sequence``: its uuid), or, empty,
    a new sequence named ``name``."""

    sequence = forms.UUIDField(required=False, error_messages={"invalid": _("Pick one of the team's sequences.")})
    name = forms.CharField(label=_("New sequence"), max_length=120, required=False, strip=True)

    def __init__(self, *args, sequences, **kwargs):
        super().__init__(*args, **kwargs)
        self.sequences = sequences

    def clean_sequence(self):
        wanted = self.cleaned_data.get("sequence")
        if wanted is None:
            return None
        found = self.sequences.filter(uuid=wanted).first()
        if found is None:
            raise forms.ValidationError(_("Pick one of the team's sequences."))
        return found

    def clean(self):
        cleaned = super().clean()
        if not self.errors and cleaned.get("sequence") is None and not cleaned.get("name"):
            self.add_error("name", _("Pick a sequence, or name a new one."))
        return cleaned

"""Forms: gateway keys and the compose form whose options follow the chosen key."""

from __future__ import annotations

import io
from dataclasses import dataclass

from django import forms
from django.conf import settings
from PIL import Image, UnidentifiedImageError

from videos.gateways import REGISTRY, dialect_choices, get_gateway_class
from videos.gateways.base import GenerationInput, OptionSpec, ReferenceImageData
from videos.models import GatewayKey

IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


class GatewayKeyForm(forms.ModelForm):
    """Add a key: gateway, label, base URL (prefilled from the gateway's docs) and secret."""

    secret = forms.CharField(
        label="API key",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        max_length=500,
        strip=True,
        help_text="Stored encrypted; after saving only its last four characters are shown.",
    )

    class Meta:
        model = GatewayKey
        fields = ["dialect", "label", "base_url"]
        labels = {"dialect": "Gateway", "base_url": "Base URL"}
        help_texts = {"base_url": "Any host that speaks this gateway's dialect."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dialect"] = forms.ChoiceField(label="Gateway", choices=dialect_choices())
        self.fields["base_url"].assume_scheme = "https"
        if not self.is_bound and not self.initial.get("base_url"):
            first = next(iter(REGISTRY.values()))
            self.initial["base_url"] = first.default_base_url

    def clean_base_url(self) -> str:
        url = self.cleaned_data["base_url"].rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise forms.ValidationError("Use an http:// or https:// address.")
        return url

    def clean_secret(self) -> str:
        secret = self.cleaned_data["secret"]
        if len(secret) < 8 or any(ch.isspace() for ch in secret):
            raise forms.ValidationError("That does not look like an API key (8+ characters, no spaces).")
        return secret

    def save(self, commit: bool = True) -> GatewayKey:
        key = super().save(commit=False)
        key.set_secret(self.cleaned_data["secret"])
        if commit:
            key.save()
        return key


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
            f"{name} is {upload.size / 1e6:.1f} MB; the limit is {settings.STUDIO_MAX_REFERENCE_BYTES / 1e6:.0f} MB."
        )
    data = upload.read()
    try:
        with Image.open(io.BytesIO(data)) as img:
            kind = img.format
            width, height = img.size
            if width * height > settings.STUDIO_MAX_REFERENCE_PIXELS:
                raise forms.ValidationError(f"{name} is {width}×{height} pixels; that is too large.")
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise forms.ValidationError(f"{name} is not a readable image.") from None
    if kind not in IMAGE_TYPES:
        raise forms.ValidationError(f"{name} is a {kind} image; use PNG, JPEG or WebP.")
    return CheckedImage(IMAGE_TYPES[kind], data, width, height)


class ComposeForm(forms.Form):
    """The compose form. Its option fields are those of the chosen key's dialect.

    ``keys`` is the queryset of keys this member may use in this team. After
    ``is_valid()``, ``cleaned_data["choices"]`` is a GenerationInput and
    ``cleaned_data["images"]`` a list of CheckedImage.
    """

    key = forms.ModelChoiceField(
        queryset=GatewayKey.objects.none(), to_field_name="uuid", label="Gateway key", empty_label=None
    )
    prompt = forms.CharField(
        label="Prompt",
        widget=forms.Textarea(
            attrs={"rows": 4, "placeholder": "A paper boat drifting down a rain-soaked street at dusk…"}
        ),
        max_length=20000,
        strip=True,
    )
    reference_images = MultipleImageField(label="Reference images", required=False)
    duration = forms.TypedChoiceField(label="Duration (s)", coerce=int)
    aspect_ratio = forms.ChoiceField(label="Aspect ratio")
    resolution = forms.ChoiceField(label="Resolution")

    def __init__(self, *args, keys, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["key"].queryset = keys
        self.selected_key = self._selected_key(keys)
        self.spec: OptionSpec | None = self.selected_key.gateway.spec() if self.selected_key else None
        self._apply_spec()

    def _selected_key(self, keys) -> GatewayKey | None:
        wanted = self.data.get("key") if self.is_bound else self.initial.get("key")
        if wanted:
            try:
                found = keys.filter(uuid=wanted).first()
            except Exception:  # not a UUID
                found = None
            if found:
                return found
        return keys.first()

    def _apply_spec(self) -> None:
        spec = self.spec
        if spec is None:
            for name in ("duration", "aspect_ratio", "resolution"):
                self.fields[name].choices = []
            return
        self.initial.setdefault("key", self.selected_key.uuid)
        self.fields["duration"].choices = [(d, f"{d} s") for d in spec.durations]
        self.initial.setdefault("duration", spec.default_duration)
        for name, values, default in (
            ("aspect_ratio", spec.aspect_ratios, spec.default_aspect_ratio),
            ("resolution", spec.resolutions, spec.default_resolution),
        ):
            if values:
                self.fields[name].choices = [(v, v) for v in values]
                self.initial.setdefault(name, default)
            else:
                del self.fields[name]
        self.fields["reference_images"].help_text = (
            f"Up to {spec.max_reference_images} PNG, JPEG or WebP image"
            f"{'s' if spec.max_reference_images != 1 else ''}"
            + ("; optional." if spec.text_to_video else "; required by this gateway.")
        )

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
        return checked

    def clean(self):
        cleaned = super().clean()
        key = cleaned.get("key")
        if key is None or self.errors:
            return cleaned
        gateway_cls = get_gateway_class(key.dialect)
        images = cleaned.get("reference_images") or []
        choices = GenerationInput(
            model=self.spec.model,
            prompt=cleaned["prompt"],
            duration=cleaned["duration"],
            aspect_ratio=cleaned.get("aspect_ratio"),
            resolution=cleaned.get("resolution"),
            references=[ReferenceImageData(i.content_type, i.data) for i in images],
        )
        problems = gateway_cls.validate_choices(choices)
        field_for = {"references": "reference_images"}
        for field, message in problems.items():
            name = field_for.get(field, field)
            self.add_error(name if name in self.fields else None, message)
        cleaned["choices"] = choices
        cleaned["images"] = images
        return cleaned

"""Reference images for gateways that fetch them by URL (aijisu, jimmyai, reAPI, xAI).

A member may paste a public http(s) URL, or upload a file; an upload is then
served at a signed, expiring URL under ``STUDIO_PUBLIC_URL`` (Django's signing,
salted for this use), so the gateway can fetch it without a login.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext_lazy

SALT = "videos.reference-url"


class NoPublicAddress(Exception):
    """``STUDIO_PUBLIC_URL`` is not set, so an upload cannot be given to a URL-only gateway."""

    message = gettext_lazy(
        "This gateway fetches reference images from a public URL. Paste an image URL, or ask the "
        "administrator to set STUDIO_PUBLIC_URL so uploads can be shared with the gateway."
    )


def signed_url(pk: int, extension: str) -> str:
    """The absolute, signed URL of the uploaded reference image ``pk`` (a file name
    ending ``extension``, e.g. ``"png"``), valid ``STUDIO_REFERENCE_URL_SECONDS``.

    Raises NoPublicAddress when ``STUDIO_PUBLIC_URL`` is empty.
    """
    if not settings.STUDIO_PUBLIC_URL:
        raise NoPublicAddress(str(NoPublicAddress.message))
    token = signing.dumps(pk, salt=SALT, compress=True)
    return settings.STUDIO_PUBLIC_URL + reverse("reference_public", args=[token, extension])


def unsign(token: str) -> int:
    """The reference id in ``token``. Raises signing.BadSignature (SignatureExpired when old)."""
    return signing.loads(token, salt=SALT, max_age=settings.STUDIO_REFERENCE_URL_SECONDS)

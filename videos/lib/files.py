"""Serving stored files to team members, with HTTP Range support for video seeking.

On local disk and with ``STUDIO_MEDIA_DELIVERY=studio`` the bytes go through the web
process, streamed in 256 KiB chunks (from a bucket, one ranged GET per request). With
``STUDIO_MEDIA_DELIVERY=signed`` and a bucket, the studio checks the member's access and
answers a redirect to a presigned link valid ``STUDIO_MEDIA_URL_SECONDS``.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterator
from typing import BinaryIO
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import Storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 256 * 1024


def open_stream(storage: Storage, name: str, start: int = 0, end: int | None = None) -> BinaryIO:
    """A readable binary stream of ``name`` from byte ``start`` (to ``end``, inclusive,
    when the storage can stop there; callers read only what they need).

    A bucket (``videos.lib.storage.BucketStorage``) streams one ranged GET; other storages
    open the file and seek. Raises FileNotFoundError (or OSError) when it is missing.
    """
    if hasattr(storage, "open_stream"):
        return storage.open_stream(name, start, end)
    fh = storage.open(name, "rb")
    if start:
        fh.seek(start)
    return fh


def _chunks(stream: BinaryIO, length: int) -> Iterator[bytes]:
    try:
        remaining = length
        while remaining > 0:
            data = stream.read(min(CHUNK, remaining))
            if not data:
                break
            remaining -= len(data)
            yield data
    finally:
        stream.close()


def content_disposition(filename: str, *, attachment: bool) -> str:
    """A ``Content-Disposition`` value naming ``filename`` (RFC 6266): ``filename="…"`` for
    plain ASCII; otherwise an ASCII stand-in (accents dropped, other letters as ``_``) and
    ``filename*=UTF-8''…`` with the real name, which browsers prefer."""
    kind = "attachment" if attachment else "inline"
    if re.fullmatch(r"[\x20-\x7e]*", filename) and '"' not in filename and "\\" not in filename:
        return f'{kind}; filename="{filename}"'
    plain = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    plain = re.sub(r"-{2,}", "-", re.sub(r"[^\w.-]+", "_", plain, flags=re.ASCII)).strip("_") or "download"
    return f"{kind}; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _unavailable(exc: Exception) -> HttpResponse:
    log.warning("storage read failed: %s", exc.__class__.__name__)
    response = HttpResponse("The file store did not answer. Try again in a moment.", status=503)
    response["Retry-After"] = "10"
    return response


def _signed_redirect(storage: Storage, name: str, content_type: str, disposition: str) -> HttpResponse:
    """A redirect to the store's presigned link for ``name`` (valid STUDIO_MEDIA_URL_SECONDS)."""
    url = storage.signed_url(
        name, expire=settings.STUDIO_MEDIA_URL_SECONDS, content_type=content_type, disposition=disposition
    )
    response = HttpResponseRedirect(url)
    # The browser may reuse this redirect (and so the bytes it cached from the link)
    # for half the link's life, so it never follows an expired link from its cache.
    response["Cache-Control"] = f"private, max-age={settings.STUDIO_MEDIA_URL_SECONDS // 2}"
    return response


def _byte_range(header: str, size: int) -> tuple[int, int, int] | None:
    """``(start, end, status)`` for a ``Range`` header over ``size`` bytes: the whole file
    with 200 when there is no (single, byte) range, the range with 206, None when it is
    not satisfiable (416)."""
    match = RANGE.match(header.strip())
    if not (match and (match.group(1) or match.group(2))):
        return 0, size - 1, 200
    first, last = match.groups()
    if first:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    else:  # suffix range: the last N bytes
        start, end = max(0, size - int(last)), size - 1
    if start >= size or start > end:
        return None
    return start, end, 206


def serve_file(
    request,
    field_file,
    *,
    content_type: str,
    filename: str,
    attachment: bool = False,
    redirect: bool = True,
    size: int | None = None,
) -> HttpResponse:
    """Answer ``field_file`` (a Django FieldFile), honouring a single ``Range: bytes=a-b``.

    With a bucket and ``STUDIO_MEDIA_DELIVERY=signed`` (and ``redirect``), a 302 to a
    presigned link. Otherwise 206 with ``Content-Range`` for a satisfiable range, 416
    for one past the end, 200 with the whole file; memory stays flat (256 KiB chunks).
    ``size`` (bytes), when the caller knows it, spares asking the store (a HEAD request
    to a bucket) on every range a player asks for.
    Raises Http404 when the file is missing from storage; answers 503 when the store
    does not answer.
    """
    disposition = content_disposition(filename, attachment=attachment)
    storage = field_file.storage
    if redirect and settings.STUDIO_MEDIA_DELIVERY == "signed" and hasattr(storage, "signed_url"):
        return _signed_redirect(storage, field_file.name, content_type, disposition)
    try:
        size = field_file.size if size is None else size
    except (FileNotFoundError, IsADirectoryError):
        raise Http404(_("The file is missing from storage.")) from None
    except Exception as exc:  # the bucket unreachable, a permission error...
        return _unavailable(exc)
    wanted = _byte_range(request.headers.get("Range", ""), size)
    if wanted is None:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    start, end, status = wanted
    try:
        stream = open_stream(storage, field_file.name, start, end if size else None)
    except FileNotFoundError:
        raise Http404(_("The file is missing from storage.")) from None
    except Exception as exc:
        return _unavailable(exc)
    length = end - start + 1 if size else 0
    if status == 200 and not hasattr(storage, "open_stream"):
        response = FileResponse(stream, content_type=content_type, as_attachment=attachment, filename=filename)
        response["Content-Disposition"] = disposition  # with the ASCII stand-in Django leaves out
    else:
        response = StreamingHttpResponse(_chunks(stream, length), status=status, content_type=content_type)
        response["Content-Length"] = str(length)
        response["Content-Disposition"] = disposition
        if status == 206:
            response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=3600"
    if attachment and "Content-Disposition" not in response:
        response["Content-Disposition"] = disposition
    return response

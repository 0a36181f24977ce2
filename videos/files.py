"""Serving stored files to team members, with HTTP Range support for video seeking."""

from __future__ import annotations

import re

from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 256 * 1024


def _chunks(fh, start: int, length: int):
    try:
        fh.seek(start)
        remaining = length
        while remaining > 0:
            data = fh.read(min(CHUNK, remaining))
            if not data:
                break
            remaining -= len(data)
            yield data
    finally:
        fh.close()


def serve_file(request, field_file, *, content_type: str, filename: str, attachment: bool = False) -> HttpResponse:
    """Stream ``field_file`` (a Django FieldFile), honouring a single ``Range: bytes=a-b``.

    Raises Http404 when the file is missing from storage. Answers 206 with ``Content-Range`` for a satisfiable range, 416 for one past the
    end, 200 with the whole file otherwise. Memory stays flat (chunks of 256 KiB).
    """
    try:
        size = field_file.size
    except (FileNotFoundError, OSError):
        raise Http404("The file is missing from storage.") from None
    match = RANGE.match(request.headers.get("Range", "").strip())
    if match and (match.group(1) or match.group(2)):
        first, last = match.groups()
        if first:
            start = int(first)
            end = min(int(last), size - 1) if last else size - 1
        else:  # suffix range: the last N bytes
            start = max(0, size - int(last))
            end = size - 1
        if start >= size or start > end:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        length = end - start + 1
        response = StreamingHttpResponse(
            _chunks(field_file.open("rb"), start, length), status=206, content_type=content_type
        )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(length)
    else:
        response = FileResponse(
            field_file.open("rb"), content_type=content_type, as_attachment=attachment, filename=filename
        )
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=3600"
    if attachment and "Content-Disposition" not in response:
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response

"""A ZIP written as it streams: stored entries (MP4 does not shrink), each file read
a chunk at a time from its storage, so memory stays flat whatever the sizes.

Names are UTF-8 with the ZIP's UTF-8 flag (bit 11) set wherever they are not ASCII
(``zipfile`` does so), so a prompt in Chinese reads the same when unzipped."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime

from django.core.files.storage import Storage
from django.utils import timezone

from videos.lib import files

#: Bytes read from storage at a time while zipping.
ZIP_CHUNK = 1024 * 1024


class _ZipSink:
    """A write-only, non-seekable file for ``zipfile``: holds what was written until ``take()``.

    Without ``seek`` zipfile writes each entry's sizes and CRC in a data descriptor
    after its bytes, so nothing is ever rewritten and the archive streams.
    """

    def __init__(self):
        self._parts: list[bytes] = []
        self._offset = 0

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        self._offset += len(data)
        return len(data)

    def tell(self) -> int:
        return self._offset

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


@dataclass(frozen=True)
class ZipEntry:
    """One file of a streamed ZIP: its name in the archive, its storage and name there,
    its size in bytes and its time (aware datetime). A small file made on the spot
    (a manifest) gives its ``data`` instead, with no storage."""

    name: str
    storage: Storage | None
    path: str
    size: int
    when: datetime
    data: bytes | None = None

    @classmethod
    def text(cls, name: str, text: str, when: datetime) -> ZipEntry:
        """A UTF-8 text file ``name`` holding ``text``."""
        data = text.encode("utf-8")
        return cls(name, None, "", len(data), when, data)


def stream_zip(
    entries: Iterable[ZipEntry], chunk_size: int = ZIP_CHUNK, *, missing: list[ZipEntry] | None = None
) -> Iterator[bytes]:
    """Yield a ZIP (stored, not compressed: MP4 does not shrink) of ``entries`` as it is written.

    Each file is read ``chunk_size`` bytes at a time, so memory stays flat whatever
    the sizes. A file missing from storage is left out (the response has already
    started by then, so it cannot fail) and appended to ``missing`` when given, so
    entries that come later (``entries`` may be a generator) can say so.
    """
    sink = _ZipSink()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for entry in entries:
            try:
                source = (
                    io.BytesIO(entry.data) if entry.data is not None else files.open_stream(entry.storage, entry.path)
                )
            except Exception:  # missing, or the store failing: left out, the rest still comes
                if missing is not None:
                    missing.append(entry)
                continue
            local = timezone.localtime(entry.when)
            info = zipfile.ZipInfo(entry.name, date_time=max(local.timetuple()[:6], (1980, 1, 1, 0, 0, 0)))
            info.compress_type = zipfile.ZIP_STORED
            info.file_size = entry.size
            with closing(source), archive.open(info, "w", force_zip64=entry.size > zipfile.ZIP64_LIMIT // 2) as target:
                while chunk := source.read(chunk_size):
                    target.write(chunk)
                    if data := sink.take():
                        yield data
            if data := sink.take():
                yield data
    if data := sink.take():
        yield data

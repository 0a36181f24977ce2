"""Media storage in an S3-compatible bucket (scale-out; ``S3_BUCKET`` turns it on).

django-storages' ``S3Storage`` with the two reads the studio needs that it lacks:
a streamed read of a byte range (its ``open()`` first copies the whole object to a
temporary file, which for a 500 MB video and a 1 MB seek is the wrong trade), and a
presigned link that tells the browser the file's type and name.
"""

from __future__ import annotations

from typing import BinaryIO

from botocore.exceptions import ClientError
from storages.backends.s3 import S3Storage
from storages.utils import clean_name


class BucketStorage(S3Storage):
    """``S3Storage`` plus ``open_stream`` and ``signed_url`` (see the module docstring)."""

    def _key(self, name: str) -> str:
        return self._normalize_name(clean_name(name))

    def open_stream(self, name: str, start: int = 0, end: int | None = None) -> BinaryIO:
        """A stream of bytes ``start``..``end`` (inclusive; None: to the end) of ``name``,
        read from the bucket as it is consumed (one GET with a ``Range`` header).

        Raises FileNotFoundError when the object does not exist; botocore's errors for
        anything else (the bucket unreachable, access denied).
        """
        params = {"Bucket": self.bucket_name, "Key": self._key(name)}
        if start or end is not None:
            params["Range"] = f"bytes={start}-{'' if end is None else end}"
        try:
            answer = self.connection.meta.client.get_object(**params)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                raise FileNotFoundError(f"File does not exist: {name}") from None
            raise
        return answer["Body"]

    def signed_url(self, name: str, *, expire: int, content_type: str, disposition: str) -> str:
        """A presigned GET link to ``name``, valid ``expire`` seconds, whose answer carries
        ``content_type`` and ``disposition`` (e.g. ``attachment; filename="a.mp4"``)."""
        return self.url(
            name,
            parameters={
                "ResponseContentType": content_type,
                "ResponseContentDisposition": disposition,
                "ResponseCacheControl": f"private, max-age={expire}",
            },
            expire=expire,
        )

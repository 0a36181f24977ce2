"""Media storage in an S3-compatible bucket (scale-out; ``S3_BUCKET`` turns it on).

django-storages' ``S3Storage`` with the two reads the studio needs that it lacks:
a streamed read of a byte range (its ``open()`` first copies the whole object to a
temporary file, which for a 500 MB video and a 1 MB seek is the wrong trade), and a
presigned link that tells the browser the file's type and name.
"""

from __future__ import annotations

from typing import Any, BinaryIO
from urllib.parse import urlsplit

from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

MiB = 1024 * 1024


def bucket_options(
    bucket: str,
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    location: str = "",
    addressing_style: str = "virtual",
    part_bytes: int = 5 * MiB,
    **client: Any,
) -> dict[str, Any]:
    """``STORAGES["default"]["OPTIONS"]`` for ``BucketStorage`` (project/settings.py,
    the tests and the benchmarks build it here).

    Objects are private (no ACL, the bucket's policy applies), never overwritten, and
    uploaded in multipart parts of ``part_bytes`` (at least 5 MiB, S3's minimum), two at
    a time; an upload's memory grows by about five parts (26 MiB at 5 MiB, bench/archive.py). Connections time out after
    5 s, reads after 60 s, with three attempts; ``client`` overrides any of that
    (botocore ``Config`` arguments).
    """
    config = {
        "signature_version": "s3v4",
        "connect_timeout": 5,
        "read_timeout": 60,
        "retries": {"mode": "standard", "max_attempts": 3},
        **client,
    }
    transfer = TransferConfig(multipart_threshold=part_bytes, multipart_chunksize=part_bytes, max_concurrency=2)
    # s3transfer reads up to max_in_memory_upload_chunks parts of a file object ahead (10
    # by default: 80 MiB here); boto3's constructor does not take it, its attribute does.
    transfer.max_in_memory_upload_chunks = 2
    return {
        "bucket_name": bucket,
        "endpoint_url": endpoint_url or None,
        "region_name": region or None,
        "location": location,
        "default_acl": None,
        "file_overwrite": False,
        "querystring_auth": True,
        "client_config": Config(s3={"addressing_style": addressing_style}, **config),
        "transfer_config": transfer,
    }


def bucket_origin(bucket: str, *, endpoint_url: str | None, region: str | None, addressing_style: str) -> str:
    """The origin (``scheme://host[:port]``) of the links ``BucketStorage`` makes for
    ``bucket``, for the Content Security Policy: e.g. ``https://media.s3.eu-west-1.amazonaws.com``
    (AWS, virtual-hosted), ``https://minio.internal:9000`` (path-style).

    botocore resolves the address as it will for the real links, unsigned, so it needs
    no credentials and makes no request.
    """
    import botocore.session
    from botocore import UNSIGNED

    client = botocore.session.get_session().create_client(
        "s3",
        region_name=region or None,
        endpoint_url=endpoint_url or None,
        config=Config(signature_version=UNSIGNED, s3={"addressing_style": addressing_style}),
    )
    link = urlsplit(client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "origin"}))
    return f"{link.scheme}://{link.netloc}"


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

"""The S3 bucket: raw audio under `audio/`, finished transcripts under `transcripts/`."""

from __future__ import annotations

import json
from typing import Any

from grabadora import aws
from grabadora.adapters._errors import translating
from grabadora.errors import NotFound
from grabadora.settings import get_settings


class ObjectStore:
    def __init__(self, bucket: str | None = None) -> None:
        self._bucket = bucket or get_settings().bucket

    def presign_put(self, key: str, content_type: str, size: int, expires_in: int) -> tuple[str, dict[str, str]]:
        """A presigned PUT for exactly `size` bytes of `content_type`, and the headers to send.

        Content-Length is part of the signature, so S3 refuses a body of another size; that is
        how a presigned PUT (unlike a POST policy) is held to the declared, checked size.
        """
        with translating("presign upload"):
            url = aws.client("s3").generate_presigned_url(
                "put_object",
                Params={"Bucket": self._bucket, "Key": key, "ContentType": content_type, "ContentLength": size},
                ExpiresIn=expires_in,
                HttpMethod="PUT",
            )
        return url, {"Content-Type": content_type}

    def presign_get(self, key: str, expires_in: int = 3600) -> str:
        """A presigned GET for one object."""
        return aws.client("s3").generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=expires_in
        )

    def first_under(self, prefix: str) -> tuple[str, int]:
        """The first object's key and size under a prefix; `NotFound` if there is none."""
        with translating("find upload"):
            response = aws.client("s3").list_objects_v2(Bucket=self._bucket, Prefix=prefix, MaxKeys=1)
        contents = response.get("Contents", [])
        if not contents:
            raise NotFound("no object under prefix")
        return contents[0]["Key"], int(contents[0]["Size"])

    def keys_under(self, prefix: str) -> list[str]:
        """Every key under a prefix, in key order."""
        keys: list[str] = []
        with translating("list objects"):
            paginator = aws.client("s3").get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix):
                keys += [o["Key"] for o in page.get("Contents", [])]
        return sorted(keys)

    def size(self, key: str) -> int:
        """The object's size in bytes; `NotFound` if it is missing."""
        with translating("read object size"):
            return int(aws.client("s3").head_object(Bucket=self._bucket, Key=key)["ContentLength"])

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        """`length` bytes of the object from `offset` (fewer at its end)."""
        if length <= 0:
            return b""
        with translating("read object"):
            response = aws.client("s3").get_object(
                Bucket=self._bucket, Key=key, Range=f"bytes={offset}-{offset + length - 1}"
            )
            return response["Body"].read()

    def head(self, key: str) -> tuple[int, str]:
        """(size, content type) of one object; `NotFound` if it is missing."""
        with translating("read object"):
            response = aws.client("s3").head_object(Bucket=self._bucket, Key=key)
        return int(response["ContentLength"]), response.get("ContentType", "")

    def put_bytes(self, key: str, body: bytes, content_type: str) -> None:
        with translating("store object"):
            aws.client("s3").put_object(Bucket=self._bucket, Key=key, Body=body, ContentType=content_type)

    def put_json(self, key: str, document: Any) -> None:
        body = json.dumps(document, ensure_ascii=False).encode("utf-8")
        self.put_bytes(key, body, "application/json; charset=utf-8")

    def get_json(self, key: str) -> Any:
        with translating("read object"):
            body = aws.client("s3").get_object(Bucket=self._bucket, Key=key)["Body"].read()
        return json.loads(body)

    def copy(self, source: str, target: str) -> None:
        """Copy one object within the bucket (server side); `NotFound` if the source is missing."""
        with translating("copy object"):
            aws.client("s3").copy_object(Bucket=self._bucket, Key=target, CopySource={"Bucket": self._bucket, "Key": source})

    def download(self, key: str, path: str) -> None:
        """Copy one object to a local file."""
        with translating("download object"):
            aws.client("s3").download_file(self._bucket, key, path)

    def delete(self, key: str) -> None:
        with translating("delete object"):
            aws.client("s3").delete_object(Bucket=self._bucket, Key=key)

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under a prefix; how many went."""
        deleted = 0
        with translating("delete objects"):
            paginator = aws.client("s3").get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix):
                keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
                if keys:
                    aws.client("s3").delete_objects(Bucket=self._bucket, Delete={"Objects": keys, "Quiet": True})
                    deleted += len(keys)
        return deleted

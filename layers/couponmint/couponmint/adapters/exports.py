"""CSV exports in S3, handed out as presigned URLs."""

import csv
import io
from collections.abc import Iterable
from typing import Any

from couponmint.models.records import CodeRecord

CSV_HEADER = ("code", "max_uses", "max_uses_per_customer", "created")


def batch_export_key(store_hash: str, promotion_id: int, batch_id: str) -> str:
    return f"exports/{store_hash}/{promotion_id}/batches/{batch_id}.csv"


def codes_csv(codes: Iterable[CodeRecord]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for code in codes:
        writer.writerow((code.code, code.max_uses, code.max_uses_per_customer, code.created.isoformat()))
    return buffer.getvalue().encode("utf-8")


class ExportStore:
    """Writes and hands out exports; takes a boto3 S3 client."""

    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket

    def put_csv(self, key: str, body: bytes) -> None:
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType="text/csv")

    def read(self, key: str) -> bytes:
        return bytes(self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read())

    def download_url(self, key: str, expires_seconds: int) -> str:
        return str(
            self._s3.generate_presigned_url(
                "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=expires_seconds
            )
        )

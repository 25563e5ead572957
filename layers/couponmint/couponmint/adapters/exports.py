"""CSV exports in S3, handed out as presigned URLs."""

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from couponmint.models.records import BatchRecord, CodeRecord

CSV_HEADER = ("code", "max_uses", "max_uses_per_customer", "created")


# S3 multipart parts must be at least 5 MiB (but the last): parts of 8 MiB keep memory flat and calls few.
PART_BYTES = 8 * 1024 * 1024
# Batch CSVs read at once while assembling, and how many are read ahead of the one being appended.
READERS = 16
READ_WINDOW = 256


def job_export_key(store_hash: str, promotion_id: int, job_id: str) -> str:
    return f"exports/{store_hash}/{promotion_id}/jobs/{job_id}.csv"


def batch_export_key(batch: BatchRecord) -> str:
    """A codegen request's batch's CSV (handed out), or a job's batch's intermediate one (assembled into the
    job's CSV, then expired by the bucket's lifecycle rule on `intermediate/`)."""
    if batch.job_id is not None:
        return f"intermediate/{batch.store_hash}/{batch.promotion_id}/jobs/{batch.job_id}/{batch.batch_id}.csv"
    return f"exports/{batch.store_hash}/{batch.promotion_id}/batches/{batch.batch_id}.csv"


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

    def exists(self, key: str) -> bool:
        try:
            self._s3.head_object(Bucket=self._bucket, Key=key)
        except self._s3.exceptions.ClientError as error:
            if error.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def read(self, key: str) -> bytes:
        return bytes(self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read())

    def assemble_csv(self, key: str, part_keys: Sequence[str], rebuild: Callable[[str], bytes]) -> None:
        """One CSV from many, streamed into a multipart upload: one header, then every part's rows in order.

        Parts are read READERS at a time (a part is ~10 KB: reading them one after another would spend a
        million codes' assembly waiting on 4,000 round trips). A part that is missing (expired, lost) is made
        again by `rebuild(part_key)`, so S3 only ever holds what DynamoDB can give again. Memory holds one
        8 MiB upload part and a window of read parts, whatever the number of codes.
        """
        upload = self._s3.create_multipart_upload(Bucket=self._bucket, Key=key, ContentType="text/csv")
        parts: list[dict[str, object]] = []
        buffer = bytearray(",".join(CSV_HEADER).encode() + b"\n")

        def flush() -> None:
            number = len(parts) + 1
            answer = self._s3.upload_part(
                Bucket=self._bucket, Key=key, UploadId=upload["UploadId"], PartNumber=number, Body=bytes(buffer)
            )
            parts.append({"PartNumber": number, "ETag": answer["ETag"]})
            buffer.clear()

        def read_or_rebuild(part_key: str) -> bytes:
            try:
                return self.read(part_key)
            except self._s3.exceptions.NoSuchKey:
                return rebuild(part_key)

        try:
            with ThreadPoolExecutor(max_workers=READERS, thread_name_prefix="assemble") as readers:
                for start in range(0, len(part_keys), READ_WINDOW):
                    for rows in readers.map(read_or_rebuild, part_keys[start : start + READ_WINDOW]):
                        buffer += rows[rows.index(b"\n") + 1 :]
                        if len(buffer) >= PART_BYTES:
                            flush()
            flush()
            self._s3.complete_multipart_upload(
                Bucket=self._bucket, Key=key, UploadId=upload["UploadId"], MultipartUpload={"Parts": parts}
            )
        except Exception:
            self._s3.abort_multipart_upload(Bucket=self._bucket, Key=key, UploadId=upload["UploadId"])
            raise

    def download_url(self, key: str, expires_seconds: int) -> str:
        return str(
            self._s3.generate_presigned_url(
                "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=expires_seconds
            )
        )

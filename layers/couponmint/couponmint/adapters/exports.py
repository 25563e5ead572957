"""CSV exports in S3, handed out as presigned URLs."""

import csv
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from couponmint.errors import UploadGone
from couponmint.models.records import BatchRecord, CodeRecord

CSV_HEADER = ("code", "max_uses", "max_uses_per_customer", "created")

# Batch CSVs read at once while assembling a part of a job's CSV.
READERS = 16


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

    def read_all(self, keys: Sequence[str], rebuild: Callable[[str], bytes]) -> list[bytes]:
        """The objects `keys`, in order, read READERS at a time (a batch CSV is ~13 KB: reading them one after
        another would spend a part's time waiting on round trips). One that is missing (expired, lost) is made
        again by `rebuild(key)`, so S3 only ever holds what DynamoDB can give again."""

        def read_or_rebuild(key: str) -> bytes:
            try:
                return self.read(key)
            except self._s3.exceptions.NoSuchKey:
                return rebuild(key)

        with ThreadPoolExecutor(max_workers=READERS, thread_name_prefix="assemble") as readers:
            return list(readers.map(read_or_rebuild, keys))

    def start_upload(self, key: str) -> str:
        """Open a multipart upload of a CSV to `key`; its upload id."""
        answer = self._s3.create_multipart_upload(Bucket=self._bucket, Key=key, ContentType="text/csv")
        return str(answer["UploadId"])

    def upload_part(self, key: str, upload_id: str, number: int, body: bytes) -> str:
        """Upload part `number` (again, if it was: S3 keeps the last); its ETag. UploadGone when the upload was
        completed or aborted meanwhile."""
        try:
            answer = self._s3.upload_part(
                Bucket=self._bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
            )
        except self._s3.exceptions.NoSuchUpload as error:
            raise UploadGone(upload_id) from error
        return str(answer["ETag"])

    def complete_upload(self, key: str, upload_id: str, etags: Mapping[int, str]) -> None:
        """Complete the upload from its parts' ETags, in part order. A completion that happened already (another
        delivery's) is not an error: the upload is gone and its object is there. UploadGone when neither is."""
        parts = [{"PartNumber": number, "ETag": etags[number]} for number in sorted(etags)]
        try:
            self._s3.complete_multipart_upload(
                Bucket=self._bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except self._s3.exceptions.NoSuchUpload as error:
            if not self.exists(key):
                raise UploadGone(upload_id) from error

    def abort_upload(self, key: str, upload_id: str) -> None:
        self._s3.abort_multipart_upload(Bucket=self._bucket, Key=key, UploadId=upload_id)

    def download_url(self, key: str, expires_seconds: int) -> str:
        return str(
            self._s3.generate_presigned_url(
                "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=expires_seconds
            )
        )

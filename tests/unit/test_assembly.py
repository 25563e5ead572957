"""A job's CSV assembled in parallel parts of one multipart upload (service/assembly.py), against in-memory
ports: how the batches split into parts, and what each message decides when delivered once, twice, or late."""

from datetime import UTC, datetime

import pytest

from couponmint.adapters.exports import batch_export_key, codes_csv, job_export_key
from couponmint.logic.assembly import BATCHES_PER_PART, part_batches, part_count
from couponmint.models.jobs import JobRecord, JobStatus
from couponmint.models.messages import AssembleJobMessage
from couponmint.models.records import BatchStatus, CodeRecord
from couponmint.service import assembly
from couponmint.service.jobs import job_batch
from tests.unit.event_fakes import FakeEvents
from tests.unit.fakes import FakeBatches, FakeExports, FakeJobs, FakeQueue, job

HEADER = b"code,max_uses,max_uses_per_customer,created\n"
# Parts of 2 batches, and an S3 minimum lowered to fit (each batch CSV below holds 250 rows of ~20 bytes).
PER_PART = 2
START = AssembleJobMessage(store_hash="s", job_id="j")


def batch_rows(index: int) -> bytes:
    return b"".join(f"C{index:03d}{n:03d},1,1,2026-01-01T00:00:00+00:00\n".encode() for n in range(250))


def assembling_job(batches: int = 5) -> tuple[FakeJobs, FakeExports]:
    """An ASSEMBLING job of `batches` batches, each batch's CSV in the export store."""
    planned = job(JobStatus.ASSEMBLING, quantity=250 * batches, batches_total=batches, batches_done=batches)
    exports = FakeExports(min_part_bytes=PER_PART * len(batch_rows(0)))
    for index in range(batches):
        exports.put_csv(batch_export_key(job_batch(planned, index)), HEADER + batch_rows(index))
    return FakeJobs({"j": planned}), exports


def run(
    jobs: FakeJobs,
    exports: FakeExports,
    message: AssembleJobMessage,
    *,
    queue: FakeQueue | None = None,
    events: FakeEvents | None = None,
    batches: FakeBatches | None = None,
) -> FakeQueue:
    queue = queue if queue is not None else FakeQueue()
    assembly.assemble_job(
        jobs,
        batches or FakeBatches(),
        exports,
        queue,
        message,
        batches_per_part=PER_PART,
        events=events if events is not None else FakeEvents(),
    )
    return queue


def parts_sent(queue: FakeQueue) -> list[AssembleJobMessage]:
    return [m for m in queue.sent if isinstance(m, AssembleJobMessage) and m.part is not None]


def csv_of(exports: FakeExports) -> bytes:
    return exports.objects[job_export_key("s", 1, "j")]


def every_row(batches: int) -> bytes:
    return HEADER + b"".join(batch_rows(index) for index in range(batches))


# ---------------------------------------------------------------- splitting
def test_assembly_parts_take_consecutive_batches_in_order() -> None:
    # A million codes: 4,000 batches in 7 parts, the last one short
    assert part_count(4000, BATCHES_PER_PART) == 7
    assert [len(part_batches(n, 4000, 640)) for n in range(1, 8)] == [640] * 6 + [160]
    assert [i for n in range(1, 8) for i in part_batches(n, 4000, 640)] == list(range(4000))
    # A job of one batch (or none) is one part
    assert (part_count(1, 640), part_batches(1, 1, 640)) == (1, range(0, 1))
    assert part_count(0, 640) == 1 and part_batches(1, 0, 640) == range(0)


def test_assembly_batches_per_part_keeps_every_part_but_the_last_at_s3_minimum() -> None:
    # Given the smallest batch CSV a job makes: 250 codes of 6 characters, one use, a time without microseconds
    created = datetime(2026, 1, 1, tzinfo=UTC)
    codes = [
        CodeRecord.model_validate(
            {
                "id": n + 1,
                "code": f"{n:06d}",
                "promotion_id": 1,
                "store_hash": "s",
                "max_uses": 1,
                "max_uses_per_customer": 1,
                "created": created,
            }
        )
        for n in range(250)
    ]
    smallest = codes_csv(codes)
    rows = len(smallest) - len(HEADER)
    # Then a part of BATCHES_PER_PART such batches reaches S3's minimum of 5 MiB
    assert rows == 250 * 37
    assert BATCHES_PER_PART * rows >= 5 * 1024 * 1024


# ---------------------------------------------------------------- start, parts, completion
def test_assembly_start_opens_one_upload_and_sends_a_message_per_part() -> None:
    # Given a job of 5 batches, 2 a part
    jobs, exports = assembling_job(5)
    # When its assembly starts
    queue = run(jobs, exports, START)
    # Then one upload is open, recorded on the job, and each of the 3 parts is sent with it
    assert exports.started == ["upload-1"]
    recorded = jobs.jobs["j"]
    assert (recorded.assembly_upload_id, recorded.assembly_part_batches, recorded.assembly_parts) == ("upload-1", 2, {})
    assert [(m.part, m.upload_id) for m in parts_sent(queue)] == [(1, "upload-1"), (2, "upload-1"), (3, "upload-1")]


def test_assembly_parts_in_any_order_make_one_csv_with_every_row_once_and_complete_once() -> None:
    # Given a started assembly of 5 batches in 3 parts
    jobs, exports = assembling_job(5)
    parts = parts_sent(run(jobs, exports, START))
    events = FakeEvents()
    # When its parts run, the last one first
    for message in reversed(parts):
        run(jobs, exports, message, events=events)
    # Then the CSV holds the header and every batch's rows once, in the batches' order
    assert csv_of(exports) == every_row(5)
    assert [len(part) for part in exports.uploads.values()] == []  # completed: no upload left open
    # And the job is COMPLETED with its CSV, completed once and published once
    done = jobs.jobs["j"]
    assert (done.status, done.export_key) == (JobStatus.COMPLETED, job_export_key("s", 1, "j"))
    assert exports.completions == 1
    assert [event.scope for event in events.published] == ["store/promotion/codegen/job/completed"]


def test_assembly_part_delivered_twice_uploads_itself_again_and_completes_once() -> None:
    # Given a started assembly of 5 batches in 3 parts
    jobs, exports = assembling_job(5)
    first, second, third = parts_sent(run(jobs, exports, START))
    events = FakeEvents()
    # When part 2 is delivered twice, then the others, then part 3 again after the job completed
    for message in (second, second, first, third, third):
        run(jobs, exports, message, events=events)
    # Then the CSV is whole, the upload completed once, and the late delivery only publishes the same event again
    assert csv_of(exports) == every_row(5)
    assert exports.completions == 1 and jobs.jobs["j"].status is JobStatus.COMPLETED
    published = events.published
    assert len(published) == 2 and published[0].event_id == published[1].event_id


def test_assembly_part_delivered_again_after_the_upload_completed_but_before_the_job_did() -> None:
    # Given an assembly whose last part's delivery completed the upload and stopped before moving the job
    jobs, exports = assembling_job(3)
    first, second = parts_sent(run(jobs, exports, START))
    run(jobs, exports, first)
    real_move = jobs.move
    jobs.move = lambda *args, **fields: False  # type: ignore[method-assign]
    run(jobs, exports, second)
    jobs.move = real_move  # type: ignore[method-assign]
    assert exports.completions == 1 and jobs.jobs["j"].status is JobStatus.ASSEMBLING
    # When that part is delivered again (its upload is gone: completed)
    events = FakeEvents()
    run(jobs, exports, second, events=events)
    # Then the job completes, with the one CSV, published once
    assert jobs.jobs["j"].status is JobStatus.COMPLETED and csv_of(exports) == every_row(3)
    assert exports.completions == 1 and len(events.published) == 1


def test_assembly_start_delivered_twice_keeps_one_upload() -> None:
    # Given a started assembly whose first part is done
    jobs, exports = assembling_job(5)
    first, *_ = parts_sent(run(jobs, exports, START))
    run(jobs, exports, first)
    # When the start is delivered again (a redelivery, or the sweeper's)
    again = run(jobs, exports, START)
    # Then no new upload opens, and only the parts not yet uploaded are sent again
    assert exports.started == ["upload-1"]
    assert [(m.part, m.upload_id) for m in parts_sent(again)] == [(2, "upload-1"), (3, "upload-1")]
    # And running them completes the one CSV
    for message in parts_sent(again):
        run(jobs, exports, message)
    assert csv_of(exports) == every_row(5) and exports.completions == 1


def test_assembly_starts_racing_use_the_upload_recorded_first_and_abort_their_own() -> None:
    # Given two deliveries of the start that both read the job before either recorded an upload
    jobs, exports = assembling_job(5)
    other = exports.start_upload(job_export_key("s", 1, "j"))
    real_record = jobs.record_upload

    def recorded_by_the_other_first(job: JobRecord, upload_id: str, part_batches: int) -> bool:
        real_record(job, other, part_batches)
        return real_record(job, upload_id, part_batches)

    jobs.record_upload = recorded_by_the_other_first  # type: ignore[method-assign]
    # When the second records its own upload
    queue = run(jobs, exports, START)
    # Then its own upload is aborted and the parts are sent with the one recorded
    assert exports.aborted == ["upload-2"]
    assert {m.upload_id for m in parts_sent(queue)} == {other} and len(parts_sent(queue)) == 3


def test_assembly_start_completes_a_job_whose_parts_are_all_uploaded() -> None:
    # Given an assembly whose last part was recorded, and whose delivery then died before completing the upload
    jobs, exports = assembling_job(3)
    first, second = parts_sent(run(jobs, exports, START))
    run(jobs, exports, first)
    real_complete = exports.complete_upload

    def crash(*args: object) -> None:
        raise OSError("the function timed out")

    exports.complete_upload = crash  # type: ignore[method-assign]
    with pytest.raises(OSError):
        run(jobs, exports, second)
    exports.complete_upload = real_complete  # type: ignore[method-assign]
    assert set(jobs.jobs["j"].assembly_parts or {}) == {1, 2} and jobs.jobs["j"].status is JobStatus.ASSEMBLING
    # When the sweeper sends the start again
    queue = run(jobs, exports, START)
    # Then the job completes from the recorded parts, sending none
    assert parts_sent(queue) == [] and jobs.jobs["j"].status is JobStatus.COMPLETED
    assert csv_of(exports) == every_row(3) and exports.completions == 1


def test_assembly_part_of_an_earlier_upload_is_ignored() -> None:
    # Given a started assembly
    jobs, exports = assembling_job(3)
    run(jobs, exports, START)
    # When a part message of another upload arrives (sent before the CSV was assembled again)
    run(jobs, exports, AssembleJobMessage(store_hash="s", job_id="j", part=1, upload_id="upload-0"))
    # Then nothing is uploaded or recorded
    assert exports.uploads == {"upload-1": {}} and jobs.jobs["j"].assembly_parts == {}


def test_assembly_part_rebuilds_a_missing_batch_csv_from_its_record() -> None:
    # Given a started assembly whose batch 1's CSV is gone, its batch recorded DONE with its codes
    jobs, exports = assembling_job(3)
    planned = job_batch(jobs.jobs["j"], 1)
    del exports.objects[batch_export_key(planned)]
    codes = [f"R{n:05d}" for n in range(250)]
    done = planned.model_copy(update={"status": BatchStatus.DONE, "codes": codes, "first_code_id": 1})
    batches = FakeBatches({planned.batch_id: done})
    exports.min_part_bytes = 0
    # When its parts run
    for message in parts_sent(run(jobs, exports, START)):
        run(jobs, exports, message, batches=batches)
    # Then batch 1's rows are rebuilt from the record, in their place
    rebuilt = codes_csv(done.code_records())[len(HEADER) :]
    assert csv_of(exports) == HEADER + batch_rows(0) + rebuilt + batch_rows(2)
    assert jobs.jobs["j"].status is JobStatus.COMPLETED


def test_assembly_of_a_lost_csv_starts_afresh() -> None:
    # Given a job completed from an upload whose CSV is then lost
    jobs, exports = assembling_job(3)
    for message in parts_sent(run(jobs, exports, START)):
        run(jobs, exports, message)
    del exports.objects[job_export_key("s", 1, "j")]
    queue = FakeQueue()
    # When a client reads it
    shown = assembly.with_export(jobs, exports, queue, jobs.jobs["j"])
    # Then it is ASSEMBLING again, its former upload forgotten, and its assembly started again
    assert shown.status is JobStatus.ASSEMBLING and shown.export_key is None
    assert (shown.assembly_upload_id, shown.assembly_parts) == (None, None)
    assert queue.sent == [START]
    # And the assembly opens a new upload and makes the CSV again
    for message in parts_sent(run(jobs, exports, START)):
        run(jobs, exports, message)
    assert exports.started == ["upload-1", "upload-2"] and csv_of(exports) == every_row(3)
    assert jobs.jobs["j"].status is JobStatus.COMPLETED

"""A job's CSV is assembled in parts of a multipart upload, each part its run of consecutive batches."""

# S3 takes parts of at least 5 MiB (5,242,880 bytes), but the last. A batch CSV's row is at least 37 bytes (a code
# of 6 characters or more, 3 commas, max uses and max uses per customer of a digit or more, an ISO time of 25 or
# more, "2026-12-03T10:00:00+00:00", and the newline), so a full batch of 250 codes holds at least 9,250 bytes of
# rows (about 13 KB with the usual 16-character codes and microseconds), and 640 batches at least 5.92 MB: every
# part but the last is large enough. A million codes (4,000 batches) make 7 parts.
BATCHES_PER_PART = 640


def part_count(batches: int, batches_per_part: int) -> int:
    """How many parts a job of `batches` batches is assembled from (at least one)."""
    return max(1, -(-batches // batches_per_part))


def part_batches(number: int, batches: int, batches_per_part: int) -> range:
    """The indexes of the batches part `number` (from 1) holds, in the job's order."""
    return range((number - 1) * batches_per_part, min(number * batches_per_part, batches))

"""The one place that reads the environment.

Each function reads what it needs through `get_settings()`; the local stack and the tests set the same
variables that template.yaml sets in Lambda. AWS endpoints are not configured here: boto3 itself honours
`AWS_ENDPOINT_URL_<SERVICE>` (DYNAMODB, SQS, S3, EVENTBRIDGE, SCHEDULER), which is how the local stack points
the unchanged code at DynamoDB Local and moto.
"""

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from couponmint.logic.assembly import BATCHES_PER_PART
from couponmint.models.jobs import JOB_WINDOW


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COUPONMINT_", extra="ignore")

    table_name: str = Field(min_length=3)
    # The interactive lane's queue (codegen requests) and the job lane's (bulk jobs' batches, start, assembly).
    queue_url: str = Field(min_length=1)
    job_queue_url: str = Field(min_length=1)
    export_bucket: str = Field(min_length=3)
    # Powertools idempotency records of POST requests that carry an Idempotency-Key.
    idempotency_table: str = Field(min_length=3)
    # How long a codegen request waits for its batch before answering 202 (EXT "slow batches").
    api_wait_seconds: float = Field(default=10.0, gt=0, le=28)
    # Largest request body accepted, in bytes.
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    # The generation queue's maxReceiveCount (template.yaml passes the same parameter to both).
    max_receive_count: int = Field(default=5, ge=1)
    # Batches of one job in flight at once (JobFunction: template.yaml sets it to JobConcurrency, so that one job
    # can fill the job lane); recorded on the job when it starts running.
    job_window: int = Field(default=JOB_WINDOW, ge=1, le=1000)
    # Batches a part of a job's CSV holds (JobFunction); every part but the last must reach S3's 5 MiB, which
    # the default guarantees (logic/assembly.py). Tests lower it to assemble small jobs from several parts.
    assembly_batches_per_part: int = Field(default=BATCHES_PER_PART, ge=1)
    # Lifetime of presigned export URLs, in seconds.
    presign_seconds: int = Field(default=3600, gt=0, le=7 * 24 * 3600)
    # Stores' schedules (ApiFunction only): the EventBridge Scheduler group, its target (SchedulerFunction), the
    # role Scheduler assumes, and where undeliverable ticks go.
    schedule_group: str | None = None
    schedule_target_arn: str | None = None
    schedule_role_arn: str | None = None
    schedule_dead_letter_arn: str | None = None
    # Domain events: the deployment's EventBridge bus (every function that publishes), and the queue the
    # delivery function takes them and its deliveries from.
    event_bus_name: str | None = None
    delivery_queue_url: str | None = None
    # The local stack's allowance (never set when deployed): hooks may also call http://127.0.0.1:<port>.
    hook_allow_local_http: bool = False
    # Seconds before a failed delivery is tried again, instead of logic/backoff.py's schedule (set by the local
    # stack's --delivery-retry-after, so that retries can be watched).
    delivery_retry_seconds: int | None = Field(default=None, ge=0, le=43200)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment, read once; fails fast when a required variable is missing."""
    return Settings()  # type: ignore[call-arg]

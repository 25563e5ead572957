"""Local AWS services as subprocesses: Amazon's DynamoDB Local, and moto's server for SQS, S3, EventBridge and
EventBridge Scheduler.

Each service runs on a free port, answers before its start function returns, and is stopped with its
children when the caller stops it or this process exits. `LocalAws.environment()` gives the variables that
point boto3 (and so the unchanged adapters) at them.

This module is also the one place in `couponmint_dev.local` that builds boto3 clients (`LocalAws.client`): the
local stack creates infrastructure with them; the application's own data access stays in `adapters/`.
"""

import json
import logging
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from couponmint_dev.local.processes import LOCALHOST, LocalService, ReadinessProbe, ServiceFailed, free_port
from couponmint_dev.settings import get_local_settings

logger = logging.getLogger(__name__)

DYNAMODB_LOCAL_PACKAGE = "amplify-dynamodb-simulator"
DYNAMODB_LOCAL_VERSION = "2.9.30"
REGION = "us-east-1"
# moto's fixed account; queue ARNs are built from it.
ACCOUNT_ID = "123456789012"
# Any credentials do: DynamoDB Local and moto accept every signature (they do not verify them).
DUMMY_ACCESS_KEY = "local"
DUMMY_SECRET_KEY = "local"  # noqa: S105 - not a secret, the local services ignore it

# A real ListTables call: DynamoDB Local reads the region from the credential scope.
_DYNAMODB_READY = ReadinessProbe(
    "POST",
    "/",
    {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "DynamoDB_20120810.ListTables",
        "Authorization": (
            f"AWS4-HMAC-SHA256 Credential={DUMMY_ACCESS_KEY}/20250101/{REGION}/dynamodb/aws4_request, "
            "SignedHeaders=host, Signature=0"
        ),
    },
    json.dumps({}).encode(),
)
# A real ListQueues call (moto's SQS query protocol).
_MOTO_READY = ReadinessProbe("GET", "/?Action=ListQueues", {"Host": f"sqs.{REGION}.amazonaws.com"})


# ---------------------------------------------------------------------------------------- DynamoDB Local
def dynamodb_local_dir(cache_home: Path | None = None) -> Path:
    """The folder holding DynamoDBLocal.jar and DynamoDBLocal_lib/, fetched with `npm pack` on first use.

    The jar ships inside the npm package amplify-dynamodb-simulator; only its `emulator/` folder is kept,
    in `$XDG_CACHE_HOME/couponmint/dynamodb-local-<version>` (default ~/.cache/...). No npm install runs.
    """
    cache_home = cache_home or get_local_settings().cache_home
    target = cache_home / "couponmint" / f"dynamodb-local-{DYNAMODB_LOCAL_VERSION}"
    if (target / "DynamoDBLocal.jar").is_file():
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise ServiceFailed("npm is needed once to fetch DynamoDB Local (npm pack amplify-dynamodb-simulator)")
    target.parent.mkdir(parents=True, exist_ok=True)
    logger.info("fetching DynamoDB Local %s into %s", DYNAMODB_LOCAL_VERSION, target)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".fetch-") as work:
        packed = subprocess.run(
            [npm, "pack", "--silent", f"{DYNAMODB_LOCAL_PACKAGE}@{DYNAMODB_LOCAL_VERSION}"],
            cwd=work,
            capture_output=True,
            text=True,
            check=False,
        )
        if packed.returncode != 0:
            raise ServiceFailed(f"npm pack failed:\n{packed.stdout}{packed.stderr}")
        tarball = Path(work) / packed.stdout.strip().splitlines()[-1]
        with tarfile.open(tarball) as archive:
            members = [m for m in archive.getmembers() if m.name.startswith("package/emulator/")]
            archive.extractall(work, members=members, filter="data")
        # Rename into place in one step, so an interrupted fetch never leaves a half-filled cache.
        try:
            (Path(work) / "package" / "emulator").rename(target)
        except OSError:
            if not (target / "DynamoDBLocal.jar").is_file():
                raise  # not a concurrent fetch that finished first
    return target


def launch_dynamodb_local(*, data_dir: Path | None = None, port: int | None = None) -> LocalService:
    """Start DynamoDB Local without waiting for it; in memory unless `data_dir` is given.

    DynamoDB Local has no option to choose its listen address: it listens on all interfaces, on `port`.
    `-sharedDb` makes every region and access key see the same tables.
    """
    java = shutil.which("java")
    if java is None:
        raise ServiceFailed("java (17+) is needed to run DynamoDB Local")
    emulator = dynamodb_local_dir()
    port = port or free_port()
    storage: list[str] = ["-inMemory"]
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        storage = ["-dbPath", str(data_dir.resolve())]
    command = [
        java,
        # Measured (80 batches of 250 codes, 10 at once): same speed, 330 MB instead of 480 MB with the
        # default G1 and an uncapped heap (the data lives in SQLite, outside the heap).
        "-XX:+UseSerialGC",
        "-Xmx1g",
        f"-Djava.library.path={emulator / 'DynamoDBLocal_lib'}",
        "-jar",
        str(emulator / "DynamoDBLocal.jar"),
        "-port",
        str(port),
        "-sharedDb",
        "-disableTelemetry",
        *storage,
    ]
    return LocalService("dynamodb-local", command, port, cwd=emulator)


def launch_moto_server(*, port: int | None = None) -> LocalService:
    """Start moto's server (used for SQS and S3) on 127.0.0.1 without waiting for it (without its request log:
    see moto_server.py)."""
    port = port or free_port()
    command = [sys.executable, "-m", "couponmint_dev.local.moto_server", "-H", LOCALHOST, "-p", str(port)]
    return LocalService("moto-server", command, port)


def start_dynamodb_local(*, data_dir: Path | None = None, timeout: float = 60.0) -> LocalService:
    """DynamoDB Local, answering ListTables (see `launch_dynamodb_local`)."""
    return _start_with_retry(lambda: launch_dynamodb_local(data_dir=data_dir), _DYNAMODB_READY, timeout)


def start_moto_server(*, timeout: float = 60.0) -> LocalService:
    """moto's server, answering ListQueues."""
    return _start_with_retry(launch_moto_server, _MOTO_READY, timeout)


def _start_with_retry(launch: Any, probe: ReadinessProbe, timeout: float, attempts: int = 3) -> LocalService:
    """Launch and wait; a service that exits at once (its free port was taken meanwhile) gets a new port."""
    for attempt in range(1, attempts + 1):
        service: LocalService = launch()
        try:
            service.wait_until_ready(probe, timeout)
            return service
        except ServiceFailed:
            service.stop()
            if attempt == attempts:
                raise
            logger.warning("local service %s failed to start, retrying:\n%s", service.name, service.output())
    raise AssertionError("unreachable")


# ---------------------------------------------------------------------------------------- together
def aws_environment(dynamodb_endpoint: str, sqs_endpoint: str, s3_endpoint: str) -> dict[str, str]:
    """The variables that point boto3 at the local services (botocore reads AWS_ENDPOINT_URL_<SERVICE>).

    S3 needs nothing more for presigned URLs: with an IP address as endpoint, botocore addresses buckets
    path-style (http://127.0.0.1:PORT/bucket/key), which is what moto's server serves.
    """
    return {
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint,
        "AWS_ENDPOINT_URL_SQS": sqs_endpoint,
        "AWS_ENDPOINT_URL_S3": s3_endpoint,
        # moto's server holds these beside SQS: EventBridge delivers to its queues through rules; its Scheduler
        # keeps schedules, which the local stack fires (moto never does).
        "AWS_ENDPOINT_URL_EVENTBRIDGE": sqs_endpoint,
        "AWS_ENDPOINT_URL_SCHEDULER": sqs_endpoint,
        "AWS_DEFAULT_REGION": REGION,
        # Lambda sets AWS_REGION; Powertools and some SDK paths read it rather than the default.
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": DUMMY_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET_KEY,
        # Never wait on an instance metadata service for credentials or region.
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@dataclass
class LocalAws:
    """DynamoDB Local plus moto's server (SQS, S3), running."""

    dynamodb: LocalService
    moto: LocalService
    region: str = REGION

    def environment(self) -> dict[str, str]:
        return aws_environment(self.dynamodb.endpoint, self.moto.endpoint, self.moto.endpoint)

    def client(self, service: str) -> Any:
        """A boto3 client for `service` ("dynamodb", "sqs", "s3") bound to its local endpoint."""
        endpoint = self.dynamodb.endpoint if service == "dynamodb" else self.moto.endpoint
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=endpoint,
            region_name=self.region,
            aws_access_key_id=DUMMY_ACCESS_KEY,
            aws_secret_access_key=DUMMY_SECRET_KEY,
            config=Config(retries={"mode": "standard"}, signature_version="s3v4" if service == "s3" else None),
        )

    def stop(self) -> None:
        for service in (self.moto, self.dynamodb):
            service.stop()


def start_local_aws(*, dynamodb_data_dir: Path | None = None, timeout: float = 60.0) -> LocalAws:
    """Start DynamoDB Local (in memory unless `dynamodb_data_dir`) and moto's server, side by side.

    Both processes start before either is waited on, so the JVM and moto's imports overlap.
    """
    dynamodb = launch_dynamodb_local(data_dir=dynamodb_data_dir)
    moto = launch_moto_server()
    try:
        dynamodb = _ready_or_restarted(
            dynamodb, lambda: launch_dynamodb_local(data_dir=dynamodb_data_dir), _DYNAMODB_READY, timeout
        )
        moto = _ready_or_restarted(moto, launch_moto_server, _MOTO_READY, timeout)
    except ServiceFailed:
        dynamodb.stop()
        moto.stop()
        raise
    return LocalAws(dynamodb=dynamodb, moto=moto)


def _ready_or_restarted(service: LocalService, launch: Any, probe: ReadinessProbe, timeout: float) -> LocalService:
    try:
        service.wait_until_ready(probe, timeout)
        return service
    except ServiceFailed:
        service.stop()
        logger.warning("local service %s failed to start, retrying:\n%s", service.name, service.output())
        return _start_with_retry(launch, probe, timeout, attempts=2)

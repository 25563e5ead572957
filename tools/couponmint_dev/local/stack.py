"""`couponmint local run`: the whole service on 127.0.0.1, without an AWS account or Docker.

Start order (stop runs it backwards): local AWS services → template.yaml's resources → the functions'
environment exported into this process (`couponmint.config.export_environment`, the one place), the IAM check
(`--iam`, iam/) installed and cached clients reset → demo seed → SQS poller for GeneratorFunction → the
template's schedules → the stores' schedules (moto's Scheduler, fired by store_schedules.py) → HTTP API for
ApiFunction. The API answers `GET /health` with 200 only once all of that is up.

With `--data-dir` (default `.local/`) DynamoDB Local keeps its data there across restarts; SQS and S3
(moto) are in memory and start empty each time. That loses nothing: DynamoDB decides, and queued work and
exports are derived from it. At start the stack resumes every unfinished job and codegen batch at once (a
resuming sweep), a missing batch CSV is rebuilt while a job assembles, and a job or batch whose CSV is gone
gets it made again when it is read. `--in-memory` keeps nothing.

With `--partition-model[=SCALE]` (or COUPONMINT_PARTITION_MODEL) the functions reach DynamoDB Local through
the partition model (partition_model.py, docs/partition-model.md), which throttles writes as DynamoDB's
partitions would; off by default, and then not in the path at all.

Every AWS call a function makes is held against its role in template.yaml (`--iam enforce`, the default:
a call the role does not allow fails with AccessDenied, as on AWS, and is logged; `warn` only logs it;
`--iam-report FILE` also appends each violation to FILE as a JSON line).
"""

import argparse
import errno
import gc
import json
import logging
import shlex
import signal
import sys
import threading
import urllib.request
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from couponmint.adapters.aws import reset_clients
from couponmint_dev.local import lanes
from couponmint_dev.local.http_api import ENV_PATH, LocalApiServer
from couponmint_dev.local.iam import IamMode, install
from couponmint_dev.local.lambdas import load_handler
from couponmint_dev.local.partition_model import ModelLimits, PartitionModelProxy, limits_from, start_partition_model
from couponmint_dev.local.poller import start_pollers
from couponmint_dev.local.provisioning import create_resources
from couponmint_dev.local.resources import LocalResources
from couponmint_dev.local.schedules import start_schedules
from couponmint_dev.local.seed import DemoSeed, seed_demo
from couponmint_dev.local.services import start_local_aws
from couponmint_dev.local.store_schedules import start_store_schedules
from couponmint_dev.settings import CliSettings, export_environment, get_local_settings

logger = logging.getLogger("couponmint_dev.local")

RESOURCE_PREFIX = "couponmint"
DEFAULT_DATA_DIR = Path(".local")


@dataclass
class RunningStack:
    """Everything `start_stack` started, stopped in reverse order by `stop()`."""

    url: str
    resources: LocalResources
    seed: DemoSeed
    partition_model: PartitionModelProxy | None = None
    _stoppers: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def stop(self) -> None:
        _stop_all(self._stoppers)


def _stop_all(stoppers: list[Callable[[], None]]) -> None:
    """Call each stopper, newest first, even when one fails: a leftover process is worse than a log line."""
    while stoppers:
        stop = stoppers.pop()
        try:
            stop()
        except Exception:
            logger.exception("error while stopping the local stack")


def start_stack(
    *,
    port: int,
    data_dir: Path | None,
    retry_visibility_seconds: int | None = None,
    partition_model: ModelLimits | None = None,
    iam: IamMode = IamMode.ENFORCE,
    iam_report: Path | None = None,
) -> RunningStack:
    """Start the local stack (see the module docstring); `data_dir=None` keeps everything in memory."""
    stoppers: list[Callable[[], None]] = []
    try:
        aws = start_local_aws(dynamodb_data_dir=data_dir / "dynamodb" if data_dir else None)
        stoppers.append(aws.stop)
        environment = aws.environment()
        model = None
        if partition_model is not None:
            model = start_partition_model(aws.dynamodb.endpoint, partition_model)
            stoppers.append(model.stop)
            environment["AWS_ENDPOINT_URL_DYNAMODB"] = model.url
        resources = create_resources(aws, RESOURCE_PREFIX)
        export_environment({**environment, **resources.process_environment()})
        checker = install(iam, iam_report).use(resources)
        lanes.install(lanes.Lanes.from_template(resources.template))
        if iam is not IamMode.OFF:
            checker.roles()  # the template's roles expanded now: a policy the check cannot read fails the start
        reset_clients()
        seed = seed_demo(resources.tables["CouponTable"])

        # One poller per lane, as the template declares each: codegen requests and bulk jobs.
        for poller in start_pollers(resources, retry_visibility_seconds=retry_visibility_seconds):
            stoppers.append(poller.stop)
        schedules = start_schedules(resources.template)
        stoppers.append(schedules.stop)
        stoppers.append(start_store_schedules(aws, resources).stop)
        resume_unfinished_work()

        ready = threading.Event()
        server = LocalApiServer(
            load_handler(None, "ApiFunction"),
            ready.is_set,
            port=port,
            environment={**environment, **resources.process_environment()},
        )
        server.start()
        stoppers.append(server.stop)
        # What starting made (AWS service models, handler copies, schemas) lives as long as the stack: keep it
        # out of the collector's full passes, which otherwise stop every thread for ~100 ms now and then
        # (one process holds all the functions here; a Lambda environment holds one, and a smaller heap).
        gc.freeze()
        ready.set()
    except BaseException:
        _stop_all(stoppers)
        raise
    return RunningStack(server.url, resources, seed, model, stoppers)


def resume_unfinished_work() -> None:
    """Send again, at once, whatever work DynamoDB says is unfinished: queued messages (moto's SQS) and exports
    (moto's S3) do not survive a restart, so a job interrupted by one would otherwise wait for the sweeper's
    5 minutes. The same sweep the schedule runs, told that nothing is in flight."""
    sweeper = load_handler(None, "SchedulerFunction")
    counts = sweeper({"action": "sweep", "resume": True}, sweeper.context())
    if any(counts.values()):
        logger.info("resumed unfinished work: %s", counts)


def _print_welcome(stack: RunningStack) -> None:
    seed = stack.seed
    codegen = f"{stack.url}/stores/{seed.store_hash}/v3/promotions/{seed.bulk_promotion_id}/codegen"
    # Tokens the user chose (environment) are not echoed: they are theirs already and stay out of any log.
    settings = get_local_settings()
    token = "$COUPONMINT_DEMO_TOKEN" if settings.demo_token else seed.token
    readonly = "$COUPONMINT_DEMO_READONLY_TOKEN" if settings.demo_readonly_token else seed.readonly_token
    lines = [
        f"demo store:           {seed.store_hash}",
        f"token (modify):       {token}",
        f"token (read-only):    {readonly}",
        "try:",
        f"  T={token}",
        f'  curl -X POST -H "X-Auth-Token: $T" -H "Content-Type: application/json" -d \'{{"batch_size":5}}\' {codegen}',
        f"couponmint local stack ready on {stack.url}",
    ]
    if stack.partition_model is not None:
        limits = stack.partition_model.limits
        lines.insert(
            -1,
            f"partition model:      {limits.scale:g} x AWS ({limits.key_rate:g} WCU/s a key, "
            f"{limits.table_rate:g} WRU/s the table); stats: {stack.partition_model.url}/_model/stats",
        )
    print("\n".join(lines), flush=True)


def run(
    port: int,
    data_dir: Path | None,
    retry_visibility_seconds: int | None,
    iam: IamMode,
    iam_report: Path | None,
    partition_model: ModelLimits | None = None,
) -> None:
    """Start the stack, print how to use it, and serve until SIGINT or SIGTERM."""
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    # Installed before starting, so a signal during start-up still stops what started.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, request_stop)
    stack = start_stack(
        port=port,
        data_dir=data_dir,
        retry_visibility_seconds=retry_visibility_seconds,
        partition_model=partition_model,
        iam=iam,
        iam_report=iam_report,
    )
    try:
        _print_welcome(stack)
        stopping.wait()
        logger.info("stopping the local stack")
    finally:
        stack.stop()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="couponmint local", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="start the local stack and serve until Ctrl-C")
    run_parser.add_argument("--port", type=int, default=None, help="API port (default: COUPONMINT_PORT or 3000)")
    run_parser.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="where DynamoDB Local keeps its data (default: .local/)"
    )
    run_parser.add_argument("--in-memory", action="store_true", help="keep nothing on disk")
    run_parser.add_argument(
        "--retry-after",
        type=int,
        default=None,
        metavar="SECONDS",
        help="redeliver failed batches after SECONDS instead of the queue's VisibilityTimeout "
        "(default: COUPONMINT_LOCAL_RETRY_VISIBILITY_SECONDS, else the template's)",
    )
    run_parser.add_argument(
        "--delivery-retry-after",
        type=int,
        default=None,
        metavar="SECONDS",
        help="try a failed webhook delivery again after SECONDS instead of the backoff schedule (10 s, 30 s, 1 min, "
        "... for ~29 h); sets COUPONMINT_DELIVERY_RETRY_SECONDS for the functions",
    )
    run_parser.add_argument(
        "--iam",
        type=IamMode,
        choices=list(IamMode),
        default=IamMode.ENFORCE,
        help="hold each function's AWS calls against its role in template.yaml: enforce (refuse what it does "
        "not allow, as AWS does), warn (log only) or off (default: enforce)",
    )
    run_parser.add_argument(
        "--iam-report", type=Path, default=None, metavar="FILE", help="also append each IAM violation to FILE"
    )
    run_parser.add_argument(
        "--partition-model",
        nargs="?",
        const="on",
        default=None,
        metavar="SCALE",
        help="put the partition model in front of DynamoDB Local: writes throttled per partition key at SCALE "
        "times AWS's limits (default 0.1); default: COUPONMINT_PARTITION_MODEL, else off",
    )
    run_parser.add_argument(
        "--warm-throughput",
        type=float,
        default=None,
        metavar="WRU",
        help="the table's write units a second for the partition model, in AWS's units (default: "
        "COUPONMINT_PARTITION_MODEL_TABLE_WRU, else a new on-demand table's 4,000)",
    )
    env_parser = commands.add_parser(
        "env", help="print the export lines that point the CLI and boto3 at a running local stack"
    )
    env_parser.add_argument("--url", default=None, help="the stack's API (default: COUPONMINT_URL, else port 3000)")
    return parser


def print_environment(url: str) -> None:
    """`couponmint local env`: `export` lines for the running stack, for `eval "$(couponmint local env)"`."""
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}{ENV_PATH}", timeout=5) as answer:  # noqa: S310 - loopback
            variables = json.loads(answer.read())
    except OSError as error:
        raise SystemExit(f"couponmint: no local stack answers on {url} ({error}); start one with `make run`") from None
    variables["COUPONMINT_URL"] = url
    for name, value in sorted(variables.items()):
        print(f"export {name}={shlex.quote(value)}")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else list(argv))
    if args.command == "env":
        print_environment(args.url or CliSettings().url)
        return 0
    log_format = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=logging.INFO, format=log_format)
    # The stack's own lines (requests, IAM violations) get a handler of their own: loading a handler makes
    # Powertools filter the root logger's handlers by name, and "couponmint" is in "couponmint_dev".
    own_lines = logging.StreamHandler()
    own_lines.setFormatter(logging.Formatter(log_format))
    logging.getLogger("couponmint_dev").addHandler(own_lines)
    logging.getLogger("couponmint_dev").propagate = False
    # botocore logs where it found credentials and endpoints at INFO: noise here.
    logging.getLogger("botocore").setLevel(logging.WARNING)
    # Every answer that records no metric (an error, a read) makes Powertools warn: noise in a terminal.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    settings = get_local_settings()
    if args.delivery_retry_after is not None:
        export_environment({"COUPONMINT_DELIVERY_RETRY_SECONDS": str(args.delivery_retry_after)})
    port = args.port if args.port is not None else settings.port
    retry_after = args.retry_after if args.retry_after is not None else settings.local_retry_visibility_seconds
    model = limits_from(
        args.partition_model if args.partition_model is not None else settings.partition_model,
        args.warm_throughput or settings.partition_model_table_wru,
    )
    try:
        run(
            port=port,
            data_dir=None if args.in_memory else args.data_dir,
            retry_visibility_seconds=retry_after,
            partition_model=model,
            iam=args.iam,
            iam_report=args.iam_report,
        )
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        raise SystemExit(f"couponmint: port {port} is in use; choose another with --port or COUPONMINT_PORT") from None
    return 0

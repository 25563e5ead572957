"""`couponmint local run`: the whole service on 127.0.0.1, without an AWS account or Docker.

Start order (stop runs it backwards): local AWS services → template.yaml's resources → the functions'
environment exported into this process (`couponmint.config.export_environment`, the one place), the IAM check
(`--iam`, iam/) installed and cached clients reset → demo seed → SQS poller for GeneratorFunction → schedules →
HTTP API for ApiFunction. The API answers `GET /health` with 200 only once all of that is up.

With `--data-dir` (default `.local/`) DynamoDB Local keeps its data there across restarts; SQS and S3
(moto) are in memory and start empty each time. `--in-memory` keeps nothing.

Every AWS call a function makes is held against its role in template.yaml (`--iam enforce`, the default:
a call the role does not allow fails with AccessDenied, as on AWS, and is logged; `warn` only logs it;
`--iam-report FILE` also appends each violation to FILE as a JSON line).
"""

import argparse
import errno
import gc
import logging
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from couponmint.adapters.aws import reset_clients
from couponmint_dev.local.http_api import LocalApiServer
from couponmint_dev.local.iam import IamMode, install
from couponmint_dev.local.lambdas import load_handler
from couponmint_dev.local.poller import SqsPoller
from couponmint_dev.local.resources import LocalResources, create_resources
from couponmint_dev.local.schedules import start_schedules
from couponmint_dev.local.seed import DemoSeed, seed_demo
from couponmint_dev.local.services import start_local_aws
from couponmint_dev.settings import export_environment, get_local_settings

logger = logging.getLogger("couponmint_dev.local")

RESOURCE_PREFIX = "couponmint"
DEFAULT_DATA_DIR = Path(".local")


@dataclass
class RunningStack:
    """Everything `start_stack` started, stopped in reverse order by `stop()`."""

    url: str
    resources: LocalResources
    seed: DemoSeed
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
    iam: IamMode = IamMode.ENFORCE,
    iam_report: Path | None = None,
) -> RunningStack:
    """Start the local stack (see the module docstring); `data_dir=None` keeps everything in memory."""
    stoppers: list[Callable[[], None]] = []
    try:
        aws = start_local_aws(dynamodb_data_dir=data_dir / "dynamodb" if data_dir else None)
        stoppers.append(aws.stop)
        resources = create_resources(aws, RESOURCE_PREFIX)
        export_environment({**aws.environment(), **resources.process_environment()})
        checker = install(iam, iam_report).use(resources)
        if iam is not IamMode.OFF:
            checker.roles()  # the template's roles expanded now: a policy the check cannot read fails the start
        reset_clients()
        seed = seed_demo(resources.tables["CouponTable"])

        poller = SqsPoller.from_template(
            None,
            load_handler(None, "GeneratorFunction"),
            resources,
            retry_visibility_seconds=retry_visibility_seconds,
        )
        poller.start()
        stoppers.append(poller.stop)
        schedules = start_schedules(resources.template)
        stoppers.append(schedules.stop)

        ready = threading.Event()
        server = LocalApiServer(load_handler(None, "ApiFunction"), ready.is_set, port=port)
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
    return RunningStack(server.url, resources, seed, stoppers)


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
    print("\n".join(lines), flush=True)


def run(
    port: int, data_dir: Path | None, retry_visibility_seconds: int | None, iam: IamMode, iam_report: Path | None
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else list(argv))
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
    port = args.port if args.port is not None else settings.port
    retry_after = args.retry_after if args.retry_after is not None else settings.local_retry_visibility_seconds
    try:
        run(
            port=port,
            data_dir=None if args.in_memory else args.data_dir,
            retry_visibility_seconds=retry_after,
            iam=args.iam,
            iam_report=args.iam_report,
        )
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        raise SystemExit(f"couponmint: port {port} is in use; choose another with --port or COUPONMINT_PORT") from None
    return 0

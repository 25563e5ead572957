"""`python -m couponmint_dev.local.partition_model --upstream URL`: the proxy alone, in the foreground."""

import argparse
import contextlib
import logging
import threading
from collections.abc import Sequence

from couponmint_dev.local.partition_model.limits import (
    AWS_ON_DEMAND_START_WRU,
    DEFAULT_BURST_SECONDS,
    DEFAULT_SCALE,
    ModelLimits,
)
from couponmint_dev.local.partition_model.proxy import start_partition_model


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m couponmint_dev.local.partition_model",
        description="A partition model in front of a DynamoDB endpoint (docs/partition-model.md).",
    )
    parser.add_argument("--upstream", required=True, help="DynamoDB endpoint to put the model in front of")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--scale", type=float, default=DEFAULT_SCALE)
    parser.add_argument("--table-wru", type=float, default=AWS_ON_DEMAND_START_WRU, help="AWS-scale table WRU/s")
    parser.add_argument("--burst-seconds", type=float, default=DEFAULT_BURST_SECONDS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    limits = ModelLimits(scale=args.scale, table_wru=args.table_wru, burst_seconds=args.burst_seconds)
    proxy = start_partition_model(args.upstream, limits, port=args.port)
    print(f"partition model on {proxy.url} (stats: {proxy.url}/_model/stats)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()
    proxy.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""What bench/aws_model.py takes from AWS rather than from the local stack: list prices, documented limits, and
the latencies it assumes. Every figure names where it comes from; `assumed` marks what no AWS document states.

Prices are us-east-1 list prices (on-demand DynamoDB, Lambda arm64, SQS standard, S3 Standard, API Gateway REST),
first tier, before any free tier.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Fact:
    value: float
    unit: str
    source: str
    assumed: bool = False

    def mark(self) -> str:
        return "assumed" if self.assumed else "documented"


# ---------------------------------------------------------------------------------------- prices (USD)
PRICES = {
    "dynamodb_wru": Fact(
        0.625 / 1e6,
        "per write request unit",
        "DynamoDB on-demand, us-east-1, after the November 2024 price cut: $0.625 per million WRU "
        "(airbyte.com/data-engineering-resources/dynamodb-pricing; jusdb.com on the 50 % cut of 1 Nov 2024)",
    ),
    "dynamodb_rru": Fact(0.125 / 1e6, "per read request unit", "the same: $0.125 per million RRU"),
    "lambda_gb_second": Fact(
        0.0000133334,
        "per GB-second, arm64",
        "Lambda arm64, first 7.5 billion GB-s a month (cloudchipr.com/blog/aws-lambda-pricing, us-east-1)",
    ),
    "lambda_request": Fact(0.20 / 1e6, "per invocation", "Lambda, $0.20 per million requests (same source)"),
    "sqs_request": Fact(
        0.40 / 1e6,
        "per request (each 64 KB)",
        "SQS standard, first 100 billion requests a month (cloudburn.io/blog/amazon-sqs-pricing, 2026)",
    ),
    "s3_put": Fact(0.005 / 1000, "per PUT, COPY, POST or LIST", "S3 Standard, us-east-1 (c3x.dev, S3 request fees)"),
    "s3_get": Fact(0.0004 / 1000, "per GET", "S3 Standard, us-east-1 (same source)"),
    "api_request": Fact(
        3.50 / 1e6,
        "per REST API call",
        "API Gateway REST, first 333 million a month (AWS whitepaper 'Best Practices for Designing Amazon API "
        "Gateway Private APIs and Private Integration', cost optimization, table 4)",
    ),
    "xray_trace": Fact(5.00 / 1e6, "per trace recorded", "X-Ray, $5.00 per million traces recorded", assumed=True),
}

# ---------------------------------------------------------------------------------------- limits
LIMITS = {
    "partition_wcu": Fact(
        1000,
        "write units a second per partition (table or index)",
        "AWS, 'Understanding DynamoDB warm throughput in different scenarios' (developerguide): each partition "
        "serves up to 1,000 write units and 3,000 read units a second",
    ),
    "on_demand_start_wru": Fact(
        4000,
        "write units a second, a new on-demand table or index",
        "AWS, 'Pre-warming a table for on-demand capacity mode' and dynobase.dev/dynamodb-warm-throughput: 4,000 "
        "writes and 12,000 reads a second for a new on-demand table; the same for a new GSI",
    ),
    "table_quota_wru": Fact(
        40000,
        "write units a second per table (default account quota, adjustable)",
        "DynamoDB service quotas: 40,000 read and 40,000 write units per table by default",
        assumed=True,
    ),
    "esm_start_concurrency": Fact(
        5,
        "concurrent batches when messages arrive",
        "AWS Lambda, 'Configuring scaling behavior for SQS event source mappings': five batches at a time to "
        "start, up to 300 more instances a minute",
    ),
    "esm_scale_per_second": Fact(300 / 60, "more concurrent batches each second", "the same page: 300 a minute"),
    "full_vcpu_mb": Fact(
        1769, "MB of memory for one full vCPU", "AWS Lambda documentation (memory and computing power)"
    ),
}

# ---------------------------------------------------------------------------------------- latencies (seconds)
# AWS documents DynamoDB as "single-digit millisecond" and nothing finer; the rest are typical in-region figures.
LATENCIES = {
    "dynamodb_item": Fact(
        0.006,
        "a single-item call (GetItem, PutItem, UpdateItem, DeleteItem), a BatchGetItem or a Query",
        "DynamoDB's 'single-digit millisecond latency' (on-demand capacity mode page) plus the client's round trip",
        assumed=True,
    ),
    "dynamodb_transaction": Fact(
        0.015, "a TransactWriteItems of a few items", "about two item writes one after another, and more", True
    ),
    "dynamodb_batch": Fact(
        0.012,
        "a BatchExecuteStatement or BatchWriteItem of 25 items",
        "25 writes run in parallel on the service side",
        assumed=True,
    ),
    "sqs_send": Fact(0.010, "a SendMessage or SendMessageBatch", "typical in-region SQS latency", assumed=True),
    "s3_put": Fact(0.030, "a PutObject of a few KB", "typical S3 first-byte latency for small objects", True),
    "s3_get": Fact(0.020, "a GetObject of a few KB", "typical S3 first-byte latency for small objects", True),
    "s3_upload_mb_per_second": Fact(
        100, "MB a second into one multipart upload from one function", "typical Lambda to S3 throughput", True
    ),
    "esm_delivery": Fact(
        0.050,
        "from a message sent to the handler running (the event source's long poll and Lambda's invoke)",
        "not documented by AWS",
        assumed=True,
    ),
    "api_request": Fact(0.050, "an API call through API Gateway and ApiFunction", "typical", assumed=True),
}


def latency_of(call: str) -> float:
    """The assumed latency of one AWS call (`service.Operation`)."""
    service, _, operation = call.partition(".")
    if service == "dynamodb":
        if operation.startswith("Transact"):
            return LATENCIES["dynamodb_transaction"].value
        if operation in ("BatchExecuteStatement", "BatchWriteItem"):
            return LATENCIES["dynamodb_batch"].value
        return LATENCIES["dynamodb_item"].value
    if service == "sqs":
        return LATENCIES["sqs_send"].value
    if service == "s3":
        return LATENCIES["s3_get" if operation == "GetObject" else "s3_put"].value
    return LATENCIES["dynamodb_item"].value

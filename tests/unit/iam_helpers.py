"""Local resources for the IAM check's unit tests: named as the local stack names them, without any service."""

from typing import Any

from couponmint_dev.local.resources import (
    BUCKET_TYPE,
    QUEUE_TYPE,
    TABLE_TYPE,
    LocalQueue,
    LocalResources,
    physical_name,
)
from couponmint_dev.local.services import ACCOUNT_ID, REGION
from couponmint_dev.local.template import resources_of_type

PREFIX = "unit"


def named_resources(template: dict[str, Any]) -> LocalResources:
    """What `create_resources(aws, PREFIX, template)` would give, without creating anything."""

    def names(resource_type: str) -> list[str]:
        return list(resources_of_type(template, resource_type))

    return LocalResources(
        prefix=PREFIX,
        region=REGION,
        tables={logical_id: physical_name(PREFIX, logical_id) for logical_id in names(TABLE_TYPE)},
        queues={
            logical_id: LocalQueue(
                name=physical_name(PREFIX, logical_id),
                url=f"http://127.0.0.1:5000/{ACCOUNT_ID}/{physical_name(PREFIX, logical_id)}",
                arn=f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{physical_name(PREFIX, logical_id)}",
            )
            for logical_id in names(QUEUE_TYPE)
        },
        buckets={logical_id: physical_name(PREFIX, logical_id).lower() for logical_id in names(BUCKET_TYPE)},
        template=template,
    )

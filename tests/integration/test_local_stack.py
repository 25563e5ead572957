"""The local stack: services, template-derived resources, the HTTP bridge, the poller."""

from couponmint.config import get_settings
from couponmint.local.resources import LocalResources


def test_resources_environment_points_settings_at_local_resources(resources: LocalResources) -> None:
    # Given the template's resources created locally
    # When the functions read their settings
    settings = get_settings()
    # Then they name the local table, queue and bucket
    assert settings.table_name == resources.tables["CouponTable"]
    assert settings.queue_url == resources.queues["GenerateQueue"].url
    assert settings.export_bucket == resources.buckets["ExportBucket"]

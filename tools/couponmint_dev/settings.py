"""The one place the developer tools read the environment: the local stack's and the CLI's settings.

The Lambda functions' settings are `couponmint.config.Settings`; these are never read in Lambda.
"""

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from couponmint.config import get_settings


class LocalSettings(BaseSettings):
    """What the local stack (`couponmint local run`, the test fixtures) reads; never used in Lambda."""

    model_config = SettingsConfigDict(env_prefix="COUPONMINT_", extra="ignore")

    # Port of the local HTTP API (`--port` overrides it).
    port: int = Field(default=3000, ge=1, le=65535)
    # Fixed demo tokens, so scripts and e2e tests know them in advance; random when unset.
    demo_token: str | None = Field(default=None, min_length=16)
    demo_readonly_token: str | None = Field(default=None, min_length=16)
    # Seconds before a message the generator failed becomes visible again, instead of the queue's
    # VisibilityTimeout (360 s in template.yaml); unset keeps the template's value.
    local_retry_visibility_seconds: int | None = Field(default=None, ge=0, le=43200)
    # The partition model in front of DynamoDB Local (docs/partition-model.md; `--partition-model` overrides it):
    # unset or "off" leaves it out, "on" runs it at 1/10 of AWS's limits, a number at that scale.
    partition_model: str | None = None
    # The table's write throughput for the model, in AWS's units a second (a warm throughput; `--warm-throughput`
    # overrides it); unset: a new on-demand table's 4,000.
    partition_model_table_wru: float | None = Field(default=None, gt=0)
    # Where downloaded tools (DynamoDB Local) are kept, per the XDG base directory convention.
    cache_home: Path = Field(
        default_factory=lambda: Path.home() / ".cache", validation_alias=AliasChoices("XDG_CACHE_HOME")
    )


def get_local_settings() -> LocalSettings:
    """Local stack settings, read fresh each time (the stack reads them once at start)."""
    return LocalSettings()


def export_environment(variables: Mapping[str, str]) -> None:
    """Write `variables` into this process's environment and forget cached settings.

    The single place the local stack hands the template's function environment (and the local AWS
    endpoints) to the in-process handlers, which read them back through `get_settings()` and boto3.
    """
    os.environ.update(variables)
    get_settings.cache_clear()


class CliSettings(BaseSettings):
    """What the command-line tool reads: the table is optional here (it can come from a flag)."""

    model_config = SettingsConfigDict(env_prefix="COUPONMINT_", extra="ignore")

    table_name: str | None = None
    # For the commands that call the API (`couponmint jobs ...`): where it is, and as whom.
    url: str = "http://127.0.0.1:3000"
    token: str | None = None
    store: str = "demo"

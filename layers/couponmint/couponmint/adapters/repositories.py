"""All repositories over one table, wired together (the batch repository assembles transactions from the
fragments of the others)."""

from dataclasses import dataclass
from typing import Any

from couponmint.adapters.batches import BatchRepository
from couponmint.adapters.codes import CodeRepository
from couponmint.adapters.dynamo import Table
from couponmint.adapters.hooks import HookRepository
from couponmint.adapters.jobs import JobRepository
from couponmint.adapters.limits import LimitRepository
from couponmint.adapters.promotions import PromotionRepository
from couponmint.adapters.redemptions import RedemptionRepository
from couponmint.adapters.schedules import ScheduleRepository
from couponmint.adapters.tokens import TokenRepository


@dataclass(frozen=True)
class Repositories:
    tokens: TokenRepository
    promotions: PromotionRepository
    codes: CodeRepository
    batches: BatchRepository
    jobs: JobRepository
    limits: LimitRepository
    redemptions: RedemptionRepository
    schedules: ScheduleRepository
    hooks: HookRepository

    @classmethod
    def over(cls, resource: Any, writer: Any = None) -> "Repositories":
        """The repositories of the table behind a boto3 `Table` resource (and, optionally, its claim writer)."""
        table = Table(resource, writer)
        promotions = PromotionRepository(table)
        codes = CodeRepository(table, promotions)
        jobs = JobRepository(table)
        return cls(
            tokens=TokenRepository(table),
            promotions=promotions,
            codes=codes,
            batches=BatchRepository(table, codes, promotions, jobs),
            jobs=jobs,
            limits=LimitRepository(table),
            redemptions=RedemptionRepository(table),
            schedules=ScheduleRepository(table),
            hooks=HookRepository(table),
        )

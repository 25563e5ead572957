"""The codegen contract: BigCommerce's `POST /promotions/{promotion_id}/codegen` request and answer."""

from datetime import datetime
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, model_validator

from couponmint.logic.codes import MAX_CODE_LENGTH

MAX_BATCH_SIZE = 250
MAX_USES_LIMIT = 100_000

AffixText = Annotated[StrictStr, Field(min_length=1, max_length=20, pattern=r"^[A-Z0-9_-]+$")]
UsesLimit = Annotated[StrictInt, Field(ge=0, le=MAX_USES_LIMIT)]


class CodeFormat(BaseModel):
    """How a code looks: `prefix` `delimiter` random-part `delimiter` `suffix`."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    prefix: AffixText | None = None
    suffix: AffixText | None = None
    delimiter: Annotated[StrictStr, Field(pattern=r"^[_-]$")] | None = None
    exclude_characters: list[Annotated[StrictStr, Field(pattern=r"^[A-Z0-9]$")]] = Field(default_factory=list)
    code_length: Annotated[StrictInt, Field(ge=6, le=16)] = 16

    @model_validator(mode="after")
    def _total_length_fits(self) -> Self:
        if self.total_length > MAX_CODE_LENGTH:
            raise ValueError(
                f"code is {self.total_length} characters long with its prefix, suffix and delimiters;"
                f" at most {MAX_CODE_LENGTH} are allowed"
            )
        return self

    @property
    def head(self) -> str:
        """Everything before the random part."""
        return f"{self.prefix}{self.delimiter or ''}" if self.prefix else ""

    @property
    def tail(self) -> str:
        """Everything after the random part."""
        return f"{self.delimiter or ''}{self.suffix}" if self.suffix else ""

    @property
    def total_length(self) -> int:
        return len(self.head) + self.code_length + len(self.tail)


class GenerationRequest(CodeFormat):
    """What every request that generates codes says: the format and each code's usage limits."""

    max_uses: UsesLimit = 1
    max_uses_per_customer: UsesLimit = 1

    @property
    def code_format(self) -> CodeFormat:
        return CodeFormat.model_validate(self.model_dump(include=set(CodeFormat.model_fields)))


class CodegenRequest(GenerationRequest):
    """The body of `POST .../codegen`. Unknown fields are ignored, as BigCommerce does."""

    batch_size: Annotated[StrictInt, Field(ge=1, le=MAX_BATCH_SIZE)]


class GeneratedCode(BaseModel):
    code: str


class CodegenData(BaseModel):
    created: Annotated[str, Field(examples=["2019-01-20T22:00:00+00:00"])]
    max_uses: int
    max_uses_per_customer: int
    batch_size: int
    codes: list[GeneratedCode]


class CodegenResponse(BaseModel):
    data: CodegenData
    meta: dict[str, object] = Field(default_factory=dict)


def iso_timestamp(moment: datetime) -> str:
    """ISO 8601 with a `+00:00` offset and whole seconds, as BigCommerce writes `created`."""
    return moment.replace(microsecond=0).isoformat()


class BatchView(BaseModel):
    """`GET .../codegen/batches/{batch_id}`: the batch's status and, once DONE, the 201's data."""

    id: str
    status: str
    created: str
    max_uses: int
    max_uses_per_customer: int
    batch_size: int
    codes: list[GeneratedCode] = Field(default_factory=list)
    download_url: str | None = None
    error: str | None = None


class BatchResponse(BaseModel):
    data: BatchView
    meta: dict[str, object] = Field(default_factory=dict)

"""The codegen contract: BigCommerce's `POST /promotions/{promotion_id}/codegen` request and answer."""

from datetime import datetime
from functools import cached_property
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, model_validator

from couponmint.logic.code_layout import CodeLayout, code_layout, validate_pattern

MAX_BATCH_SIZE = 250
MAX_USES_LIMIT = 100_000

AffixText = Annotated[StrictStr, Field(min_length=1, max_length=20, pattern=r"^[A-Z0-9_-]+$")]
UsesLimit = Annotated[StrictInt, Field(ge=0, le=MAX_USES_LIMIT)]


class CodeFormat(BaseModel):
    """How a code looks: BigCommerce's `prefix` `delimiter` random-part `delimiter` `suffix`, or couponmint's
    `pattern`; the charset, exclusions and check character apply to either (logic/code_layout.py)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    prefix: AffixText | None = None
    suffix: AffixText | None = None
    delimiter: Annotated[StrictStr, Field(pattern=r"^[_-]$")] | None = None
    exclude_characters: list[Annotated[StrictStr, Field(pattern=r"^[A-Z0-9]$")]] = Field(default_factory=list)
    # Unset means BigCommerce's 16; it cannot be set beside a pattern.
    code_length: Annotated[StrictInt, Field(ge=6, le=16, json_schema_extra={"default": 16})] | None = None
    # couponmint's own (EXT): see docs/formats.md.
    charset: Literal["alphanumeric", "unambiguous", "numeric", "alphabetic"] | None = None
    pattern: Annotated[StrictStr, AfterValidator(validate_pattern)] | None = None
    check_character: StrictBool = False

    @model_validator(mode="after")
    def _layout_fits(self) -> Self:
        self.layout  # noqa: B018 - building it checks every combination (its errors name their field)
        return self

    @cached_property
    def layout(self) -> CodeLayout:
        """The format as the kernel, the capacity guard and validation read it."""
        return code_layout(
            pattern=self.pattern,
            prefix=self.prefix,
            suffix=self.suffix,
            delimiter=self.delimiter,
            code_length=self.code_length,
            charset=self.charset,
            exclude_characters=self.exclude_characters,
            check_character=self.check_character,
        )

    @property
    def total_length(self) -> int:
        return self.layout.length


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

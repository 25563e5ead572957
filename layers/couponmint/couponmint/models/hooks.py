"""Webhooks (EXT): BigCommerce's `/v3/hooks` shape, for couponmint's events."""

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, field_validator

from couponmint.logic.destinations import MAX_URL_LENGTH
from couponmint.logic.hook_scopes import SCOPES, scope_problem
from couponmint.logic.signatures import SIGNATURE_HEADER

MAX_HEADERS = 20
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$")
# Headers couponmint sets itself on every callback.
RESERVED_HEADERS = frozenset(name.lower() for name in (SIGNATURE_HEADER, "Content-Type", "Content-Length", "Host"))

Destination = Annotated[
    StrictStr, Field(min_length=1, max_length=MAX_URL_LENGTH, examples=["https://example.com/hooks"])
]
Scope = Annotated[StrictStr, Field(min_length=1, max_length=128, examples=[*SCOPES, "store/promotion/*"])]
Headers = dict[StrictStr, StrictStr]


def _scope(value: str | None) -> str | None:
    if value is not None and (problem := scope_problem(value)):
        raise ValueError(problem)
    return value


def _headers(value: dict[str, str] | None) -> dict[str, str] | None:
    if value is None:
        return None
    if len(value) > MAX_HEADERS:
        raise ValueError(f"at most {MAX_HEADERS} headers")
    for name, text in value.items():
        if not _HEADER_NAME.match(name) or name.lower() in RESERVED_HEADERS:
            raise ValueError(f"{name!r} is not a header name a hook may set")
        if len(text) > 1024 or any(c in text for c in "\r\n\0"):
            raise ValueError(f"the value of {name} must be one line of at most 1024 characters")
    return value


class HookRequest(BaseModel):
    """`POST /hooks`."""

    model_config = ConfigDict(extra="ignore")

    scope: Scope
    destination: Destination
    is_active: StrictBool = True
    headers: Headers | None = None

    _valid_scope = field_validator("scope")(_scope)
    _valid_headers = field_validator("headers")(_headers)


class HookPatch(BaseModel):
    """`PUT /hooks/{id}`: the fields given replace the hook's."""

    model_config = ConfigDict(extra="ignore")

    scope: Scope | None = None
    destination: Destination | None = None
    is_active: StrictBool | None = None
    headers: Headers | None = None

    _valid_scope = field_validator("scope")(_scope)
    _valid_headers = field_validator("headers")(_headers)

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class HookRecord(BaseModel):
    store_hash: str
    hook_id: int
    client_id: str
    scope: str
    destination: str
    is_active: bool
    headers: dict[str, str] = Field(default_factory=dict)
    # The signing key; shown to the hook's owner once, at creation.
    secret: str
    created_at: int
    updated_at: int


class HookView(BaseModel):
    id: int
    client_id: str
    store_hash: str
    scope: str
    destination: str
    is_active: bool
    headers: dict[str, str]
    created_at: int
    updated_at: int

    @classmethod
    def of(cls, hook: HookRecord) -> "HookView":
        return cls(id=hook.hook_id, **hook.model_dump(exclude={"hook_id", "secret"}))


class CreatedHookView(HookView):
    secret: str = Field(description="The key of the X-Couponmint-Signature HMAC; shown only here, once")


class HookResponse(BaseModel):
    data: HookView
    meta: dict[str, Any] = Field(default_factory=dict)


class CreatedHookResponse(BaseModel):
    data: CreatedHookView
    meta: dict[str, Any] = Field(default_factory=dict)


class HookCollection(BaseModel):
    data: list[HookView]
    meta: dict[str, Any]

"""Pagination arithmetic: opaque cursors and the `meta` blocks of BigCommerce's collection answers.

A cursor names a code's integer id, which never changes and orders codes by creation, so a cursor stays valid
while codes are added or deleted around it.
"""

import base64
import binascii
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from couponmint.errors import InvalidRequest

DEFAULT_LIMIT = 50
MAX_LIMIT = 250


def encode_cursor(code_id: int) -> str:
    raw = json.dumps({"id": str(code_id)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, parameter: str) -> int:
    """The id inside a cursor; a cursor couponmint did not make is a 422 naming the parameter."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)["id"]
        code_id = int(value)
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise InvalidRequest(f"{parameter}: not a valid cursor") from None
    if code_id < 0:
        raise InvalidRequest(f"{parameter}: not a valid cursor")
    return code_id


@dataclass(frozen=True)
class PageRequest:
    """What a list request asks for, checked: at most one of `before`, `after` and `page`."""

    limit: int = DEFAULT_LIMIT
    before: int | None = None
    after: int | None = None
    page: int | None = None

    @classmethod
    def parse(cls, limit: int | None, before: str | None, after: str | None, page: int | None) -> "PageRequest":
        problems = []
        if before is not None and after is not None:
            problems.append("before, after: use one cursor at a time")
        if page is not None and (before is not None or after is not None):
            problems.append("page: cannot be used with the before or after cursors")
        if problems:
            raise InvalidRequest(*problems)
        return cls(
            limit=DEFAULT_LIMIT if limit is None else limit,
            before=decode_cursor(before, "before") if before is not None else None,
            after=decode_cursor(after, "after") if after is not None else None,
            page=page,
        )

    @property
    def uses_cursor(self) -> bool:
        return self.before is not None or self.after is not None

    @property
    def offset(self) -> int:
        return ((self.page or 1) - 1) * self.limit


@dataclass(frozen=True)
class Page:
    """One page of ids, newest first, and whether the collection goes on either side of it."""

    ids: list[int]
    has_previous: bool
    has_next: bool


def cursor_meta(page: Page, limit: int) -> dict[str, Any]:
    meta: dict[str, Any] = {"count": len(page.ids), "per_page": limit, "links": {}}
    if page.ids:
        start, end = encode_cursor(page.ids[0]), encode_cursor(page.ids[-1])
        meta.update(start_cursor=start, end_cursor=end)
        if page.has_previous:
            meta["links"]["previous"] = f"?limit={limit}&before={start}"
        if page.has_next:
            meta["links"]["next"] = f"?limit={limit}&after={end}"
    return meta


def offset_meta(total: int, count: int, limit: int, current_page: int) -> dict[str, Any]:
    total_pages = max(1, math.ceil(total / limit))
    links = {"current": f"?page={current_page}&limit={limit}"}
    if current_page > 1:
        links["previous"] = f"?page={current_page - 1}&limit={limit}"
    if current_page < total_pages:
        links["next"] = f"?page={current_page + 1}&limit={limit}"
    return {
        "total": total,
        "count": count,
        "per_page": limit,
        "current_page": current_page,
        "total_pages": total_pages,
        "links": links,
    }


def offset_page[T](items: Sequence[T], page: int, limit: int) -> tuple[list[T], dict[str, Any]]:
    """Page `page` of `items` and its `meta.pagination` (for short collections read whole: promotions, jobs)."""
    shown = list(items[(page - 1) * limit : page * limit])
    return shown, {"pagination": offset_meta(len(items), len(shown), limit, page)}


def collection_meta(request: PageRequest, page: Page, total: int) -> dict[str, Any]:
    """`meta` as BigCommerce's spec says: cursors only with a cursor, offsets only with `page`, else both."""
    meta: dict[str, Any] = {}
    if request.page is None:
        meta["cursor_pagination"] = cursor_meta(page, request.limit)
    if not request.uses_cursor:
        meta["pagination"] = offset_meta(total, len(page.ids), request.limit, request.page or 1)
    return meta


_DECIMAL = re.compile(r"[0-9]{1,18}")


def integer_id(raw: str) -> int | None:
    """`raw` as an id when it is plain ASCII digits (not "¹", "٣" or "1e3", which str.isdigit admits)."""
    return int(raw) if _DECIMAL.fullmatch(raw) else None


def parse_id_list(raw: str | None, parameter: str = "id:in", maximum: int = MAX_LIMIT) -> list[int]:
    """`1,2,3` as integers; anything else is a 422 naming the parameter."""
    if raw is None or not raw.strip():
        raise InvalidRequest(f"Parameter {parameter} is required")
    parts = [part.strip() for part in raw.split(",")]
    if not all(integer_id(part) is not None for part in parts):
        raise InvalidRequest(f"Parameter {parameter} must be a comma-separated list of integers")
    ids = list(dict.fromkeys(int(part) for part in parts))
    if len(ids) > maximum:
        raise InvalidRequest(f"Parameter {parameter} names {len(ids)} ids; at most {maximum} are allowed")
    return ids

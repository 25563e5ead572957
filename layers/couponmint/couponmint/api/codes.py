"""Coupon codes of a promotion (BigCommerce's Coupon Codes group)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from couponmint.adapters.factory import repositories
from couponmint.api.errors import answer
from couponmint.api.idempotency import answered_once
from couponmint.api.openapi import BULK_422, READ_ERRORS, WRITE_ERRORS, answers
from couponmint.api.paths import CODE, CODES, CODES_BY_TEXT, promotion_id_of
from couponmint.api.views import json_response, no_content
from couponmint.errors import InvalidRequest
from couponmint.logic.pagination import MAX_LIMIT, PageRequest, integer_id, parse_id_list
from couponmint.models.codes import CouponCode, CouponCodeCollection, CouponCodeResponse, CreateCodeRequest
from couponmint.models.errors import bulk_problem
from couponmint.service import codes

# Included before the promotions router: `/promotions/codes` must not be read as a promotion id.
router = Router()


@router.get(CODES_BY_TEXT, summary="Get A Coupon Code", responses=answers(200, CouponCodeCollection, *READ_ERRORS))
def get_code_by_text(store_hash: str, code: Annotated[str, Query(min_length=1)]) -> Response[Any]:
    stores = repositories()
    found = codes.find_code(stores.promotions, stores.codes, store_hash, code)
    data = [CouponCode.of(found)] if found else []
    return json_response(200, CouponCodeCollection(data=data, meta={}))


@router.delete(
    CODES_BY_TEXT, summary="Delete A Coupon Code", responses=answers(204, None, *READ_ERRORS[:-1], status_422=BULK_422)
)
def delete_code_by_text(store_hash: str, code: Annotated[str, Query(min_length=1)]) -> Response[Any]:
    codes.delete_code_by_text(repositories().codes, store_hash, code)
    return no_content()


@router.get(CODES, summary="Get Coupon Codes", responses=answers(200, CouponCodeCollection, *READ_ERRORS))
def list_codes(
    store_hash: str,
    promotion_id: str,
    limit: Annotated[int | None, Query(ge=1, le=MAX_LIMIT)] = None,
    before: Annotated[str | None, Query()] = None,
    after: Annotated[str | None, Query()] = None,
    page: Annotated[int | None, Query(ge=1, deprecated=True)] = None,
    code: Annotated[str | None, Query()] = None,
) -> Response[Any]:
    request = PageRequest.parse(limit, before, after, page)
    stores = repositories()
    listing = codes.list_codes(
        stores.promotions, stores.codes, stores.limits, store_hash, promotion_id_of(promotion_id), request, code
    )
    return json_response(200, listing)


@router.post(CODES, summary="Create A Coupon Code", responses=answers(201, CouponCodeResponse, *WRITE_ERRORS, 409))
def create_code(store_hash: str, promotion_id: str, body: Annotated[CreateCodeRequest, Body()]) -> Response[Any]:
    def add() -> Response[Any]:
        stores = repositories()
        record = codes.add_code(stores.promotions, stores.codes, store_hash, promotion_id_of(promotion_id), body)
        return json_response(201, CouponCodeResponse(data=CouponCode.of(record)))

    return answered_once(router.current_event, add)


@router.delete(
    CODES, summary="Delete Multiple Coupon Codes", responses=answers(204, None, *READ_ERRORS[:-1], status_422=BULK_422)
)
def delete_codes(
    store_hash: str, promotion_id: str, id_in: Annotated[str | None, Query(alias="id:in")] = None
) -> Response[Any]:
    try:
        code_ids = parse_id_list(id_in)
    except InvalidRequest as error:
        return answer(bulk_problem(error.problems))
    stores = repositories()
    codes.delete_codes_by_id(stores.promotions, stores.codes, store_hash, promotion_id_of(promotion_id), code_ids)
    return no_content()


@router.delete(
    CODE, summary="Delete A Coupon Code by id", responses=answers(204, None, *READ_ERRORS[:-1], status_422=BULK_422)
)
def delete_code(store_hash: str, promotion_id: str, code_id: str) -> Response[Any]:
    if (number := integer_id(code_id)) is not None:
        stores = repositories()
        codes.delete_codes_by_id(stores.promotions, stores.codes, store_hash, promotion_id_of(promotion_id), [number])
    return no_content()

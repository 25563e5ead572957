"""Promotions (the part of BigCommerce's Promotions group that codes need)."""

from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from couponmint.adapters.factory import event_scheduler, repositories
from couponmint.api.errors import answer
from couponmint.api.idempotency import answered_once
from couponmint.api.openapi import BULK_422, READ_ERRORS, WRITE_ERRORS, answers
from couponmint.api.paths import PROMOTION, PROMOTIONS, promotion_id_of
from couponmint.api.views import json_response, no_content
from couponmint.errors import InvalidRequest
from couponmint.logic.pagination import MAX_LIMIT, integer_id, parse_id_list
from couponmint.models.errors import bulk_problem
from couponmint.models.promotions import (
    PromotionCollection,
    PromotionDraft,
    PromotionPatch,
    PromotionResponse,
    saved_promotion,
)
from couponmint.service import promotions, scheduling

router = Router()


@router.get(PROMOTIONS, summary="Get All Promotions", responses=answers(200, PromotionCollection, *READ_ERRORS))
def list_promotions(
    store_hash: str,
    page: Annotated[int, Query(ge=1)] = 1,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    name: Annotated[str | None, Query()] = None,
    redemption_type: Annotated[str | None, Query()] = None,
    status: Annotated[str | None, Query()] = None,
    id_in: Annotated[str | None, Query(alias="id:in")] = None,
) -> Response[Any]:
    ids = parse_id_list(id_in) if id_in is not None else None
    listing = promotions.list_promotions(
        repositories().promotions,
        store_hash,
        page=page,
        limit=limit,
        name=name,
        redemption_type=redemption_type,
        status=status,
        ids=ids,
    )
    return json_response(200, listing)


@router.post(PROMOTIONS, summary="Create Promotion", responses=answers(201, PromotionResponse, *WRITE_ERRORS))
def create_promotion(store_hash: str, body: Annotated[PromotionDraft, Body()]) -> Response[Any]:
    def create() -> Response[Any]:
        record = promotions.create_promotion(repositories().promotions, store_hash, body)
        return json_response(201, PromotionResponse(data=saved_promotion(record)))

    return answered_once(router.current_event, create)


@router.delete(
    PROMOTIONS,
    summary="Delete Multiple Promotions",
    responses=answers(204, None, *READ_ERRORS[:-1], status_422=BULK_422),
)
def delete_promotions(store_hash: str, id_in: Annotated[str | None, Query(alias="id:in")] = None) -> Response[Any]:
    try:
        ids = parse_id_list(id_in, maximum=promotions.MAX_DELETE)
    except InvalidRequest as error:
        return answer(bulk_problem(error.problems))
    refused = promotions.delete_promotions(
        repositories().promotions, store_hash, ids, on_deleted=schedules_deleter(store_hash)
    )
    if refused:
        title = f"Promotions {', '.join(map(str, refused))} still have coupon codes and cannot be deleted."
        return answer(bulk_problem([title], total=len(ids), failed=len(refused)))
    return no_content()


@router.get(PROMOTION, summary="Get Promotion", responses=answers(200, PromotionResponse, *READ_ERRORS))
def get_promotion(store_hash: str, promotion_id: str) -> Response[Any]:
    record = promotions.get_promotion(repositories().promotions, store_hash, promotion_id_of(promotion_id))
    return json_response(200, PromotionResponse(data=saved_promotion(record)))


@router.put(PROMOTION, summary="Update Promotion", responses=answers(200, PromotionResponse, *WRITE_ERRORS))
def update_promotion(store_hash: str, promotion_id: str, body: Annotated[PromotionPatch, Body()]) -> Response[Any]:
    record = promotions.update_promotion(repositories().promotions, store_hash, promotion_id_of(promotion_id), body)
    return json_response(200, PromotionResponse(data=saved_promotion(record)))


@router.delete(
    PROMOTION, summary="Delete Promotion", responses=answers(204, None, *READ_ERRORS[:-1], status_422=BULK_422)
)
def delete_promotion(store_hash: str, promotion_id: str) -> Response[Any]:
    if (number := integer_id(promotion_id)) is not None:
        refused = promotions.delete_promotions(
            repositories().promotions, store_hash, [number], on_deleted=schedules_deleter(store_hash)
        )
        if refused:
            return answer(bulk_problem([f"Promotion {promotion_id} still has coupon codes and cannot be deleted."]))
    return no_content()


def schedules_deleter(store_hash: str) -> Callable[[int], int]:
    """What deleting one of the store's promotions also deletes: its schedules (record and EventBridge's)."""

    def delete(promotion_id: int) -> int:
        return scheduling.delete_promotion_schedules(
            repositories().schedules, event_scheduler(), store_hash, promotion_id
        )

    return delete

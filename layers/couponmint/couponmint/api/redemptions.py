"""Redemption (EXT): validate, redeem, roll back, and a code's redemptions.

Included before the codes and promotions routers: `/promotions/codes/...` must not be read as a promotion id.
Validation, redemption and rollback count against the store's redemption quota (admission.py), and take no
codegen slot; a read-only token may validate and list, not redeem or roll back. A redemption's event is
published only when one of the store's active hooks listens to it (service/hooks.py `Listened`).
"""

from datetime import UTC, datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from couponmint.adapters.factory import event_bus, repositories
from couponmint.api.admission import admitted
from couponmint.api.idempotency import answered_once
from couponmint.api.openapi import READ_ERRORS, WRITE_ERRORS, answers
from couponmint.api.paths import CODE_REDEMPTIONS, REDEMPTION, REDEMPTIONS, VALIDATE, promotion_id_of
from couponmint.api.views import json_response, no_content
from couponmint.logic.pagination import MAX_LIMIT, PageRequest, integer_id
from couponmint.models.redemptions import (
    RedeemRequest,
    RedemptionCollection,
    RedemptionRefusal,
    RedemptionResponse,
    ValidateRequest,
    ValidationResponse,
)
from couponmint.service import redemptions
from couponmint.service.hooks import Listened

router = Router()

REFUSED_409 = {
    "description": "Refused (nothing was written); `reason` says why",
    "content": {"application/json": {"model": RedemptionRefusal}},
}
AGAIN_200 = {
    "description": "The order's redemption of the code, made before: counted once",
    "content": {"application/json": {"model": RedemptionResponse}},
}
# Validate answers an unknown code in its body (valid: false, reason NOT_FOUND), not with a 404.
VALIDATE_ERRORS = (400, 401, 403, 405, 413, 429, 422)


def _now() -> datetime:
    return datetime.now(UTC)


@router.post(VALIDATE, summary="Validate A Coupon Code", responses=answers(200, ValidationResponse, *VALIDATE_ERRORS))
def validate_code(store_hash: str, body: Annotated[ValidateRequest, Body()]) -> Response[Any]:
    stores = repositories()
    validation = redemptions.validate(stores.promotions, stores.redemptions, store_hash, body, _now(), admitted)
    return json_response(200, ValidationResponse(data=validation))


@router.post(
    REDEMPTIONS,
    summary="Redeem A Coupon Code",
    responses=answers(201, RedemptionResponse, *WRITE_ERRORS, status_200=AGAIN_200, status_409=REFUSED_409),
)
def redeem_code(store_hash: str, body: Annotated[RedeemRequest, Body()]) -> Response[Any]:
    def redeem() -> Response[Any]:
        stores = repositories()
        events = Listened(event_bus(), stores.hooks)
        answer, created = redemptions.redeem(
            stores.promotions, stores.redemptions, store_hash, body, _now(), events, admitted
        )
        return json_response(201 if created else 200, answer)

    return answered_once(router.current_event, redeem)


@router.delete(REDEMPTION, summary="Roll Back A Redemption", responses=answers(204, None, *READ_ERRORS[:-1]))
def roll_back_redemption(store_hash: str, redemption_id: str) -> Response[Any]:
    stores = repositories()
    events = Listened(event_bus(), stores.hooks)
    redemptions.roll_back(stores.redemptions, store_hash, redemption_id, _now(), events, admitted)
    return no_content()


@router.get(
    CODE_REDEMPTIONS,
    summary="Get A Coupon Code's Redemptions",
    responses=answers(200, RedemptionCollection, *READ_ERRORS),
)
def list_redemptions(
    store_hash: str,
    promotion_id: str,
    code_id: str,
    limit: Annotated[int | None, Query(ge=1, le=MAX_LIMIT)] = None,
    before: Annotated[str | None, Query()] = None,
    after: Annotated[str | None, Query()] = None,
) -> Response[Any]:
    request = PageRequest.parse(limit, before, after, None)
    stores = repositories()
    listing = redemptions.list_redemptions(
        stores.codes, stores.redemptions, store_hash, promotion_id_of(promotion_id), integer_id(code_id), request
    )
    return json_response(200, listing)

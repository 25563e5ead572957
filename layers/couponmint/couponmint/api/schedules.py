"""Schedules (couponmint's extension): scheduled generation a store owns, run by EventBridge Scheduler."""

from datetime import UTC, datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from couponmint.adapters.factory import event_scheduler, repositories
from couponmint.api.idempotency import answered_once
from couponmint.api.openapi import READ_ERRORS, WRITE_ERRORS, answers
from couponmint.api.paths import SCHEDULE, SCHEDULES, promotion_id_of, schedule_location
from couponmint.api.views import json_response, no_content
from couponmint.logic.pagination import MAX_LIMIT
from couponmint.models.codegen import iso_timestamp
from couponmint.models.schedules import (
    ScheduleCollection,
    SchedulePatch,
    ScheduleRecord,
    ScheduleRequest,
    ScheduleResponse,
    ScheduleView,
)
from couponmint.service import scheduling

router = Router()


@router.post(
    SCHEDULES,
    summary="Create a schedule that starts a bulk job at each tick (couponmint extension)",
    responses=answers(201, ScheduleResponse, *WRITE_ERRORS),
)
def create_schedule(store_hash: str, promotion_id: str, body: Annotated[ScheduleRequest, Body()]) -> Response[Any]:
    def create() -> Response[Any]:
        stores = repositories()
        schedule = scheduling.create_schedule(
            stores.promotions, stores.schedules, event_scheduler(), store_hash, promotion_id_of(promotion_id), body
        )
        location = schedule_location(store_hash, schedule.promotion_id, schedule.schedule_id)
        return json_response(201, ScheduleResponse(data=schedule_view(schedule)), {"Location": location})

    return answered_once(router.current_event, create)


@router.get(
    SCHEDULES,
    summary="List a promotion's schedules (couponmint extension)",
    responses=answers(200, ScheduleCollection, *READ_ERRORS),
)
def list_schedules(
    store_hash: str,
    promotion_id: str,
    page: Annotated[int, Query(ge=1)] = 1,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> Response[Any]:
    stores = repositories()
    shown, meta = scheduling.list_schedules(
        stores.promotions, stores.schedules, store_hash, promotion_id_of(promotion_id), page, limit
    )
    return json_response(200, ScheduleCollection(data=[schedule_view(s) for s in shown], meta=meta))


@router.get(
    SCHEDULE, summary="Get a schedule (couponmint extension)", responses=answers(200, ScheduleResponse, *READ_ERRORS)
)
def get_schedule(store_hash: str, promotion_id: str, schedule_id: str) -> Response[Any]:
    schedule = scheduling.find_schedule(
        repositories().schedules, store_hash, promotion_id_of(promotion_id), schedule_id
    )
    return json_response(200, ScheduleResponse(data=schedule_view(schedule)))


@router.put(
    SCHEDULE,
    summary="Change a schedule: the fields given replace its own (couponmint extension)",
    responses=answers(200, ScheduleResponse, *WRITE_ERRORS),
)
def change_schedule(
    store_hash: str, promotion_id: str, schedule_id: str, body: Annotated[SchedulePatch, Body()]
) -> Response[Any]:
    stores = repositories()
    schedule = scheduling.change_schedule(
        stores.promotions,
        stores.schedules,
        event_scheduler(),
        store_hash,
        promotion_id_of(promotion_id),
        schedule_id,
        body.changes(),
    )
    return json_response(200, ScheduleResponse(data=schedule_view(schedule)))


@router.delete(
    SCHEDULE, summary="Delete a schedule (couponmint extension)", responses=answers(204, None, *READ_ERRORS[:-1])
)
def delete_schedule(store_hash: str, promotion_id: str, schedule_id: str) -> Response[Any]:
    scheduling.delete_schedule(
        repositories().schedules, event_scheduler(), store_hash, promotion_id_of(promotion_id), schedule_id
    )
    return no_content()


def schedule_view(schedule: ScheduleRecord) -> ScheduleView:
    following = scheduling.next_run(schedule, datetime.now(UTC))
    return ScheduleView.model_validate(
        {
            **schedule.settings.model_dump(),
            "id": schedule.schedule_id,
            "promotion_id": schedule.promotion_id,
            "next_run": iso_timestamp(following) if following else None,
            "last_job_id": schedule.last_job_id,
            "created": iso_timestamp(schedule.created),
            "updated": iso_timestamp(schedule.updated),
        }
    )

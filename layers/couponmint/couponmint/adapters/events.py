"""The deployment's EventBridge bus: domain events, published with PutEvents."""

from typing import Any

from couponmint.models.events import EVENT_SOURCE, DomainEvent


class EventBus:
    """Publishes domain events (`detail-type` is the event's scope); takes a boto3 `events` client."""

    def __init__(self, events: Any, bus_name: str) -> None:
        self._events = events
        self._bus_name = bus_name

    def publish(self, event: DomainEvent) -> None:
        answer = self._events.put_events(
            Entries=[
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": event.scope,
                    "Detail": event.model_dump_json(),
                    "EventBusName": self._bus_name,
                }
            ]
        )
        if answer.get("FailedEntryCount"):
            raise RuntimeError(f"EventBridge refused event {event.event_id}: {answer['Entries'][0]}")

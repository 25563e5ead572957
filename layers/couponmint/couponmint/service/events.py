"""Publishing domain events: once per happening, after the state change that made it.

What "once" means here: a producer publishes an event right after the conditional write that made it happen
succeeded (a job moved to COMPLETED or FAILED, a batch marked FAILED). If it crashes between the two, the
message it was handling comes back (it was not acknowledged), finds the state already changed, and publishes
again; the event id is derived from the scope and the subject (`DomainEvent.about`), so every publication of
one happening carries the same id, body and `hash`. The delivery function fans each id out once (it records
the ids it sent), so a hook gets one delivery per happening; only a crash of the delivery function between
sending an event's deliveries and recording it can repeat one, with the same `hash`, which receivers can use
to drop it. In short: at least once on the bus, once per hook but for that window.
"""

from couponmint.models.events import DomainEvent


class NoEvents:
    """A publisher that drops every event: the default of the services' `events` parameter, for callers that do
    not publish (tests about something else, tools). The Lambda handlers pass the deployment's bus."""

    def publish(self, event: DomainEvent) -> None:
        """Nothing: the event is not published."""


NO_EVENTS = NoEvents()

"""Delivering events to webhooks: fan an event out (one delivery per matching active hook), then POST each
delivery on its own, signed, retried with backoff for more than a day.

Both kinds of message share the delivery queue: EventBridge's rule puts each event there, and the fan-out puts
the deliveries back on it. A delivery that fails (a non-2xx answer, no answer within the timeout, a host that
does not resolve) raises `DeliveryFailed` after asking the queue to hold it for its backoff; after the last
attempt the queue's redrive policy moves it to the dead-letter queue, kept for inspection (and an alarm).
"""

from collections.abc import Callable

from couponmint.logic import backoff, signatures
from couponmint.logic.destinations import Resolver, UnresolvableDestination, UnsafeDestination, check_destination
from couponmint.logic.hook_scopes import matches
from couponmint.models.events import Callback, DeliveryMessage, DomainEvent
from couponmint.observability import logger
from couponmint.service.ports import HookStore, Queue, Sender

USER_AGENT = "couponmint-webhooks/1"


class DeliveryFailed(Exception):
    """The destination did not take the delivery; it is tried again later."""


def fan_out(hooks: HookStore, queue: Queue, event: DomainEvent) -> int:
    """Queue one delivery of `event` per active hook of its store whose scope matches; the number queued.

    An event already fanned out (the same happening published again) is queued to no hook again.
    """
    if hooks.fanned_out(event.event_id):
        logger.info("event fanned out before: not again", event_id=event.event_id)
        return 0
    targets = [h for h in hooks.of_store(event.store_hash) if h.is_active and matches(h.scope, event.scope)]
    queue.send_many([DeliveryMessage(event=event, hook_id=hook.hook_id) for hook in targets])
    hooks.mark_fanned_out(event.event_id)
    logger.info("event fanned out", event_id=event.event_id, scope=event.scope, hooks=len(targets))
    return len(targets)


def deliver(
    hooks: HookStore,
    sender: Sender,
    message: DeliveryMessage,
    *,
    allow_local_http: bool,
    resolve: Resolver,
) -> bool:
    """POST the event to the hook; True when delivered, False when there is nothing to do (the hook is gone,
    inactive now, or its destination is not one couponmint calls). Raises DeliveryFailed to be tried again."""
    hook = hooks.get(message.event.store_hash, message.hook_id)
    if hook is None or not hook.is_active:
        logger.info("delivery dropped: hook gone or inactive", hook_id=message.hook_id)
        return False
    try:
        destination = check_destination(hook.destination, allow_local_http=allow_local_http, resolve=resolve)
    except UnsafeDestination as refused:
        # Checked when saved; refused now, its host resolves elsewhere (rebinding): never called.
        logger.warning("delivery refused: unsafe destination", hook_id=hook.hook_id, reason=str(refused))
        return False
    except UnresolvableDestination as error:
        raise DeliveryFailed(str(error)) from None
    body = Callback.of(message.event).model_dump_json().encode()
    headers = {
        **hook.headers,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        signatures.SIGNATURE_HEADER: signatures.sign(hook.secret, body),
    }
    try:
        status = sender.post(destination, headers, body)
    except OSError as error:
        raise DeliveryFailed(f"{type(error).__name__}: {error}") from None
    if not 200 <= status < 300:
        raise DeliveryFailed(f"the destination answered {status}")
    logger.info("delivered", hook_id=hook.hook_id, event_id=message.event.event_id, status=status)
    return True


def deliver_or_retry_later(
    deliver_once: Callable[[], bool],
    retry_later: Callable[[int], None],
    *,
    attempt: int,
    fixed_delay: int | None = None,
) -> bool:
    """Run one attempt; on DeliveryFailed hold the message for its backoff (unless it was the last attempt,
    which the queue dead-letters) and raise again, so that the message is reported failed."""
    try:
        return deliver_once()
    except DeliveryFailed as failed:
        if attempt < backoff.MAX_ATTEMPTS:
            retry_later(backoff.delay_after(attempt, fixed=fixed_delay))
        log = logger.warning if attempt < backoff.MAX_ATTEMPTS else logger.error
        log("delivery failed", attempt=attempt, of=backoff.MAX_ATTEMPTS, reason=str(failed))
        raise

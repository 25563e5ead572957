"""The few domain errors that travel from the layer to the API, which maps them to HTTP in one place."""


class CouponmintError(Exception):
    """Base of every error the API answers with a 4xx."""


class Unauthenticated(CouponmintError):
    """No token, or one couponmint does not know."""


class Forbidden(CouponmintError):
    """A known token without the scope or the store the request needs."""


class NotFound(CouponmintError):
    """The resource does not exist in this store."""


class NotAllowed(CouponmintError):
    """The operation does not apply to this resource (e.g. codegen on a non-BULK promotion)."""


class RedemptionRefused(CouponmintError):
    """A code cannot be used for this redemption (contract.md, "Redemption (EXT)"); nothing was written."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class InvalidRequest(CouponmintError):
    """Well-formed input that breaks a rule; carries one message per problem."""

    def __init__(self, *problems: str) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


class Conflict(CouponmintError):
    """The request collides with existing state (e.g. a code that already exists)."""


class BatchFailed(CouponmintError):
    """The generator gave up on a batch; the reason is recorded on the batch."""


class PayloadTooLarge(CouponmintError):
    """The request body is larger than the API accepts."""


class TooManyRequests(CouponmintError):
    """The store is over its request quota or its concurrent requests; try again after `retry_after` s."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


# ---------------------------------------------------------------- signals between the adapters and the services
# Not answered to clients as such: the services turn them into one of the errors above, or act on them.
class CodeTaken(Exception):
    """The code's text is already taken in the store (compared case-insensitively)."""


class PromotionFull(Exception):
    """The promotion already holds its one code (a SINGLE coupon promotion)."""


class PromotionGone(Exception):
    """The promotion was deleted while codes were being written for it: nothing was written."""


class CodesTaken(Exception):
    """Another batch holds some of the codes a transaction claimed (so it wrote nothing)."""

    def __init__(self, codes: set[str]) -> None:
        super().__init__(f"{len(codes)} code(s) taken")
        self.codes = codes


class StaleBatch(Exception):
    """The batch changed since it was read (another delivery of the same message moved it on)."""


class BatchMissing(Exception):
    """A message names a batch that does not exist (never retried into success)."""


class UploadGone(Exception):
    """A multipart upload no longer takes parts: it was completed (or aborted) meanwhile."""


class CodeBusy(Exception):
    """A code's counters stayed contended (transaction conflicts, throttling) through every retry."""


class CollisionsPersist(Exception):
    """Codes kept colliding: the format's space is nearly full."""

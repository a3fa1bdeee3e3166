"""Every error backorder raises on purpose, by kind, so callers can tell them apart.

An integrator catches a kind, not a message: :class:`InvalidInput` (the caller can fix
the value; the CLI prints one line and exits 2), :class:`NotFound`, :class:`Refused`
(the rules say no), :class:`Conflict` (the request contradicts what is stored),
:class:`PlatformError` (the store's platform failed or said no) and
:class:`RetriesExhausted`. Whatever the kind, nothing was changed unless the error says so.
A database driver's own exceptions never reach a caller: they become :class:`StorageError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import ValidationError

__all__ = [
    "BackorderError",
    "ConfigError",
    "Conflict",
    "InvalidInput",
    "MalformedDelivery",
    "NotFound",
    "PlanLimitReached",
    "PlatformError",
    "PluginLoadError",
    "PushIncomplete",
    "Refused",
    "RetriesExhausted",
    "StorageError",
    "UnknownItem",
    "WebhookRejected",
    "first_problem",
]


class BackorderError(Exception):
    """Base of every error backorder raises on purpose."""


class InvalidInput(BackorderError, ValueError):
    """A value, file, field or argument the caller can fix; the message names where."""


class ConfigError(InvalidInput):
    """A config file that cannot be used; the message names the file and the field."""


class WebhookRejected(InvalidInput):
    """A webhook delivery that failed authentication or could not be parsed.

    Platforms authenticate first, then parse: a message naming the ``body`` is a delivery
    that was authenticated but could not be read (:attr:`status` 400); any other (a
    header, the connection's secret) failed authentication (401).
    """

    @property
    def status(self) -> int:
        return 400 if str(self).startswith("body") else 401


class MalformedDelivery(WebhookRejected):
    """An authenticated webhook delivery whose body cannot be used (the server answers
    ``400``, not ``401``); the message names the field."""


class NotFound(BackorderError, LookupError):
    """A store, item, order, receipt or platform that does not exist."""


class UnknownItem(NotFound):
    """A SKU the store does not know."""


class Refused(BackorderError):
    """The rules refuse the request (a plan limit, an item not assigned...)."""


class PlanLimitReached(Refused):
    """Assigning these products would pass the store's plan limit."""


class Conflict(BackorderError):
    """The request contradicts what is stored (an order id reused with other lines...)."""


class PlatformError(BackorderError):
    """The store's platform failed or refused: down, wrong credentials, no such object.

    :param platform: the platform's name.
    :param url: what was called (no credentials in it).
    :param status: the HTTP status, when there was an answer.
    """

    def __init__(
        self, message: str, *, platform: str = "", url: str = "", status: int | None = None
    ) -> None:
        super().__init__(message)
        self.platform, self.url, self.status = platform, url, status


class PushIncomplete(PlatformError):
    """A push the platform took only in part (BigCommerce's 207 Multi-Status): ``failed``
    names the SKUs it did not save. The push outbox keeps only those for its retry and
    counts the others as delivered.

    :param failed: the SKUs not saved.
    """

    def __init__(self, message: str, *, failed: Sequence[str], **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.failed = list(failed)


class RetriesExhausted(BackorderError):
    """Gave up after retrying (conflicting writes, a platform that kept failing)."""


class StorageError(BackorderError):
    """The database failed in a way the caller cannot fix by changing the request."""


class PluginLoadError(BackorderError):
    """An installed plugin could not be loaded or registered; the message names it."""


def first_problem(exc: ValidationError, *prefix: str) -> tuple[str, str]:
    """Where a validation error's first problem is (its location joined with dots, after
    ``prefix``; ``""`` for the whole value) and what it is: the parts of a one-line error."""
    first = exc.errors()[0]
    return ".".join(map(str, (*prefix, *first["loc"]))), first["msg"]

"""One platform connection's HTTP: an httpx client, the retry policy, a pacer and a clock.

A plugin's client builds one :class:`PlatformHttp` and sends every call through
:meth:`PlatformHttp.request`, which applies :mod:`backorder.http.retry`'s rules and raises
the plugin's own :class:`~backorder.http.errors.PlatformCallError` subclass for an answer it
does not retry, or no longer. What differs between platforms stays in the plugin:

- a :class:`Pacer` reads the platform's rate-limit headers and waits *before* a call when
  a window is spent (BigCommerce's ``X-Rate-Limit-*``, Lightspeed's ``a/b/c`` windows and
  20 requests a second); it also says how long to wait after a 429;
- ``safe=`` per call marks a write that may be repeated (or one that may not, such as a
  Magento write that carries a quantity);
- the error classes (``error=``, ``ambiguous=``) and how they read an error body.

Every wait goes through the injected :class:`~backorder.http.clock.Clock` and every backoff
draws from the injected :class:`random.Random`: under a
:class:`~backorder.http.clock.FakeClock` nothing waits for real.
"""

from __future__ import annotations

import functools
import logging
import random
import ssl
from typing import Any

import httpx

from backorder.http.clock import Clock
from backorder.http.errors import PlatformCallError, safe_url
from backorder.http.retry import NOT_SENT, RETRY_STATUSES, RetryPolicy, is_safe

log = logging.getLogger(__name__)

UNSURE = "; it may have been applied, so it was not sent again"


class Pacer:
    """Keeps a client under its platform's rate limit. This base does not pace."""

    def before_call(self) -> float:
        """Wait (through the clock) until a call may go; returns the seconds waited."""
        return 0.0

    def after_call(self, response: httpx.Response) -> None:
        """Read the rate-limit headers of an answer (429s included)."""

    def wait_after_429(self, response: httpx.Response) -> float | None:
        """Seconds to wait before sending a throttled call again, beyond what
        :meth:`before_call` will wait; ``None`` leaves it to ``Retry-After``, else the backoff."""
        return None


class CallStats:
    """What a client did: attempts sent (by route), retries, 429s, and time spent waiting."""

    def __init__(self) -> None:
        self.calls = 0
        self.by_route: dict[str, int] = {}
        self.retries = 0
        self.throttled = 0
        self.rate_waits = 0.0
        """Seconds the pacer waited before calls."""
        self.retry_waits = 0.0
        """Seconds waited before retries (backoff, ``Retry-After``)."""

    def count(self, method: str, path: str) -> None:
        self.calls += 1
        route = f"{method} {route_of(path)}"
        self.by_route[route] = self.by_route.get(route, 0) + 1


def _sent_url(exc: httpx.TransportError) -> httpx.URL | None:
    try:
        return exc.request.url
    except RuntimeError:  # raised without its request
        return None


def route_of(path: str) -> str:
    """``/v3/catalog/products/7`` -> ``/v3/catalog/products/{id}`` (query left off)."""
    path = path.split("?", 1)[0]
    return "/".join("{id}" if part.isdigit() else part for part in path.split("/"))


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """httpx's default TLS context (certifi's bundle, ``SSL_CERT_FILE``), built once per
    process and shared by every client: building one loads the CA bundle, 20-40 ms of CPU,
    and a platform call builds a client (three per Magento order webhook: the order, the
    push, the storefront message)."""
    return httpx.create_ssl_context()


class PlatformHttp:
    """Calls to one platform account, retried by the one policy. Not thread-safe."""

    def __init__(
        self,
        base_url: str,
        *,
        error: type[PlatformCallError],
        ambiguous: type[PlatformCallError] | None = None,
        headers: dict[str, str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        policy: RetryPolicy | None = None,
        pacer: Pacer | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.error = error
        self.ambiguous = ambiguous or error
        self.policy = policy or RetryPolicy()
        self.pacer = pacer or Pacer()
        self.clock = clock or Clock()
        self.rng = rng or random.Random()
        self.stats = CallStats()
        self.http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=headers,
            auth=auth,
            transport=transport,
            timeout=timeout,
            verify=shared_ssl_context(),
        )

    def close(self) -> None:
        self.http.close()

    def url(self, path: str) -> str:
        """The full URL of ``path`` (relative to the base URL, as httpx merges it)."""
        return safe_url(str(self.http.base_url) + path.lstrip("/"))

    def request(
        self, method: str, path: str, *, safe: bool | None = None, **kwargs: Any
    ) -> httpx.Response:
        """Send one call with the retries of :mod:`backorder.http.retry`; returns a 2xx/3xx
        answer or raises ``error`` (``ambiguous`` for an unsafe call that may have applied).

        ``path`` is relative to the base URL; ``kwargs`` go to :meth:`httpx.Client.request`.
        """
        method = method.upper()
        may_repeat = is_safe(method, safe)
        attempts = self.policy.retries + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            self.stats.rate_waits += self.pacer.before_call()
            self.stats.count(method, path)
            try:
                response = self.http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                url = _sent_url(exc) or self.url(path)
                problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                if not may_repeat and not isinstance(exc, NOT_SENT):
                    raise self.ambiguous(method, url, None, problem + UNSURE) from exc
                if last:
                    raise self.error(method, url, None, problem, attempts=attempt + 1) from exc
                self._retry(method, path, problem, attempt, self._backoff(attempt))
                continue
            self.pacer.after_call(response)
            status = response.status_code
            if status == 429:
                self.stats.throttled += 1
                if not last:
                    self._wait(method, path, "HTTP 429", attempt, self._throttle(response, attempt))
                    continue
            elif status in RETRY_STATUSES:
                if not may_repeat:
                    url = response.request.url
                    raise self.ambiguous.from_response(method, url, response, note=UNSURE)
                if not last:
                    self._retry(method, path, f"HTTP {status}", attempt, self._backoff(attempt))
                    continue
            if response.is_error:
                raise self.error.from_response(
                    method, response.request.url, response, attempts=attempt + 1
                )
            return response
        raise AssertionError("unreachable: the last attempt returns or raises")

    def json(self, method: str, path: str, *, safe: bool | None = None, **kwargs: Any) -> Any:
        """:meth:`request`, then the answer's JSON (``None`` for an empty body)."""
        response = self.request(method, path, safe=safe, **kwargs)
        return response.json() if response.content else None

    # ------------------------------------------------------------------ waits
    def _backoff(self, attempt: int) -> float:
        return self.policy.backoff_delay(attempt, self.rng)

    def _throttle(self, response: httpx.Response, attempt: int) -> float:
        paced = self.pacer.wait_after_429(response)
        if paced is not None:
            return paced
        asked = self.policy.retry_after_delay(response.headers.get("retry-after"))
        return self._backoff(attempt) if asked is None else asked

    def _retry(self, method: str, path: str, problem: str, attempt: int, delay: float) -> None:
        self.stats.retries += 1
        self._wait(method, path, problem, attempt, delay)

    def _wait(self, method: str, path: str, problem: str, attempt: int, delay: float) -> None:
        log.warning(
            "%s %s %s: %s; retry %d of %d in %.2fs",
            self.error.LABEL, method, self.url(path), problem, attempt + 1,
            self.policy.retries, delay,
        )  # fmt: skip
        self.stats.retry_waits += delay
        self.clock.sleep(delay)

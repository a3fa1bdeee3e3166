"""HTTP toolkit for platform plugins: one retry policy, one pacer hook, one fake clock,
one in-process bridge to a sandbox, one error base.

- :class:`PlatformHttp` (:mod:`.session`): an httpx client for one platform account whose
  :meth:`~PlatformHttp.request` applies the retry rules of :mod:`.retry` — 429s and
  connections that never opened are always sent again; 5xx and lost answers only for safe
  calls (idempotent methods, or ``safe=True``); anything else that may have applied raises
  the plugin's ambiguous-write error — with jittered exponential backoff, capped attempts
  and every wait through an injected :class:`Clock` and :class:`random.Random`.
- :class:`Pacer`: the plugin's rate-limit logic (wait before a call, read headers after,
  how long to wait after a 429).
- :class:`PlatformCallError` (:mod:`.errors`): the base of each plugin's exception, a
  :class:`backorder.errors.PlatformError` whose message names the platform, method, URL
  (no credentials) and status.
- :class:`Clock` / :class:`FakeClock` (:mod:`.clock`): real time, and simulated time in
  which ``sleep`` moves the clock (tests and benchmarks never wait).
- :class:`SyncASGITransport` (:mod:`.asgi`): a sync httpx transport serving an ASGI app
  (a sandbox) in process, with the ``x-sandbox-fault: timeout`` lost-answer fault.
- :func:`needs_extra` (:mod:`.extras`): a clear message when a plugin's extra (its
  sandbox's server packages) is not installed.

Cassettes for tests follow one convention: :func:`backorder.testing.cassettes.recorder`.
"""

from backorder.http.asgi import FAULT_HEADER, SyncASGITransport
from backorder.http.clock import Clock, FakeClock
from backorder.http.errors import PlatformCallError, safe_url
from backorder.http.extras import needs_extra
from backorder.http.retry import IDEMPOTENT_METHODS, RETRY_STATUSES, Retries, RetryPolicy
from backorder.http.session import CallStats, Pacer, PlatformHttp

__all__ = [
    "FAULT_HEADER",
    "IDEMPOTENT_METHODS",
    "RETRY_STATUSES",
    "CallStats",
    "Clock",
    "FakeClock",
    "Pacer",
    "PlatformCallError",
    "PlatformHttp",
    "Retries",
    "RetryPolicy",
    "SyncASGITransport",
    "needs_extra",
    "safe_url",
]

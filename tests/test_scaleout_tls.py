"""Platform clients share one TLS context per process.

Every platform call builds a client (a Magento order webhook builds three: the order, the
push, the storefront message); building httpx's default TLS context loads the CA bundle
each time, which was two thirds of a webhook's CPU in ``bench/bench_scaleout.py``.
"""

from __future__ import annotations

import ssl

import httpx

from backorder.errors import PlatformError
from backorder.http import session
from backorder.http.session import PlatformHttp


class CallError(PlatformError):
    pass


def test_clients_share_one_verifying_tls_context(monkeypatch):
    built: list[ssl.SSLContext] = []
    real = httpx.create_ssl_context

    def counting(*args, **kwargs):
        built.append(real(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(httpx, "create_ssl_context", counting)
    session.shared_ssl_context.cache_clear()
    try:
        for _ in range(5):
            PlatformHttp("https://shop.example/api", error=CallError).close()
    finally:
        session.shared_ssl_context.cache_clear()
    assert len(built) == 1  # one context for five clients
    assert built[0].verify_mode == ssl.CERT_REQUIRED and built[0].check_hostname

"""The HTTP client against the in-process sandbox: clusters, paging, bulk, limits, faults."""

from __future__ import annotations

import pytest
from backorder_lightspeed_ecom.client import Connection, LightspeedClient, LightspeedError
from backorder_lightspeed_ecom.ratelimit import RateLimitError, RateWindows, ShopThrottle

from backorder.config import StoreConfig
from backorder.errors import PlatformError


@pytest.mark.parametrize(
    ("cluster", "host"),
    [("eu", "https://api.webshopapp.com"), ("us", "https://api.shoplightspeed.com")],
)
def test_clusters_and_language_build_the_url(cluster, host):
    client = LightspeedClient(Connection(cluster=cluster, language="us"), "k", "s")
    assert client.url("variants/1") == f"{host}/us/variants/1.json"


def test_store_without_credentials_is_refused_naming_the_keys():
    store = StoreConfig(name="s", platform="lightspeed_ecom", connection={"cluster": "us"})
    with pytest.raises(ValueError, match="api_key"):
        LightspeedClient.for_store(store)
    bad = StoreConfig(
        name="s",
        platform="lightspeed_ecom",
        connection={"cluster": "mars", "api_key": "k", "api_secret": "s"},
    )
    with pytest.raises(ValueError, match=r"connection\.cluster"):
        LightspeedClient.for_store(bad)


def test_wrong_secret_is_a_401_naming_the_call(ls_client, ls_shop):
    client = ls_client(secret="wrong")
    with pytest.raises(LightspeedError) as err:
        client.variants()
    assert isinstance(err.value, PlatformError)
    assert (err.value.platform, err.value.status) == ("lightspeed_ecom", 401)
    assert str(err.value) == (
        "Lightspeed GET http://sandbox.test/en/variants.json?page=1&limit=250: "
        "HTTP 401: Unauthorized: wrong API key or secret"
    )


def test_pages_until_a_short_page(ls_client, ls_shop):
    client = ls_client(page_size=2)
    variants = client.variants()
    assert sorted(v.id for v in variants) == sorted(ls_shop.variants)
    pages = [path for method, path in ls_shop.requests if path == "/en/variants.json"]
    assert len(pages) == 3  # 4 variants: 2 + 2 + an empty page


def test_bulk_updates_go_in_batches(ls_client, ls_shop):
    ls_shop.bulk_limit = 2
    client = ls_client(bulk_size=2)
    updates = [{"id": vid, "stockLevel": 9} for vid in ls_shop.variants]
    assert client.bulk_update_variants(updates) == 4
    assert all(v["stockLevel"] == 9 for v in ls_shop.variants.values())
    assert [p for _, p in ls_shop.requests].count("/en/variants/bulk.json") == 2


def test_a_batch_above_the_limit_is_refused_and_changes_nothing(ls_client, ls_shop):
    ls_shop.bulk_limit = 2
    client = ls_client(bulk_size=10)
    before = {vid: v["stockLevel"] for vid, v in ls_shop.variants.items()}
    with pytest.raises(LightspeedError, match="at most 2"):
        client.bulk_update_variants([{"id": vid, "stockLevel": 1} for vid in ls_shop.variants])
    assert {vid: v["stockLevel"] for vid, v in ls_shop.variants.items()} == before


def test_rate_limit_headers_are_read():
    windows = RateWindows.from_headers(
        {
            "X-RateLimit-Limit": "300/3000/12000",
            "X-RateLimit-Remaining": "0/2990/11990",
            "X-RateLimit-Reset": "42/3000/80000",
        }
    )
    assert windows.limit == (300, 3000, 12000)
    assert windows.exhausted() == ("5 minutes", 42)
    with pytest.raises(ValueError, match="X-RateLimit-Remaining"):
        RateWindows.from_headers(
            {
                "X-RateLimit-Limit": "1/2/3",
                "X-RateLimit-Remaining": "1/2",
                "X-RateLimit-Reset": "1/2/3",
            }
        )


def test_used_up_window_is_waited_out(ls_client, ls_shop, ls_time):
    ls_shop.limits = (3, 3000, 12000)
    ls_shop.use_clock(ls_time)
    client = ls_client(page_size=250)
    for _ in range(4):  # the 4th call must wait for the 5-minute window to reset
        client.variants()
    assert ls_time.sleeps and max(ls_time.sleeps) >= 299
    assert len(ls_shop.requests) == 4  # each call answered at once: no 429 to repeat


def test_a_long_wait_raises_instead(ls_client, ls_shop, ls_time):
    ls_shop.limits = (300, 2, 12000)
    ls_shop.use_clock(ls_time)
    client = ls_client(max_rate_wait=60)
    client.variants()
    client.variants()
    with pytest.raises(RateLimitError, match="hour window"):
        client.variants()


def test_429_is_retried_after_the_window(ls_client, ls_shop, ls_time):
    ls_shop.limits = (1, 3000, 12000)
    ls_shop.use_clock(ls_time)
    client = ls_client()
    client.variant(next(iter(ls_shop.variants)))
    client.pacer.windows = None  # forget the headers: the next call meets a 429
    assert client.variant(next(iter(ls_shop.variants))).id
    assert client.http.stats.throttled == 1 and len(ls_shop.requests) == 3
    assert ls_time.now() >= 299  # the 429 named the 5-minute window: it was waited out


def test_server_errors_are_retried(ls_client, ls_shop, ls_time):
    ls_shop.faults.append(
        {"method": "GET", "path": "/en/deliverydates.json", "status": 503, "times": 2}
    )
    assert [d.name for d in ls_client().deliverydates()] == ["1 week"]
    assert len(ls_time.sleeps) == 2  # jittered backoff under 0.5 s, then 1 s
    assert all(0 < wait <= top for wait, top in zip(ls_time.sleeps, [0.5, 1.0], strict=True))
    ls_shop.faults.append({"method": "*", "path": "/en/orders.json", "status": 500, "times": 9})
    with pytest.raises(LightspeedError, match=r"HTTP 500: sandbox fault \(gave up after 2"):
        list(ls_client(retries=1).pages("orders", "orders"))


def test_a_webhook_registration_that_failed_is_not_sent_again(ls_client, ls_shop):
    """A POST that failed with 5xx may have been applied: a second copy could register the
    hook twice, so the client raises instead of repeating it."""
    ls_shop.faults.append({"method": "POST", "path": "/en/webhooks.json", "status": 503,
                           "times": 1})  # fmt: skip
    with pytest.raises(LightspeedError, match="may have been applied"):
        ls_client().create_webhook("variants", "updated", "https://example.com/hooks")
    assert ls_shop.requests.count(("POST", "/en/webhooks.json")) == 1


def test_shop_throttle_allows_twenty_a_second(ls_time):
    throttle = ShopThrottle(20, clock=ls_time)
    waits = [throttle.acquire() for _ in range(45)]
    assert waits[:20] == [0.0] * 20 and waits[20] == pytest.approx(1.0)
    assert ls_time.now() == pytest.approx(2.0)

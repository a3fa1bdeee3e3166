"""The HTTP client against the in-process sandbox: clusters, paging, writes, limits, faults."""

from __future__ import annotations

import pytest
from backorder_lightspeed_ecom.client import (
    Connection,
    LightspeedClient,
    LightspeedError,
    UpdatesRefused,
)
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


def test_variant_updates_are_one_wrapped_put_each(ls_client, ls_shop):
    """The official PHP client's shape (``Variants::update``): ``PUT variants/{id}.json``
    with ``{"variant": {...}}``; the sandbox refuses anything else."""
    client = ls_client()
    updates = [{"id": vid, "stockLevel": 9} for vid in ls_shop.variants]
    assert client.update_variants(updates) == 4
    assert all(v["stockLevel"] == 9 for v in ls_shop.variants.values())
    puts = [path for method, path in ls_shop.requests if method == "PUT"]
    assert puts == [f"/en/variants/{vid}.json" for vid in ls_shop.variants]


@pytest.mark.parametrize(
    "body",
    [
        lambda vid: {"variants": [{"id": vid, "stockLevel": 1}]},  # what the plugin used to send
        lambda vid: {"variant": {"id": vid, "stockLevel": 1}},
        lambda vid: {"variant": [{"id": vid, "stockLevel": 1}], "variants": []},
    ],
)
def test_the_sandbox_refuses_any_bulk_body_but_the_official_wrapper(ls_client, ls_shop, body):
    client = ls_client()
    first = next(iter(ls_shop.variants))
    with pytest.raises(LightspeedError, match=r"HTTP 400.*\{\"variant\": \[\.\.\.\]\}"):
        client.request("PUT", "variants/bulk", json=body(first))
    assert ls_shop.variants[first]["stockLevel"] != 1
    client.request("PUT", "variants/bulk", json={"variant": [{"id": first, "stockLevel": 1}]})
    assert ls_shop.variants[first]["stockLevel"] == 1


def test_a_refused_variant_does_not_stop_the_others(ls_client, ls_shop):
    client = ls_client()
    known = list(ls_shop.variants)
    updates = [{"id": known[0], "stockLevel": 7}, {"id": 999, "stockLevel": 7}]
    updates.append({"id": known[1], "stockTracking": "sometimes"})
    updates.append({"id": known[2], "stockLevel": 7})
    with pytest.raises(UpdatesRefused) as err:
        client.update_variants(updates)
    assert isinstance(err.value, PlatformError) and err.value.status == 404
    assert str(err.value).startswith(
        f"Lightspeed refused 2 of 4 variant update(s) (variants 999, {known[1]}); first: "
        "Lightspeed PUT http://sandbox.test/en/variants/999.json: HTTP 404"
    )
    assert ls_shop.variants[known[0]]["stockLevel"] == ls_shop.variants[known[2]]["stockLevel"] == 7


def test_a_server_error_stops_a_push_at_once(ls_client, ls_shop):
    first, second = list(ls_shop.variants)[:2]
    ls_shop.faults.append(
        {"method": "PUT", "path": f"/en/variants/{first}.json", "status": 503, "times": 9}
    )
    with pytest.raises(LightspeedError, match="HTTP 503"):
        ls_client(retries=1).update_variants(
            [{"id": first, "stockLevel": 4}, {"id": second, "stockLevel": 4}]
        )
    assert f"/en/variants/{second}.json" not in [path for _, path in ls_shop.requests]


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

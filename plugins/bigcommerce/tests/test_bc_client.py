"""The client's calls: plain request/response recordings as cassettes, faults live.

Plain interactions replay from vcrpy cassettes (the core convention,
:func:`backorder.testing.cassettes.recorder`: replay only, re-record with
``BACKORDER_RECORD_CASSETTES=1``); ``X-Auth-Token`` never reaches a cassette, and
test_bc_spec.py validates every recorded request and response against the official
OpenAPI files. Rate limits, 429s, 5xx and lost answers run against the live in-process
sandbox: a cassette would replay the recorded answers whatever fault is set up.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from backorder_bigcommerce import push
from backorder_bigcommerce import schemas as s
from backorder_bigcommerce.client import (
    AmbiguousWrite,
    BigCommerceClient,
    BigCommerceError,
    OutOfStock,
    RateLimited,
)
from backorder_bigcommerce.sandbox import Sandbox

from backorder.errors import PlatformError
from backorder.http import FakeClock
from backorder.testing.cassettes import recorder

CASSETTES = Path(__file__).parent / "cassettes"
cassettes = recorder(CASSETTES)
PRODUCT_URL = "http://bigcommerce.sandbox/stores/sandbox/v3/catalog/products/101?include=variants"


def make(clock: FakeClock, **options) -> tuple[Sandbox, BigCommerceClient]:
    sandbox = Sandbox(clock=clock, **options)
    client = BigCommerceClient(
        "sandbox", "sandbox-token", api_url=sandbox.url, transport=sandbox.transport, clock=clock
    )
    return sandbox, client


@pytest.fixture
def clock():
    return FakeClock()


def seed(sandbox: Sandbox, products: int, variants_each: int = 0) -> None:
    for n in range(products):
        variants = [(f"P{n}-V{k}", k) for k in range(variants_each)] or None
        sandbox.state.add_product(f"Product {n}", f"P{n}", n % 7, variants=variants)


def test_catalog_pages_of_250_with_variants(clock):
    sandbox, client = make(clock)
    seed(sandbox, 260, variants_each=2)
    with cassettes.use_cassette("catalog_pages.yaml"):
        products = client.products()
    assert len(products) == 260 and all(len(p.variants) == 2 for p in products)
    assert products[-1].variants[1].sku == "P259-V1"
    assert client.stats.calls == 2  # 250 + 10


def test_batches_use_the_real_limits(clock):
    sandbox, client = make(clock)
    seed(sandbox, 25, variants_each=3)
    products = list(sandbox.state.products)
    variants = [v for v in sandbox.state.variants]
    with cassettes.use_cassette("batches.yaml"):
        n_products = client.update_products(
            [s.ProductPutCollectionItem(id=i, inventory_tracking="none") for i in products]
        )
        n_variants = client.update_variants(
            [
                s.ProductVariantPut(
                    id=i, purchasing_disabled=True, purchasing_disabled_message="Sold out"
                )
                for i in variants
            ]
        )
        n_levels = client.set_levels(
            [s.AdjustmentItem(location_id=1, variant_id=i, quantity=5) for i in variants]
            * 27,  # 2,025 items: two calls
            reason="count",
        )
    assert (n_products.calls, n_products.failed, n_variants, n_levels) == (3, {}, 2, 2)
    assert client.stats.by_route == {
        "PUT /v3/catalog/products": 3,
        "PUT /v3/catalog/variants": 2,
        "PUT /v3/inventory/adjustments/absolute": 2,
    }


def test_order_and_its_products(clock, bc_address):
    sandbox, client = make(clock)
    seed(sandbox, 2, variants_each=2)
    with cassettes.use_cassette("orders.yaml"):
        placed = client.create_order(
            s.OrderPost(
                billing_address=bc_address,
                products=[
                    s.OrderCatalogProductPost(product_id=101, variant_id=1002, quantity=1),
                    s.OrderCatalogProductPost(product_id=102, variant_id=1004, quantity=1),
                ],
            )
        )
        order = client.order(placed.id)
        lines = client.order_products(placed.id)
    assert order.billing_address["email"] == "pat@example.com"
    assert [(line.sku, line.quantity) for line in lines] == [("P0-V1", 1), ("P1-V1", 1)]


def test_hooks_are_registered_once(clock):
    sandbox, client = make(clock)
    sandbox.state.create_hook({"scope": "store/cart/created", "destination": "https://other.app"})
    scopes = ["store/order/created", "store/product/updated"]
    with cassettes.use_cassette("hooks.yaml"):
        first = client.ensure_hooks(scopes, "https://shop.example/wh", {"X-Backorder-Secret": "x"})
        again = client.ensure_hooks(scopes, "https://shop.example/wh", {"X-Backorder-Secret": "x"})
    assert [h.scope for h in first] == scopes and again == []


def test_a_207_names_the_products_not_saved(clock):
    sandbox, client = make(clock)
    seed(sandbox, 3)
    sandbox.state.faults.unsaved_products = [102]
    with cassettes.use_cassette("multi_status.yaml"):
        outcome = client.update_products(
            [s.ProductPutCollectionItem(id=i, inventory_tracking="none") for i in (101, 102, 103)]
        )
    assert (outcome.calls, list(outcome.failed)) == (1, [102])


def test_hooks_are_reactivated_in_place(clock):
    sandbox, client = make(clock)
    sandbox.state.create_hook({"scope": "store/cart/created", "destination": "https://other.app"})
    scopes = ["store/order/created", "store/product/updated"]
    headers = {"X-Backorder-Secret": "x"}
    with cassettes.use_cassette("hooks_repair.yaml"):
        client.ensure_hooks(scopes, "https://shop.example/wh", headers)
        for hook in sandbox.state.hooks.values():  # (when recording) BigCommerce gave up on it
            hook["is_active"] = hook["is_active"] and hook["scope"] != scopes[1]
        repaired = client.ensure_hooks(scopes, "https://shop.example/wh", headers)
        listed = client.hooks()
    assert [(r.scope, r.action) for r in repaired] == [("store/product/updated", "reactivated")]
    assert [h.is_active for h in listed] == [True, True, True]


def test_native_limits_and_the_409(clock, bc_address):
    sandbox, client = make(clock, native_backorders=True)
    seed(sandbox, 1, variants_each=1)  # P0-V0 has 0 on hand
    with cassettes.use_cassette("native.yaml"):
        client.set_location_settings(
            1, [s.LocationItemSetting(identity=s.Identity(variant_id=1001), backorder_limit=2)]
        )
        items = client.inventory_items(["P0-V0"])
        ok = client.create_order(
            s.OrderPost(
                billing_address=bc_address,
                products=[s.OrderCatalogProductPost(product_id=101, variant_id=1001, quantity=2)],
            )
        )
        lines = client.order_products(ok.id)
        with pytest.raises(OutOfStock) as refused:
            client.create_order(
                s.OrderPost(
                    billing_address=bc_address,
                    products=[
                        s.OrderCatalogProductPost(product_id=101, variant_id=1001, quantity=1)
                    ],
                )
            )
    assert items[0].locations[0].settings["backorder_limit"] == 2
    assert lines[0].quantity_backordered == 2
    error = refused.value.errors[0]
    assert (error.type, error.variant_id, error.available_quantity_for_backorder) == (
        "OutOfStock",
        1001,
        0,
    )
    assert refused.value.skus == ["P0-V0"]
    assert str(refused.value).endswith(
        "HTTP 409: out of stock: P0-V0 (0 in stock, 0 more on backorder)"
    )


def test_the_documented_409_array_is_read_and_names_every_sku(clock, bc_address):
    """The beta guide's body is an array of ``{status, message, details: {errors}}``."""
    sandbox, client = make(clock, native_backorders=True)
    seed(sandbox, 2, variants_each=1)  # P0-V0 (1001) and P1-V0 (1002): 0 on hand, no limit set
    order = s.OrderPost(
        billing_address=bc_address,
        products=[
            s.OrderCatalogProductPost(product_id=101, variant_id=1001, quantity=1),
            s.OrderCatalogProductPost(product_id=102, variant_id=1002, quantity=2),
        ],
    )
    with pytest.raises(OutOfStock) as refused:
        client.create_order(order)
    assert isinstance(refused.value.body, list) and refused.value.body[0]["status"] == 409
    assert refused.value.skus == ["P0-V0", "P1-V0"]
    assert "P1-V0 (0 in stock, 0 more on backorder)" in str(refused.value)
    assert len(sandbox.state.orders) == 0


# ------------------------------------------------- live sandbox: limits, faults, retries
def test_paces_before_the_limit_and_never_gets_429(clock):
    sandbox, client = make(clock, quota=3)
    seed(sandbox, 1)
    for _ in range(7):
        client.product(101)
    assert client.stats.throttled == 0
    assert sandbox.state.requests == 7  # no call was refused and sent again
    assert client.stats.rate_waits == pytest.approx(60.0)  # 3 + 3 + 1 over three windows
    assert clock.now() == pytest.approx(60.0)


def test_429_from_another_app_waits_the_reset(clock):
    sandbox, client = make(clock, quota=5)
    seed(sandbox, 1)
    clock.sleep(10)
    sandbox.state.rate.take(clock.now())
    sandbox.state.rate.used = 5  # another app spent this window, which resets at 40 s
    assert client.product(101).sku == "P0"
    assert (client.stats.throttled, sandbox.state.requests) == (1, 2)
    assert clock.now() == pytest.approx(40.0)


def test_429_without_rate_limit_headers_backs_off_and_gives_up_clearly(clock):
    """BigCommerce under high load answers 429 without its rate-limit headers
    (api-rate-limits.mdx): wait longer each time, a capped number of times, then fail."""
    sandbox, client = make(clock)
    seed(sandbox, 1)
    sandbox.state.faults.throttle_next = 2
    assert client.product(101).sku == "P0"
    assert (client.stats.throttled, sandbox.state.requests) == (2, 3)
    assert [0 < wait <= top for wait, top in zip(clock.sleeps, [0.5, 1.0], strict=True)] == [
        True,
        True,
    ]
    sandbox.state.faults.throttle_next = 99
    with pytest.raises(RateLimited) as raised:
        client.product(101)
    assert sandbox.state.requests == 3 + 6  # the first try and the policy's 5 retries
    assert str(raised.value) == (
        f"BigCommerce GET {PRODUCT_URL}: HTTP 429: rate limited without rate-limit headers: "
        "BigCommerce is under high load, try again later (gave up after 6 attempts)"
    )
    assert isinstance(raised.value, PlatformError) and raised.value.status == 429


def test_429_retry_after_is_honoured(clock):
    sandbox, client = make(clock)
    seed(sandbox, 1)
    sandbox.state.faults.throttle_next, sandbox.state.faults.retry_after = 1, "7"
    assert client.product(101).id == 101
    assert clock.sleeps == [7.0]


def test_429_naming_its_reset_without_requests_left_waits_the_reset(clock):
    sandbox, client = make(clock)
    seed(sandbox, 1)
    answers = iter([429, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        if next(answers) == 429:
            return httpx.Response(429, headers={"X-Rate-Limit-Time-Reset-Ms": "4000"})
        return sandbox.transport.handle_request(request)

    client = BigCommerceClient(
        "sandbox",
        "sandbox-token",
        api_url=sandbox.url,
        transport=httpx.MockTransport(handler),
        clock=clock,
    )
    assert client.product(101).id == 101
    assert clock.now() == pytest.approx(4.0)


@pytest.mark.parametrize("skew", [1, -1, 5])
def test_pages_are_counted_by_the_client_not_by_current_page(clock, skew):
    """A wrong ``current_page`` neither ends the listing early nor keeps it going."""
    sandbox, client = make(clock)
    seed(sandbox, 600)  # 3 pages of 250
    sandbox.state.faults.page_skew = skew
    products = client.products()
    assert [p.sku for p in products] == [f"P{n}" for n in range(600)]
    assert client.stats.calls == 3


def test_an_empty_page_ends_the_listing(clock):
    """A ``total_pages`` too large: the listing stops at the first empty page."""
    sandbox, client = make(clock)
    seed(sandbox, 3)
    real = sandbox.state._paged

    def inflated(*args, **kwargs):
        page = real(*args, **kwargs)
        page["meta"]["pagination"]["total_pages"] = 1000
        return page

    sandbox.state._paged = inflated
    assert len(client.products()) == 3
    assert client.stats.calls == 2  # the page of 3, then an empty one


def test_5xx_and_timeouts_on_reads_are_retried_with_backoff(clock):
    sandbox, client = make(clock)
    seed(sandbox, 1)
    sandbox.state.faults.fail_next = 2
    assert client.product(101).id == 101
    sandbox.state.faults.timeout_next = 1
    assert client.product(101).id == 101
    assert (client.stats.retries, sandbox.state.requests) == (3, 5)
    assert len(clock.sleeps) == 3  # full jitter under 0.5 s, 1 s, then 0.5 s again
    ceilings = [0.5, 1.0, 0.5]
    assert all(0 < wait <= top for wait, top in zip(clock.sleeps, ceilings, strict=True))


def test_a_post_that_fails_is_never_repeated_blindly(clock, bc_address):
    sandbox, client = make(clock)
    seed(sandbox, 2)
    order = s.OrderPost(
        billing_address=bc_address,
        products=[s.OrderCatalogProductPost(product_id=102, quantity=1)],
    )
    sandbox.state.faults.timeout_next = 1
    with pytest.raises(AmbiguousWrite, match="may have been applied"):
        client.create_order(order)
    assert len(sandbox.state.orders) == 1  # it did land, once
    sandbox.state.faults.fail_next = 1
    with pytest.raises(AmbiguousWrite, match="HTTP 503"):
        client.create_order(order)
    assert len(sandbox.state.orders) == 1 and sandbox.state.requests == 2
    assert client.stats.retries == 0 and clock.slept == 0


def test_retries_give_up_with_a_platform_error_naming_the_call(clock):
    sandbox, client = make(clock)
    seed(sandbox, 1)
    sandbox.state.faults.fail_next = 99
    with pytest.raises(BigCommerceError) as raised:
        client.product(101)
    error = raised.value
    assert isinstance(error, PlatformError)
    assert (error.platform, error.status, error.url) == ("bigcommerce", 503, PRODUCT_URL)
    assert str(error) == (
        f"BigCommerce GET {PRODUCT_URL}: HTTP 503: Sandbox fault (gave up after 6 attempts)"
    )
    assert sandbox.state.requests == 6 and "sandbox-token" not in str(error)


def test_a_dropped_client_leaves_no_mirror_to_a_new_one(clock):
    """The push mirror belongs to its client: a client built later (after a transport
    change, say) knows nothing of what an earlier one pushed, even at the same address."""
    sandbox, _ = make(clock)
    seen: set[int] = set()
    for _ in range(10):
        client = BigCommerceClient("sandbox", "t", api_url=sandbox.url, transport=sandbox.transport)
        assert push.mirror_for(client).products == {}
        push.mirror_for(client).products[101] = {"inventory_tracking": "none"}
        seen.add(id(client))
        del client
    assert len(seen) < 10  # Python did hand a dropped client's id to a new one

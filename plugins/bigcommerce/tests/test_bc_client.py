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

import pytest
from backorder_bigcommerce import push
from backorder_bigcommerce import schemas as s
from backorder_bigcommerce.client import (
    AmbiguousWrite,
    BigCommerceClient,
    BigCommerceError,
    OutOfStock,
)
from backorder_bigcommerce.sandbox import Sandbox

from backorder.errors import PlatformError
from backorder.http import FakeClock
from backorder.testing.cassettes import recorder

CASSETTES = Path(__file__).parent / "cassettes"
cassettes = recorder(CASSETTES)
PRODUCT_URL = "http://bigcommerce.sandbox/stores/sandbox/v3/catalog/products/101?include=variants"

ADDRESS = s.BillingAddressBase(
    first_name="Pat",
    last_name="Lee",
    street_1="1 Main St",
    city="Austin",
    state="Texas",
    zip="78701",
    country="United States",
    country_iso2="US",
    email="pat@example.com",
)


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
    assert (n_products, n_variants, n_levels) == (3, 2, 2)
    assert client.stats.by_route == {
        "PUT /v3/catalog/products": 3,
        "PUT /v3/catalog/variants": 2,
        "PUT /v3/inventory/adjustments/absolute": 2,
    }


def test_order_and_its_products(clock):
    sandbox, client = make(clock)
    seed(sandbox, 2, variants_each=2)
    with cassettes.use_cassette("orders.yaml"):
        placed = client.create_order(
            s.OrderPost(
                billing_address=ADDRESS,
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


def test_native_limits_and_the_409(clock):
    sandbox, client = make(clock, native_backorders=True)
    seed(sandbox, 1, variants_each=1)  # P0-V0 has 0 on hand
    with cassettes.use_cassette("native.yaml"):
        client.set_location_settings(
            1, [s.LocationItemSetting(identity=s.Identity(variant_id=1001), backorder_limit=2)]
        )
        items = client.inventory_items(["P0-V0"])
        ok = client.create_order(
            s.OrderPost(
                billing_address=ADDRESS,
                products=[s.OrderCatalogProductPost(product_id=101, variant_id=1001, quantity=2)],
            )
        )
        lines = client.order_products(ok.id)
        with pytest.raises(OutOfStock) as refused:
            client.create_order(
                s.OrderPost(
                    billing_address=ADDRESS,
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


def test_a_post_that_fails_is_never_repeated_blindly(clock):
    sandbox, client = make(clock)
    seed(sandbox, 2)
    order = s.OrderPost(
        billing_address=ADDRESS,
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


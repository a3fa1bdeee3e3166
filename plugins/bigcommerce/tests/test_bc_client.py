"""The client's interactions, recorded once against the sandbox as vcrpy cassettes.

A missing cassette is recorded from the in-process sandbox (``record_mode="once"``);
committed cassettes replay without it. ``X-Auth-Token`` never reaches a cassette.
test_bc_spec.py validates every recorded request and response against the official
OpenAPI files.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import vcr
from backorder_bigcommerce import schemas as s
from backorder_bigcommerce.client import AmbiguousWrite, BigCommerceClient, OutOfStock
from backorder_bigcommerce.clock import SimClock
from backorder_bigcommerce.sandbox import Sandbox

CASSETTES = Path(__file__).parent / "cassettes"
recorder = vcr.VCR(
    cassette_library_dir=str(CASSETTES),
    record_mode="once",
    filter_headers=["X-Auth-Token"],
    match_on=["method", "path", "query", "body"],
    decode_compressed_response=True,
)

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


def make(clock: SimClock, **options) -> tuple[Sandbox, BigCommerceClient]:
    sandbox = Sandbox(clock=clock, **options)
    client = BigCommerceClient(
        "sandbox",
        "sandbox-token",
        api_url=sandbox.url,
        transport=sandbox.transport,
        clock=clock,
        backoff=0.5,
    )
    return sandbox, client


@pytest.fixture
def clock():
    return SimClock()


def seed(sandbox: Sandbox, products: int, variants_each: int = 0) -> None:
    for n in range(products):
        variants = [(f"P{n}-V{k}", k) for k in range(variants_each)] or None
        sandbox.state.add_product(f"Product {n}", f"P{n}", n % 7, variants=variants)


def test_catalog_pages_of_250_with_variants(clock):
    sandbox, client = make(clock)
    seed(sandbox, 260, variants_each=2)
    with recorder.use_cassette("catalog_pages.yaml"):
        products = client.products()
    assert len(products) == 260 and all(len(p.variants) == 2 for p in products)
    assert products[-1].variants[1].sku == "P259-V1"
    assert client.stats.calls == 2  # 250 + 10


def test_batches_use_the_real_limits(clock):
    sandbox, client = make(clock)
    seed(sandbox, 25, variants_each=3)
    products = list(sandbox.state.products)
    variants = [v for v in sandbox.state.variants]
    with recorder.use_cassette("batches.yaml"):
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


def test_paces_before_the_limit_and_never_gets_429(clock):
    sandbox, client = make(clock, quota=3)
    seed(sandbox, 1)
    with recorder.use_cassette("pacing.yaml"):
        for _ in range(7):
            client.product(101)
    assert client.stats.throttled == 0
    assert client.stats.rate_waits == pytest.approx(60.0)  # 3 + 3 + 1 over three windows
    assert clock.now() == pytest.approx(60.0)


def test_429_from_another_app_waits_the_reset(clock):
    sandbox, client = make(clock, quota=5)
    seed(sandbox, 1)
    sandbox.state.rate.take(0.0)
    sandbox.state.rate.used = 5  # another app spent this window
    with recorder.use_cassette("throttled.yaml"):
        assert client.product(101).sku == "P0"
    assert client.stats.throttled == 1
    assert clock.now() == pytest.approx(30.0)


def test_5xx_and_timeouts_on_reads_are_retried_with_backoff(clock):
    sandbox, client = make(clock)
    seed(sandbox, 1)
    sandbox.state.faults.fail_next = 2
    with recorder.use_cassette("retry_reads.yaml"):
        assert client.product(101).id == 101
        sandbox.state.faults.timeout_next = 1
        assert client.product(101).id == 101
    assert client.stats.retries == 3
    assert 0 < clock.slept < 0.5 + 1.0 + 0.5  # full jitter: below 0.5 s, 1 s, then 0.5 s


def test_a_post_that_fails_is_never_repeated_blindly(clock):
    sandbox, client = make(clock)
    seed(sandbox, 2)
    order = s.OrderPost(
        billing_address=ADDRESS,
        products=[s.OrderCatalogProductPost(product_id=102, quantity=1)],
    )
    with recorder.use_cassette("post_not_retried.yaml"):
        sandbox.state.faults.timeout_next = 1
        with pytest.raises(AmbiguousWrite):
            client.create_order(order)
        sandbox.state.faults.fail_next = 1
        with pytest.raises(AmbiguousWrite):
            client.create_order(order)
    assert client.stats.calls == 2 and client.stats.retries == 0


def test_order_and_its_products(clock):
    sandbox, client = make(clock)
    seed(sandbox, 2, variants_each=2)
    with recorder.use_cassette("orders.yaml"):
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
    with recorder.use_cassette("hooks.yaml"):
        first = client.ensure_hooks(scopes, "https://shop.example/wh", {"X-Backorder-Secret": "x"})
        again = client.ensure_hooks(scopes, "https://shop.example/wh", {"X-Backorder-Secret": "x"})
    assert [h.scope for h in first] == scopes and again == []


def test_native_limits_and_the_409(clock):
    sandbox, client = make(clock, native_backorders=True)
    seed(sandbox, 1, variants_each=1)  # P0-V0 has 0 on hand
    with recorder.use_cassette("native.yaml"):
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

"""What the plugin relies on is sourced: limits against the official spec files, the README's
"unconfirmed" list against ``unconfirmed.py``, and the warning level's documented meaning."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from backorder_bigcommerce import limits
from backorder_bigcommerce import unconfirmed as u
from backorder_bigcommerce.client import BigCommerceClient, BigCommerceError
from backorder_bigcommerce.mapping import low_stock_level
from backorder_bigcommerce.sandbox import Sandbox
from backorder_bigcommerce.schemas import ProductPutCollectionItem, ProductVariantPut

from backorder.http import FakeClock

README = Path(__file__).parents[1] / "README.md"


@pytest.fixture(scope="module")
def spec(bc_specs_dir):
    loaded: dict[str, dict] = {}

    def read(name: str) -> dict:
        if name not in loaded:
            loaded[name] = yaml.safe_load((bc_specs_dir / name).read_text(encoding="utf-8"))
        return loaded[name]

    return read


def readme_section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def test_the_batch_and_page_limits_are_the_spec_files_own(spec):
    products = spec("products_catalog.v3.yml")
    put = products["paths"]["/catalog/products"]["put"]["description"]
    assert f"Batches are limited to {limits.BATCH_PRODUCTS} products." in put
    assert products["components"]["parameters"]["LimitParam"]["schema"]["maximum"] == (
        limits.PAGE_LIMIT
    )
    variants = spec("product-variants_catalog.v3.yml")["paths"]["/catalog/variants"]["put"]
    assert f"the limit is {limits.BATCH_VARIANTS} variants" in variants["description"]
    inventory = spec("inventory.v3.yml")["paths"]
    for path, method in [
        ("/inventory/adjustments/absolute", "put"),
        ("/inventory/locations/{location_id}/items", "put"),
    ]:
        assert f"Limit of {limits.BATCH_INVENTORY} items" in inventory[path][method]["description"]
    items = inventory["/inventory/items"]["get"]["description"]
    assert f"Limit of {limits.INVENTORY_PAGE_LIMIT} items" in items


@pytest.mark.parametrize(
    ("path", "items"),
    [
        ("products", [ProductPutCollectionItem(id=101)] * (limits.BATCH_PRODUCTS + 1)),
        ("variants", [ProductVariantPut(id=1001)] * (limits.BATCH_VARIANTS + 1)),
    ],
)
def test_the_sandbox_refuses_a_batch_over_the_limit_with_413(path, items):
    clock = FakeClock()
    sandbox = Sandbox(clock=clock)
    sandbox.seed_demo()
    client = BigCommerceClient(
        "sandbox", "sandbox-token", api_url=sandbox.url, transport=sandbox.transport, clock=clock
    )
    with pytest.raises(BigCommerceError) as refused:
        client.request("PUT", f"/v3/catalog/{path}", json=[i.body() for i in items])
    assert refused.value.status == 413
    assert "The maximum items allowed in the array is" in str(refused.value)


def test_the_readme_lists_exactly_what_unconfirmed_py_holds():
    section = readme_section("Unconfirmed BigCommerce behaviour")
    listed = re.findall(r"^- `([A-Z_]+)`", section, flags=re.MULTILINE)
    assert listed == list(u.UNCONFIRMED)
    assert all(hasattr(u, name) for name in u.UNCONFIRMED)
    constants = [n for n in vars(u) if n.isupper() and n != "UNCONFIRMED"]
    assert sorted(constants) == sorted(u.UNCONFIRMED)


def test_every_source_the_readme_cites_is_there(bc_specs_dir):
    section = readme_section("What the plugin relies on")
    files = set(re.findall(r"`([\w./-]+\.yml)`", section))
    assert files >= {"products_catalog.v3.yml", "webhooks.v3.yml", "inventory.v3.yml"}
    for name in files:
        assert (bc_specs_dir / name).exists(), name


def test_warning_level_maps_to_the_same_low_stock_level(spec):
    """BigCommerce: "When the productʼs inventory level drops below the warning level, the
    store owner will be informed" — the core's rule (seed 001: "drops below")."""
    text = spec("products_catalog.v3.yml")["components"]["schemas"]["product_Base_response"]
    described = text["properties"]["inventory_warning_level"]["description"]
    assert "drops below the warning level" in described
    assert low_stock_level(5) == 5 and low_stock_level(5, variant=True) == 5
    assert low_stock_level(0) is None  # no warning set: the store's default applies


def test_the_variant_reading_is_one_constant(monkeypatch):
    monkeypatch.setattr(u, "VARIANT_WARNING_IS_BELOW", False)  # "hits this level"
    assert low_stock_level(5, variant=True) == 6 and low_stock_level(5) == 5


def test_a_sync_takes_the_warning_levels_as_low_stock_levels(bc_shop_for, bc_sandbox):
    bc_sandbox.state.add_product("Head torch", "TORCH", 9, warning_level=4)
    bc_sandbox.state.variants[1003].warning_level = 2  # MUG-RED
    service, _client, _state = bc_shop_for("app")
    assert service.item("TORCH").policy.low_stock_level == 4
    assert service.item("MUG-RED").policy.low_stock_level == 2
    assert service.item("MUG-BLUE").policy.low_stock_level == 0  # no warning level
    translated = service.platform.translate_item({"sku": "X", "inventory_warning_level": 3})
    assert translated.low_stock_level == 3

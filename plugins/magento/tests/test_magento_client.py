"""The REST client against recorded traffic (vcrpy cassettes recorded from the local sandbox).

The core convention (:func:`backorder.testing.cassettes.recorder`): replay only; to
re-record after changing the client or the sandbox::

    BACKORDER_RECORD_CASSETTES=1 .venv/bin/pytest plugins/magento/tests/test_magento_client.py

which serves a fresh sandbox on 127.0.0.1 and rewrites ``cassettes/*.yaml``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from backorder_magento.client import MagentoClient, MagentoError
from backorder_magento.sandbox import SandboxStore, ThreadedSandbox, create_app

from backorder.http import SyncASGITransport
from backorder.testing.cassettes import recorder, recording

TOKEN = "sandbox-token"
REPLAY_URL = "http://magento.replay/rest/default"
cassettes = recorder(Path(__file__).parent / "cassettes")


@pytest.fixture
def base_url():
    if not recording():
        yield REPLAY_URL
        return
    with ThreadedSandbox(SandboxStore(token=TOKEN)) as live:
        yield live


@pytest.fixture
def client(base_url):
    with MagentoClient(base_url, TOKEN) as magento:
        yield magento


def test_reads_products_stock_items_and_statuses(client):
    with cassettes.use_cassette("magento_reads.yaml"):
        products = list(client.products(page_size=2))  # three pages of the five seeded
        assert [p["sku"] for p in products] == ["MB-01", "MB-02", "MB-03", "MB-04", "MB-05"]
        assert products[1]["extension_attributes"]["stock_item"]["min_qty"] == -5
        item = client.stock_item("MB-02")
        assert (item.backorders, item.use_config_backorders, item.qty) == (2, False, 0)
        status = client.stock_status("MB-04")
        assert (
            status["stock_status"] == 0 and status["stock_item"]["stock_status_changed_auto"] == 1
        )
        low = [i.product_id for i in client.low_stock(1)]
        assert low == [2, 3, 4]


def test_msi_salable_quantity_endpoints(client):
    with cassettes.use_cassette("magento_msi.yaml"):
        assert client.salable_qty("MB-02") == 5  # qty 0 - min_qty -5
        ok = client.is_salable_for_requested_qty("MB-02", 5)
        assert ok == {"salable": True, "errors": []}
        refused = client.is_salable_for_requested_qty("MB-02", 6)
        assert refused == {  # MSI's sufficient conditions, each failing, in di.xml's order
            "salable": False,
            "errors": [
                {"code": "back_order-disabled", "message": "Backorders are disabled"},
                {"code": "manage_stock-enabled", "message": "Manage stock is enabled"},
                {
                    "code": "is_salable_with_reservations-not_enough_qty",
                    "message": "Not enough items for sale",
                },
            ],
        }
        manual = client.is_salable_for_requested_qty("MB-03", 1)  # set out of stock by hand
        assert manual["errors"] == [{
            "code": "is_any_source_item_in_stock-no_source_items_in_stock",
            "message": "There are no source items with the in stock status",
        }]
        bad = client.is_salable_for_requested_qty("MB-01", 1.5)
        assert bad["errors"][0]["message"] == "You cannot use decimal quantity for this product."


def test_put_stock_item_applies_magento_save_rules(client):
    with cassettes.use_cassette("magento_put.yaml"):
        item = client.stock_item("MB-01")
        assert client.update_stock_item("MB-01", item.item_id, {"qty": 0}) == item.item_id
        after = client.stock_item("MB-01")  # sold out with backorders off: out automatically
        assert (after.is_in_stock, after.stock_status_changed_auto) == (False, 1)
        client.update_stock_item(
            "MB-01", item.item_id, {"backorders": 1, "use_config_backorders": False}
        )
        allowed = client.stock_item("MB-01")  # 2.4.8: back in stock once backorders allow it
        assert (allowed.is_in_stock, allowed.backorders) == (True, 1)
        client.update_stock_item("MB-01", item.item_id, {"is_in_stock": False})
        manual = client.stock_item("MB-01")  # set out by hand: stays out (seed 004's case)
        assert (manual.is_in_stock, manual.stock_status_changed_auto) == (False, 0)


def test_errors_carry_magento_messages(client, base_url):
    with cassettes.use_cassette("magento_errors.yaml"):
        with pytest.raises(MagentoError, match="HTTP 404: The product that was requested doesn'"):
            client.stock_item("NOPE")
        with pytest.raises(MagentoError, match="HTTP 404: The entity that was requested doesn'"):
            client.order("999")
        with (
            MagentoClient(base_url, "wrong") as stranger,
            pytest.raises(
                MagentoError,
                match=r"HTTP 401: The consumer isn't authorized to access Magento_CatalogInventory"
                r".*oauth/consumer/enable_integration_as_bearer = 1",
            ),
        ):
            stranger.stock_item("MB-01")


def test_an_integration_token_without_the_bearer_setting_is_named_in_the_error():
    # Magento 2.4.4+: an integration token as Bearer needs enable_integration_as_bearer = 1,
    # and its refusal reads like a missing ACL resource: the error says which setting
    sandbox = SandboxStore(token=TOKEN, integration_as_bearer=False)
    transport = SyncASGITransport(create_app(sandbox))
    with (
        MagentoClient(REPLAY_URL, TOKEN, transport=transport) as refused,
        pytest.raises(MagentoError) as error,
    ):
        refused.stock_item("MB-01")
    assert error.value.status == 401
    assert "isn't authorized" in str(error.value)
    assert "Allow OAuth Access Tokens to be used as standalone Bearer tokens" in str(error.value)

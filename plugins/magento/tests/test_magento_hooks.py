"""The Magento platform object against the in-process sandbox: pushes, orders, levels."""

from __future__ import annotations

from backorder.models import ItemView, Mode, StoreSettings


def _view(**kw) -> ItemView:
    base = dict(sku="MB-01", assigned=True, tracked=True, on_hand=0, salable=4, status="backorder",
                purchasable=True, mode=Mode.NOTIFY, threshold=4, backordered=0, state="enabled",
                policy=StoreSettings().defaults)  # fmt: skip
    return ItemView(**(base | kw))


def test_apply_items_writes_backorder_settings(plugin_manager, magento_store, magento_sandbox):
    plugin_manager.platform("magento").apply_items(magento_store, [_view()], "assign")
    item = magento_sandbox.items["MB-01"]
    assert (item.backorders, item.use_config_backorders, item.min_qty) == (2, False, -4)
    assert item.qty == 12  # qty is Magento's: never written
    plugin_manager.platform("magento").apply_items(
        magento_store, [_view(assigned=False)], "unassign:track"
    )
    assert magento_sandbox.items["MB-01"].use_config_backorders


def test_fetch_order_gives_lines_and_sandbox_keeps_qty_backordered(
    plugin_manager, magento_store, magento_sandbox
):
    status, placed = magento_sandbox.place_order([{"sku": "MB-02", "qty": 3}])
    assert status == 200 and placed["items"][0]["qty_backordered"] == 3
    order = plugin_manager.platform("magento").fetch_order(magento_store, "1")
    assert [(line.sku, line.qty) for line in order.lines] == [("MB-02", 3)]
    refused = magento_sandbox.place_order([{"sku": "MB-02", "qty": 3}])  # limit 5, 3 reserved
    assert refused == (400, {"message": "The requested qty is not available", "parameters": [],
                             "code": "qty_available"})  # fmt: skip


def test_levels_and_catalog(plugin_manager, magento_store):
    levels = plugin_manager.platform("magento").fetch_levels(magento_store, ["MB-01"])
    assert [(level.sku, level.on_hand) for level in levels] == [("MB-01", 12)]
    catalog = plugin_manager.platform("magento").fetch_catalog(magento_store)
    assert {c.sku: c.tracked for c in catalog}["MB-05"] is False


def test_commands_are_registered(plugin_manager):
    import click

    cli = click.Group(commands={"sandbox": click.Group("sandbox")})
    plugin_manager.add_commands(cli)
    assert "magento" in cli.commands["sandbox"].commands
    assert "magento-repair-stock-status" in cli.commands

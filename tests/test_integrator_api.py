"""What an integrator codes against: the public names, typed refusals, errors by kind."""

import subprocess
import sys

import pytest
import sqlalchemy as sa
from core_support import T0

import backorder
from backorder import (
    BackorderPolicy,
    Conflict,
    ItemInput,
    LineRequest,
    OrderIn,
    RefusalReason,
    StorageError,
)


def place(service, order_id, *lines, enforce=True):
    return service.place_order(
        OrderIn(order_id=order_id, placed_at=T0,
                lines=[LineRequest(sku=s, qty=q) for s, q in lines]),
        enforce=enforce,
    )


@pytest.fixture
def shop(store_service):
    service = store_service(defaults=BackorderPolicy(threshold=3, max_sale_qty=10))
    service.upsert_catalog([
        ItemInput(sku="TEE", product_id="1", on_hand=2, assigned=False),
        ItemInput(sku="CAP", product_id="2", on_hand=5, assigned=False),
    ], at=T0)
    service.assign(["TEE", "CAP"])
    return service


class TestPublicApi:
    def test_the_names_the_issue_lists_import_from_the_package(self):
        from backorder import (  # noqa: F401
            Database,
            LineRequest,
            OrderIn,
            StoreService,
            hookimpl,
            load_config,
            make_manager,
        )

        assert StoreService.__module__ == "backorder.engine"

    def test_every_name_in_all_resolves(self):
        for name in backorder.__all__:
            assert getattr(backorder, name) is not None, name
        assert {"OrderResult", "RefusalReason", "StorageError", "Conflict"} <= set(
            backorder.__all__
        )

    def test_an_unknown_name_is_an_attribute_error(self):
        with pytest.raises(AttributeError, match="Nope"):
            backorder.Nope  # noqa: B018

    def test_importing_the_package_loads_no_engine(self):
        code = "import sys, backorder; print('backorder.engine' in sys.modules)"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert out.stdout.strip() == "False", out.stderr


class TestRefusalReasons:
    @pytest.mark.parametrize(
        ("lines", "reason"),
        [
            ((("NOPE", 1),), RefusalReason.UNKNOWN_SKU),
            ((("TEE", 6),), RefusalReason.OVER_THRESHOLD),
            ((("CAP", 11),), RefusalReason.MAX_SALE_QTY),
        ],
    )
    def test_a_refused_line_carries_its_reason_as_an_enum(self, shop, lines, reason):
        result = place(shop, "o1", *lines)
        assert not result.accepted
        assert result.lines[0].reason is reason
        assert shop.order("o1").lines[0].reason is reason  # read back from storage too

    def test_in_a_refused_order_every_line_says_not_accepted(self, shop):
        result = place(shop, "o2", ("CAP", 1), ("TEE", 6))
        assert [line.accepted for line in result.lines] == [False, False]
        first, second = result.lines
        assert first.reason is RefusalReason.ORDER_REFUSED
        assert (first.in_stock, first.backordered) == (0, 0)
        assert second.reason is RefusalReason.OVER_THRESHOLD
        stored = shop.order("o2")
        assert [line.accepted for line in stored.lines] == [False, False]
        assert shop.item("CAP").on_hand == 5

    def test_an_accepted_line_has_no_reason(self, shop):
        result = place(shop, "o3", ("TEE", 1))
        assert result.accepted and result.lines[0].reason is None

    def test_an_order_the_platform_took_keeps_the_broken_rule_as_reason(self, shop):
        result = place(shop, "o4", ("TEE", 9), enforce=False)
        assert result.accepted and result.lines[0].reason is RefusalReason.OVER_THRESHOLD


class TestOrderIdReuse:
    def test_the_same_lines_again_are_a_replay(self, shop):
        first = place(shop, "r1", ("TEE", 1))
        again = place(shop, "r1", ("TEE", 1))
        assert again.duplicate and again.lines == first.lines

    def test_other_lines_under_a_used_id_are_a_conflict_and_change_nothing(self, shop):
        place(shop, "r2", ("TEE", 1))
        with pytest.raises(Conflict, match="r2"):
            place(shop, "r2", ("CAP", 4))
        assert shop.item("CAP").on_hand == 5
        assert [line.sku for line in shop.order("r2").lines] == ["TEE"]

    def test_a_batch_reusing_an_id_with_other_lines_is_a_conflict(self, shop):
        orders = [OrderIn(order_id="b1", lines=[LineRequest(sku="TEE", qty=1)]),
                  OrderIn(order_id="b1", lines=[LineRequest(sku="CAP", qty=2)])]
        with pytest.raises(Conflict):
            shop.place_orders(orders)
        assert shop.order("b1") is None  # the batch commits whole or not at all


class TestDriverErrors:
    def test_a_driver_error_in_a_write_becomes_storage_error(self, shop):
        with shop.db.transaction() as conn:
            conn.execute(sa.text("DROP TABLE order_lines"))
        with pytest.raises(StorageError, match="order_lines") as caught:
            place(shop, "x1", ("TEE", 1))
        assert isinstance(caught.value.__cause__, shop.db.driver_errors)

    def test_a_driver_error_in_a_read_becomes_storage_error(self, shop):
        place(shop, "x2", ("TEE", 1))
        with shop.db.transaction() as conn:
            conn.execute(sa.text("DROP TABLE order_lines"))
        with pytest.raises(StorageError):
            shop.order("x2")


class TestSourceRefs:
    def test_a_repeated_ref_with_the_same_figure_is_a_copy(self, shop):
        from backorder import StockLevel

        shop.apply_levels([StockLevel(sku="CAP", on_hand=9, source_ref="read-1")], source="sync")
        place(shop, "s1", ("CAP", 2))
        shop.apply_levels([StockLevel(sku="CAP", on_hand=9, source_ref="read-1")], source="sync")
        assert shop.item("CAP").on_hand == 7  # the copy did not undo the sale

    def test_a_repeated_ref_with_another_figure_is_a_conflict(self, shop):
        from backorder import StockLevel

        shop.apply_levels([StockLevel(sku="CAP", on_hand=9, source_ref="read-1")], source="sync")
        with pytest.raises(Conflict, match="read-1"):
            shop.apply_levels(
                [StockLevel(sku="TEE", on_hand=4, source_ref="read-2"),
                 StockLevel(sku="CAP", on_hand=4, source_ref="read-1")], source="sync")
        assert (shop.item("CAP").on_hand, shop.item("TEE").on_hand) == (9, 2)

    def test_an_unnamed_reading_is_applied_whenever_the_figure_differs(self, shop):
        from backorder import StockLevel

        seen = []
        for figure in (7, 4, 7):  # keyed on the figure, the second 7 used to be skipped
            shop.apply_levels([StockLevel(sku="CAP", on_hand=figure)], source="sync")
            seen.append(shop.item("CAP").on_hand)
        assert seen == [7, 4, 7]

    def test_the_core_platform_applies_an_edited_catalog_file(self, tmp_path, backorder_db,
                                                               plugin_manager):
        import os

        from backorder import StoreConfig, StoreService

        path = tmp_path / "catalog.yaml"
        store = StoreConfig(name="c", platform="core", connection={"catalog_file": str(path)})
        service = StoreService(backorder_db, store, plugin_manager)
        for n, figure in enumerate((5, 3)):
            path.write_text(f"- {{sku: A, product_id: '1', on_hand: {figure}}}\n")
            os.utime(path, ns=(n * 10**9, n * 10**9))
            service.sync_from_platform()
            assert service.item("A").on_hand == figure


def test_a_driver_error_outside_the_service_is_storage_error_too(shop):
    from backorder.webhooks import WebhookEvent, record_deliveries

    with shop.db.transaction() as conn:
        conn.execute(sa.text("DROP TABLE webhook_deliveries"))
    with pytest.raises(StorageError, match="webhook_deliveries"):
        record_deliveries(shop, [WebhookEvent(kind="ignored", delivery_id="d1")])

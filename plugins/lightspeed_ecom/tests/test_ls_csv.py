"""The Lightspeed product CSV: the seed's bulk-edit and new-product imports, and a round trip."""

from __future__ import annotations

import pytest
from backorder_lightspeed_ecom.commands import import_items
from backorder_lightspeed_ecom.csv_dialect import LightspeedCsv, read_csv, write_csv

from backorder.models import Mode

BULK_EDIT = """Internal_ID,Internal_Variant_ID,EN_Title_Short,Stock_Track,Stock_Disable_Sold_Out
5,50,Organic tee,Y,N
6,60,Enamel mug,Y,Y
7,70,Gift card,N,
"""


def test_seed_bulk_edit_file_enables_backorders_per_row():
    first, second, third = read_csv(BULK_EDIT, name="edit.csv")
    assert (first.sku, first.variant_id, first.product_id) == ("lightspeed-50", "50", "5")
    assert first.tracked and first.mode is Mode.NOTIFY and first.threshold is None
    assert second.tracked and second.mode is Mode.OFF
    assert third.tracked is False and "mode" not in third.model_fields_set


def test_new_product_minimum_columns_in_any_language():
    items = read_csv("NL_Title_Short;Stock_Track;Stock_Disable_Sold_Out\nKoffiemok;Y;N\n")
    assert items[0].name == "Koffiemok" and items[0].mode is Mode.NOTIFY
    assert items[0].sku == "new:Koffiemok" and items[0].assigned is False


def test_backorders_without_tracking_names_the_row():
    text = BULK_EDIT + "8,80,Poster,N,N\n"
    with pytest.raises(ValueError) as err:
        read_csv(text, name="edit.csv")
    message = str(err.value)
    assert message.startswith("edit.csv: row 5: ")
    assert "Stock_Track" in message and "Stock_Disable_Sold_Out" in message


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("5,50,Tee,yes,N", "Stock_Track"),
        ("5,50,Tee,Y,", "Stock_Disable_Sold_Out"),
        ("5,abc,Tee,Y,N", "Internal_Variant_ID"),
    ],
)
def test_bad_cells_name_row_and_column(row, column):
    header = BULK_EDIT.splitlines()[0]
    with pytest.raises(ValueError, match=f"f.csv: row 2: column {column}"):
        read_csv(f"{header}\n{row}\n", name="f.csv")


def test_missing_title_column_is_named():
    with pytest.raises(ValueError, match="XX_Title_Short"):
        LightspeedCsv().read_row({"Stock_Track": "Y", "Stock_Disable_Sold_Out": "N"})


def test_export_import_round_trip_gives_identical_state(store_service, backorder_db):
    source = store_service(name="a", platform="lightspeed_ecom")
    text = (
        "Internal_ID,Internal_Variant_ID,SKU,EN_Title_Short,Stock_Track,"
        "Stock_Disable_Sold_Out,Stock_Level,Stock_Min,Stock_Alert\n"
        "5,50,TEE,Organic tee,Y,N,-2,,3\n"
        "6,60,MUG,Enamel mug,Y,Y,7,1,0\n"
        "7,70,,Gift card,N,Y,0,,0\n"
    )
    source.upsert_catalog(read_csv(text))
    exported = write_csv(source.items())
    target = store_service(name="b", platform="lightspeed_ecom")
    target.upsert_catalog(read_csv(exported))
    assert write_csv(target.items()) == exported
    assert [v.model_dump() for v in target.items()] == [v.model_dump() for v in source.items()]
    tee = target.item("TEE")
    assert (tee.on_hand, tee.mode, tee.threshold, tee.policy.low_stock_level) == (
        -2,
        Mode.NOTIFY,
        None,
        3,
    )
    assert target.item("lightspeed-70").tracked is False


def test_import_edits_known_items_and_refuses_tracking_changes_whole(store_service):
    service = store_service(platform="lightspeed_ecom")
    service.upsert_catalog(read_csv(BULK_EDIT))
    edit = BULK_EDIT.replace("6,60,Enamel mug,Y,Y", "6,60,Enamel mug,Y,N")
    assert import_items(service, read_csv(edit)) == (0, 3)
    assert service.item("lightspeed-60").mode is Mode.NOTIFY
    before = [v.model_dump() for v in service.items()]
    bad = edit.replace("5,50,Organic tee,Y,N", "5,50,Organic tee,Y,Y").replace(
        "7,70,Gift card,N,", "7,70,Gift card,Y,Y"
    )
    with pytest.raises(ValueError, match="row 4: column Stock_Track"):
        import_items(service, read_csv(bad), "bad.csv")
    assert [v.model_dump() for v in service.items()] == before

"""The import's row layouts are spelled out for the type checker; they must stay the ones the
column specification and the items table derive, or an import would read the wrong cells."""

from backorder.imports.columns import FIELDS
from backorder.imports.reading import Slots
from backorder.storage.fastpath.csv_import import ITEM_COLUMNS, ImportItem


def test_slots_name_every_field_of_a_row_in_order():
    assert Slots._fields == FIELDS


def test_an_import_item_has_a_field_per_column_it_reads():
    assert ImportItem._fields == ITEM_COLUMNS

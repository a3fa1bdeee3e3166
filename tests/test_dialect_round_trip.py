"""Every CSV dialect reads back what it writes: export, import the file unchanged, and no
item's name, stock or settings change (the Magento dialect's import used to blank every
product name); a second export is the same file (issue 17)."""

from __future__ import annotations

import io
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backorder.config import StoreConfig
from backorder.engine import StoreService
from backorder.imports import export_csv, import_csv
from backorder.imports.dialect import dialects
from backorder.models import MAX_QTY, ItemInput
from backorder.plugins import make_manager
from backorder.storage.db import Database

PM = make_manager()
DIALECTS = sorted(dialects(PM))
_stores = itertools.count()


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('dialects')}/round.db")
    yield database
    database.dispose()


names = st.text(
    st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30
).map(str.strip).filter(bool) | st.sampled_from(["=1+1", "+cmd", "@SUM(A1)", "-x", "'quoted"])
items = st.lists(
    st.tuples(
        names,
        st.integers(-1000, MAX_QTY),
        st.none() | st.integers(0, 1000),
    ),
    min_size=1,
    max_size=6,
)


@pytest.mark.parametrize("dialect", DIALECTS)
@settings(max_examples=15, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow
])
@given(rows=items)
def test_export_then_import_changes_nothing(db, dialect, rows):
    store = StoreConfig(name=f"s{next(_stores)}", platform="core")
    service = StoreService(db, store, pm=PM)
    service.upsert_catalog(
        [
            ItemInput(sku=f"SKU-{n}", product_id=str(n + 1), name=name, on_hand=qty, assigned=False)
            for n, (name, qty, _) in enumerate(rows)
        ]
    )
    service.assign(
        [ItemInput(sku=f"SKU-{n}", threshold=limit) for n, (_, _, limit) in enumerate(rows)]
    )
    before = {v.sku: v for v in service.items(assigned=True)}
    first = io.StringIO()
    export_csv(service, first, dialect=dialect)
    report = import_csv(
        service, first.getvalue().encode(), mode="update", dialect=dialect, name="round.csv"
    )
    after = {v.sku: v for v in service.items(assigned=True)}
    for sku, was in before.items():
        now = after[sku]
        assert (now.name, now.on_hand, now.salable, now.status, now.mode) == (
            was.name, was.on_hand, was.salable, was.status, was.mode
        ), (dialect, sku, report.changes)
    again = io.StringIO()
    export_csv(service, again, dialect=dialect)
    assert again.getvalue() == first.getvalue()

"""The web app filters and counts items by status in SQL: that SQL must be the rules' status.

Any item state, any overrides and any store defaults: the status the database computes
(:func:`backorder.admin.queries.status_column`) and the status stored on the rows once the
store's defaults are applied (:func:`backorder.storage.item_status.refresh`) equal
:func:`backorder.rules.view`'s, on SQLite and on PostgreSQL. Were they to differ, a
merchant filtering on "backorder" would miss items the rest of the app calls backordered.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backorder import rules
from backorder.admin.queries import status_column, totals
from backorder.models import BackorderPolicy, BackorderState, ItemState, Mode, StoreSettings
from backorder.storage import item_status, records
from backorder.storage.db import Database
from backorder.storage.schema import item_status_defaults, items

AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
small = st.integers(min_value=0, max_value=6)

overrides = st.fixed_dictionaries(
    {},
    optional={
        "mode": st.sampled_from([m.value for m in Mode]),
        "threshold": st.none() | small,
        "low_stock_level": small,
        "out_of_stock_threshold": small,
        "min_sale_qty": st.integers(min_value=1, max_value=3),
    },
)

item_states = st.builds(
    ItemState,
    sku=st.just("x"),
    assigned=st.booleans(),
    tracked=st.booleans(),
    on_hand=st.integers(min_value=-8, max_value=8),
    state=st.sampled_from(list(BackorderState)),
    purchasing_disabled=st.booleans(),
    overrides=overrides,
)

store_settings = st.builds(
    StoreSettings,
    defaults=st.builds(
        BackorderPolicy,
        mode=st.sampled_from(list(Mode)),
        threshold=st.none() | small,
        low_stock_level=small,
        out_of_stock_threshold=small,
    ),
)


def check(db: Database, states: list[ItemState], store_settings: StoreSettings) -> None:
    store = f"s{uuid.uuid4().hex[:12]}"
    with db.transaction() as conn:
        for n, state in enumerate(states):
            records.insert_item(conn, store, state.model_copy(update={"sku": f"sku{n}"}), AT)
    try:
        with db.transaction() as conn:
            assert item_status.refresh(conn, store, store_settings)  # a new store's defaults
            assert not item_status.refresh(conn, store, store_settings)  # nothing changed
        with db.read() as conn:
            status = status_column(conn.dialect.name, store_settings)
            found = dict(
                conn.execute(sa.select(items.c.sku, status).where(items.c.store == store)).all()
            )
            stored = dict(
                conn.execute(
                    sa.select(items.c.sku, items.c.status).where(items.c.store == store)
                ).all()
            )
            counted = totals(conn, store, store_settings).statuses
        expected = {
            f"sku{n}": rules.view(state.model_copy(update={"sku": f"sku{n}"}), store_settings)
            for n, state in enumerate(states)
        }
        assert found == {sku: view.status.value for sku, view in expected.items()}
        assert stored == found
        for status_name, count in counted.items():
            assert count == sum(
                1 for v in expected.values() if v.assigned and v.status.value == status_name
            )
    finally:
        with db.transaction() as conn:
            conn.execute(items.delete().where(items.c.store == store))
            conn.execute(item_status_defaults.delete().where(
                item_status_defaults.c.store == store))


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(states=st.lists(item_states, min_size=1, max_size=12), defaults=store_settings)
def test_sqlite_status_is_the_rules_status(backorder_db, states, defaults):
    check(backorder_db, states, defaults)


@pytest.mark.postgres
@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(states=st.lists(item_states, min_size=1, max_size=12), defaults=store_settings)
def test_postgresql_status_is_the_rules_status(pg_db, states, defaults):
    check(pg_db, states, defaults)


@pytest.fixture(scope="module")
def pg_db(pg_url):
    db = Database(pg_url)
    yield db
    db.dispose()

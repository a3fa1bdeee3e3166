"""The storefront read model's views as written: the speller's JSON text is exactly what
``rules.view(...).model_dump_json()`` gives, for any item and store settings, whether its
state was met before (under another identity) or not."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from backorder import rules
from backorder.models import (
    BackorderPolicy,
    BackorderState,
    DisableReason,
    ItemState,
    StoreSettings,
)
from backorder.storefront_api.readmodel import Speller

texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
"""Names and IDs with quotes, backslashes, control characters and any Unicode."""

item_states = st.builds(
    ItemState,
    sku=texts.filter(bool),
    product_id=st.none() | texts,
    variant_id=st.none() | texts,
    name=texts,
    assigned=st.booleans(),
    tracked=st.booleans(),
    on_hand=st.integers(-30, 30),
    incoming_qty=st.integers(0, 5),
    back_in_stock_date=st.none() | st.datetimes(
        min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 1, 1),
        timezones=st.just(dt.UTC),
    ),
    state=st.sampled_from(BackorderState),
    disabled_reason=st.none() | st.sampled_from(DisableReason),
    purchasing_disabled=st.booleans(),
    overrides=st.fixed_dictionaries({}, optional={
        "mode": st.sampled_from(["off", "silent", "notify"]),
        "threshold": st.none() | st.integers(0, 20),
        "low_stock_level": st.integers(0, 5),
    }),
)
store_settings = st.builds(
    StoreSettings,
    defaults=st.builds(
        BackorderPolicy,
        mode=st.sampled_from(["off", "silent", "notify"]),
        threshold=st.none() | st.integers(0, 20),
        low_stock_level=st.integers(0, 5),
    ),
)


@settings(max_examples=300)
@given(store_settings, st.lists(item_states, min_size=1, max_size=8), texts, texts)
def test_spelt_views_are_pydantics(store, states, other_sku, other_name):
    speller = Speller(store)
    for state in states:
        assert speller.item(state) == rules.view(state, store).model_dump_json()
        # the same state under another identity, incoming quantity and date: the
        # remembered rest, those spliced in
        twin = state.model_copy(update={
            "sku": other_sku or "x", "name": other_name, "product_id": None,
            "incoming_qty": state.incoming_qty + 1,
            "back_in_stock_date": None if state.back_in_stock_date else dt.datetime(
                2027, 3, 4, 5, 6, 7, 8, tzinfo=dt.UTC),
        })
        assert speller.item(twin) == rules.view(twin, store).model_dump_json()


def test_a_state_is_worked_out_once():
    store = StoreSettings()
    speller = Speller(store)
    made = []

    def make(sku, name):
        made.append(sku)
        return ItemState(sku=sku, name=name, assigned=True, on_hand=-2,
                         state=BackorderState.ENABLED)

    first = speller.spell(("A", None, None, "Tent"), 0, None, "same", make, "A", "Tent")
    second = speller.spell(("B", "P", None, "Lamp"), 0, None, "same", make, "B", "Lamp")
    assert made == ["A"]
    assert first.startswith('{"sku":"A","product_id":null,"variant_id":null,"name":"Tent",')
    expected = ItemState(sku="B", product_id="P", name="Lamp", assigned=True, on_hand=-2,
                         state=BackorderState.ENABLED)
    assert second == rules.view(expected, store).model_dump_json()

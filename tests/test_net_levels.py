"""Platforms that count their own sales (``StockLevel.basis = "net_of_orders"``): stock and
order webhooks in any order of arrival end on the platform's figure, no sale counted twice."""

import datetime as dt

import pytest
from core_support import T0
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backorder import BackorderPolicy, ItemInput, LineRequest, OrderIn, StockLevel
from backorder.storage import records

START = 5


def deliveries(quantities):
    """The platform's story: order i at T0+i takes q_i, then it reports the new figure."""
    left, out = START, []
    for i, qty in enumerate(quantities, start=1):
        at = T0 + dt.timedelta(minutes=i)
        left -= qty
        out.append(("order", OrderIn(order_id=f"o{i}", placed_at=at,
                                     lines=[LineRequest(sku="MUG", qty=qty)])))
        out.append(("stock", StockLevel(sku="MUG", on_hand=left, basis="net_of_orders",
                                        source_ref=f"d{i}", as_of=at)))
    return out, left


def deliver(service, kind, what):
    if kind == "order":
        service.place_order(what, enforce=False)
    else:
        service.apply_levels([what], source="webhook")


@pytest.fixture
def mug(store_service):
    made = iter(range(10_000))

    def make():  # a store of its own per hypothesis example (the database is shared)
        service = store_service(name=f"s{next(made)}", defaults=BackorderPolicy(threshold=None))
        service.upsert_catalog([ItemInput(sku="MUG", product_id="1", on_hand=START,
                                          assigned=False)], at=T0)
        service.assign(["MUG"], at=T0)
        return service

    return make


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(1, 4), min_size=1, max_size=4).flatmap(
    lambda qs: st.tuples(st.just(qs), st.permutations(range(2 * len(qs))))))
def test_any_arrival_order_ends_on_the_platforms_figure(mug, story):
    quantities, order = story
    service = mug()
    events, final = deliveries(quantities)
    for index in order:
        deliver(service, *events[index])
    assert service.item("MUG").on_hand == final
    with service.db.read() as conn:
        assert records.ledger_balance(conn, service.name, "MUG") == final
    assert all(service.order(f"o{i}").accepted for i in range(1, len(quantities) + 1))


def test_stock_first_then_its_order_moves_nothing_and_splits_on_the_stock_it_met(mug):
    service = mug()
    (_, order), (stock_kind, level) = deliveries([3])[0]
    deliver(service, stock_kind, level)  # the platform's figure (2) arrives first
    assert service.item("MUG").on_hand == 2
    result = service.place_order(order, enforce=False)
    assert service.item("MUG").on_hand == 2  # not 2 - 3
    assert (result.lines[0].in_stock, result.lines[0].backordered) == (3, 0)


def test_an_absolute_figure_would_count_the_sale_twice(mug):
    """Why the basis exists: the same story read as ``absolute`` ends one sale too low."""
    service = mug()
    (_, order), (_, level) = deliveries([3])[0]
    service.apply_levels([level.model_copy(update={"basis": "absolute"})], source="webhook")
    service.place_order(order, enforce=False)
    assert service.item("MUG").on_hand == -1

"""Property test (issue 14): any sequence of orders, cancels, shipments, returns and stock
receipts, with replays and references out of order, keeps the books straight.

A plain reference model runs beside the engine: per SKU the physical stock on the shelf
and per order line the units left in stock and backordered. Released units are worked
out the simplest way (the shelf, less in-stock units not yet shipped, goes to the oldest
backordered lines first), independently of ``rules.allocation``.
"""

import datetime as dt
from dataclasses import dataclass

from core_support import T0
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from backorder.config import StoreConfig
from backorder.engine import StoreService
from backorder.errors import BackorderError, InvalidInput, NotFound, Refused
from backorder.models import ItemInput, LineRequest, OrderIn, StoreSettings
from backorder.storage import records
from backorder.storage.db import Database

SKUS = ("A", "B")


@dataclass
class Line:
    sku: str
    ordered: int
    in_stock: int  # in-stock units not shipped
    backordered: int  # backordered units not shipped (waiting or released)
    cancelled: int = 0
    shipped: int = 0
    returned: int = 0


class Model:
    def __init__(self, stock: dict[str, int]):
        self.shelf = dict(stock)  # units physically here
        self.lines: dict[str, Line] = {}  # order id -> its one line, oldest first

    def on_hand(self, sku):
        mine = [x for x in self.lines.values() if x.sku == sku]
        return self.shelf[sku] - sum(x.in_stock + x.backordered for x in mine)

    def released(self, order_id):
        line = self.lines[order_id]
        free = self.shelf[line.sku] - sum(
            x.in_stock for x in self.lines.values() if x.sku == line.sku
        )
        for oid, other in self.lines.items():
            if other.sku != line.sku:
                continue
            take = min(other.backordered, max(free, 0))
            if oid == order_id:
                return take
            free -= take
        raise AssertionError


orders = st.tuples(st.just("order"), st.sampled_from(SKUS), st.integers(1, 4))
ops = st.lists(
    st.one_of(
        orders,
        st.tuples(st.just("cancel"), st.integers(0, 7), st.none() | st.integers(1, 5)),
        st.tuples(st.just("ship"), st.integers(0, 7), st.none() | st.integers(1, 5)),
        st.tuples(st.just("return"), st.integers(0, 7), st.integers(1, 3), st.booleans()),
        st.tuples(st.just("stock"), st.sampled_from(SKUS), st.integers(1, 4)),
        st.tuples(st.just("replay"), st.integers(0, 30)),
    ),
    max_size=25,
)


def oid(n):
    return f"o{n:02d}"


@settings(deadline=None, max_examples=80, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 3), st.integers(0, 3), st.lists(orders, min_size=1, max_size=4), ops)
# a partial cancel and a partial shipment of a line with in-stock and backordered units
@example(2, 0, [("order", "A", 4)], [("cancel", 0, 1), ("stock", "A", 1), ("ship", 0, 3),
                                      ("return", 0, 2, True), ("replay", 1), ("cancel", 0, None)])
def test_any_sequence_keeps_the_ledger_the_lines_and_the_shelf_straight(
    tmp_path_factory, stock_a, stock_b, first_orders, more
):
    steps = first_orders + more
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('life')}/p.db")
    clock = [T0]
    # backorder is on at any stock (switch condition 100): lines mix in-stock and backordered
    store = StoreConfig(name="p", settings=StoreSettings(switch_condition=100))
    service = StoreService(db, store, clock=lambda: clock[0])
    service.upsert_catalog(
        [ItemInput(sku="A", on_hand=stock_a), ItemInput(sku="B", on_hand=stock_b)], at=T0
    )
    model = Model({"A": stock_a, "B": stock_b})
    done: list[tuple] = []  # keyed changes applied: (key, op)
    placed = 0
    for i, op in enumerate(steps):
        clock[0] = T0 + dt.timedelta(minutes=i + 1)
        kind = op[0]
        if kind == "order":
            _, sku, qty = op
            before = model.on_hand(sku)
            result = service.place_order(OrderIn(
                order_id=oid(placed), placed_at=clock[0], lines=[LineRequest(sku=sku, qty=qty)],
            ))
            if result.accepted:
                (d,) = result.lines
                assert d.in_stock == min(qty, max(before, 0))
                model.lines[oid(placed)] = Line(sku, qty, d.in_stock, d.backordered)
            placed += 1
        elif kind == "stock":
            _, sku, qty = op
            service.adjust_stock(sku, qty, key=f"s{i}")
            model.shelf[sku] += qty
        elif kind == "replay":
            if not done:
                continue
            key, (name, order_id, *args) = done[op[1] % len(done)]
            before = _state(service)
            again = _call(service, name, order_id, args, key)
            assert again.duplicate and _state(service) == before
        else:
            # mostly an order placed so far (refused ones too); now and then one unknown
            order_id = oid(op[1] % placed) if placed and op[1] < 7 else "unknown"
            line = model.lines.get(order_id)
            qty = op[2]
            lines = None if qty is None else {line.sku if line else "A": qty}
            if kind == "cancel":
                room = line and line.in_stock + line.backordered
            elif kind == "ship":
                room = line and line.in_stock + model.released(order_id)
            else:
                room = line and line.shipped - line.returned
            args = [lines, *op[3:]]
            before = _state(service)
            try:
                change = _call(service, kind, order_id, args, f"k{i}")
            except (NotFound, Refused, InvalidInput) as exc:
                assert line is None or (qty is not None and qty > room), exc
                assert _state(service) == before  # refused: nothing changed
                continue
            assert line is not None and (qty is None or qty <= room)
            units = room if qty is None else qty
            _apply(model, kind, order_id, units, op[3] if kind == "return" else False)
            (left,) = change.lines
            assert (left.changed, left.in_stock, left.backordered) == (
                units, line.in_stock, line.backordered
            )
            done.append((f"k{i}", (kind, order_id, *args)))
        _check(service, model)
    db.dispose()


def _call(service, kind, order_id, args, key):
    if kind == "cancel":
        return service.cancel(order_id, args[0], key=key)
    if kind == "ship":
        return service.ship(order_id, args[0], key=key)
    return service.return_items(order_id, args[0] or {}, restock=args[1], key=key)


def _apply(model, kind, order_id, units, restock):
    line = model.lines[order_id]
    if kind == "cancel":  # backordered units first
        bo = min(units, line.backordered)
        line.backordered -= bo
        line.in_stock -= units - bo
        line.cancelled += units
    elif kind == "ship":  # in-stock units first
        here = min(units, line.in_stock)
        line.in_stock -= here
        line.backordered -= units - here
        line.shipped += units
        model.shelf[line.sku] -= units
    else:
        line.returned += units
        if restock:
            model.shelf[line.sku] += units


def _state(service):
    return [service.item(s).on_hand for s in SKUS], _ledger(service)


def _ledger(service):
    with service.db.read() as conn:
        return [records.ledger_balance(conn, service.name, s) for s in SKUS]


def _check(service, model):
    on_hand, ledger = _state(service)
    assert on_hand == ledger  # the ledger sums to on hand
    assert on_hand == [model.on_hand(s) for s in SKUS]
    assert all(units >= 0 for units in model.shelf.values())  # never shipped beyond the shelf
    for order_id, line in model.lines.items():
        assert line.cancelled + line.shipped + line.backordered + line.in_stock == line.ordered
        assert 0 <= line.returned <= line.shipped
        stored = service.order(order_id)
        assert stored is not None and stored.accepted
        try:
            change = service.cancel(order_id, {line.sku: 10**6}, key=f"probe-{order_id}")
        except BackorderError as exc:  # refused whole: the message gives what is left
            assert f"{line.in_stock + line.backordered} of the {line.ordered} ordered" in str(exc)
        else:
            raise AssertionError(change)

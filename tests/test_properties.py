"""Property tests: whatever happens, salable qty is never exceeded and replays change nothing."""

import datetime as dt
import itertools

from core_support import T0
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from backorder.config import StoreConfig
from backorder.engine import StoreService
from backorder.models import BackorderPolicy, ItemInput, LineRequest, OrderIn, StoreSettings
from backorder.storage import records
from backorder.storage.db import Database

SKUS = ["A", "B", "C"]
_stores = itertools.count()

order_op = st.tuples(
    st.just("order"),
    st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 6)), min_size=1, max_size=3),
)
stock_op = st.tuples(st.just("stock"), st.sampled_from(SKUS), st.integers(-3, 8))
switch_op = st.tuples(st.sampled_from(["enable", "disable"]), st.sampled_from(SKUS))
tick_op = st.tuples(st.just("tick"), st.integers(0, 20))
operations = st.lists(st.one_of(order_op, stock_op, switch_op, tick_op), max_size=25)
thresholds = st.fixed_dictionaries({sku: st.one_of(st.none(), st.integers(0, 5)) for sku in SKUS})
starting = st.fixed_dictionaries({sku: st.integers(-2, 6) for sku in SKUS})
store_settings = st.builds(
    StoreSettings,
    switch_condition=st.integers(-1, 3),
    over_threshold=st.sampled_from(["refuse", "clamp"]),
    defaults=st.builds(BackorderPolicy, mode=st.sampled_from(["off", "silent", "notify"])),
)


def new_store(db, store_settings, thresholds, starting) -> StoreService:
    service = StoreService(db, StoreConfig(name=f"p{next(_stores)}", settings=store_settings))
    service.upsert_catalog(
        [
            ItemInput(
                sku=sku, on_hand=starting[sku], threshold=thresholds[sku], incoming_qty=4,
                back_in_stock_date=T0 + dt.timedelta(days=5),
            )
            for sku in SKUS
        ],
        at=T0,
    )
    return service


def apply(service: StoreService, ops, run: str, check=None) -> None:
    for step, op in enumerate(ops):
        at = T0 + dt.timedelta(hours=step)
        if op[0] == "order":
            before = {sku: service.item(sku) for sku in SKUS}
            result = service.place_order(OrderIn(
                order_id=f"o{step}", placed_at=at,
                lines=[LineRequest(sku=sku, qty=qty) for sku, qty in op[1]],
            ))
            if check:
                check(before, result)
        elif op[0] == "stock":
            service.adjust_stock(op[1], op[2], key=f"s{step}", at=at)
        elif op[0] == "tick":
            service.tick(T0 + dt.timedelta(days=op[1]))
        else:
            getattr(service, op[0])([op[1]], at=at)


def snapshot(service: StoreService):
    items = [v.model_dump() for v in service.items()]
    with service.db.transaction() as conn:
        balances = {sku: records.ledger_balance(conn, service.name, sku) for sku in SKUS}
    return items, balances


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(store_settings, thresholds, starting, operations)
def test_an_order_never_takes_more_than_salable(tmp_path_factory, cfg, limits, stock, ops):
    db = Database(f"sqlite:///{tmp_path_factory.getbasetemp()}/props.db")
    service = new_store(db, cfg, limits, stock)

    def check(before, result):
        taken: dict[str, int] = {}
        for line in result.lines:
            taken[line.sku] = taken.get(line.sku, 0) + line.in_stock + line.backordered
            assert line.in_stock + line.backordered <= line.requested
        for sku, qty in taken.items():
            salable = before[sku].salable
            assert salable is None or qty <= salable, (sku, qty, salable)
            after = service.item(sku)
            if result.accepted and not result.duplicate:
                assert after.on_hand == before[sku].on_hand - qty

    apply(service, ops, "once", check)
    items, balances = snapshot(service)
    assert all(balances[item["sku"]] == item["on_hand"] for item in items)
    db.dispose()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(store_settings, thresholds, starting, operations)
@example(  # an order refused for lack of stock must stay refused when replayed after a restock
    StoreSettings(), dict.fromkeys(SKUS, 0), dict.fromkeys(SKUS, 0),
    [("order", [("A", 1)]), ("stock", "A", 5)],
)
def test_replaying_the_same_events_leaves_the_same_state(tmp_path_factory, cfg, limits, stock,
                                                         ops):
    db = Database(f"sqlite:///{tmp_path_factory.getbasetemp()}/replay.db")
    service = new_store(db, cfg, limits, stock)
    keyed = [op for op in ops if op[0] in ("order", "stock", "tick")]  # events with an identity
    apply(service, keyed, "first")
    first = snapshot(service)
    apply(service, keyed, "again")
    assert snapshot(service) == first
    db.dispose()

"""``place_orders`` (one transaction, decided in memory) books exactly what ``place_order`` does."""

import datetime as dt
import itertools

import sqlalchemy as sa
from core_support import T0
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backorder.config import StoreConfig
from backorder.engine import StoreService
from backorder.models import BackorderPolicy, ItemInput, LineRequest, OrderIn, StoreSettings
from backorder.storage import records
from backorder.storage.schema import events, movements

SKUS = ["A", "B", "C", "D"]
_names = itertools.count()

orders_strategy = st.lists(
    st.tuples(
        st.integers(0, 12),  # order id: repeats are replays
        st.lists(
            st.tuples(st.sampled_from([*SKUS, "NOPE"]), st.integers(1, 5)), min_size=1, max_size=4
        ),
        st.integers(0, 48),
    ),
    min_size=1,
    max_size=14,
)


def new_store(db, cfg: StoreSettings, stock: dict, limits: dict) -> StoreService:
    service = StoreService(db, StoreConfig(name=f"b{next(_names)}", settings=cfg), clock=lambda: T0)
    service.upsert_catalog(
        [
            ItemInput(
                sku=sku,
                on_hand=stock[sku],
                threshold=limits[sku],
                max_sale_qty=4 if sku == "D" else None,
            )
            for sku in SKUS
        ],
        at=T0,
    )
    if stock["C"] > 3:
        service.disable(["C"], at=T0)
    return service


def books(service: StoreService):
    with service.db.read() as conn:
        moves = conn.execute(
            sa.select(
                movements.c.sku,
                movements.c.delta,
                movements.c.on_hand_after,
                movements.c.source,
                movements.c.idempotency_key,
                movements.c.created_at,
            )
            .where(movements.c.store == service.name)
            .order_by(movements.c.id)
        ).all()
        evts = conn.execute(
            sa.select(events.c.type, events.c.sku, events.c.reason, events.c.data, events.c.at)
            .where(events.c.store == service.name)
            .order_by(events.c.id)
        ).all()
        balances = [records.ledger_balance(conn, service.name, sku) for sku in SKUS]
    views = [v.model_dump() for v in service.items()]
    assert balances == [v["on_hand"] for v in views]
    return views, moves, evts


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    cfg=st.builds(
        StoreSettings,
        switch_condition=st.integers(-1, 3),
        over_threshold=st.sampled_from(["refuse", "clamp"]),
        defaults=st.builds(BackorderPolicy, mode=st.sampled_from(["off", "silent", "notify"])),
    ),
    stock=st.fixed_dictionaries({sku: st.integers(-2, 6) for sku in SKUS}),
    limits=st.fixed_dictionaries({sku: st.one_of(st.none(), st.integers(0, 5)) for sku in SKUS}),
    raw=orders_strategy,
    enforce=st.booleans(),
    split=st.integers(0, 14),
)
def test_a_batch_books_what_one_order_at_a_time_books(
    backorder_db, cfg, stock, limits, raw, enforce, split
):
    first: dict[int, tuple] = {}  # a repeated id is a replay: the same lines (else Conflict)
    orders = [
        OrderIn(
            order_id=f"o{n}",
            placed_at=T0 + dt.timedelta(hours=h),
            lines=[LineRequest(sku=sku, qty=qty) for sku, qty in lines],
        )
        for n, (lines, h) in ((n, first.setdefault(n, (lines, h))) for n, lines, h in raw)
    ]
    one_by_one = new_store(backorder_db, cfg, stock, limits)
    batched = new_store(backorder_db, cfg, stock, limits)
    want = [one_by_one.place_order(o, enforce=enforce) for o in orders]
    # two batches: the second sees the first's orders as already placed
    got = batched.place_orders(orders[:split], enforce=enforce)
    got += batched.place_orders(orders[split:], enforce=enforce)
    assert got == want
    assert books(batched) == books(one_by_one)
    for order in orders:
        assert batched.order(order.order_id) == one_by_one.order(order.order_id)

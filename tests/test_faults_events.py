"""Duplicated and reordered stock events: the same final state, and a late copy never rolls back."""

import datetime as dt
import itertools
import json

import sqlalchemy as sa
from core_support import T0
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backorder import webhooks
from backorder.config import StoreConfig
from backorder.engine import StoreService
from backorder.models import BackorderPolicy, ItemInput, StockLevel, StoreSettings
from backorder.platforms import core
from backorder.storage import records
from backorder.storage.schema import movements

SKUS = ["A", "B", "C"]
_names = itertools.count()
slow_ok = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def new_store(db, name_prefix: str, **connection) -> StoreService:
    store = StoreConfig(
        name=f"{name_prefix}{next(_names)}",
        settings=StoreSettings(switch_condition=1, defaults=BackorderPolicy(threshold=4)),
        connection=connection,
    )
    service = StoreService(db, store, clock=lambda: T0)
    service.upsert_catalog([ItemInput(sku=sku, on_hand=2) for sku in SKUS], at=T0)
    return service


def final(service: StoreService):
    views = [v.model_dump(exclude={"policy"}) for v in service.items()]
    with service.db.read() as conn:
        balances = [records.ledger_balance(conn, service.name, sku) for sku in SKUS]
        keys = sorted(
            conn.execute(
                sa.select(movements.c.idempotency_key, movements.c.delta).where(
                    movements.c.store == service.name
                )
            ).all()
        )
    assert balances == [v["on_hand"] for v in views]
    return views, keys


deltas = st.lists(st.tuples(st.sampled_from(SKUS), st.integers(-5, 5)), min_size=1, max_size=12)


@slow_ok
@given(events=deltas, data=st.data())
def test_delta_events_duplicated_and_reordered_give_the_same_state(backorder_db, events, data):
    keyed = [(f"evt-{i}", sku, delta) for i, (sku, delta) in enumerate(events)]
    in_order = new_store(backorder_db, "inorder")
    for key, sku, delta in keyed:
        in_order.adjust_stock(sku, delta, key=key, at=T0)
    deliveries = data.draw(st.lists(st.sampled_from(keyed), min_size=len(keyed)))
    deliveries = data.draw(st.permutations(deliveries + keyed))  # each at least once, any order
    shuffled = new_store(backorder_db, "shuffled")
    for key, sku, delta in deliveries:
        shuffled.adjust_stock(sku, delta, key=key, at=T0)
    in_order_views, in_order_keys = final(in_order)
    shuffled_views, shuffled_keys = final(shuffled)
    # state (on hand, backorder switches) depends only on the set of events, not their order
    assert [v["on_hand"] for v in shuffled_views] == [v["on_hand"] for v in in_order_views]
    assert shuffled_keys == in_order_keys


levels = st.lists(st.tuples(st.sampled_from(SKUS), st.integers(-4, 9)), min_size=1, max_size=10)


@slow_ok
@given(sent=levels, replays=st.lists(st.integers(0, 30), max_size=8))
def test_a_late_copy_of_a_level_never_rolls_stock_back(backorder_db, sent, replays):
    """Absolute levels (platform webhooks, syncs): a redelivery of an old one is a no-op."""
    service = new_store(backorder_db, "levels")
    for i, (sku, on_hand) in enumerate(sent):
        service.set_stock(sku, on_hand, key=f"lvl-{i}", at=T0)
        service.apply_levels(
            [StockLevel(sku=sku, on_hand=on_hand, source_ref=f"d{i}")], source="webhook"
        )
    before = final(service)
    for r in replays:  # duplicates arriving late, after newer levels
        sku, on_hand = sent[r % len(sent)]
        service.set_stock(sku, on_hand, key=f"lvl-{r % len(sent)}", at=T0)
        service.apply_levels(
            [StockLevel(sku=sku, on_hand=on_hand, source_ref=f"d{r % len(sent)}")],
            source="webhook",
        )
    assert final(service) == before


def deliver(service: StoreService, bodies: list[dict]) -> None:
    """Through the webhook intake as the server does: authenticate, dedupe, apply."""
    for body in bodies:
        events = core.PLATFORM.parse_webhook(
            service.store, {"X-Backorder-Token": "tok"}, json.dumps(body).encode()
        )
        webhooks.record_deliveries(service, events)
    while webhooks.apply_deliveries(service, now=T0 + dt.timedelta(days=1)) != (0, 0):
        pass


@slow_ok
@given(levels=levels, data=st.data())
def test_duplicated_webhook_deliveries_apply_once(backorder_db, levels, data):
    bodies = [
        {"kind": "stock", "delivery_id": f"h{i}", "sku": sku, "on_hand": on_hand}
        for i, (sku, on_hand) in enumerate(levels)
    ]
    once = new_store(backorder_db, "once", webhook_token="tok")
    deliver(once, bodies)
    extra = data.draw(st.lists(st.integers(0, len(bodies) - 1), max_size=6))
    twice = new_store(backorder_db, "twice", webhook_token="tok")
    # every delivery once in order, copies of some interleaved later (a platform's retries)
    deliver(twice, [b for i, b in enumerate(bodies) for _ in range(1 + extra.count(i) // 2)])
    deliver(twice, [bodies[i] for i in extra])
    assert final(twice)[0] == final(once)[0]


@slow_ok
@given(
    levels=levels,
    basis=st.sampled_from(["absolute", "platform_count"]),
    data=st.data(),
)
def test_dated_webhooks_in_any_order_end_on_the_newest_figure(backorder_db, levels, basis, data):
    """Deliveries carrying ``as_of`` (the platform's updatedAt), reordered and duplicated:
    each SKU ends on the figure of its newest delivery, exactly as if they came in order."""
    bodies = [
        {
            "kind": "stock",
            "delivery_id": f"h{i}",
            "sku": sku,
            "on_hand": on_hand,
            "basis": basis,
            "as_of": (T0 + dt.timedelta(minutes=i)).isoformat(),
        }
        for i, (sku, on_hand) in enumerate(levels)
    ]
    in_order = new_store(backorder_db, "dated", webhook_token="tok")
    deliver(in_order, bodies)
    copies = data.draw(st.lists(st.sampled_from(bodies), max_size=6))
    arrival = data.draw(st.permutations(bodies + copies))
    shuffled = new_store(backorder_db, "dated", webhook_token="tok")
    deliver(shuffled, arrival)
    assert [v["on_hand"] for v in final(shuffled)[0]] == [
        v["on_hand"] for v in final(in_order)[0]
    ]
    if basis == "absolute":  # what we may sell from is the platform's newest figure
        newest = {sku: on_hand for sku, on_hand in levels}
        assert {v["sku"]: v["on_hand"] for v in final(shuffled)[0] if v["sku"] in newest} == newest


def test_an_undated_level_is_applied_as_it_comes(backorder_db):
    """Without ``as_of`` nothing tells old from new: the last to arrive wins (the README says
    which platforms date their figures)."""
    service = new_store(backorder_db, "undated")
    service.apply_levels([StockLevel(sku="A", on_hand=7, source_ref="late")], source="webhook")
    service.apply_levels(
        [StockLevel(sku="A", on_hand=3, source_ref="new", as_of=T0)], source="webhook"
    )
    service.apply_levels(
        [StockLevel(sku="A", on_hand=9, source_ref="old", as_of=T0 - dt.timedelta(hours=1))],
        source="webhook",
    )
    assert service.item("A").on_hand == 3  # the older dated figure was skipped
    service.apply_levels([StockLevel(sku="A", on_hand=5, source_ref="plain")], source="webhook")
    assert service.item("A").on_hand == 5


def test_an_unchanged_platform_count_still_makes_older_counts_stale(backorder_db):
    """BigCommerce-style counts 0 @9:00, 1 @9:03, 1 @9:05, 1 @9:09, then a late 0 @9:06: the
    9:09 figure changed nothing yet is the newest, so the 9:06 one is stale (it once took
    the unit back: hypothesis found it)."""
    service = new_store(backorder_db, "count")
    for minute, figure in [(0, 0), (3, 1), (5, 1), (9, 1), (6, 0)]:
        level = StockLevel(sku="A", on_hand=figure, basis="platform_count",
                           source_ref=f"h{minute}", as_of=T0 + dt.timedelta(minutes=minute))
        service.apply_levels([level], source="webhook")
    # the first count sets the stock (0), then the one unit the platform gained
    assert service.item("A").on_hand == 1

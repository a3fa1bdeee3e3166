"""Time faults: the set-based tick equals the per-item rules; clock jumps change nothing."""

import datetime as dt
import itertools
import random
import uuid
import zoneinfo

import pytest
import sqlalchemy as sa
from core_support import T0
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backorder.config import StoreConfig
from backorder.engine import StoreService
from backorder.models import BackorderPolicy, ItemInput, StoreSettings
from backorder.storage.db import Database
from backorder.storage.schema import events, items, movements

_names = itertools.count()

item_strategy = st.fixed_dictionaries(
    {
        "on_hand": st.integers(-6, 8),
        "incoming_qty": st.integers(0, 9),
        "due_in_days": st.one_of(st.none(), st.integers(-3, 3)),
        "micro": st.sampled_from([0, 0, 250_000]),
        "assigned": st.booleans(),
        "tracked": st.booleans(),
        "mode": st.sampled_from([None, "off", "silent", "notify"]),
        "threshold": st.one_of(st.none(), st.integers(0, 4)),
        "switch": st.sampled_from([None, "enable", "disable"]),
    }
)


def build(db, cfg: StoreSettings, specs: list[dict], name: str) -> StoreService:
    """A store whose items went through the real engine (catalog, assign, switches)."""
    service = StoreService(db, StoreConfig(name=name, settings=cfg), clock=lambda: T0)
    entries = []
    for i, spec in enumerate(specs):
        date = None
        if spec["due_in_days"] is not None:
            date = T0 + dt.timedelta(days=spec["due_in_days"], microseconds=spec["micro"])
        extra = {"mode": spec["mode"]} if spec["mode"] else {}
        entries.append(
            ItemInput(
                sku=f"S{i}",
                on_hand=spec["on_hand"],
                incoming_qty=spec["incoming_qty"],
                back_in_stock_date=date,
                assigned=spec["assigned"],
                tracked=spec["tracked"],
                threshold=spec["threshold"],
                **extra,
            )
        )
    service.upsert_catalog(entries, at=T0)
    for i, spec in enumerate(specs):
        if spec["switch"] and spec["assigned"]:
            getattr(service, spec["switch"])([f"S{i}"], at=T0)
    return service


def tables(service: StoreService) -> dict[str, list[tuple]]:
    """Every row the store owns, without surrogate ids (two stores share one database)."""
    out = {}
    with service.db.read() as conn:
        for table in (items, movements, events):
            cols = [c for c in table.c if c.name not in ("id", "store", "dispatched_at")]
            query = sa.select(*cols).where(table.c.store == service.name)
            out[table.name] = sorted(conn.execute(query).all(), key=repr)
    return out


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    specs=st.lists(item_strategy, min_size=1, max_size=8),
    switch_condition=st.integers(-1, 3),
    default_mode=st.sampled_from(["off", "silent", "notify"]),
    hours=st.lists(st.integers(-30, 100), min_size=1, max_size=3),
)
def test_set_based_tick_equals_the_per_item_rules(
    backorder_db, specs, switch_condition, default_mode, hours
):
    cfg = StoreSettings(
        switch_condition=switch_condition, defaults=BackorderPolicy(mode=default_mode)
    )
    n = next(_names)
    bulk = build(backorder_db, cfg, specs, f"bulk{n}")
    each = build(backorder_db, cfg, specs, f"each{n}")
    each.bulk_tick = False
    for h in hours:  # repeated and out-of-order ticks too
        now = T0 + dt.timedelta(hours=h)
        got, want = bulk.tick(now), each.tick(now)
        assert [e.model_dump() for e in got] == [e.model_dump() for e in want]
    assert tables(bulk) == tables(each)
    assert [v.model_dump() for v in bulk.items()] == [v.model_dump() for v in each.items()]


def three_items(db, name: str) -> StoreService:
    service = StoreService(
        db,
        StoreConfig(name=name, settings=StoreSettings(defaults=BackorderPolicy(threshold=3))),
        clock=lambda: T0,
    )
    service.upsert_catalog(
        [
            ItemInput(
                sku="A", on_hand=0, incoming_qty=5, back_in_stock_date=T0 + dt.timedelta(days=2)
            ),
            ItemInput(
                sku="B", on_hand=-2, incoming_qty=4, back_in_stock_date=T0 + dt.timedelta(days=10)
            ),
            ItemInput(
                sku="C", on_hand=3, incoming_qty=1, back_in_stock_date=T0 + dt.timedelta(days=400)
            ),
        ],
        at=T0,
    )
    return service


def state(service: StoreService) -> tuple:
    views = [v.model_dump(exclude={"policy"}) for v in service.items()]
    with service.db.read() as conn:
        moves = sorted(
            conn.execute(
                sa.select(movements.c.sku, movements.c.delta, movements.c.idempotency_key).where(
                    movements.c.store == service.name
                )
            ).all()
        )
    return views, moves


def test_clock_jumps_give_the_state_of_one_in_order_run(backorder_db):
    days = [3, 11, 401]
    reference = three_items(backorder_db, "in-order")
    for day in days:
        reference.tick(T0 + dt.timedelta(days=day))

    jumpy = three_items(backorder_db, "jumpy")
    # far in the future first, then back in time, then the same instants again
    for day in [401, 3, 11, 3, 401, 11, -5]:
        jumpy.tick(T0 + dt.timedelta(days=day))
    assert state(jumpy) == state(reference)
    assert [v.on_hand for v in jumpy.items()] == [5, 2, 4]


def test_a_clock_in_another_time_zone_receives_nothing_early(backorder_db):
    """23:30 UTC the day before, written as 01:30+02:00 on the day: not due yet.

    Before the fix the SQLite filter compared wall times, booked an empty receipt under
    the date's key and so never received the stock on the day.
    """
    service = three_items(backorder_db, "tz")
    due = T0 + dt.timedelta(days=2)
    early = (due - dt.timedelta(minutes=30)).astimezone(zoneinfo.ZoneInfo("Europe/Athens"))
    assert early.hour == due.hour + 1  # the wall time is after the date's, the instant before
    for bulk in (True, False):
        service.bulk_tick = bulk
        assert service.tick(early) == []
        assert service.item("A").on_hand == 0
    service.tick(due.astimezone(zoneinfo.ZoneInfo("America/New_York")))
    assert service.item("A").on_hand == 5 and service.item("A").incoming_qty == 0


@pytest.mark.postgres
def test_set_based_tick_equals_the_per_item_rules_on_postgresql(pg_url):
    """The receipt key is built in SQL per dialect: check PostgreSQL's on random items."""
    rng = random.Random(11)
    specs = [
        {
            "on_hand": rng.randint(-6, 8),
            "incoming_qty": rng.randint(0, 9),
            "due_in_days": rng.choice([None, -2, -1, 0, 1, 3]),
            "micro": rng.choice([0, 250_000]),
            "assigned": rng.random() < 0.8,
            "tracked": rng.random() < 0.9,
            "mode": rng.choice([None, "off", "silent", "notify"]),
            "threshold": rng.choice([None, 0, 2]),
            "switch": rng.choice([None, None, "enable", "disable"]),
        }
        for _ in range(60)
    ]
    db = Database(pg_url)
    cfg = StoreSettings(switch_condition=1)
    tag = uuid.uuid4().hex[:8]
    bulk = build(db, cfg, specs, f"bulk-{tag}")
    each = build(db, cfg, specs, f"each-{tag}")
    each.bulk_tick = False
    for hours in (30, -10, 30, 24 * 5):
        now = T0 + dt.timedelta(hours=hours)
        assert [e.model_dump() for e in bulk.tick(now)] == [e.model_dump() for e in each.tick(now)]
    assert tables(bulk) == tables(each)
    with db.read() as conn:
        keys = (
            conn.execute(
                sa.select(movements.c.idempotency_key).where(
                    movements.c.store == bulk.name, movements.c.kind == "receipt"
                )
            )
            .scalars()
            .all()
        )
    assert keys and all(k.endswith("+00:00") for k in keys)
    db.dispose()

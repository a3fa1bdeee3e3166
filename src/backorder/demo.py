"""The demo store: a small catalog taken through a backorder life cycle, step by step."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from backorder.engine import ItemEdit, StoreService
from backorder.models import ItemInput, LineRequest, OrderIn

START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)

CATALOG = [
    ItemInput(sku="TENT-2P", product_id="10", name="Two-person tent", on_hand=3, assigned=False),
    ItemInput(
        sku="MUG-BLUE",
        product_id="11",
        variant_id="111",
        name="Café mug — blue",
        on_hand=2,
        assigned=False,
    ),
    ItemInput(
        sku="MUG-RED",
        product_id="11",
        variant_id="112",
        name="Café mug — red",
        on_hand=0,
        assigned=False,
    ),
    ItemInput(
        sku="STOVE-X", product_id="12", name="Camp stove Ø 20 cm", on_hand=12, assigned=False
    ),
    ItemInput(sku="LAMP-01", product_id="13", name="Lantern", on_hand=1, assigned=False),
]


def _day(when: dt.datetime | None) -> str:
    return when.date().isoformat() if when else "no date"


def run_demo(service: StoreService, say: Callable[[str], None]) -> None:
    """Idempotent: run it twice and the second run changes nothing."""
    day = lambda n: START + dt.timedelta(days=n)  # noqa: E731
    added = service.upsert_catalog(CATALOG, at=day(0))
    if not added:
        say("the demo store has run before; its state is below (--fresh starts over)")
        return
    say(f"catalog: {added} items loaded")

    service.assign(
        [
            ItemInput(sku="TENT-2P", threshold=2, incoming_qty=10, back_in_stock_date=day(10)),
            ItemInput(sku="MUG-BLUE", threshold=5),
            ItemInput(sku="LAMP-01", threshold=None),
        ],
        at=day(0),
    )
    say(
        "assigned TENT-2P (threshold 2, 10 due on day 10), the café mug (both variants, "
        "threshold 5) and LAMP-01 (unlimited)"
    )

    orders = [
        ("D-1001", day(1), [("TENT-2P", 2), ("MUG-BLUE", 1)]),
        ("D-1002", day(2), [("TENT-2P", 2)]),
        ("D-1003", day(3), [("TENT-2P", 2)]),  # over the threshold: refused
        ("D-1004", day(3), [("TENT-2P", 1), ("MUG-RED", 3), ("LAMP-01", 4)]),
    ]
    for order_id, at, lines in orders:
        result = service.place_order(
            OrderIn(
                order_id=order_id,
                placed_at=at,
                customer_email="pat@example.com",
                lines=[LineRequest(sku=sku, qty=qty) for sku, qty in lines],
            )
        )
        parts = ", ".join(
            f"{d.sku} {d.in_stock} in stock + {d.backordered} backordered"
            if d.accepted
            else f"{d.sku} refused ({d.error})"
            for d in result.lines
        )
        say(f"order {order_id}: {'accepted' if result.accepted else 'refused'}: {parts}")

    service.edit("STOVE-X", ItemEdit(on_hand=11), key="demo:stove-count", at=day(4))
    say(f"day 4: STOVE-X counted, on hand now {service.item('STOVE-X').on_hand}")
    service.incoming.expect("MUG-RED", "PO-31", 2, day(20), at=day(5))
    service.incoming.expect("LAMP-01", "PO-32", 6, day(14), at=day(5))
    queue = service.incoming.allocation("LAMP-01").lines[0]
    mugs = service.incoming.allocation("MUG-RED").lines[0]
    say(f"day 5: purchase orders PO-31 (2 red mugs, day 20) and PO-32 (6 lanterns, day 14): "
        f"order {queue.order_id}'s lanterns expected {_day(queue.eta)}, its "
        f"{mugs.waiting} red mugs {'have no date yet (only 2 coming)' if mugs.eta is None else ''}")
    tent = service.item("TENT-2P")
    say(
        f"day 9: TENT-2P is {tent.status.value} (on hand {tent.on_hand}, "
        f"{tent.disabled_reason.value if tent.disabled_reason else 'enabled'})"
    )
    service.tick(day(10))
    tent = service.item("TENT-2P")
    say(
        f"day 10: back-in-stock date: TENT-2P received 10, on hand {tent.on_hand}, "
        f"{tent.status.value}"
    )
    service.drain_events()

"""The store service: the rules applied through the ledger, with hooks told afterwards.

Each public method is one transaction. It reads the items it touches, asks
:mod:`backorder.rules` what changes, writes items, stock movements, order snapshots
and events together, and only after commit tells plugins (``backorder_apply_items``,
``backorder_notify``). A write that loses a race (another process changed the item)
is retried from the read; a movement whose idempotency key is already in the ledger
is skipped, so the same event applied twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from typing import Any, Literal

import pluggy
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, NonNegativeInt, PositiveInt

from backorder import rules
from backorder.config import StoreConfig
from backorder.errors import BackorderError, PlanLimitReached, RetriesExhausted, UnknownItem
from backorder.eta import IncomingStock
from backorder.models import (
    POLICY_FIELDS,
    BackorderState,
    DomainEvent,
    EventType,
    ItemInput,
    ItemState,
    ItemView,
    LineDecision,
    Mode,
    OrderIn,
    OrderResult,
    StockLevel,
    UTCDateTime,
    trusted,
)
from backorder.outbox import PushOutbox
from backorder.storage import ledger, raw
from backorder.storage.bulk import gc_paused
from backorder.storage.db import Database

MAX_RETRIES = 50

UnassignAction = Literal["keep", "track", "not_purchasable"]


class ItemEdit(BaseModel):
    """Changes to one item; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    on_hand: int | None = None
    tracked: bool | None = None
    incoming_qty: NonNegativeInt | None = None
    back_in_stock_date: UTCDateTime | None = None
    purchasing_disabled: bool | None = None
    name: str | None = None
    mode: Mode | None = None
    threshold: NonNegativeInt | None = None
    low_stock_level: NonNegativeInt | None = None
    min_sale_qty: PositiveInt | None = None
    max_sale_qty: PositiveInt | None = None
    qty_increments: PositiveInt | None = None
    out_of_stock_threshold: NonNegativeInt | None = None
    """With backorders off: units kept back (salable = on hand - this); Magento's min_qty."""
    use_default: list[str] = []


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Outcome:
    """What one transaction produced, for the hooks to hear after commit."""

    def __init__(self) -> None:
        self.events: list[DomainEvent] = []
        """Events to record with the change (``_run`` writes them before commit)."""
        self.stored: list[DomainEvent] = []
        """Events the change's own set-based statements already wrote."""
        self.changed: dict[str, ItemState] = {}


class StoreService:
    """All the backorder operations of one store."""

    def __init__(
        self,
        db: Database,
        store: StoreConfig,
        pm: pluggy.PluginManager | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.db = db
        self.store = store
        self.name = store.name
        self.settings = store.settings
        self.pm = pm
        self.clock = clock

    @property
    def outbox(self) -> PushOutbox:
        """Platform pushes, written with each change and delivered after commit (issue 7)."""
        return PushOutbox(self)

    @property
    def incoming(self) -> IncomingStock:
        """Expected receipts, first-come-first-served release and per-line ETAs (issue 9)."""
        return IncomingStock(self)

    # ----------------------------------------------------------------- plumbing
    def _run(
        self, work: Callable[[sa.Connection, Outcome], Any], reason: str, *, bulk: bool = False
    ) -> Any:
        """Run ``work`` in a transaction, retrying lost races; then tell the plugins.

        ``bulk``: the work builds a great many objects that all live until it is written
        (a batch of orders, a day's receipts); the garbage collector is paused until then,
        as it would walk them again and again and free nothing.
        """
        for _attempt in range(MAX_RETRIES):
            outcome = Outcome()
            try:
                with self.db.transaction() as conn, (gc_paused() if bulk else nullcontext()):
                    result = work(conn, outcome)
                    raw.record_events(conn, self.name, outcome.events)
                    outcome.push_ids = self.outbox.queue(conn, outcome, reason)
            except (ledger.VersionConflict, sa.exc.IntegrityError):
                continue
            self._after_commit(outcome, reason)
            return result
        raise RetriesExhausted(f"gave up after {MAX_RETRIES} conflicting writes")

    inline_pushes: bool = True
    """Deliver a change's platform pushes right after its commit; False leaves them to workers."""

    def _after_commit(self, outcome: Outcome, reason: str) -> None:
        # Pushes were written to the outbox in the change's own transaction: a crash here
        # loses nothing, a worker (outbox.deliver) sends what is left.
        if self.pm is None:
            return
        if getattr(outcome, "push_ids", None) and self.inline_pushes:
            self.outbox.deliver(ids=outcome.push_ids)
        if outcome.events or outcome.stored:
            self.dispatch_events()

    def dispatch_events(self) -> int:
        """Hand pending events to ``backorder_notify``; those a plugin fails on stay pending."""
        if self.pm is None:
            return 0
        with self.db.transaction() as conn:
            pending = ledger.pending_events(conn, self.name)
        done: list[int] = []
        for event_id, event in pending:
            try:
                self.pm.hook.backorder_notify(store=self.store, event=event)
            except Exception:  # a notifier's failure must not lose the event: retry later
                break
            done.append(event_id)
        with self.db.transaction() as conn:
            ledger.mark_dispatched(conn, done, self.clock())
        return len(done)

    def drain_events(self) -> list[DomainEvent]:
        """Take every pending event out of the outbox (for callers that deliver them themselves)."""
        with self.db.transaction() as conn:
            pending = ledger.pending_events(conn, self.name, limit=100_000)
            ledger.mark_dispatched(conn, [event_id for event_id, _ in pending], self.clock())
        return [event for _, event in pending]

    def _write(
        self, conn: sa.Connection, loaded: ledger.Loaded, new: ItemState, outcome: Outcome, at
    ) -> None:
        ledger.write_item(conn, loaded, new, at)
        if new != loaded.item:
            outcome.changed[new.sku] = new

    def _move(
        self,
        conn: sa.Connection,
        item: ItemState,
        delta: int,
        *,
        kind: str,
        source: str,
        key: str,
        at: dt.datetime,
        as_of: dt.datetime | None = None,
    ) -> ItemState:
        new = item.model_copy(update={"on_hand": item.on_hand + delta})
        ledger.record_movement(
            conn,
            self.name,
            sku=item.sku,
            delta=delta,
            on_hand_after=new.on_hand,
            kind=kind,
            source=source,
            key=key,
            at=at,
            as_of=as_of,
        )
        return new

    def _settle(self, item: ItemState, outcome: Outcome, at: dt.datetime) -> ItemState:
        item, events = rules.settle(item, self.settings, at)
        outcome.events += events
        return item

    def _require(self, conn: sa.Connection, skus: Iterable[str]) -> dict[str, ledger.Loaded]:
        skus = list(dict.fromkeys(skus))
        found = ledger.load_items(conn, self.name, skus=skus)
        missing = [sku for sku in skus if sku not in found]
        if missing:
            raise UnknownItem(f"no such item in store {self.name!r}: {', '.join(missing)}")
        return found

    # ------------------------------------------------------------------ reading
    def item(self, sku: str) -> ItemView:
        with self.db.read() as conn:
            return rules.view(self._require(conn, [sku])[sku].item, self.settings)

    def items(self, *, assigned: bool | None = None) -> list[ItemView]:
        with self.db.read() as conn:
            loaded = ledger.load_items(conn, self.name, assigned=assigned)
        return [rules.view(entry.item, self.settings) for entry in loaded.values()]

    def order(self, order_id: str) -> OrderResult | None:
        with self.db.read() as conn:
            return ledger.load_order(conn, self.name, order_id)

    # ------------------------------------------------------------------ catalog
    def upsert_catalog(self, entries: Sequence[ItemInput], *, at: dt.datetime | None = None) -> int:
        """Add items the platform lists (unknown SKUs only); returns how many were new."""
        at = at or self.clock()

        def work(conn, outcome):
            known = ledger.load_items(conn, self.name, skus=[e.sku for e in entries])
            fresh = [e for e in entries if e.sku not in known]
            for entry in fresh:
                item = ItemState(
                    **entry.model_dump(include=set(ItemState.model_fields) - {"overrides"}),
                    overrides=entry.overrides(),
                )
                item = self._settle(item, outcome, at)
                ledger.insert_item(conn, self.name, item, at)
                if item.on_hand:
                    ledger.record_movement(
                        conn,
                        self.name,
                        sku=item.sku,
                        delta=item.on_hand,
                        on_hand_after=item.on_hand,
                        kind="catalog",
                        source="catalog load",
                        key=f"catalog:{item.sku}",
                        at=at,
                    )
                outcome.changed[item.sku] = item
            return len(fresh)

        return self._run(work, "catalog")

    def assign(
        self, entries: Sequence[ItemInput | str], *, at: dt.datetime | None = None
    ) -> list[ItemView]:
        """Assign items, each with all the variants of its product (seed 001).

        Settings given on an entry become the item's overrides; stock given is booked
        to the ledger. Already-assigned items are left as they are. Refused whole with
        :class:`PlanLimitReached` when the store's plan cap would be passed.
        """
        at = at or self.clock()
        given = {e.sku if isinstance(e, ItemInput) else e: e for e in entries}

        def work(conn, outcome):
            found = self._require(conn, given)
            products = {e.item.product_id for e in found.values() if e.item.product_id}
            if products:
                found |= ledger.load_items(conn, self.name, product_ids=products)
            self._check_plan(conn, [e.item for e in found.values() if not e.item.assigned])
            template = {  # seed 001: a product's variants are assigned with the same settings
                found[sku].item.product_id: entry
                for sku, entry in given.items()
                if isinstance(entry, ItemInput) and found[sku].item.product_id
            }
            for sku, loaded in found.items():
                if loaded.item.assigned:
                    continue
                item = loaded.item.model_copy(update={"assigned": True})
                entry = given.get(sku) or template.get(loaded.item.product_id)
                if isinstance(entry, ItemInput):
                    if entry.sku != sku:  # a sibling variant takes the settings, not the stock
                        entry = ItemInput(
                            sku=sku,
                            **entry.model_dump(
                                include=entry.model_fields_set
                                - {"sku", "on_hand", "variant_id", "product_id", "name"}
                            ),
                        )
                    item = self._apply_input(conn, item, entry, at, source="assign")
                outcome.events.append(DomainEvent(type=EventType.ASSIGNED, sku=sku, at=at))
                self._write(conn, loaded, self._settle(item, outcome, at), outcome, at)
            return [rules.view(e.item, self.settings) for e in found.values()]

        self._run(work, "assign")
        return [self.item(sku) for sku in given]

    def _check_plan(self, conn: sa.Connection, newcomers: list[ItemState]) -> None:
        limit = self.settings.plan_limit
        if limit is None or not newcomers:
            return
        assigned = ledger.load_items(conn, self.name, assigned=True).values()
        products = {e.item.product_id or e.item.sku for e in assigned}
        wanted = products | {item.product_id or item.sku for item in newcomers}
        if len(wanted) > limit:
            raise PlanLimitReached(
                f"plan limit: store {self.name!r} may assign {limit} products; "
                f"{len(products)} are assigned and this would make {len(wanted)}"
            )

    def _apply_input(
        self, conn, item: ItemState, entry: ItemInput, at: dt.datetime, *, source: str
    ) -> ItemState:
        fields = entry.model_fields_set
        overrides = {
            k: v
            for k, v in {**item.overrides, **entry.overrides()}.items()
            if k not in entry.use_default
        }
        update: dict[str, Any] = {"overrides": overrides}
        for name in ("incoming_qty", "back_in_stock_date", "purchasing_disabled", "name",
                     "tracked"):
            if name in fields:
                update[name] = getattr(entry, name)
        item = item.model_copy(update=update)
        if "on_hand" in fields and entry.on_hand != item.on_hand:
            item = self._move(
                conn,
                item,
                entry.on_hand - item.on_hand,
                kind=source,
                source=source,
                key=f"{source}:{uuid.uuid4()}",
                at=at,
            )
        return item

    def unassign(
        self, skus: Sequence[str], action: UnassignAction = "keep", *, at: dt.datetime | None = None
    ) -> list[ItemView]:
        """Stop managing items (and their product's variants).

        ``action`` is the seed's optional choice: ``track`` hands tracking back to the
        platform with our stock, ``not_purchasable`` makes the product unbuyable.
        Each ``unassigned`` event carries the stock data to mail to the merchant.
        """
        at = at or self.clock()

        def work(conn, outcome):
            found = self._require(conn, skus)
            products = {e.item.product_id for e in found.values() if e.item.product_id}
            if products:
                found |= ledger.load_items(conn, self.name, product_ids=products)
            for sku, loaded in found.items():
                if not loaded.item.assigned:
                    continue
                item = loaded.item.model_copy(
                    update={
                        "assigned": False,
                        "state": BackorderState.IDLE,
                        "disabled_reason": None,
                        "purchasing_disabled": loaded.item.purchasing_disabled
                        or action == "not_purchasable",
                    }
                )
                outcome.events.append(
                    DomainEvent(
                        type=EventType.UNASSIGNED,
                        sku=sku,
                        at=at,
                        data={
                            "action": action,
                            "on_hand": item.on_hand,
                            "incoming_qty": item.incoming_qty,
                            "back_in_stock_date": item.back_in_stock_date.isoformat()
                            if item.back_in_stock_date
                            else None,
                        },
                    )
                )
                self._write(conn, loaded, item, outcome, at)

        self._run(work, "unassign" if action == "keep" else f"unassign:{action}")
        return [self.item(sku) for sku in skus]

    def edit(
        self, sku: str, changes: ItemEdit, *, key: str | None = None, at: dt.datetime | None = None
    ) -> ItemView:
        """Change an item's stock, dates, purchasability or settings (seed 000 §5)."""
        at = at or self.clock()
        bad = set(changes.use_default) - set(POLICY_FIELDS)
        if bad:
            raise BackorderError(f"use_default: not a setting: {', '.join(sorted(bad))}")
        key = key or f"edit:{uuid.uuid4()}"

        def work(conn, outcome):
            loaded = self._require(conn, [sku])[sku]
            if "on_hand" in changes.model_fields_set and ledger.movement_applied(
                conn, self.name, key
            ):
                return
            entry = ItemInput(sku=sku, **changes.model_dump(exclude_unset=True))
            item = self._apply_input(conn, loaded.item, entry, at, source="manual")
            self._write(conn, loaded, self._settle(item, outcome, at), outcome, at)

        self._run(work, "edit")
        return self.item(sku)

    def enable(self, skus: Sequence[str], *, at: dt.datetime | None = None) -> list[ItemView]:
        return self._switch(skus, "enable", at or self.clock())

    def disable(self, skus: Sequence[str], *, at: dt.datetime | None = None) -> list[ItemView]:
        return self._switch(skus, "disable", at or self.clock())

    def _switch(self, skus: Sequence[str], how: str, at: dt.datetime) -> list[ItemView]:
        def work(conn, outcome):
            for loaded in self._require(conn, skus).values():
                if not loaded.item.assigned:
                    raise BackorderError(f"{loaded.item.sku}: not assigned; assign it first")
                if how == "enable":
                    item, events = rules.enable(loaded.item, self.settings, at)
                else:
                    item, events = rules.disable(loaded.item, at)
                outcome.events += events
                self._write(conn, loaded, item, outcome, at)

        self._run(work, how)
        return [self.item(sku) for sku in skus]

    # -------------------------------------------------------------------- stock
    def apply_levels(
        self, levels: Sequence[StockLevel], *, source: str, at: dt.datetime | None = None
    ) -> int:
        """Set many SKUs' stock from a platform's figures in one transaction.

        An ``absolute`` level is booked under the key ``{source}:{sku}:{source_ref}``, so a
        level already applied (the same webhook, the same sync snapshot) changes nothing.
        A ``platform_count`` level moves stock by its change since the platform's last
        figure (the first figure seen sets it), so a copy or a re-read changes nothing and
        never overwrites our own sales. A level whose ``as_of`` is older than the newest
        already applied to its SKU is stale (a reordered webhook) and skipped. Unknown SKUs
        are skipped. Returns how many changed.
        """
        at = at or self.clock()

        latest = list({level.sku: level for level in levels}.values())  # one figure per SKU

        def work(conn, outcome):
            found = ledger.load_items(conn, self.name, skus=[level.sku for level in latest])
            newest = ledger.latest_levels(
                conn, self.name, [level.sku for level in latest if level.as_of is not None]
            )
            changed = 0
            for level in latest:
                loaded = found.get(level.sku)
                seen = newest.get(level.sku)
                if loaded is None or (level.as_of and seen and level.as_of < seen):
                    continue
                if level.basis == "platform_count":
                    changed += self._apply_count(conn, outcome, loaded, level, source, at)
                    continue
                key = f"{source}:{level.sku}:{level.source_ref or level.on_hand}"
                if ledger.movement_applied(conn, self.name, key):
                    continue
                delta = level.on_hand - loaded.item.on_hand
                item = self._move(
                    conn, loaded.item, delta, kind="sync", source=source, key=key, at=at,
                    as_of=level.as_of,
                )
                if not delta:  # booked all the same: a late copy of this level must stay a no-op
                    continue
                self._write(conn, loaded, self._settle(item, outcome, at), outcome, at)
                changed += 1
            return changed

        return self._run(work, "stock")

    def _apply_count(self, conn, outcome, loaded, level: StockLevel, source, at) -> int:
        seen = loaded.item.platform_level
        delta = level.on_hand - (loaded.item.on_hand if seen is None else seen)
        item = loaded.item.model_copy(update={"platform_level": level.on_hand})
        key = f"{source}:{level.sku}:v{loaded.version}:{level.on_hand}"
        # a dated figure is booked even unchanged (it is now the newest), once
        if delta or (level.as_of and not ledger.movement_applied(conn, self.name, key)):
            item = self._move(
                conn, item, delta, kind="sync", source=f"{source} ({seen} -> {level.on_hand})",
                key=key, at=at, as_of=level.as_of,
            )
        self._write(conn, loaded, self._settle(item, outcome, at), outcome, at)
        return 1 if delta else 0

    def sync_from_platform(self) -> tuple[int, int]:
        """Pull the platform's catalog and stock levels (one-way, platform -> us).

        Returns ``(new items, items whose stock changed)``.
        """
        if self.pm is None:
            raise BackorderError("no plugin manager: cannot reach a platform")
        catalog = self.pm.hook.backorder_fetch_catalog(store=self.store)
        if catalog is None:
            raise BackorderError(f"no plugin serves platform {self.store.platform!r}")
        new = self.upsert_catalog(
            [
                ItemInput(
                    sku=c.sku,
                    product_id=c.product_id,
                    variant_id=c.variant_id,
                    name=c.name,
                    on_hand=c.on_hand or 0,
                    tracked=c.tracked,
                    category=c.category,
                    brand=c.brand,
                    assigned=False,
                    **c.policy,
                )
                for c in catalog
            ]
        )
        levels = self.pm.hook.backorder_fetch_levels(store=self.store, skus=[]) or []
        return new, self.apply_levels(levels, source="sync")

    def set_stock(
        self,
        sku: str,
        on_hand: int,
        *,
        key: str,
        source: str = "stock",
        at: dt.datetime | None = None,
    ) -> ItemView:
        """Set on-hand stock to a figure (a platform's level, an import, a count)."""
        at = at or self.clock()
        return self._stock(sku, key, source, at, lambda item: on_hand - item.on_hand)

    def adjust_stock(
        self,
        sku: str,
        delta: int,
        *,
        key: str,
        source: str = "stock",
        at: dt.datetime | None = None,
    ) -> ItemView:
        """Add (or with a negative delta, take) units of stock."""
        return self._stock(sku, key, source, at or self.clock(), lambda item: delta)

    def _stock(self, sku, key, source, at, delta_of: Callable[[ItemState], int]) -> ItemView:
        def work(conn, outcome):
            if ledger.movement_applied(conn, self.name, key):
                return
            loaded = self._require(conn, [sku])[sku]
            item = self._move(
                conn,
                loaded.item,
                delta_of(loaded.item),
                kind="stock",
                source=source,
                key=key,
                at=at,
            )
            self._write(conn, loaded, self._settle(item, outcome, at), outcome, at)

        self._run(work, "stock")
        return self.item(sku)

    # ------------------------------------------------------------------- orders
    def place_order(self, order: OrderIn, *, enforce: bool = True) -> OrderResult:
        """Decide every line and book the order atomically: all lines or none.

        Two orders racing for the last units can never both take them: each writes its
        items only if no one changed them since it read (see :func:`ledger.write_item`).
        The same order id placed twice returns the first decision unchanged, whether it
        was accepted or refused.

        ``enforce=False`` records an order the platform has already taken (a webhook for a
        placed order): every known line is booked whole and split into in-stock and
        backordered units, even past the threshold; the switches still fire.
        """
        return self._run(lambda conn, outcome: self._book(conn, outcome, order, enforce), "order")

    def place_orders(self, orders: Sequence[OrderIn], *, enforce: bool = True) -> list[OrderResult]:
        """Place many orders in ONE transaction, each exactly as :meth:`place_order` would.

        The orders are decided in sequence, each seeing the stock the ones before it took;
        each is still all-or-nothing (a refused order is kept with no stock moved) and an
        order id already placed (before or earlier in the batch) returns its first answer.
        Rows written are those of one ``place_order`` per order, except that an item's
        ``version`` rises once per batch. The batch commits whole: a lost race retries it
        from the start, a crash leaves none of it. Decisions are made in memory and written
        with a few set-based statements (storage.bulk), so this is the fast path for bulk
        loads; the write lock is held for the whole batch, so keep batches to some thousands
        of orders while other writers are live.
        """
        batch = list(orders)
        return self._run(
            lambda conn, outcome: self._book_many(conn, outcome, batch, enforce), "order", bulk=True
        )

    def _book_many(
        self, conn, outcome: Outcome, orders: list[OrderIn], enforce: bool
    ) -> list[OrderResult]:
        from backorder.storage import bulk

        stored = bulk.existing_orders(conn, self.name, [o.order_id for o in orders])
        loaded = bulk.load_many(conn, self.name, {line.sku for o in orders for line in o.lines})
        items = {sku: entry.item for sku, entry in loaded.items()}
        written_at: dict[str, dt.datetime] = {}
        first: dict[str, OrderResult] = {}
        results: list[OrderResult] = []
        placed, moves = [], []
        for order in orders:
            if order.order_id in first or order.order_id in stored:
                previous = first.get(order.order_id) or ledger.load_order(
                    conn, self.name, order.order_id
                )
                results.append(previous.model_copy(update={"duplicate": True}))
                continue
            at = order.placed_at or self.clock()
            result, names, current = self._decide(order, items, enforce)
            first[order.order_id] = result
            results.append(result)
            placed.append((result, at, order.customer_email, names))
            if not result.accepted:
                continue
            start = {sku: items[sku].on_hand for sku in current}
            moves += self._order_moves(order, result, start, at, outcome)
            for sku, item in current.items():
                new = self._settle(item, outcome, at)
                if new != items[sku]:
                    items[sku], written_at[sku] = new, at
        bulk.save_orders(conn, self.name, placed)
        bulk.record_movements(conn, moves)
        writes = [(loaded[sku], items[sku], at) for sku, at in written_at.items()]
        bulk.write_items(conn, [w for w in writes if w[1] != w[0].item])
        outcome.changed.update({entry.item.sku: new for entry, new, _ in writes})
        return results

    def _decide(
        self, order: OrderIn, items: dict[str, ItemState], enforce: bool
    ) -> tuple[OrderResult, dict[str, str], dict[str, ItemState]]:
        """The rules for every line of one order against ``items`` (left as they are).

        Returns the result, the line names to store, and the order's items (in SKU order)
        as accepted lines leave them.
        """
        skus = sorted({line.sku for line in order.lines})
        current = {sku: items[sku] for sku in skus if sku in items}
        decisions: list[LineDecision] = []
        for line_no, line in enumerate(order.lines, start=1):
            decision = rules.decide_line(
                line_no, current.get(line.sku), self.settings, line.qty, line.sku
            )
            if not enforce and line.sku in current:
                decision = rules.record_line(line_no, current[line.sku], line.qty, decision)
            decisions.append(decision)
            if decision.accepted:  # later lines of the same SKU see what this one took
                item = current[line.sku]
                taken = decision.in_stock + decision.backordered
                left = item.on_hand - taken
                current[line.sku] = trusted(ItemState, {**item.__dict__, "on_hand": left})
        errors = [f"line {d.line_no} ({d.sku}): {d.error}" for d in decisions if not d.accepted]
        result = trusted(OrderResult, {  # the lines are the rules' validated decisions
            "order_id": order.order_id, "accepted": not errors, "lines": decisions,
            "errors": errors, "duplicate": False,
        })
        names = {line.sku: line.name or getattr(current.get(line.sku), "name", "")
                 for line in order.lines}
        return result, names, current

    def _order_moves(
        self, order: OrderIn, result: OrderResult, on_hand: dict[str, int], at, outcome: Outcome
    ) -> list[tuple]:
        """The ledger rows (``bulk.MOVEMENT_COLUMNS``) of an accepted order (``on_hand``:
        before it), and its ``order_backordered`` events."""
        moves = []
        store, order_id = self.name, order.order_id
        for decision in result.lines:
            taken = decision.in_stock + decision.backordered
            on_hand[decision.sku] -= taken
            moves.append((
                store, decision.sku, -taken, on_hand[decision.sku], "order",
                f"order {order_id} line {decision.line_no}",
                f"order:{order_id}:{decision.line_no}", at,
            ))
            if decision.backordered:
                outcome.events.append(
                    trusted(DomainEvent, {  # built from the validated decision
                        "type": EventType.ORDER_BACKORDERED,
                        "sku": decision.sku,
                        "at": at,
                        "reason": None,
                        "data": {
                            "order_id": order_id,
                            "line_no": decision.line_no,
                            "requested": decision.requested,
                            "backordered": decision.backordered,
                        },
                    })
                )
        return moves

    def _book(self, conn, outcome: Outcome, order: OrderIn, enforce: bool) -> OrderResult:
        """One order inside the caller's transaction (cached statements: storage.bulk)."""
        from backorder.storage import bulk

        at = order.placed_at or self.clock()
        if bulk.order_exists(conn, self.name, order.order_id):
            previous = ledger.load_order(conn, self.name, order.order_id)
            return previous.model_copy(update={"duplicate": True})
        loaded = bulk.load_items(conn, self.name, {line.sku for line in order.lines})
        result, names, current = self._decide(
            order, {sku: entry.item for sku, entry in loaded.items()}, enforce
        )
        # A refused order is kept too (with no stock moved), so a replay of it is a no-op.
        bulk.save_order(
            conn, self.name, result, placed_at=at, customer_email=order.customer_email,
            names=names,
        )
        if not result.accepted:
            return result
        start = {sku: entry.item.on_hand for sku, entry in loaded.items()}
        bulk.record_movements(conn, self._order_moves(order, result, start, at, outcome))
        for sku, item in current.items():
            new = self._settle(item, outcome, at)
            if bulk.write_item(conn, loaded[sku], new, at):
                outcome.changed[sku] = new
        return result

    # --------------------------------------------------------------------- time
    bulk_tick: bool = True
    """Receive due stock with set-based statements (:func:`storage.bulk.receive_due`);
    False goes item by item through the rules (the reference the bulk path is tested against)."""

    def tick(self, now: dt.datetime | None = None) -> list[DomainEvent]:
        """Apply what time brings: back-in-stock dates that have arrived receive their stock.

        Idempotent: a receipt is booked under a key naming the SKU and its date (in UTC).
        ``now`` in any time zone is compared as the instant it is.
        """
        now = now or self.clock()
        now = now.replace(tzinfo=dt.UTC) if now.tzinfo is None else now.astimezone(dt.UTC)

        def work(conn, outcome):
            if not self.bulk_tick:
                return self._tick_items(conn, outcome, now)
            from backorder.storage import bulk

            skus, events = bulk.receive_due(conn, self.name, self.settings, now)
            outcome.stored += events
            outcome.changed.update(dict.fromkeys(skus))  # only the SKUs matter to the outbox
            return list(events)

        return self._run(work, "tick", bulk=self.bulk_tick)

    def _tick_items(self, conn, outcome: Outcome, now: dt.datetime) -> list[DomainEvent]:
        due = ledger.load_items(conn, self.name, assigned=True, due_before=now)
        for sku, loaded in due.items():
            date = loaded.item.back_in_stock_date
            if date is None or now < date:
                continue
            received, (item, events) = rules.receive_incoming(loaded.item, self.settings, now)
            key = f"receipt:{sku}:{date.astimezone(dt.UTC).isoformat()}"
            if ledger.movement_applied(conn, self.name, key):
                continue
            ledger.record_movement(
                conn,
                self.name,
                sku=sku,
                delta=received,
                on_hand_after=item.on_hand,
                kind="receipt",
                source=f"back-in-stock date {date.astimezone(dt.UTC).isoformat()}",
                key=key,
                at=now,
            )
            outcome.events += events
            self._write(conn, loaded, item, outcome, now)
        return list(outcome.events)

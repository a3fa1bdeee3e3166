"""The store service: the rules applied through the ledger, with plugins told afterwards.

Each public method is one transaction (:meth:`StoreService.transact` with a
:class:`~backorder.unit_of_work.UnitOfWork`). It reads the items it touches, asks
:mod:`backorder.rules` what changes, writes items, stock movements, order snapshots
and events together, and only after commit tells the store's platform (the push outbox)
and the notifiers. A write that loses a race (another process changed the item) is
retried from the read; a movement whose idempotency key is already in the ledger is
skipped, so the same event applied twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import uuid
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from typing import Any, Literal, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict

from backorder import rules
from backorder.config import StoreConfig
from backorder.documents.templating import MessageTemplate
from backorder.errors import (
    Conflict,
    InvalidInput,
    PlanLimitReached,
    Refused,
    RetriesExhausted,
)
from backorder.eta import IncomingStock
from backorder.lifecycle import OrderChange, OrderLifecycle
from backorder.models import (
    POLICY_FIELDS,
    BackorderState,
    Count,
    DomainEvent,
    EventType,
    ItemInput,
    ItemState,
    ItemView,
    LineDecision,
    Mode,
    OrderIn,
    OrderResult,
    PositiveQty,
    Qty,
    StockLevel,
    UTCDateTime,
    trusted,
)
from backorder.notifications import Notifications
from backorder.outbox import PushOutbox
from backorder.platform import Platform
from backorder.plugins import PluginManager
from backorder.storage import event_log, fastpath, pg_orders, races, records
from backorder.storage.db import Database, storage_error
from backorder.storage.fastpath import gc_paused
from backorder.storefront_api import readmodel
from backorder.unit_of_work import UnitOfWork

log = logging.getLogger("backorder.engine")

MAX_RETRIES = 50

T = TypeVar("T")

UnassignAction = Literal["keep", "track", "not_purchasable"]


class ItemEdit(BaseModel):
    """Changes to one item; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    on_hand: Qty | None = None
    tracked: bool | None = None
    incoming_qty: Count | None = None
    back_in_stock_date: UTCDateTime | None = None
    purchasing_disabled: bool | None = None
    name: str | None = None
    mode: Mode | None = None
    threshold: Count | None = None
    low_stock_level: Count | None = None
    min_sale_qty: PositiveQty | None = None
    max_sale_qty: PositiveQty | None = None
    qty_increments: PositiveQty | None = None
    out_of_stock_threshold: Count | None = None
    """With backorders off: units kept back (salable = on hand - this); Magento's min_qty."""
    use_default: list[str] = []


def _same_lines(order: OrderIn, previous: OrderResult | None) -> None:
    """An order id placed again must ask for the same lines: then it is a replay and gets
    its first answer; with other lines it is a different order under a used id.

    :raises backorder.errors.Conflict: the id was placed with other lines.
    """
    if previous is None:
        return
    asked: dict[str, int] = {}
    for line in order.lines:
        asked[line.sku] = asked.get(line.sku, 0) + line.qty
    stored: dict[str, int] = {}
    for placed in previous.lines:
        stored[placed.sku] = stored.get(placed.sku, 0) + placed.requested
    if asked != stored:
        diff = ", ".join(
            f"{sku} {stored.get(sku, 0)} placed, {asked.get(sku, 0)} now"
            for sku in sorted(set(asked) | set(stored))
            if asked.get(sku, 0) != stored.get(sku, 0)
        )
        raise Conflict(
            f"order {order.order_id}: this id was already placed with other lines ({diff}); "
            "nothing changed (use a new order id)"
        )


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class StoreService:
    """All the backorder operations of one store.

    :param db: the database.
    :param store: the store's config.
    :param pm: the plugin manager that serves the store's platform and its notifiers;
        ``None`` runs the rules alone (no pushes, no notifications).
    :param clock: the time "now" (tests pass a fixed one).
    """

    def __init__(
        self,
        db: Database,
        store: StoreConfig,
        pm: PluginManager | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.db = db
        self.store = store
        self.name = store.name
        self.settings = store.settings
        self.pm = pm
        self.clock = clock
        self.outbox = PushOutbox(self)
        """Platform pushes, written with each change and delivered after commit."""
        self.incoming = IncomingStock(self)
        """Expected receipts, first-come-first-served release and per-line ETAs."""
        self.notifications = Notifications(self)
        """Domain events handed to each notifier once, after commit."""
        self.lifecycle = OrderLifecycle(self)
        """Cancels, shipments and returns of placed orders."""
        self._drained = 0

    @property
    def platform(self) -> Platform:
        """The store's platform object.

        :raises backorder.errors.NotFound: no plugin manager, or no plugin serves it.
        """
        if self.pm is None:
            from backorder.errors import NotFound

            raise NotFound(f"no plugin manager: platform {self.store.platform!r} is not loaded")
        return self.pm.platform(self.store.platform)

    @functools.cached_property
    def backorder_notice(self) -> rules.Notice:
        """How a ``notify`` order line with units on backorder is told so: the store's
        ``storefront.backorder_notice``, else its platform's wording (the core's when the
        platform is not loaded).

        :raises backorder.documents.templating.TemplateProblem: the platform's wording uses
            an unknown token (a store's own text is checked when the config loads).
        """
        text = self.store.storefront.backorder_notice
        if text is None:
            loaded = self.pm is not None and self.store.platform in self.pm.platform_names()
            text = self.platform.backorder_notice if loaded else rules.BACKORDER_NOTICE
        return MessageTemplate("backorder_notice", text, rules.NOTICE_TOKENS).render

    @property
    def pushes(self) -> bool:
        """Whether changes go to the platform after commit: its plugin is loaded and it
        pushes items, or the store publishes storefront messages to a platform that takes
        them (``publishes``; a plugin without the attribute is asked anyway)."""
        if self.pm is None or not self.pm.serves(self.store.platform):
            return False
        platform = self.platform
        publishes = self.store.storefront.publish and getattr(platform, "publishes", True)
        return platform.pushes or publishes

    # ----------------------------------------------------------------- transactions
    def transact(
        self,
        work: Callable[[UnitOfWork], T],
        reason: str,
        *,
        at: dt.datetime | None = None,
        bulk: bool = False,
    ) -> T:
        """Run ``work`` in one transaction, retrying lost races; then tell the plugins.

        :param work: reads and writes through the :class:`UnitOfWork` it is given; it may
            run more than once (a lost race), so it must have no other side effects.
        :param reason: what the change is, for the platform push (``assign``, ``order``...).
        :param at: the change's time (default: now).
        :param bulk: the work builds a great many objects that all live until written (a
            batch of orders, a day's receipts): the garbage collector is paused until
            then, as it would walk them again and again and free nothing.
        :raises backorder.errors.RetriesExhausted: the race was lost too often.
        """
        at = at or self.clock()
        for attempt in range(MAX_RETRIES):
            try:
                with self.db.transaction() as conn, (gc_paused() if bulk else nullcontext()):
                    uow = UnitOfWork(conn, self.name, self.settings, at)
                    result = work(uow)
                    uow.pending += self.notifications.record(conn, uow.events)
                    unviewed = uow.changed if not uow.viewed else {
                        sku: state for sku, state in uow.changed.items() if sku not in uow.viewed
                    }
                    readmodel.refresh(conn, self.name, self.settings, unviewed, at)
                    uow.push_ids = self.outbox.queue(conn, uow, reason)
            except Exception as exc:
                # Lost a race (see storage.races): another writer committed first, or
                # PostgreSQL broke a deadlock or a serialization failure. Run it again,
                # after a jittered wait when the database reported contention.
                race = races.lost_race(exc)
                if race is None:
                    if isinstance(exc, self.db.driver_errors):  # never the driver's own
                        raise storage_error(exc) from exc
                    raise
                if race == "contention" or attempt >= 3:
                    races.wait(attempt)
                continue
            self._after_commit(uow)
            return result
        raise RetriesExhausted(f"gave up after {MAX_RETRIES} conflicting writes")

    inline_pushes: bool = True
    """Deliver a change's platform pushes right after its commit; False leaves them to workers."""

    def _after_commit(self, uow: UnitOfWork) -> None:
        """Send what the change queued. It is committed already: whatever fails here is
        logged and left to the next worker pass, never raised to the caller."""
        if self.pm is None:
            return
        try:
            if uow.push_ids and self.inline_pushes:
                self.outbox.deliver(ids=uow.push_ids, claimed=uow.push_claim)
            if uow.pending:  # nothing stored pending: no dispatcher transaction at all
                self.notifications.dispatch()
        except Exception:
            log.exception("store %s: after-commit delivery failed; the worker retries", self.name)

    def dispatch_events(self) -> int:
        """Hand pending events to their notifiers; returns how many events are done."""
        return self.notifications.dispatch()

    def drain_events(self) -> list[DomainEvent]:
        """Every event recorded since this service last drained them (all, the first time),
        oldest first: for callers that show what happened (simulate, tests). Notifiers
        receive them whether drained or not."""
        with self.db.read() as conn:
            found = event_log.after(conn, self.name, self._drained)
        if found:
            self._drained = found[-1][0]
        return [event for _, event in found]

    # ------------------------------------------------------------------ reading
    def item(self, sku: str) -> ItemView:
        """One item's computed state.

        :raises backorder.errors.UnknownItem: no such SKU in the store.
        """
        with self.db.read() as conn:
            loaded = UnitOfWork(conn, self.name, self.settings, self.clock()).require([sku])
        return rules.view(loaded[sku].item, self.settings)

    def items(self, *, assigned: bool | None = None) -> list[ItemView]:
        with self.db.read() as conn:
            loaded = records.load_items(conn, self.name, assigned=assigned)
        return [rules.view(entry.item, self.settings) for entry in loaded.values()]

    def order(self, order_id: str) -> OrderResult | None:
        with self.db.read() as conn:
            return records.load_order(conn, self.name, order_id)

    # ------------------------------------------------------------------ catalog
    def upsert_catalog(self, entries: Sequence[ItemInput], *, at: dt.datetime | None = None) -> int:
        """Add items the platform lists (unknown SKUs only); returns how many were new."""
        at = at or self.clock()

        def work(uow: UnitOfWork):
            known = records.load_items(uow.conn, self.name, skus=[e.sku for e in entries])
            fresh = [e for e in entries if e.sku not in known]
            for entry in fresh:
                item = ItemState(
                    **entry.model_dump(include=set(ItemState.model_fields) - {"overrides"}),
                    overrides=entry.overrides(),
                )
                item = uow.settle(item)
                records.insert_item(
                    uow.conn, self.name, item, at, category=entry.category, brand=entry.brand
                )
                if item.on_hand:
                    records.record_movement(
                        uow.conn,
                        self.name,
                        sku=item.sku,
                        delta=item.on_hand,
                        on_hand_after=item.on_hand,
                        kind="catalog",
                        source="catalog load",
                        key=f"catalog:{item.sku}",
                        at=at,
                    )
                uow.changed[item.sku] = item
            return len(fresh)

        return self.transact(work, "catalog", at=at)

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

        def work(uow: UnitOfWork):
            found = uow.require(given)
            products = {e.item.product_id for e in found.values() if e.item.product_id}
            if products:
                found |= records.load_items(uow.conn, self.name, product_ids=products)
            self._check_plan(uow.conn, [e.item for e in found.values() if not e.item.assigned])
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
                    item = self._apply_input(uow, item, entry, source="assign")
                uow.emit(DomainEvent(type=EventType.ASSIGNED, sku=sku, at=at))
                uow.write(loaded, uow.settle(item))
            return [rules.view(e.item, self.settings) for e in found.values()]

        self.transact(work, "assign", at=at)
        return [self.item(sku) for sku in given]

    def _check_plan(self, conn: sa.Connection, newcomers: list[ItemState]) -> None:
        limit = self.settings.plan_limit
        if limit is None or not newcomers:
            return
        assigned = records.load_items(conn, self.name, assigned=True).values()
        products = {e.item.product_id or e.item.sku for e in assigned}
        wanted = products | {item.product_id or item.sku for item in newcomers}
        if len(wanted) > limit:
            raise PlanLimitReached(
                f"plan limit: store {self.name!r} may assign {limit} products; "
                f"{len(products)} are assigned and this would make {len(wanted)}"
            )

    def _apply_input(
        self, uow: UnitOfWork, item: ItemState, entry: ItemInput, *, source: str,
        key: str | None = None,
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
            item = uow.move(
                item,
                entry.on_hand - item.on_hand,
                kind=source,
                source=source,
                key=key or f"{source}:{uuid.uuid4()}",
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

        done: list[str] = []  # every SKU unassigned: the named ones and their siblings

        def work(uow: UnitOfWork):
            done.clear()
            found = uow.require(skus)
            products = {e.item.product_id for e in found.values() if e.item.product_id}
            if products:
                found |= records.load_items(uow.conn, self.name, product_ids=products)
            for sku, loaded in found.items():
                if not loaded.item.assigned:
                    continue
                done.append(sku)
                item = loaded.item.model_copy(
                    update={
                        "assigned": False,
                        "state": BackorderState.IDLE,
                        "disabled_reason": None,
                        "purchasing_disabled": loaded.item.purchasing_disabled
                        or action == "not_purchasable",
                    }
                )
                uow.emit(
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
                uow.write(loaded, item)

        self.transact(work, "unassign" if action == "keep" else f"unassign:{action}", at=at)
        return [self.item(sku) for sku in dict.fromkeys([*skus, *done])]

    def edit(
        self, sku: str, changes: ItemEdit, *, key: str | None = None, at: dt.datetime | None = None
    ) -> ItemView:
        """Change an item's stock, dates, purchasability or settings (seed 000 §5)."""
        at = at or self.clock()
        bad = set(changes.use_default) - set(POLICY_FIELDS)
        if bad:
            raise InvalidInput(f"use_default: not a setting: {', '.join(sorted(bad))}")
        key = key or f"edit:{uuid.uuid4()}"

        def work(uow: UnitOfWork):
            loaded = uow.require([sku])[sku]
            if "on_hand" in changes.model_fields_set and uow.applied(key):
                return  # this edit's stock change is booked already: a replay
            entry = ItemInput(sku=sku, **changes.model_dump(exclude_unset=True))
            item = self._apply_input(uow, loaded.item, entry, source="manual", key=key)
            uow.write(loaded, uow.settle(item))

        self.transact(work, "edit", at=at)
        return self.item(sku)

    def enable(self, skus: Sequence[str], *, at: dt.datetime | None = None) -> list[ItemView]:
        return self._switch(skus, "enable", at or self.clock())

    def disable(self, skus: Sequence[str], *, at: dt.datetime | None = None) -> list[ItemView]:
        return self._switch(skus, "disable", at or self.clock())

    def _switch(self, skus: Sequence[str], how: str, at: dt.datetime) -> list[ItemView]:
        def work(uow: UnitOfWork):
            for loaded in uow.require(skus).values():
                if not loaded.item.assigned:
                    raise Refused(f"{loaded.item.sku}: not assigned; assign it first")
                if how == "enable":
                    item, events = rules.enable(loaded.item, self.settings, at)
                else:
                    item, events = rules.disable(loaded.item, at)
                uow.emit(*events)
                uow.write(loaded, item)

        self.transact(work, how, at=at)
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

        ``source_ref`` is part of the idempotency key, so it must name one reading of the
        platform (a delivery id, a sync run plus the variant, a version): the same ref again
        is a copy and changes nothing, and a ref that never changes makes every later sync
        a no-op. A level with an empty ref and no ``as_of`` is the figure now: applied
        whenever it differs from on hand (every sync), booked only then.

        :raises backorder.errors.Conflict: a ``source_ref`` already applied arrives with
            another figure (a plugin reusing refs); nothing of the batch is applied.
        """
        at = at or self.clock()

        # one figure per SKU, written in SKU order (the order every writer takes row locks in)
        latest = sorted({level.sku: level for level in levels}.values(), key=lambda lv: lv.sku)

        def work(uow: UnitOfWork):
            found = records.load_items(uow.conn, self.name, skus=[level.sku for level in latest])
            newest = records.latest_levels(
                uow.conn, self.name, [level.sku for level in latest if level.as_of is not None]
            )
            changed = 0
            for level in latest:
                loaded = found.get(level.sku)
                seen = newest.get(level.sku)
                if loaded is None or (level.as_of and seen and level.as_of < seen):
                    continue
                if level.basis == "platform_count":
                    changed += self._apply_count(uow, loaded, level, source)
                    continue
                if level.basis == "net_of_orders":
                    changed += self._apply_net(uow, loaded, level, source)
                    continue
                if level.source_ref:
                    key = f"{source}:{level.sku}:{level.source_ref}"
                elif level.as_of:  # a dated reading: its date names it
                    key = f"{source}:{level.sku}:@{level.as_of.isoformat()}:{level.on_hand}"
                else:  # an unnamed reading is simply the figure now
                    key = f"{source}:{level.sku}:{uuid.uuid4().hex}"
                    if level.on_hand == loaded.item.on_hand:
                        continue
                if level.source_ref:
                    booked = records.movement_on_hand_after(uow.conn, self.name, key)
                    if booked is not None and booked != level.on_hand:
                        raise Conflict(
                            f"stock level for {level.sku}: source_ref {level.source_ref!r} "
                            f"was applied as {booked} and now says {level.on_hand}; a "
                            "source_ref names one reading of the platform (README: "
                            "'source_ref and as_of')"
                        )
                    if booked is not None:
                        continue
                elif uow.applied(key):
                    continue
                delta = level.on_hand - loaded.item.on_hand
                item = uow.move(
                    loaded.item, delta, kind="sync", source=source, key=key, as_of=level.as_of
                )
                if not delta:  # booked all the same: a late copy of this level must stay a no-op
                    continue
                uow.write(loaded, uow.settle(item))
                changed += 1
            return changed

        return self.transact(work, "stock", at=at)

    def _apply_count(
        self, uow: UnitOfWork, loaded: records.Loaded, level: StockLevel, source: str
    ) -> int:
        seen = loaded.item.platform_level
        delta = level.on_hand - (loaded.item.on_hand if seen is None else seen)
        item = loaded.item.model_copy(update={"platform_level": level.on_hand})
        # a dated figure is booked even unchanged (it is now the newest), once: named by its
        # date, since an unchanged figure leaves the version as it was and a later unchanged
        # figure must still move the newest date on (else an older one is let in after it)
        when = f"@{level.as_of.isoformat()}" if level.as_of else f"v{loaded.version}"
        key = f"{source}:{level.sku}:{when}:{level.on_hand}"
        if delta or (level.as_of and not uow.applied(key)):
            item = uow.move(
                item, delta, kind="sync", source=f"{source} ({seen} -> {level.on_hand})",
                key=key, as_of=level.as_of,
            )
        uow.write(loaded, uow.settle(item))
        return 1 if delta else 0

    def _apply_net(
        self, uow: UnitOfWork, loaded: records.Loaded, level: StockLevel, source: str
    ) -> int:
        """A figure net of the platform's orders up to ``as_of``: less the orders booked
        here that were placed after it (see ``StockLevel.basis``)."""
        until = level.as_of or uow.at
        ref = level.source_ref or f"@{until.isoformat()}:{level.on_hand}"
        key = f"{source}:{level.sku}:{ref}"
        if uow.applied(key):
            return 0
        later = records.order_delta_after(uow.conn, self.name, level.sku, until)
        delta = level.on_hand + later - loaded.item.on_hand
        item = uow.move(
            loaded.item, delta, kind="sync", source=f"{source} {records.NET_SOURCE}",
            key=key, as_of=until,
        )
        if not delta:
            return 0
        uow.write(loaded, uow.settle(item))
        return 1

    def _counted(
        self, conn: sa.Connection, order: OrderIn, items: dict[str, ItemState]
    ) -> dict[str, int]:
        """Units per SKU of a platform order that a ``net_of_orders`` figure applied here
        counted already (the order was placed at or before it): they move no stock."""
        placed = order.placed_at or self.clock()
        marks = records.net_watermarks(conn, self.name, sorted(items))
        counted: dict[str, int] = {}
        for line in order.lines:
            mark = marks.get(line.sku)
            if mark is not None and placed <= mark:
                counted[line.sku] = counted.get(line.sku, 0) + line.qty
        return counted

    def sync_from_platform(self) -> tuple[int, int]:
        """Pull the platform's catalog and stock levels (one-way, platform -> us).

        Returns ``(new items, items whose stock changed)``.

        :raises backorder.errors.NotFound: no plugin serves the store's platform.
        :raises backorder.errors.PlatformError: the platform failed.
        """
        platform = self.platform
        catalog = platform.fetch_catalog(self.store)
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
        levels = platform.fetch_levels(self.store, [])
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
        def work(uow: UnitOfWork):
            if uow.applied(key):
                return
            loaded = uow.require([sku])[sku]
            item = uow.move(
                loaded.item, delta_of(loaded.item), kind="stock", source=source, key=key
            )
            uow.write(loaded, uow.settle(item))

        self.transact(work, "stock", at=at)
        return self.item(sku)

    # ------------------------------------------------------------------- orders
    def place_order(self, order: OrderIn, *, enforce: bool = True) -> OrderResult:
        """Decide every line and book the order atomically: all lines or none.

        Two orders racing for the last units can never both take them: each writes its
        items only if no one changed them since it read (see :func:`records.write_item`).
        The same order id placed twice with the same lines returns the first decision
        unchanged, whether it was accepted or refused (``duplicate`` set). An order is
        booked whole or not at all: when refused, every line says ``accepted: False``.

        :raises backorder.errors.Conflict: the order id was placed before with other lines.
        :raises backorder.errors.StorageError: the database failed.

        ``enforce=False`` records an order the platform has already taken (a webhook for a
        placed order): every known line is booked whole and split into in-stock and
        backordered units, even past the threshold; the switches still fire.
        """
        return self.transact(lambda uow: self._book(uow, order, enforce), "order")

    def place_orders(self, orders: Sequence[OrderIn], *, enforce: bool = True) -> list[OrderResult]:
        """Place many orders in ONE transaction, each exactly as :meth:`place_order` would.

        The orders are decided in sequence, each seeing the stock the ones before it took;
        each is still all-or-nothing (a refused order is kept with no stock moved) and an
        order id already placed (before or earlier in the batch) returns its first answer.
        Rows written are those of one ``place_order`` per order, except that an item's
        ``version`` rises once per batch. The batch commits whole: a lost race retries it
        from the start, a crash leaves none of it. Decisions are made in memory and written
        with a few set-based statements (storage.fastpath), so this is the fast path for bulk
        loads; the write lock is held for the whole batch, so keep batches to some thousands
        of orders while other writers are live.
        """
        batch = list(orders)
        return self.transact(
            lambda uow: self._book_many(uow, batch, enforce), "order", bulk=True
        )

    def _book_many(
        self, uow: UnitOfWork, orders: list[OrderIn], enforce: bool
    ) -> list[OrderResult]:
        conn = uow.conn
        if not enforce and records.net_watermarks(
            conn, self.name, sorted({line.sku for o in orders for line in o.lines})
        ):  # some units are counted in a platform figure already: decided order by order
            return [self._book(uow, order, enforce) for order in orders]
        stored = fastpath.existing_orders(conn, self.name, [o.order_id for o in orders])
        # Lock the items in SKU order before deciding (PostgreSQL): batches on overlapping
        # SKUs then wait for each other instead of deadlocking (issue 20, item 8).
        skus = {line.sku for o in orders for line in o.lines}
        loaded = fastpath.load_many(conn, self.name, skus, lock=True)
        items = {sku: entry.item for sku, entry in loaded.items()}
        # what an order's lines store as their names, unless a line brings its own (a
        # batch never renames items), shared by the orders held until they are written
        item_names = {sku: item.name for sku, item in items.items()}
        written_at: dict[str, dt.datetime] = {}
        first: dict[str, OrderResult] = {}
        results: list[OrderResult] = []
        placed, moves = [], []
        for order in orders:
            if order.order_id in first or order.order_id in stored:
                previous = first.get(order.order_id) or records.load_order(
                    conn, self.name, order.order_id
                )
                assert previous is not None, "an order id found in this transaction loads"
                _same_lines(order, previous)
                results.append(previous.model_copy(update={"duplicate": True}))
                continue
            at = order.placed_at or self.clock()
            result, names, current = self._decide(order, items, enforce)
            if not any(line.name for line in order.lines):  # the items' own: one mapping kept
                names = item_names
            first[order.order_id] = result
            results.append(result)
            placed.append((result, at, order.customer_email, names))
            if not result.accepted:
                continue
            start = {sku: items[sku].on_hand for sku in current}
            moves += self._order_moves(uow, order, result, start, at)
            for sku, item in current.items():
                new = uow.settle(item, at)
                if new.__dict__ != items[sku].__dict__:  # (models' == also compares extras)
                    items[sku], written_at[sku] = new, at
        fastpath.save_orders(conn, self.name, placed)
        fastpath.record_movements(conn, moves)
        writes = [(loaded[sku], items[sku], at) for sku, at in written_at.items()]
        fastpath.write_items(conn, writes)  # (an item as read is not written: no column changed)
        uow.changed.update({entry.item.sku: new for entry, new, _ in writes})
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
                line_no, current.get(line.sku), self.settings, line.qty, line.sku,
                self.backorder_notice,
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
        if errors:  # booked whole or not at all: no line of a refused order is accepted
            decisions = rules.refuse_whole(decisions)
        result = trusted(OrderResult, {  # the lines are the rules' validated decisions
            "order_id": order.order_id, "accepted": not errors, "lines": decisions,
            "errors": errors, "duplicate": False,
        })
        names = {line.sku: line.name or getattr(current.get(line.sku), "name", "")
                 for line in order.lines}
        return result, names, current

    def _order_moves(
        self, uow: UnitOfWork, order: OrderIn, result: OrderResult, on_hand: dict[str, int], at
    ) -> list[tuple]:
        """The ledger rows (``schema.MOVEMENT_COLUMNS``) of an accepted order (``on_hand``:
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
                uow.emit(
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

    def _book(self, uow: UnitOfWork, order: OrderIn, enforce: bool) -> OrderResult:
        """One order inside the caller's transaction (cached statements: storage.fastpath)."""
        conn = uow.conn
        at = order.placed_at or self.clock()
        found, loaded = pg_orders.find(
            conn, self.name, order.order_id, {line.sku for line in order.lines}
        )
        if found:
            previous = records.load_order(conn, self.name, order.order_id)
            assert previous is not None, "an order id found in this transaction loads"
            _same_lines(order, previous)
            return previous.model_copy(update={"duplicate": True})
        items = {sku: entry.item for sku, entry in loaded.items()}
        counted = {} if enforce else self._counted(conn, order, items)
        for sku, units in counted.items():  # decided on the stock the sale met
            items[sku] = trusted(ItemState, {**items[sku].__dict__,
                                             "on_hand": items[sku].on_hand + units})
        result, names, current = self._decide(order, items, enforce)
        # A refused order is kept too (with no stock moved), so a replay of it is a no-op.
        pg_orders.save_order(
            conn, self.name, result, placed_at=at, customer_email=order.customer_email,
            names=names,
        )
        if not result.accepted:
            return result
        start = {sku: item.on_hand for sku, item in items.items()}
        moves = self._order_moves(uow, order, result, start, at)
        if counted:  # booked, but the platform's figure took these units already
            moves = [(*m[:2], 0, *m[3:]) if m[1] in counted else m for m in moves]
        fastpath.record_movements(conn, moves)
        for sku, item in current.items():
            new = uow.settle(item, at)
            if pg_orders.write_item(conn, loaded[sku], new, at):
                uow.changed[sku] = new
        return result

    # ---------------------------------------------------------- order lifecycle
    def cancel(
        self, order_id: str, lines: dict[str, int] | None = None, *, key: str | None = None
    ) -> OrderChange:
        """Cancel units of an order (``{sku: qty}``; None: every unit not yet shipped).

        Backordered units go first, then in-stock units; every cancelled unit goes back on
        hand, a threshold used up may switch back on (``threshold_freed``) and later lines
        move forward in the incoming-stock queue. One transaction; a ``key`` already
        applied returns the first answer. See :mod:`backorder.lifecycle`.

        :raises backorder.errors.NotFound: no such order.
        :raises backorder.errors.InvalidInput: a SKU the order lacks, a quantity below 1.
        :raises backorder.errors.Refused: more units than a SKU has left unshipped.
        """
        return self.lifecycle.change("cancel", order_id, lines, key=key)

    def ship(
        self, order_id: str, lines: dict[str, int] | None = None, *, key: str | None = None
    ) -> OrderChange:
        """Ship units in stock or released (None: all that can ship now); more than can
        ship is refused whole (:class:`~backorder.errors.Refused`)."""
        return self.lifecycle.change("ship", order_id, lines, key=key)

    def return_items(
        self, order_id: str, lines: dict[str, int], *, restock: bool, key: str | None = None
    ) -> OrderChange:
        """Take back shipped units; ``restock`` puts them back on hand."""
        return self.lifecycle.change("return", order_id, lines, key=key, restock=restock)

    # --------------------------------------------------------------------- time
    bulk_tick: bool = True
    """Receive due stock with set-based statements (:func:`storage.fastpath.receive_due`);
    False goes item by item through the rules (the reference the bulk path is tested against)."""

    def tick(self, now: dt.datetime | None = None) -> list[DomainEvent]:
        """Apply what time brings: back-in-stock dates that have arrived receive their stock.

        Idempotent: a receipt is booked under a key naming the SKU and its date (in UTC).
        ``now`` in any time zone is compared as the instant it is.
        """
        now = now or self.clock()
        now = now.replace(tzinfo=dt.UTC) if now.tzinfo is None else now.astimezone(dt.UTC)

        def work(uow: UnitOfWork) -> list[DomainEvent]:
            if not self.bulk_tick:
                return self._tick_items(uow, now)
            wanted = self.notifications.wanted_by(EventType.BACKORDER_DISABLED)
            skus, events = fastpath.receive_due(
                uow.conn, self.name, self.settings, now, pending=bool(wanted)
            )
            uow.stored += events
            uow.pending += len(events) if wanted else 0
            uow.changed.update(dict.fromkeys(skus))  # only the SKUs matter to the outbox
            return list(events)

        return self.transact(work, "tick", at=now, bulk=self.bulk_tick)

    def _tick_items(self, uow: UnitOfWork, now: dt.datetime) -> list[DomainEvent]:
        conn = uow.conn
        due = records.load_items(conn, self.name, assigned=True, due_before=now)
        for sku, loaded in due.items():
            date = loaded.item.back_in_stock_date
            if date is None or now < date:
                continue
            received, (item, events) = rules.receive_incoming(loaded.item, self.settings, now)
            key = f"receipt:{sku}:{date.astimezone(dt.UTC).isoformat()}"
            if records.movement_applied(conn, self.name, key):
                continue
            records.record_movement(
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
            uow.emit(*events)
            uow.write(loaded, item)
        return list(uow.events)

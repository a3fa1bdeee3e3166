"""Planning an import: what each row changes, decided in memory.

Works on the rows as read (plain tuples, their fields at :attr:`Planner.slots`) and the
items as stored (:class:`~backorder.storage.fastpath.csv_import.ImportItem`); an
:class:`ItemState` is built only for an item whose change calls for a switch, and then
:func:`backorder.rules.settle` decides, as for any other change. The rows to write pile
up in :class:`Writes` until the applier writes them (:mod:`backorder.imports.applying`).
"""

from __future__ import annotations

import datetime as dt
import json
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from backorder import rules
from backorder.imports.columns import UNLIMITED
from backorder.imports.reading import UNSET, Mode, ParsedFile, Slots
from backorder.models import BackorderState, DisableReason, ItemState, StoreSettings, trusted
from backorder.models import Mode as PolicyMode
from backorder.rules.switching import AUTOMATIC_REASONS
from backorder.storage.fastpath.csv_import import ImportItem
from backorder.storage.keys import bounded
from backorder.storage.schema import EVENT_COLUMNS, MOVEMENT_COLUMNS
from backorder.storefront_api.readmodel import Speller

_AUTOMATIC_VALUES = {reason.value for reason in AUTOMATIC_REASONS}
_NO_OVERRIDES = "{}"
"""A new item's overrides before its row (stored JSON text)."""
NO_THRESHOLD = object()
"""No threshold override at all (the item follows the store default)."""

OVERWRITTEN = ("on_hand", "threshold", "incoming_qty", "back_in_stock_date", "category", "brand")
"""The fields an import writes only when it applies them (see ``--columns``)."""


class Reported(NamedTuple):
    """The values of an item an import reports, before or after (values as stored).

    Kept as plain tuples in this order and named when read: a million-row import keeps
    two per row, and the garbage collector stops walking a plain tuple of plain values,
    never a named one."""

    assigned: bool
    on_hand: int
    incoming_qty: int
    back_in_stock_date: Any
    state: str
    disabled_reason: str | None
    name: str
    threshold: Any
    """The threshold override: a number, ``None`` (unlimited) or :data:`NO_THRESHOLD`."""
    category: str | None
    brand: str | None


class Change(NamedTuple):
    """One entry of a :class:`ChangeList` (a plain tuple in this order, likewise)."""

    sku: str
    row: int | None
    """The file's row; ``None`` for a sibling an assign took along."""
    before: Reported
    after: Reported
    created: bool


_SPELT = Reported._fields[:8]
"""Reported field by field; category and brand go together (see :meth:`ChangeList._spell`)."""


class ChangeList(Sequence):
    """What an import changed, item by item, kept compact: a million-row import would
    otherwise hold a million dicts. Reading an entry gives
    ``{"sku", "row", field: [before, after], ...}`` (datetimes as ISO 8601 strings)."""

    def __init__(self, utc: Callable[[Any], dt.datetime | None]) -> None:
        self.raw: list[tuple] = []
        """:class:`Change` tuples."""
        self.append = self.raw.append
        self._utc = utc

    def __len__(self) -> int:
        return len(self.raw)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._spell(c) for c in self.raw[index]]
        return self._spell(self.raw[index])

    def _spell(self, entry: tuple) -> dict[str, Any]:
        change = Change._make(entry)
        old, new = Reported._make(change.before), Reported._make(change.after)
        out: dict[str, Any] = {"sku": change.sku, "row": change.row}
        for name, before, after in zip(_SPELT, old[:8], new[:8], strict=True):
            if before == after:
                continue
            if name == "back_in_stock_date":
                before, after = _iso(self._utc(before)), _iso(self._utc(after))
            elif name == "threshold":
                before, after = (None if v is NO_THRESHOLD else v for v in (before, after))
            out[name] = [before, after]
        if not change.created and (old.category, old.brand) != (new.category, new.brand):
            out["category"], out["brand"] = [old.category, new.category], [old.brand, new.brand]
        if change.created:
            out["created"] = [None, True]
        return out


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


class Policy(NamedTuple):
    """An item's overrides after a row's threshold, and the policy they give."""

    stored: Any
    """The overrides as they are written (stored JSON)."""
    threshold_before: Any
    threshold_after: Any
    off: bool
    """The policy's mode is off."""
    threshold: int | None
    overrides: dict[str, Any]


class Settled(NamedTuple):
    """What :func:`backorder.rules.settle` made of an item, as stored."""

    state: str
    reason: str | None
    events: tuple[tuple[str, str | None, Any], ...]
    """``(event type, reason, data)`` of each event."""


UPDATABLE = (
    "assigned",
    "on_hand",
    "incoming_qty",
    "back_in_stock_date",
    "state",
    "disabled_reason",
    "name",
    "overrides",
    "category",
    "brand",
)
"""The item columns an import may change: :class:`Reported`'s fields, but the overrides
stored in place of the threshold."""

NEW_COLUMNS = (
    "sku",
    "product_id",
    "variant_id",
    "name",
    "on_hand",
    "incoming_qty",
    "back_in_stock_date",
    "state",
    "disabled_reason",
    "overrides",
    "category",
    "brand",
)
"""What the insert of a new item binds; the rest is the same for every new item."""
NEW_BARE_COLUMNS = ("sku", "product_id", "name", "on_hand", "state", "disabled_reason")
"""The same, for a file giving no more than Product ID, SKU, Name and Stock."""
PLANNED_MOVEMENT_COLUMNS = tuple(
    c for c in MOVEMENT_COLUMNS if c not in ("store", "kind", "created_at")
)
"""A ledger row as planned: the schema's but for what every row of an import shares."""
PLANNED_EVENT_COLUMNS = tuple(c for c in EVENT_COLUMNS if c not in ("store", "at"))
"""An outbox row as planned, likewise."""


@dataclass
class Writes:
    """The rows planned and not yet written (each in its statement's columns)."""

    inserts: list[tuple] = field(default_factory=list)
    """New items (:attr:`Planner.new_columns`)."""
    updates: list[tuple] = field(default_factory=list)
    """Changed items: ``(*values of Planner.columns, updated_at, id, version)``."""
    moves: list[tuple] = field(default_factory=list)
    """Ledger rows (:data:`PLANNED_MOVEMENT_COLUMNS`)."""
    events: list[tuple] = field(default_factory=list)
    """Outbox rows (:data:`PLANNED_EVENT_COLUMNS`)."""
    views: list[tuple] = field(default_factory=list)
    """Storefront read model rows (``readmodel.COLUMNS``) of the items written, when the
    planner spells them (see ``Planner.views``)."""


class Planner:
    """Decides what each row of one import changes; keeps the rows to write and the tally.

    ``bind_date``, ``bind_json`` and ``utc`` convert values as the store's driver keeps
    them (see :class:`~backorder.storage.fastpath.csv_import.ImportStatements`).
    """

    def __init__(
        self,
        store: str,
        parsed: ParsedFile,
        mode: Mode,
        settings: StoreSettings,
        at: dt.datetime,
        *,
        bind_date: Callable[[Any], Any],
        bind_json: Callable[[Any], Any],
        utc: Callable[[Any], dt.datetime | None],
        pushed: dict[str, Any] | None,
        views: tuple[Speller, str] | None = None,
    ) -> None:
        self.store, self.mode, self.settings, self.at = store, mode, settings, at
        self.bind_date, self.bind_json, self.utc = bind_date, bind_json, utc
        self.at_raw = bind_date(at)
        self.empty_json = bind_json({})
        applied = parsed.applied
        self.slots: Slots = parsed.slots._replace(
            **{f: 0 for f in OVERWRITTEN if f not in applied}
        )
        """Where the rows give each field, 0 for a field they lack or the import does not
        apply (the identity fields and the name are read in any case)."""
        self.name_applied = "name" in applied
        columns = ["state", "disabled_reason"]
        columns += ["assigned"] if mode == "assign" else []
        columns += [
            f
            for f in ("on_hand", "incoming_qty", "back_in_stock_date", "name", "category", "brand")
            if f in applied
        ]
        columns += ["overrides"] if "threshold" in applied else []
        if "category" in columns or "brand" in columns:
            columns += [c for c in ("category", "brand") if c not in columns]
        self.columns = [c for c in UPDATABLE if c in columns]
        """The item columns the updates write, in :data:`UPDATABLE` order."""
        self._pick = operator.itemgetter(*(UPDATABLE.index(c) for c in self.columns))
        self.key_prefix = f"import:{parsed.import_id}:"
        self.source = f"import {parsed.name} row "
        slots = self.slots
        self.new_bare = not any(
            (
                slots.variant_id,
                slots.threshold,
                slots.incoming_qty,
                slots.back_in_stock_date,
                slots.category,
                slots.brand,
            )
        )
        """A new item is made of Product ID, SKU, Name and Stock only (the common file)."""
        self.new_columns = NEW_BARE_COLUMNS if self.new_bare else NEW_COLUMNS
        self.pushed = pushed
        self.speller: Speller | None = views[0] if views else None
        self.basis = views[1] if views else ""
        """With ``views`` (a speller, the settings' basis), each item written gets its read
        model row spelt here from the values in hand (:attr:`Writes.views`), instead of
        being read back and worked out item by item before commit."""
        self.writes = Writes()
        self.changes = ChangeList(utc)
        self.event_counts: dict[str, int] = {}
        self.created = self.stock_moved = self.newly_assigned = self.rows_changed = 0
        self._policies: dict[tuple[Any, Any], Policy] = {}
        self._dates: dict[Any, Any] = {}
        self._settled_new: dict[tuple, Settled] = {}

    def new_fixed(self) -> dict[str, Any]:
        """The columns every new item has in common (written once per statement)."""
        fixed: dict[str, Any] = {
            "store": self.store,
            "assigned": self.mode == "assign",  # (a new item is only ever made by an assign)
            "tracked": True,
            "purchasing_disabled": False,
            "version": 0,
            "updated_at": self.at_raw,
        }
        if self.new_bare:
            fixed |= {
                "variant_id": None,
                "incoming_qty": 0,
                "back_in_stock_date": None,
                "overrides": _NO_OVERRIDES,
                "category": None,
                "brand": None,
            }
        return fixed

    def take(self) -> Writes:
        """The rows planned since the last call (the planner starts a new batch)."""
        writes, self.writes = self.writes, Writes()
        return writes

    # ------------------------------------------------------------------ checks
    def refusal(
        self, row: tuple, pid: str | None, item: ImportItem | None, creating: bool, name: str
    ) -> str | None:
        """Why a row cannot apply to the store's item (``None``: it can)."""
        line_no, sku, mode = row[0], row[self.slots.sku], self.mode
        where = f"{name}:row {line_no}: column SKU: {sku}"
        if item is None:
            if mode == "update":
                return f"{where} is not in store {self.store!r}"
            if not creating:
                return f"{where} is not in the catalog; run `backorder sync` first"
            return None
        if mode == "assign" and item.assigned:
            return f"{where} is already assigned (use the update import)"
        if mode == "update" and not item.assigned:
            return f"{where} is not assigned (use the assign import)"
        if pid and pid != item.product_id:
            return (
                f"{name}:row {line_no}: column Product ID: {sku} belongs to product "
                f"{item.product_id or '(none)'}, not {pid}"
            )
        return None

    # ------------------------------------------------------------------- one item
    def _policy(self, overrides: Any, action: Any) -> Policy:
        """The overrides after a threshold ``action`` (:data:`UNSET`: none), cached."""
        key = (
            overrides if isinstance(overrides, str) else json.dumps(overrides, sort_keys=True),
            action,
        )
        found = self._policies.get(key)
        if found is None:
            old = json.loads(overrides) if isinstance(overrides, str) else dict(overrides or {})
            new = dict(old)
            if action is not UNSET:
                if action is None:
                    new.pop("threshold", None)
                else:
                    new["threshold"] = None if action == UNLIMITED else action
            policy = rules.effective_policy(
                self.settings, ItemState.model_construct(sku="", overrides=new)
            )
            found = Policy(
                overrides if isinstance(overrides, str) and new == old else self.bind_json(new),
                old.get("threshold", NO_THRESHOLD),
                new.get("threshold", NO_THRESHOLD),
                policy.mode is PolicyMode.OFF,
                policy.threshold,
                new,
            )
            self._policies[key] = found
        return found

    def _date(self, value: dt.datetime | None) -> Any:
        if value is None:
            return None
        raw = self._dates.get(value)
        if raw is None:
            raw = self._dates[value] = self.bind_date(value)
        return raw

    def plan(self, row: tuple, line_no: int | None, item: ImportItem, sibling: bool) -> None:
        """Decide one item of the store: its new columns, its movement, its events, what
        changed. (A new item is decided by :meth:`plan_new`.)"""
        at = self.slots
        sku, state, reason = item.sku, item.state, item.disabled_reason
        assigned = bool(item.assigned)
        new_assigned = True if self.mode == "assign" else assigned
        action = row[at.threshold] if at.threshold else UNSET
        policy = self._policy(item.overrides, action)
        new_incoming = item.incoming_qty
        if at.incoming_qty and (value := row[at.incoming_qty]) is not UNSET:
            new_incoming = value or 0
        new_date = item.back_in_stock_date
        if at.back_in_stock_date and (value := row[at.back_in_stock_date]) is not UNSET:
            new_date = self._date(value)
        new_name, new_category, new_brand, delta = item.name, item.category, item.brand, 0
        if not sibling:
            if at.name and self.name_applied:
                value = row[at.name]
                if value is not None and value is not UNSET:
                    new_name = value
            if at.category and (value := row[at.category]) is not UNSET:
                new_category = value
            if at.brand and (value := row[at.brand]) is not UNSET:
                new_brand = value
            if at.on_hand and (value := row[at.on_hand]) is not UNSET and value is not None:
                delta = value - item.on_hand
        new_on_hand = item.on_hand + delta

        # rules.settle, called only when it has something to do (the same conditions)
        new_state, new_reason = state, reason
        if not (new_assigned and item.tracked) or policy.off:
            switch = state == "enabled"
        elif new_on_hand > self.settings.switch_condition:
            switch = state == "enabled" or (state == "disabled" and reason in _AUTOMATIC_VALUES)
        else:
            threshold = policy.threshold
            switch = state == "idle" or (
                state == "enabled" and threshold is not None and new_on_hand + threshold <= 0
            )
        events = self.writes.events
        if self.mode == "assign":
            events.append(("assigned", sku, None, self.empty_json))
            self.event_counts["assigned"] = self.event_counts.get("assigned", 0) + 1
        if switch:
            switching = trusted(ItemState, {  # every field, from the row and the store's item
                "sku": sku,
                "product_id": item.product_id,
                "variant_id": item.variant_id,
                "name": new_name,
                "assigned": new_assigned,
                "tracked": bool(item.tracked),
                "on_hand": new_on_hand,
                "incoming_qty": new_incoming,
                "back_in_stock_date": self.utc(new_date),
                "state": BackorderState(state),
                "disabled_reason": DisableReason(reason) if reason else None,
                "purchasing_disabled": bool(item.purchasing_disabled),
                "overrides": policy.overrides,
                "platform_level": None,
            })
            new_state, new_reason, happened = self._settle(switching)
            for kind, why, data in happened:
                events.append((kind, sku, why, data))
                self.event_counts[kind] = self.event_counts.get(kind, 0) + 1

        if delta:
            source = f"{self.source}{line_no}"[-255:]
            key = bounded(self.key_prefix + sku)  # as records.record_movement keys it
            self.writes.moves.append((sku, delta, new_on_hand, source, key))
            self.stock_moved += delta

        date_raw = item.back_in_stock_date
        old = (  # Reported
            assigned, item.on_hand, item.incoming_qty, date_raw, state, reason, item.name,
            policy.threshold_before, item.category, item.brand,
        )
        new = (  # Reported
            new_assigned, new_on_hand, new_incoming, new_date, new_state, new_reason, new_name,
            policy.threshold_after, new_category, new_brand,
        )
        changed = old != new
        if changed and new_date != date_raw and self.utc(new_date) == self.utc(date_raw):
            # the same instant stored another way: not a change
            new_date = date_raw
            new = (*new[:3], date_raw, *new[4:])  # (Reported.back_in_stock_date)
            changed = old != new
        if changed:
            values = (  # the columns of UPDATABLE
                new_assigned, new_on_hand, new_incoming, new_date, new_state, new_reason,
                new_name, policy.stored, new_category, new_brand,
            )
            self.writes.updates.append((*self._pick(values), self.at_raw, item.id, item.version))
            if self.pushed is not None:
                self.pushed[sku] = None
            if self.speller is not None:
                identity = (sku, item.product_id, item.variant_id, new_name)
                self.writes.views.append((
                    self.store, sku, item.product_id, item.variant_id,
                    self.speller.spell(
                        identity, new_incoming, new_date,
                        (new_assigned, bool(item.tracked), new_on_hand, new_state, new_reason,
                         bool(item.purchasing_disabled), policy.stored),
                        self._view_state, identity, new_assigned, bool(item.tracked), new_on_hand,
                        new_incoming, new_date, new_state, new_reason,
                        bool(item.purchasing_disabled), policy.overrides, when=self.utc,
                    ),
                    self.basis, self.at_raw,
                ))
            self.changes.append((sku, line_no, old, new, False))  # Change
            self.newly_assigned += new_assigned != assigned
            self.rows_changed += line_no is not None

    def plan_new(self, rows: list[tuple]) -> None:
        """:meth:`plan` for rows of SKUs the store does not have (an assign on a core store).

        Each item is made from its row alone: assigned, tracked, idle before, no stock
        before, no overrides but the row's threshold. Its insert carries only
        :attr:`new_columns` (the rest is :meth:`new_fixed`), and a switch reuses the
        outcome of ``rules.settle`` for the same stock and policy (:meth:`_settle_new`).
        """
        if not rows:
            return
        bare, switch_at, policy_of = self.new_bare, self.settings.switch_condition, self._policy
        writes, changes = self.writes, self.changes
        events, moves, inserts = writes.events, writes.moves, writes.inserts
        counts, pushed, assigned = self.event_counts, self.pushed, self.empty_json
        source, key_prefix = self.source, self.key_prefix
        store, speller, views, made_with, at_raw = (
            self.store, self.speller, writes.views, self.basis, self.at_raw
        )
        make, utc = self._view_state, self.utc
        at = self.slots
        i_sku, i_pid, i_name, i_oh = at.sku, at.product_id, at.name, at.on_hand
        vid, action, incoming, date, category, brand = None, UNSET, 0, None, None, None
        policy = policy_of(_NO_OVERRIDES, action)
        counts["assigned"] = counts.get("assigned", 0) + len(rows)
        moved = 0
        for row in rows:
            line_no, sku = row[0], row[i_sku]
            pid = row[i_pid] if i_pid else None
            if pid is UNSET:
                pid = None
            name = row[i_name] if i_name else None
            if name is UNSET or not name:
                name = ""
            on_hand = row[i_oh] if i_oh else None
            if on_hand is UNSET or on_hand is None:
                on_hand = 0
            if not bare:  # (else these are the same for every row, as set above)
                vid, action, incoming, date, category, brand = self._new_extras(row)
                policy = policy_of(_NO_OVERRIDES, action)
            events.append(("assigned", sku, None, assigned))
            state, reason = "idle", None
            if on_hand <= switch_at and not policy.off:
                state, reason, happened = self._settle_new(
                    (sku, pid, vid, name), on_hand, incoming, date, action, policy.overrides
                )
                for kind, why, data in happened:
                    events.append((kind, sku, why, data))
                    counts[kind] = counts.get(kind, 0) + 1
            if on_hand:
                moves.append((sku, on_hand, on_hand, f"{source}{line_no}"[-255:],
                              bounded(key_prefix + sku)))
                moved += on_hand
            if bare:
                inserts.append((sku, pid, name, on_hand, state, reason))
            else:
                values = (sku, pid, vid, name, on_hand, incoming, date, state, reason)
                inserts.append((*values, policy.stored, category, brand))
            if pushed is not None:
                pushed[sku] = None
            if speller is not None:
                identity = (sku, pid, vid, name)
                spelt = speller.spell(
                    identity, incoming, date,
                    (True, True, on_hand, state, reason, False, policy.stored),
                    make, identity, True, True, on_hand, incoming, date, state, reason, False,
                    policy.overrides, when=utc,
                )
                views.append((store, sku, pid, vid, spelt, made_with, at_raw))
            before = (False, 0, 0, None, "idle", None, name, policy.threshold_before, None, None)
            after = (
                True, on_hand, incoming, date, state, reason, name, policy.threshold_after,
                category, brand,
            )
            changes.append((sku, line_no, before, after, True))  # Change of Reported
        self.created += len(rows)
        self.newly_assigned += len(rows)
        self.rows_changed += len(rows)
        self.stock_moved += moved

    def _view_state(
        self, identity: tuple, assigned: bool, tracked: bool, on_hand: int, incoming: int,
        date: Any, state: str, reason: str | None, purchasing_disabled: bool, overrides: dict,
    ) -> ItemState:
        """An item as written (for the speller: its view's first item of this state)."""
        sku, product_id, variant_id, name = identity
        return trusted(ItemState, {  # values as planned from validated rows, as written
            "sku": sku, "product_id": product_id, "variant_id": variant_id, "name": name,
            "assigned": assigned, "tracked": tracked, "on_hand": on_hand,
            "incoming_qty": incoming, "back_in_stock_date": self.utc(date),
            "state": BackorderState(state),
            "disabled_reason": DisableReason(reason) if reason else None,
            "purchasing_disabled": purchasing_disabled, "overrides": overrides,
            "platform_level": None,
        })

    def _new_extras(self, row: tuple) -> tuple:
        """A new item's ``(variant id, threshold action, incoming, date, category, brand)``."""
        at = self.slots
        vid = row[at.variant_id] if at.variant_id else None
        action = row[at.threshold] if at.threshold else UNSET
        incoming, date, category, brand = 0, None, None, None
        if at.incoming_qty and (value := row[at.incoming_qty]) is not UNSET:
            incoming = value or 0
        if at.back_in_stock_date and (value := row[at.back_in_stock_date]) is not UNSET:
            date = self._date(value)
        if at.category and (value := row[at.category]) is not UNSET:
            category = value
        if at.brand and (value := row[at.brand]) is not UNSET:
            brand = value
        return (None if vid is UNSET else vid), action, incoming, date, category, brand

    def _settle_new(
        self, names: tuple, on_hand: int, incoming: int, date: Any, action: Any, overrides: dict
    ) -> Settled:
        """:meth:`_settle` of a new item, kept per (stock, incoming, date, threshold).

        ``rules.settle`` reads an item's stock, dates, state and policy, never its
        identity (``names``: SKU, product and variant IDs, name); the events it gives
        carry the SKU apart. New items of the same stock share one outcome.
        """
        key = (on_hand, incoming, date, action)
        found = self._settled_new.get(key)
        if found is None:
            sku, pid, vid, name = names
            item = ItemState.model_construct(
                sku=sku,
                product_id=pid,
                variant_id=vid,
                name=name,
                assigned=True,
                tracked=True,
                on_hand=on_hand,
                incoming_qty=incoming,
                back_in_stock_date=self.utc(date),
                state=BackorderState.IDLE,
                disabled_reason=None,
                purchasing_disabled=False,
                overrides=overrides,
            )
            found = self._settle(item)
            if len(self._settled_new) < 10_000:
                self._settled_new[key] = found
        return found

    def _settle(self, item: ItemState) -> Settled:
        """``rules.settle``, as stored."""
        settled, happened = rules.settle(item, self.settings, self.at)
        bind_json = self.bind_json
        return Settled(
            settled.state.value,
            settled.disabled_reason.value if settled.disabled_reason else None,
            tuple(
                (e.type.value, e.reason.value if e.reason else None, bind_json(e.data))
                for e in happened
            ),
        )

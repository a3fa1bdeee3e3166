"""The what-if simulator: a scenario run through the real engine on a throwaway SQLite database.

Scenario (YAML or JSON)::

    platform: core            # or any platform plugin's name
    settings: {...}           # StoreSettings
    connection: {...}         # the platform's shop-wide settings, as in a store's config
    items: [{sku: A, on_hand: 2, threshold: 3}, ...]   # core or platform-native fields
    events:
      - {at: 2026-01-01T10:00:00Z, type: order, lines: [{sku: A, qty: 4}]}
      - {at: ..., type: stock, sku: A, on_hand: 10}     # or delta: 5
      - {at: ..., type: tick}
      - {at: ..., type: assign|unassign|enable|disable, skus: [A]}   # or sku: A
      - {at: ..., type: edit, sku: A, threshold: 5}
      - {at: ..., type: cancel|ship, order_id: X, lines: [{sku: A, qty: 1}]}  # lines optional
      - {at: ..., type: return, order_id: X, lines: [...], restock: true}

Output: ``{"results": [...one per event...], "items": {sku: {...}}}``.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from backorder import yaml12
from backorder.config import StoreConfig
from backorder.engine import ItemEdit, StoreService
from backorder.errors import BackorderError, InvalidInput, NotFound
from backorder.models import DomainEvent, ItemInput, ItemView, OrderIn, StoreSettings
from backorder.platform import Platform
from backorder.plugins import PluginManager
from backorder.storage.db import Database
from backorder.storefront import StorefrontSettings

EventKind = Literal[
    "order", "stock", "tick", "assign", "unassign", "enable", "disable", "edit", "receipt",
    "cancel", "ship", "return",
]


class ScenarioError(InvalidInput):
    """A scenario that cannot run; the message names the file and the field."""


class ScenarioEvent(BaseModel):
    model_config = ConfigDict(extra="allow")

    at: dt.datetime
    type: EventKind


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: str = "core"
    settings: StoreSettings = Field(default_factory=StoreSettings)
    connection: dict[str, Any] = Field(default_factory=dict)
    """The platform's settings for the simulated store, as a store config's ``connection``
    table holds them; the platform reads the ones that decide what item fields mean (such
    as a shop default). Nothing is called on the platform."""
    items: list[dict[str, Any]] = Field(default_factory=list)
    events: list[ScenarioEvent] = Field(default_factory=list)


def _where(loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _invalid(source: str, exc: ValidationError, prefix: str = "") -> ScenarioError:
    problems = "; ".join(f"{prefix}{_where(e['loc'])}: {e['msg']}" for e in exc.errors())
    return ScenarioError(f"{source}: {problems}")


def load_scenario(path: str | Path) -> Scenario:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{path}: {exc.strerror}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml12.load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        said = yaml12.problem(exc) if isinstance(exc, yaml.YAMLError) else exc
        raise ScenarioError(
            f"{path}: not valid {path.suffix.lstrip('.') or 'YAML'}: {said}"
        ) from None
    return parse_scenario(data, str(path))


def parse_scenario(data: Any, source: str = "<scenario>") -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: a scenario is a mapping with platform, items and events")
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise _invalid(source, exc) from None


def _item_summary(view: ItemView) -> dict[str, Any]:
    return {
        "on_hand": view.on_hand,
        "salable": view.salable,
        "status": view.status.value,
        "purchasable": view.purchasable,
        "mode": view.mode.value,
        "threshold": view.threshold,
        "backordered": view.backordered,
        "state": view.state.value,
        "incoming_qty": view.incoming_qty,
        "back_in_stock_date": view.back_in_stock_date.isoformat()
        if view.back_in_stock_date
        else None,
    }


class Simulator:
    """Runs one scenario; ``pm`` supplies the platform plugin that translates native fields."""

    def __init__(self, scenario: Scenario, pm: PluginManager, source: str = "<scenario>"):
        self.scenario = scenario
        self.pm = pm
        self.source = source
        self.store = StoreConfig(
            name="simulation",
            platform=scenario.platform,
            settings=scenario.settings,
            connection=scenario.connection,
        )

    def _platform(self) -> Platform:
        try:
            return self.pm.platform(self.scenario.platform)
        except NotFound as exc:
            raise ScenarioError(f"{self.source}: platform: {exc}") from None

    def _translate(self, fields: dict[str, Any], where: str) -> ItemInput:
        try:
            return self._platform().translate_store_item(self.store, fields)
        except ValidationError as exc:
            raise _invalid(self.source, exc, f"{where}.") from None
        except ValueError as exc:
            raise ScenarioError(f"{self.source}: {where}: {exc}") from None

    def run(self) -> dict[str, Any]:
        self._platform()  # an unknown platform is refused before anything runs
        items = [self._translate(raw, f"items[{i}]") for i, raw in enumerate(self.scenario.items)]
        with tempfile.TemporaryDirectory(prefix="backorder-sim-") as tmp:
            db = Database(f"sqlite:///{tmp}/simulation.db")
            clock_now = [self.scenario.events[0].at if self.scenario.events else None]
            # the platform speaks through the notices; nothing is pushed (no manager)
            notice = StorefrontSettings(backorder_notice=self._platform().backorder_notice)
            store = self.store.model_copy(update={"storefront": notice})
            service = StoreService(
                db, store, pm=None, clock=lambda: clock_now[0] or dt.datetime.now(dt.UTC)
            )
            service.upsert_catalog(items)
            service.drain_events()
            results = []
            for index, event in enumerate(self.scenario.events):
                clock_now[0] = event.at
                results.append(self._apply(service, event, f"events[{index}]"))
            out = {
                "results": results,
                "items": {
                    v.sku: _item_summary(v) | {"next_eta": _iso(service.incoming.next_eta(v.sku))}
                    for v in service.items()
                },
            }
            db.dispose()
        return out

    def _apply(self, service: StoreService, event: ScenarioEvent, where: str) -> dict[str, Any]:
        extra = dict(event.model_extra or {})
        result: dict[str, Any] = {"type": event.type, "at": event.at.isoformat()}
        try:
            result |= self._dispatch(service, event.type, event.at, extra, where)
            result.setdefault("accepted", True)
            result.setdefault("errors", [])
        except ScenarioError:
            raise  # the scenario itself is wrong: stop, naming the field
        except BackorderError as exc:  # the rules refused this event: say so and go on
            result |= {"accepted": False, "errors": [str(exc)]}
        result["events"] = [_event_summary(e) for e in service.drain_events()]
        return result

    @staticmethod
    def _etas(service: StoreService, placed) -> dict[int, str | None]:
        """Each backordered line's promise right after the order: a date, or why none."""
        if not placed.accepted or placed.duplicate:
            return {}
        skus = {line.sku for line in placed.lines if line.backordered}
        service.incoming.refresh(skus)
        etas: dict[int, str | None] = {}
        for sku in skus:
            for line in service.incoming.allocation(sku).lines:
                if line.order_id == placed.order_id:
                    etas[line.line_no] = _eta_text(line)
        return etas

    def _receipt(self, service, skus, extra, at, where) -> dict[str, Any]:
        """``{type: receipt, sku, ref, action: expect|arrive|cancel, qty?, expected_at?}``."""
        action = extra.get("action", "expect")
        ref = str(extra.get("ref") or f"po-{where}")
        for sku in skus:
            if action == "expect":
                if "qty" not in extra or "expected_at" not in extra:
                    raise ScenarioError(f"{self.source}: {where}: expect needs qty and expected_at")
                try:
                    expected_at = dt.datetime.fromisoformat(str(extra["expected_at"]))
                except ValueError:
                    raise ScenarioError(
                        f"{self.source}: {where}.expected_at: not an ISO 8601 date"
                    ) from None
                service.incoming.expect(sku, ref, int(extra["qty"]), expected_at, at=at)
            elif action == "arrive":
                qty = extra.get("qty")
                service.incoming.arrive(sku, ref, None if qty is None else int(qty), at=at)
            elif action == "cancel":
                service.incoming.cancel(sku, ref, at=at)
            else:
                raise ScenarioError(f"{self.source}: {where}.action: expect, arrive or cancel")
        return {}

    def _order_change(self, service, kind, extra, where) -> dict[str, Any]:
        """``{type: cancel|ship|return, order_id, lines?: [{sku, qty}], key?, restock?}``."""
        order_id = extra.get("order_id")
        if not isinstance(order_id, str | int) or isinstance(order_id, bool) or order_id == "":
            raise ScenarioError(f"{self.source}: {where}.order_id: give the order's id")
        raw = extra.get("lines")
        lines: dict[str, int] | None = None
        if raw is not None:
            if not isinstance(raw, list):
                raise ScenarioError(f"{self.source}: {where}.lines: a list of {{sku, qty}}")
            lines = {}
            for i, line in enumerate(raw):
                if (not isinstance(line, dict) or not isinstance(line.get("sku"), str)
                        or isinstance(line.get("qty"), bool)
                        or not isinstance(line.get("qty"), int)):
                    raise ScenarioError(
                        f"{self.source}: {where}.lines[{i}]: give sku (text) and qty (a number)"
                    )
                lines[line["sku"]] = lines.get(line["sku"], 0) + line["qty"]
        key = extra.get("key")
        key = None if key is None else str(key)
        if kind == "return":
            if not isinstance(extra.get("restock"), bool):
                raise ScenarioError(f"{self.source}: {where}.restock: true or false")
            change = service.return_items(
                str(order_id), lines or {}, restock=extra["restock"], key=key
            )
        else:
            change = getattr(service, kind)(str(order_id), lines, key=key)
        return {
            "order_id": change.order_id,
            "duplicate": change.duplicate,
            "lines": [line.model_dump() for line in change.lines],
        }

    def _dispatch(self, service, kind, at, extra, where) -> dict[str, Any]:
        skus = extra.get("skus") or ([extra["sku"]] if "sku" in extra else [])
        if not isinstance(skus, list) or not all(isinstance(s, str) and s for s in skus):
            field = "skus" if "skus" in extra else "sku"
            raise ScenarioError(f"{self.source}: {where}.{field}: SKUs are non-empty strings")
        if kind == "order":
            extra.setdefault("order_id", f"sim-{where}")
            if "lines" not in extra and "sku" in extra:
                extra["lines"] = [{"sku": extra.pop("sku"), "qty": extra.pop("qty", 1)}]
            try:
                order = OrderIn.model_validate({**extra, "placed_at": at})
            except ValidationError as exc:
                raise _invalid(self.source, exc, f"{where}.") from None
            placed = service.place_order(order)
            etas = self._etas(service, placed)
            return {
                "order_id": placed.order_id,
                "accepted": placed.accepted,
                "errors": placed.errors,
                "lines": [
                    line.model_dump(
                        include={
                            "sku",
                            "requested",
                            "in_stock",
                            "backordered",
                            "accepted",
                            "error",
                            "message",
                        }
                    )
                    | {"eta": etas.get(line.line_no)}
                    for line in placed.lines
                ],
            }
        if kind in ("cancel", "ship", "return"):
            return self._order_change(service, kind, extra, where)
        if kind == "tick":
            service.tick(at)
            service.incoming.refresh(at=at)
            return {}
        if not skus:
            raise ScenarioError(f"{self.source}: {where}: give sku or skus")
        if kind == "stock":
            key = str(extra.get("key") or f"sim:{where}")
            field = "on_hand" if "on_hand" in extra else "delta"
            try:
                amount = int(extra[field]) if field in extra else 0
            except (TypeError, ValueError, OverflowError):
                raise ScenarioError(
                    f"{self.source}: {where}.{field}: not a whole number: {extra[field]!r}"
                ) from None
            for sku in skus:
                if "on_hand" in extra:
                    service.set_stock(sku, amount, key=f"{key}:{sku}", at=at)
                elif "delta" in extra:
                    service.adjust_stock(sku, amount, key=f"{key}:{sku}", at=at)
                else:
                    raise ScenarioError(f"{self.source}: {where}: stock needs on_hand or delta")
            return {}
        if kind == "receipt":
            return self._receipt(service, skus, extra, at, where)
        if kind == "assign":
            fields = {k: v for k, v in extra.items() if k not in ("sku", "skus")}
            entries = [self._translate({"sku": sku, **fields}, where) for sku in skus]
            service.assign(entries if fields else skus, at=at)
        elif kind == "unassign":
            service.unassign(skus, extra.get("action", "keep"), at=at)
        elif kind in ("enable", "disable"):
            getattr(service, kind)(skus, at=at)
        elif kind == "edit":
            fields = {k: v for k, v in extra.items() if k not in ("sku", "skus")}
            for sku in skus:
                entry = self._translate({"sku": sku, **fields}, where)
                given = entry.model_dump(
                    include=entry.model_fields_set & set(ItemEdit.model_fields)
                )
                service.edit(sku, ItemEdit(**given), at=at)
        return {}


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _eta_text(line) -> str | None:
    if line.status.value == "waiting":
        return line.eta.isoformat()
    return line.status.value  # "released" (can ship) or "no_date" (no receipt covers it)


def _event_summary(event: DomainEvent) -> dict[str, Any]:
    fields = {"type": event.type.value, "sku": event.sku, "reason": event.reason, **event.data}
    return {k: (v.value if hasattr(v, "value") else v) for k, v in fields.items() if v is not None}


def simulate(scenario: Scenario, pm: PluginManager, source: str = "<scenario>") -> dict:
    return Simulator(scenario, pm, source).run()

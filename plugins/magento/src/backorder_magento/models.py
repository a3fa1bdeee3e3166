"""Magento's data shapes: the global ``cataloginventory/item_options/*`` config, a stock item.

Field names are Magento's (``StockItemInterface`` / the REST ``stockItem`` body), so a REST
response, a product-CSV row or a scenario item validates straight into :class:`StockItem`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

CONFIG_PREFIX = "cataloginventory/item_options/"

Backorders = Literal[0, 1, 2]
"""0 No Backorders, 1 Allow Qty Below 0, 2 Allow Qty Below 0 and Notify Customer."""

BACKORDERS_NO, BACKORDERS_YES_NONOTIFY, BACKORDERS_YES_NOTIFY = 0, 1, 2


class ItemOptions(BaseModel):
    """Store-wide defaults (Stores › Configuration › Catalog › Inventory › Product Stock Options).

    Defaults are Magento's shipped ``config.xml`` values. Keys may be given short
    (``backorders``) or as full config paths (``cataloginventory/item_options/backorders``);
    Magento stores config values as strings, so ``"1"`` is accepted for 1.
    """

    model_config = ConfigDict(extra="forbid")

    manage_stock: bool = True
    backorders: Backorders = 0
    min_qty: float = 0
    min_sale_qty: float = 1
    max_sale_qty: float = 10000
    notify_stock_qty: float = 1
    enable_qty_increments: bool = False
    qty_increments: float = 1
    can_back_in_stock: bool = True
    """``cataloginventory/options/can_back_in_stock``: qty returned by a cancel may flip it back."""

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> ItemOptions:
        data: dict[str, Any] = {}
        for key, value in (values or {}).items():
            short = key.removeprefix(CONFIG_PREFIX).removeprefix("cataloginventory/options/")
            data[short] = int(value) if short == "backorders" and isinstance(value, str) else value
        return cls.model_validate(data)


class StockItem(BaseModel):
    """One ``cataloginventory_stock_item`` row (legacy stock, default source).

    Every ``use_config_*`` flag defaults to 1, as for an item created without stock data.
    """

    model_config = ConfigDict(extra="ignore")

    item_id: int | None = None
    product_id: int | None = None
    stock_id: int = 1
    sku: str | None = None
    name: str | None = None
    qty: float | None = 0
    is_in_stock: bool = True
    is_qty_decimal: bool = False
    stock_status_changed_auto: int = 0
    use_config_manage_stock: bool = True
    manage_stock: bool = True
    use_config_backorders: bool = True
    backorders: Backorders = 0
    use_config_min_qty: bool = True
    min_qty: float = 0
    use_config_min_sale_qty: bool = True
    min_sale_qty: float = 1
    use_config_max_sale_qty: bool = True
    max_sale_qty: float = 10000
    use_config_notify_stock_qty: bool = True
    notify_stock_qty: float = 1
    use_config_qty_increments: bool = True
    qty_increments: float = 1
    use_config_enable_qty_inc: bool = True
    enable_qty_increments: bool = False
    low_stock_date: str | None = None
    extension_attributes: dict[str, Any] = Field(default_factory=dict)

    @field_validator("backorders", mode="before")
    @classmethod
    def _int_backorders(cls, value: Any) -> Any:
        return int(value) if isinstance(value, str) and value.strip().isdigit() else value


# The product fields whose per-item value falls back to config through a use_config_* flag.
USE_CONFIG_FLAGS: dict[str, str] = {
    "manage_stock": "use_config_manage_stock",
    "backorders": "use_config_backorders",
    "min_qty": "use_config_min_qty",
    "min_sale_qty": "use_config_min_sale_qty",
    "max_sale_qty": "use_config_max_sale_qty",
    "notify_stock_qty": "use_config_notify_stock_qty",
    "qty_increments": "use_config_qty_increments",
    "enable_qty_increments": "use_config_enable_qty_inc",
}


def stock_item_from_fields(fields: Mapping[str, Any]) -> StockItem:
    """Validate a native item given in Magento's words.

    A value given without its ``use_config_*`` flag is meant for this item (the flag is
    taken as 0); a flag given explicitly wins; neither given means "use config" (the
    seed's "Default" link).
    """
    data = dict(fields)
    for field, flag in USE_CONFIG_FLAGS.items():
        if field in data and flag not in data:
            data[flag] = False
    return StockItem.model_validate(data)

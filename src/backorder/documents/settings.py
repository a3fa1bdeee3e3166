"""A store's document settings (``[stores.NAME.templates]`` in the config).

```toml
[stores.shop.templates]
directory = "shop-templates"        # files here replace built-in templates of the same name
files = { "invoice.html" = "brand/invoice.html" }   # or one template at a time
pick_list_message = "[cataloginventoryItemQty] in stock, [orderItemQtyBackordered] backordered"
packing_slip_message = "{backordered} item(s) will follow as soon as they are back in stock."
```

Relative paths are taken from the current directory (where ``backorder`` runs).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from backorder.documents.templating import check_message

PICK_LIST_TOKENS = (
    "cataloginventoryItemQty",  # stock on hand now (never below 0)
    "orderItemQtyBackordered",
    "orderItemQtyOrdered",
    "orderItemQtyInStock",  # units of the line served from stock when it was placed
    "orderItemSku",
    "orderItemName",
)
PACKING_SLIP_TOKENS = ("order_id", "requested", "in_stock", "backordered")

DEFAULT_PICK_LIST_MESSAGE = (
    "[cataloginventoryItemQty] in stock, [orderItemQtyBackordered] backordered"
)
DEFAULT_PACKING_SLIP_MESSAGE = (
    "{backordered} item(s) of order {order_id} are on backorder and will be shipped "
    "as soon as they are back in stock."
)


class TemplateSettings(BaseModel):
    """Where a store's document templates come from, and the messages they print."""

    model_config = ConfigDict(extra="forbid")

    directory: Path | None = None
    """A folder searched before the built-in templates: same file name, same document."""
    files: dict[str, Path] = Field(default_factory=dict)
    """Template name (``pick_list.html``...) to the file that replaces it."""
    pick_list_message: str = DEFAULT_PICK_LIST_MESSAGE
    """Printed on each pick-list line with backordered units; ``[token]`` syntax (seed 004)."""
    packing_slip_message: str = DEFAULT_PACKING_SLIP_MESSAGE
    """Printed on a packing slip whose order has backordered units; ``{token}`` syntax."""
    date_format: str = "%Y-%m-%d"

    @field_validator("pick_list_message")
    @classmethod
    def _pick_list(cls, text: str) -> str:
        return check_message("pick_list_message", text, PICK_LIST_TOKENS, "bracket")

    @field_validator("packing_slip_message")
    @classmethod
    def _packing_slip(cls, text: str) -> str:
        return check_message("packing_slip_message", text, PACKING_SLIP_TOKENS)

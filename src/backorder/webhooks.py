"""What a parsed webhook delivery asks of the core."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from backorder.errors import WebhookRejected
from backorder.models import UTCDateTime

__all__ = ["WebhookEvent", "WebhookRejected"]


class WebhookEvent(BaseModel):
    """One thing a delivery asks for. ``delivery_id`` is the dedupe key (BigCommerce's hash)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["stock", "order", "product", "ignored"]
    delivery_id: str
    sku: str | None = None
    on_hand: int | None = None
    order_id: str | None = None
    product_id: str | None = None
    tracking_enabled: bool | None = None
    basis: Literal["absolute", "platform_count"] = "absolute"
    """How to read ``on_hand``: see :class:`backorder.models.StockLevel`."""
    as_of: UTCDateTime | None = None
    """When ``on_hand`` was true at the platform: a late delivery of an older figure is
    skipped (see :class:`backorder.models.StockLevel`)."""

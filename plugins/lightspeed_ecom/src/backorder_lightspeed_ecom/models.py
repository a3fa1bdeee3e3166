"""Lightspeed eCom resources as the API returns them (only the fields this plugin reads).

Responses carry many more fields; they are ignored, not rejected. Links to other
resources come as ``{"resource": {"id": 1, "url": "...", "link": "..."}}`` or ``false``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class StockTracking(StrEnum):
    """A variant's ``stockTracking``: Lightspeed's own backorder switch."""

    DISABLED = "disabled"  # no tracking: always for sale
    ENABLED = "enabled"  # tracked; the sale is refused when sold out
    INDICATOR = "indicator"  # tracked; sold out still sells ("Allow backorders")


class Resource(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


def link_id(value: Any) -> int | None:
    """The id inside a ``{"resource": {"id": ...}}`` link (``false`` = no link)."""
    if isinstance(value, dict):
        inner = value.get("resource", value)
        if isinstance(inner, dict) and inner.get("id") not in (None, False):
            return int(inner["id"])
    return None


class Variant(Resource):
    id: int
    sku: str | None = ""
    articleCode: str | None = ""
    title: str | None = ""
    updatedAt: str | None = None
    stockTracking: StockTracking = StockTracking.DISABLED
    stockLevel: int = 0
    stockAlert: int = 0
    stockMinimum: int = 0
    stockSold: int = 0
    stockBuyMinimum: int = 1
    stockBuyMaximum: int = 10000
    product_id: int | None = Field(default=None, alias="product")

    @field_validator("product_id", mode="before")
    @classmethod
    def _product_link(cls, value: Any) -> int | None:
        return value if isinstance(value, int) or value is None else link_id(value)


class Product(Resource):
    id: int
    title: str | None = ""
    fulltitle: str | None = ""
    visibility: str | None = None
    """``visible`` or ``hidden`` (the storefront shows the product or not)."""
    deliverydate_id: int | None = Field(default=None, alias="deliverydate")

    @field_validator("deliverydate_id", mode="before")
    @classmethod
    def _delivery_link(cls, value: Any) -> int | None:
        return value if isinstance(value, int) or value is None else link_id(value)


class DeliveryDate(Resource):
    """A delivery timeframe: what the storefront says about shipping, in and out of stock."""

    id: int
    name: str = ""
    inStockMessage: str = ""
    outStockMessage: str = ""


class OrderProduct(Resource):
    """One order line. Lightspeed has no backordered quantity: the core computes it."""

    id: int
    productTitle: str | None = ""
    variantTitle: str | None = ""
    sku: str | None = ""
    articleCode: str | None = ""
    quantityOrdered: int
    quantityShipped: int = 0
    product_id: int | None = Field(default=None, alias="product")
    variant_id: int | None = Field(default=None, alias="variant")

    @field_validator("product_id", "variant_id", mode="before")
    @classmethod
    def _links(cls, value: Any) -> int | None:
        return value if isinstance(value, int) or value is None else link_id(value)


class Order(Resource):
    id: int
    number: str | None = None
    email: str | None = None
    createdAt: str | None = None
    updatedAt: str | None = None
    status: str | None = None
    shipmentStatus: str | None = None


class Webhook(Resource):
    """A registered webhook; the API answers ``language`` as an object (``{"code": "en"}``)."""

    id: int
    isActive: bool = True
    itemGroup: str
    itemAction: str = "*"
    format: str = "json"
    address: str = ""

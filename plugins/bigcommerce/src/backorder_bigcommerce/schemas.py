"""Pydantic models of the BigCommerce bodies the plugin sends and reads.

Each class is named after the schema it mirrors in the official OpenAPI files
(``/work/shared/specs/bigcommerce``): ``ProductFull`` is ``product_Full``,
``ProductPutCollectionItem`` one element of ``product_Put_Collection`` and so on.
Only the fields the plugin uses are declared. Response models keep unknown fields
(``extra="allow"``: BigCommerce returns far more than we read); request models forbid
them, so a typo never reaches the API. Fields of the 2026 native-backorder beta that the
beta spec files do not list come from the beta guide (``backorders-beta`` page); what no
source settles is marked *unconfirmed* (see :mod:`.unconfirmed`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from backorder_bigcommerce import unconfirmed as u

Tracking = Literal["none", "product", "variant"]
Availability = Literal["available", "disabled", "preorder"]


class Response(BaseModel):
    model_config = ConfigDict(extra="allow")


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def body(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


# ------------------------------------------------------------------ pagination (v3)
class PaginationFull(Response):
    """``pagination_Full``."""

    total: int
    count: int
    per_page: int
    current_page: int
    total_pages: int


class MetaCollectionFull(Response):
    """``metaCollection_Full``."""

    pagination: PaginationFull | None = None


# ------------------------------------------------------------------------- catalog
class ProductVariantFull(Response):
    """``productVariant_Full``."""

    id: int
    product_id: int
    sku: str
    inventory_level: int | None = None
    inventory_warning_level: int | None = None
    purchasing_disabled: bool = False
    purchasing_disabled_message: str = ""
    option_values: list[dict[str, Any]] = Field(default_factory=list)


class ProductFull(Response):
    """``product_Full`` (with ``include=variants``)."""

    id: int
    name: str
    sku: str = ""
    inventory_level: int = 0
    inventory_warning_level: int = 0
    inventory_tracking: Tracking = "none"
    availability: Availability = "available"
    availability_description: str = ""
    order_quantity_minimum: int = 0
    order_quantity_maximum: int = 0
    base_variant_id: int | None = None
    variants: list[ProductVariantFull] = Field(default_factory=list)

    @property
    def has_options(self) -> bool:
        """A product whose variants are its own SKUs (not just the base variant)."""
        return any(v.option_values for v in self.variants)


class ProductsPage(Response):
    """The ``GET /catalog/products`` response: ``data`` + ``meta``."""

    data: list[ProductFull]
    meta: MetaCollectionFull


class ErrorMultiStatus(Response):
    """``errorMultiStatus``: the ``errors`` of a 207 (its own ``errors`` is free-form)."""

    status: int | None = None
    title: str = ""
    type: str = ""
    errors: dict[str, Any] = Field(default_factory=dict)


class ProductsMultiStatus(Response):
    """The 207 answer of ``PUT /catalog/products`` ("Update Products (Batch) Multi-status
    Response"): the products in ``data``, what failed in ``errors``."""

    data: list[ProductFull] = Field(default_factory=list)
    errors: ErrorMultiStatus | None = None


class ProductResponse(Response):
    data: ProductFull


class ProductPutCollectionItem(Request):
    """One element of ``product_Put_Collection`` (``PUT /catalog/products``, 10 at most)."""

    id: int
    inventory_tracking: Tracking | None = None
    inventory_level: int | None = Field(default=None, ge=0)
    availability: Availability | None = None
    availability_description: str | None = None


class ProductVariantPut(Request):
    """``productVariant_Put`` with its ``id`` (``PUT /catalog/variants``, 50 at most)."""

    id: int
    purchasing_disabled: bool | None = None
    purchasing_disabled_message: str | None = Field(default=None, max_length=255)
    inventory_level: int | None = Field(default=None, ge=0)


class VariantResponse(Response):
    data: ProductVariantFull


class VariantsPage(Response):
    """The ``GET /catalog/variants`` response."""

    data: list[ProductVariantFull]
    meta: MetaCollectionFull


# ----------------------------------------------------------------------- inventory
class AdjustmentItem(Request):
    """An item of ``AdjustmentsAbsoluteRequest``: one of ``product_id``/``variant_id``/``sku``."""

    location_id: int
    quantity: int
    product_id: int | None = None
    variant_id: int | None = None
    sku: str | None = None

    @model_validator(mode="after")
    def _one_identity(self) -> AdjustmentItem:
        given = [x for x in (self.product_id, self.variant_id, self.sku) if x is not None]
        if len(given) != 1:
            raise ValueError("exactly one of product_id, variant_id, sku")
        return self


class AdjustmentsAbsoluteRequest(Request):
    """``AdjustmentsAbsoluteRequest`` (``PUT /inventory/adjustments/absolute``, 2,000 items)."""

    reason: str
    items: list[AdjustmentItem]


class SimpleTransactionResponse(Response):
    """``SimpleTransactionResponse``."""

    transaction_id: str | None = None


class Identity(Request):
    product_id: int | None = None
    variant_id: int | None = None
    sku: str | None = None


class LocationItemSetting(Request):
    """One element of ``LocationItemsSettingsRequest.settings``.

    ``backorder_limit`` is the native-backorder beta field (the beta guide, "Configuring
    backorder limits"; not yet in the beta spec file). ``None`` is sent as ``null``, read as
    unlimited (*unconfirmed*: ``unconfirmed.BACKORDER_LIMIT_NULL_IS_UNLIMITED``).
    """

    model_config = ConfigDict(extra="forbid")

    identity: Identity
    warning_level: int | None = None
    backorder_limit: int | None = None
    backorder_message_id: int | None = None

    def body(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude_none=True)
        data["backorder_limit"] = self.backorder_limit  # null is meaningful: unlimited
        return data


class LocationItemsSettingsRequest(Request):
    """``LocationItemsSettingsRequest`` (``PUT /inventory/locations/{id}/items``, 2,000)."""

    settings: list[LocationItemSetting]

    def body(self) -> dict[str, Any]:
        return {"settings": [s.body() for s in self.settings]}


class ItemLocation(Response):
    location_id: int
    available_to_sell: int = 0
    total_inventory_onhand: int = 0
    settings: dict[str, Any] = Field(default_factory=dict)

    @property
    def backordered(self) -> int:
        """Native beta: the units on backorder at this location (*unconfirmed* field name,
        ``unconfirmed.QTY_BACKORDERED_READ_FIELD``); 0 when absent."""
        return int((self.model_extra or {}).get(u.QTY_BACKORDERED_READ_FIELD) or 0)


class ItemIdentity(Response):
    sku: str | None = None
    variant_id: int | None = None
    product_id: int | None = None


class ItemResponse(Response):
    """``ItemResponse`` (``GET /inventory/items``)."""

    identity: ItemIdentity
    locations: list[ItemLocation] = Field(default_factory=list)


class ItemsPage(Response):
    data: list[ItemResponse]
    meta: MetaCollectionFull


# ------------------------------------------------------------------------- orders v2
class OrderProducts(Response):
    """``orderProducts``: one line of ``GET /v2/orders/{id}/products``.

    ``quantity_backordered``: with native backorders, "how many units of a line item are
    backordered" (beta guide, "Tracking backorders in orders").
    """

    id: int
    order_id: int
    product_id: int
    variant_id: int | None = None
    name: str = ""
    sku: str = ""
    quantity: int
    quantity_backordered: int | None = None
    quantity_shipped: int = 0
    """``orderProducts.quantity_shipped`` (orders.v2.oas2.yml): units shipped so far."""


class OrderResp(Response):
    """``order_Resp`` (the fields used)."""

    id: int
    status_id: int = 0
    billing_address: dict[str, Any] = Field(default_factory=dict)
    date_created: str = ""


class BillingAddressBase(Request):
    """``billingAddress_Base`` (``zip`` is its one required field)."""

    first_name: str = ""
    last_name: str = ""
    street_1: str = ""
    city: str = ""
    state: str = ""
    zip: str
    country: str = ""
    country_iso2: str = ""
    email: str = ""


class OrderCatalogProductPost(Request):
    """``orderCatalogProduct_Post``: a catalog line of ``POST /v2/orders``."""

    product_id: int
    variant_id: int | None = None
    quantity: int = Field(ge=1)


class OrderPost(Request):
    """The ``POST /v2/orders`` body (catalog lines and a billing address)."""

    status_id: int = 11
    billing_address: BillingAddressBase
    products: list[OrderCatalogProductPost]


class OutOfStockError(Response):
    """One ``details.errors[]`` entry of the native-backorder 409 (beta guide, "Error response
    for unavailable quantities")."""

    type: str
    message: str = ""
    variant_id: int | None = None
    location_id: int | None = None
    available_quantity: int | None = None
    available_quantity_for_backorder: int | None = None


class OutOfStockDetails(Response):
    errors: list[OutOfStockError] = Field(default_factory=list)


class OutOfStockBody(Response):
    """One element of the 409 body array: ``{status, message, details}``."""

    status: int | None = None
    message: str = ""
    details: OutOfStockDetails


# ---------------------------------------------------------------------------- hooks
class WebhookBase(Request):
    """``webhook_Base`` (``POST /v3/hooks``)."""

    scope: str
    destination: str
    is_active: bool = True
    headers: dict[str, str] | None = None


class WebhookPut(Request):
    """``webhook_Put`` (``PUT /v3/hooks/{id}``): reactivate a hook, put back its headers."""

    is_active: bool | None = None
    headers: dict[str, str] | None = None


class WebhookFull(Response):
    """``webhook_Full``."""

    id: int
    scope: str
    destination: str
    is_active: bool = True
    headers: dict[str, str] | None = None


class HooksMeta(Response):
    pagination: PaginationFull | None = None


class WebhooksResp(Response):
    """``GET /v3/hooks``: a page of hooks; ``meta.pagination`` as the other v3 lists."""

    data: list[WebhookFull]
    meta: HooksMeta = Field(default_factory=HooksMeta)


class WebhookResp(Response):
    data: WebhookFull


class WebhookCallbackBase(Response):
    """``webhook_callback_base`` plus ``data``: the envelope of every delivery."""

    scope: str = Field(min_length=1)
    store_id: str = ""
    producer: str = ""
    hash: str = Field(min_length=1)
    created_at: int = 0
    data: dict[str, Any]


class ErrorBase(Response):
    """``error_Base``."""

    status: int | None = None
    title: str = ""

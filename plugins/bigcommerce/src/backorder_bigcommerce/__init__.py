"""BigCommerce for backorder: a paced REST client, webhooks, native backorders and a sandbox."""

from backorder_bigcommerce.client import (
    AmbiguousWrite,
    BigCommerceClient,
    BigCommerceError,
    OutOfStock,
)
from backorder_bigcommerce.connection import register_transport

__all__ = [
    "AmbiguousWrite",
    "BigCommerceClient",
    "BigCommerceError",
    "OutOfStock",
    "register_transport",
]

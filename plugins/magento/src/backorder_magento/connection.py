"""What a store's ``connection`` table holds for Magento, and the client built from it.

```toml
[stores.shop.connection]
base_url = "https://shop.example/rest/default"   # REST root with the store code
token_env = "MAGENTO_TOKEN"                       # integration access token (bearer)
stock_id = 1                                      # MSI stock of the website
webhook_token_env = "MAGENTO_PUSH_TOKEN"          # or webhook_secret_env (HMAC)
retries = 3                                       # per call, after the first attempt (0-10)
[stores.shop.connection.item_options]             # cataloginventory/item_options/*
backorders = 0
min_qty = 0
```

Tests may also put an httpx ``transport``, a :class:`backorder.http.Clock` (``clock``) and a
:class:`random.Random` (``rng``) in the table.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from backorder.http import Retries, RetryPolicy
from backorder_magento.client import MagentoClient
from backorder_magento.models import ItemOptions


class ConnectionOptions(BaseModel):
    """The validated options of the table (the rest is read where it is used)."""

    model_config = ConfigDict(extra="ignore")

    retries: Retries = RetryPolicy.model_fields["retries"].default  # one default, the policy's


def item_options(store) -> ItemOptions:
    """The store's global config; Magento's defaults where not given."""
    return ItemOptions.from_mapping(store.connection.get("item_options"))


def client_for(store) -> MagentoClient:
    base_url = store.connection.get("base_url")
    token = store.secret("token")
    if not base_url or not token:
        from backorder.http.errors import secret_source

        missing = ([] if base_url else ["connection.base_url"]) + (
            [] if token else [secret_source(store.connection, "token")]
        )
        raise ValueError(
            f"store {store.name!r}: connection needs base_url and token (or token_env): "
            f"check {' and '.join(missing)}"
        )
    options = store.connection_as(ConnectionOptions)
    return MagentoClient(
        base_url,
        token,
        transport=store.connection.get("transport"),
        retry=RetryPolicy(retries=options.retries),
        clock=store.connection.get("clock"),
        rng=store.connection.get("rng"),
    )

"""The web app's own settings: the ``[admin]`` table of the config file.

```toml
[admin]
secret_key_env = "BACKORDER_ADMIN_KEY"     # signs session cookies (32+ random characters)
[admin.users.alice]
password_hash = "$argon2id$v=19$m=65536,t=3,p=4$..."   # backorder admin hash-password
stores = ["shop"]                                       # or ["*"]: every store
```

Plain Python and pydantic only: the config loads it without the ``server`` extra.
"""

from __future__ import annotations

from ipaddress import ip_network
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, field_validator


class AdminUser(BaseModel):
    """A person who may open the web app, and which stores."""

    model_config = ConfigDict(extra="forbid")

    password_hash: str | None = None
    """An argon2 hash (``backorder admin hash-password``); none: only a trusted proxy or a
    platform's sign-in (BigCommerce's load callback) lets this user in."""
    stores: list[str] = Field(default_factory=list)
    """The stores this user may open; ``"*"`` means every store."""

    @field_validator("password_hash")
    @classmethod
    def _argon2(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("$argon2"):
            raise ValueError("must be an argon2 hash (backorder admin hash-password)")
        return value


class AdminSettings(BaseModel):
    """How the web app signs people in and what it accepts."""

    model_config = ConfigDict(extra="forbid")

    secret_key: str | None = Field(default=None, repr=False)
    secret_key_env: str | None = "BACKORDER_ADMIN_KEY"
    """The environment variable holding the key that signs session cookies. Unset, a
    random key is made per process (sessions end with the process; one process only)."""
    users: dict[str, AdminUser] = Field(default_factory=dict)
    trusted_user_header: str | None = None
    """Trust this header (e.g. ``X-Forwarded-User``) as the signed-in user's name, when the
    request comes from one of ``trusted_proxies``: a reverse proxy that authenticates."""
    trusted_proxies: list[str] = Field(default_factory=lambda: ["127.0.0.1/32", "::1/128"])
    session_hours: PositiveInt = 12
    cookie_secure: Literal["auto", "always", "never"] = "auto"
    """``auto``: the cookie is ``Secure`` when the request came over TLS (directly, or per
    the proxy headers uvicorn trusts)."""
    login_attempts: PositiveInt = 5
    """Failed sign-ins allowed per user name and address within ``login_window_minutes``."""
    login_window_minutes: PositiveInt = 15
    page_size: PositiveInt = 50
    max_upload_bytes: PositiveInt = 20_000_000
    frame_ancestors: list[str] = Field(default_factory=list)
    """Origins allowed to show the web app in a frame (CSP ``frame-ancestors``), besides
    its own; platform plugins add theirs (BigCommerce's control panel)."""

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for net in value:
            ip_network(net, strict=False)  # ValueError names the bad one
        return value


__all__ = ["AdminSettings", "AdminUser"]

"""The TOML config file: a database URL and one table per configured store.

```toml
database = "sqlite:///backorder.db"

[stores.demo]
platform = "core"
[stores.demo.settings]
switch_condition = 0
[stores.demo.settings.defaults]
threshold = 10
[stores.demo.connection]          # platform-specific; secrets by env var name
token_env = "BIGCOMMERCE_TOKEN"
```
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from backorder.admin.settings import AdminSettings
from backorder.documents.settings import TemplateSettings, set_config_folder
from backorder.errors import ConfigError, first_problem
from backorder.models import StoreSettings
from backorder.notify.settings import NotificationSettings
from backorder.storefront import StorefrontSettings

M = TypeVar("M", bound=BaseModel)

DEFAULT_CONFIG = "backorder.toml"
DEFAULT_DATABASE = "sqlite:///backorder.db"


class StoreConfig(BaseModel):
    """One store: which platform plugin serves it, its rules, and how to reach it."""

    model_config = ConfigDict(extra="forbid")

    name: str
    platform: str = "core"
    settings: StoreSettings = Field(default_factory=StoreSettings)
    connection: dict[str, Any] = Field(default_factory=dict)
    """Platform plugin options. A key ending in ``_env`` names an environment variable."""
    storefront: StorefrontSettings = Field(default_factory=StorefrontSettings)
    """Storefront messages (seed 001 §4.2), see :mod:`backorder.storefront`."""
    templates: TemplateSettings = Field(default_factory=TemplateSettings)
    """Document templates and their messages, see :mod:`backorder.documents.settings`."""
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    """Recipients, per-event switches and transport (file outbox or SMTP)."""
    _secrets: dict[str, str] = PrivateAttr(default_factory=dict)
    """Secrets held in memory only (a store installed at run time: its access token,
    decrypted from the database); never dumped, never shown in ``repr``."""

    def with_secrets(self, secrets: dict[str, str]) -> StoreConfig:
        """A copy of this store that also knows ``secrets`` (see :meth:`secret`)."""
        copy = self.model_copy()
        copy._secrets = dict(secrets)
        return copy

    def connection_as(self, model: type[M]) -> M:
        """The ``connection`` table validated as a plugin's model; an error names the field."""
        try:
            return model.model_validate(self.connection)
        except ValidationError as exc:
            where, problem = first_problem(exc)
            raise ConfigError(f"store {self.name!r}: connection.{where}: {problem}") from None

    def secret(self, key: str) -> str | None:
        """A secret held in memory (:meth:`with_secrets`), ``connection[key]``, or the
        environment variable ``connection[key + '_env']`` names."""
        if key in self._secrets:
            return self._secrets[key]
        if key in self.connection:
            return str(self.connection[key])
        env_name = self.connection.get(f"{key}_env")
        return os.environ.get(env_name) if env_name else None


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    database: str = DEFAULT_DATABASE
    stores: dict[str, StoreConfig] = Field(default_factory=dict)
    admin: AdminSettings = Field(default_factory=AdminSettings)
    """The web app: users, session key, proxy sign-in (see :mod:`backorder.admin.settings`)."""
    plugins: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Options of a plugin that are not a store's (``[plugins.bigcommerce]``: the app's
    client id and secret); each plugin validates its own table."""

    def store(self, name: str | None) -> StoreConfig:
        if name is None:
            if len(self.stores) == 1:
                return next(iter(self.stores.values()))
            raise ConfigError(f"several stores are configured; choose one of {sorted(self.stores)}")
        try:
            return self.stores[name]
        except KeyError:
            raise ConfigError(f"no store {name!r}; configured: {sorted(self.stores)}") from None


def _where(loc: tuple) -> str:
    return ".".join(str(part) for part in loc)


def parse_config(data: dict[str, Any], source: str = "<config>") -> Config:
    stores = data.get("stores")
    if isinstance(stores, dict):
        data = {
            **data,
            "stores": {
                name: {"name": name, **body} if isinstance(body, dict) else body
                for name, body in stores.items()
            },
        }
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{_where(e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{source}: {problems}") from None


def load_config(path: str | Path | None = None) -> Config:
    """Read the config; with no file at the default path, a single demo store on SQLite.

    A file named on purpose (``path``, or ``$BACKORDER_CONFIG``) must exist: a typo there
    must not run the command on an empty store."""
    from_env = path is None and bool(os.environ.get("BACKORDER_CONFIG"))
    explicit = path is not None or from_env
    path = Path(path or os.environ.get("BACKORDER_CONFIG") or DEFAULT_CONFIG)
    if not path.exists():
        if explicit:
            named = " (named by $BACKORDER_CONFIG)" if from_env else ""
            raise ConfigError(f"{path}: no such config file{named}")
        return parse_config({"stores": {"demo": {"platform": "core"}}}, "<built-in demo>")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    # Template paths are taken from, and kept inside, the config's folder; stores read
    # later (installed, edited in the web app) are held to the same folder.
    set_config_folder(path.parent)
    return parse_config(data, str(path))

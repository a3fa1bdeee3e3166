"""A store's document settings (``[stores.NAME.templates]`` in the config).

```toml
[stores.shop.templates]
directory = "shop-templates"        # files here replace built-in templates of the same name
files = { "invoice.html" = "brand/invoice.html" }   # or one template at a time
pick_list_message = "[cataloginventoryItemQty] in stock, [orderItemQtyBackordered] backordered"
packing_slip_message = "{backordered} item(s) will follow as soon as they are back in stock."
```

Relative paths are taken from the config file's folder (the current directory when
there is no config file). Template files must stay inside that folder: a ``directory``
or a file outside it (``directory = "/etc"``), or a link that leads out of it, is
refused unless ``allow_outside_config = true`` says it is meant (issue 20, item 14).
Files found in a template ``directory`` never follow a link out of that directory.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

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


_config_folder: Path | None = None


def set_config_folder(folder: Path | None) -> None:
    """Where the config file being used lives: template paths are taken from, and kept
    inside, this folder (``backorder.config.load_config`` sets it)."""
    global _config_folder
    _config_folder = None if folder is None else Path(folder).absolute()


def config_folder(info: ValidationInfo | None = None) -> Path:
    """The folder template paths are taken from: the validation context's
    ``config_folder``, else the config file's, else the current directory."""
    context = info.context if info is not None and isinstance(info.context, dict) else {}
    folder = context.get("config_folder") or _config_folder
    return Path(folder).absolute() if folder else Path.cwd()


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
    allow_outside_config: bool = False
    """Allow ``directory`` and ``files`` outside the config file's folder (off: a config
    or a web-app edit naming ``/etc`` is refused)."""

    _root: Path | None = PrivateAttr(default=None)
    """The folder template files must resolve inside (``None``: allowed anywhere)."""

    @model_validator(mode="after")
    def _inside_the_config_folder(self, info: ValidationInfo) -> TemplateSettings:
        base = config_folder(info)
        if self.directory is not None:
            self.directory = _confined(base, self.directory, "directory", self)
        self.files = {
            name: _confined(base, path, f"files.{name}", self) for name, path in self.files.items()
        }
        self._root = None if self.allow_outside_config else base.resolve()
        return self

    @property
    def root(self) -> Path | None:
        """The folder every template file must resolve inside, or ``None``."""
        return self._root

    @field_validator("pick_list_message")
    @classmethod
    def _pick_list(cls, text: str) -> str:
        return check_message("pick_list_message", text, PICK_LIST_TOKENS, "bracket")

    @field_validator("packing_slip_message")
    @classmethod
    def _packing_slip(cls, text: str) -> str:
        return check_message("packing_slip_message", text, PACKING_SLIP_TOKENS)


def _confined(base: Path, path: Path, field: str, settings: TemplateSettings) -> Path:
    """``path`` taken from ``base``; refused when it (links followed) leads out of it."""
    full = path if path.is_absolute() else base / path
    if settings.allow_outside_config:
        return full
    real, root = full.resolve(), base.resolve()
    if not real.is_relative_to(root):
        raise ValueError(
            f"templates.{field}: {path} is outside the config's folder {base}"
            + (f" (it leads to {real})" if real != full else "")
            + "; set templates.allow_outside_config = true to allow it"
        )
    return full

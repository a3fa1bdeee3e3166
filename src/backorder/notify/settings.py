"""A store's notification settings (the ``[stores.NAME.notifications]`` table)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    StringConstraints,
    model_validator,
)

from backorder.models import EventType

Email = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[^@\s]+@[^@\s]+$")]

DEFAULT_EVENTS: frozenset[EventType] = frozenset(
    {
        EventType.ASSIGNED,
        EventType.BACKORDER_ENABLED,
        EventType.BACKORDER_DISABLED,
        EventType.UNASSIGNED,
    }
)
"""The seed's four notifications (seed 000 §1.3); the others are off unless switched on."""


class SmtpSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: PositiveInt = 25
    security: Literal["none", "starttls", "ssl"] = "none"
    username: str | None = None
    password_env: str | None = None
    """Name of the environment variable holding the password (never the password itself)."""
    sender: Email = "backorder@localhost"
    timeout: float = 10.0


ETA_TOKENS = frozenset(
    {"order_id", "line_no", "sku", "name", "waiting", "eta", "previous_eta", "when"}
)


class CustomerEtaSettings(BaseModel):
    """The customer's ``eta_changed`` message: merchant text with ``{token}`` placeholders.

    Tokens: ``{order_id} {line_no} {sku} {name} {waiting} {eta} {previous_eta} {when}``;
    ``{when}`` reads "are now expected on 2026-12-01", "are ready to ship" or "have no
    date yet". Checked when the config loads: an unknown token names the field and line.
    """

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    subject: str = "Your order {order_id}: {name}"
    message: str = (
        "Hello,\n\nthe {waiting} × {name} still to come in your order {order_id} {when}.\n\n"
        "Thank you for your patience.\n"
    )
    date_format: str = "%Y-%m-%d"

    @model_validator(mode="after")
    def _check_tokens(self) -> CustomerEtaSettings:
        from backorder.documents.templating import MessageTemplate

        MessageTemplate("notifications.customer_eta.subject", self.subject, ETA_TOKENS)
        MessageTemplate("notifications.customer_eta.message", self.message, ETA_TOKENS)
        return self


class NotificationSettings(BaseModel):
    """Recipients, per-event switches and the transport of one store's notifications.

    Nothing is written or sent for a store without recipients.
    """

    model_config = ConfigDict(extra="forbid")

    recipients: list[Email] = Field(default_factory=list)
    events: dict[EventType, bool] = Field(default_factory=dict)
    """Switch events on or off; unnamed events follow :data:`DEFAULT_EVENTS`."""
    transport: Literal["file", "smtp"] = "file"
    outbox_dir: str = "outbox"
    """File transport: messages go to ``{outbox_dir}/{store}/`` (relative to the working dir)."""
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    customer_eta: CustomerEtaSettings = Field(default_factory=lambda: CustomerEtaSettings())
    """Tell customers when the promised date of their backordered items changes."""

    def wants(self, event_type: EventType) -> bool:
        if not self.recipients:
            return False
        return self.events.get(event_type, event_type in DEFAULT_EVENTS)

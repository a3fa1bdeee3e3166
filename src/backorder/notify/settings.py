"""A store's notification settings (the ``[stores.NAME.notifications]`` table)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, StringConstraints

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

    def wants(self, event_type: EventType) -> bool:
        if not self.recipients:
            return False
        return self.events.get(event_type, event_type in DEFAULT_EVENTS)

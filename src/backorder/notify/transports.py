"""Where notifications go: a directory of JSON lines (the default) or an SMTP server."""

from __future__ import annotations

import json
import os
import smtplib
import ssl
import uuid
from email.message import EmailMessage
from pathlib import Path

from backorder.models import DomainEvent
from backorder.notify.message import Message
from backorder.notify.settings import NotificationSettings


def write_file(
    settings: NotificationSettings, store: str, event: DomainEvent, msg: Message,
    to: list[str] | None = None,
) -> Path:
    """Append one JSON line to ``{outbox_dir}/{store}/messages.jsonl``; attachments beside it."""
    folder = Path(settings.outbox_dir) / store
    folder.mkdir(parents=True, exist_ok=True)
    message_id = uuid.uuid4().hex
    saved = []
    for name, data in msg.attachments.items():
        path = folder / "attachments" / f"{message_id}-{name}"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        saved.append(str(path))
    record = {
        "id": message_id,
        "store": store,
        "to": to or settings.recipients,
        "subject": msg.subject,
        "body": msg.body,
        "attachments": saved,
        "event": event.model_dump(mode="json"),
    }
    line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
    log = folder / "messages.jsonl"
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:  # one write per line: concurrent writers never interleave within a line
        os.write(fd, line)
    finally:
        os.close(fd)
    return log


def send_smtp(settings: NotificationSettings, msg: Message, to: list[str] | None = None) -> None:
    """Send through the configured SMTP server; errors propagate (the event stays pending)."""
    cfg = settings.smtp
    email = EmailMessage()
    email["From"] = cfg.sender
    email["To"] = ", ".join(to or settings.recipients)
    email["Subject"] = msg.subject
    email.set_content(msg.body)
    for name, data in msg.attachments.items():
        email.add_attachment(data, maintype="text", subtype="csv", filename=name)
    client: smtplib.SMTP
    if cfg.security == "ssl":
        client = smtplib.SMTP_SSL(
            cfg.host, cfg.port, timeout=cfg.timeout, context=ssl.create_default_context()
        )
    else:
        client = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
    with client:
        if cfg.security == "starttls":
            client.starttls(context=ssl.create_default_context())
        if cfg.username:
            password = os.environ.get(cfg.password_env or "", "")
            client.login(cfg.username, password)
        client.send_message(email)

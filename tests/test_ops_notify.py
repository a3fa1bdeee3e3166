"""Notifications: per-store recipients and per-event switches; file outbox or SMTP."""

from __future__ import annotations

import datetime as dt
import email
import json
import socket

import pytest
from aiosmtpd.controller import Controller

from backorder.config import StoreConfig
from backorder.engine import StoreService
from backorder.models import ItemInput
from backorder.notify.settings import NotificationSettings
from backorder.plugins import BUILTIN_PLUGINS, make_manager

AT = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def plugin_manager():
    pm = make_manager(load_entry_points=False)
    return pm


def make(db, pm, notifications: dict) -> StoreService:
    store = StoreConfig(name="shop", notifications=NotificationSettings(**notifications))
    svc = StoreService(db, store, pm=pm, clock=lambda: AT)
    svc.upsert_catalog([ItemInput(sku="TENT", on_hand=1, assigned=False)])
    return svc


def test_notify_is_a_builtin_plugin():
    assert "notify" in BUILTIN_PLUGINS


def test_file_outbox_writes_enabled_events_and_the_unassign_csv(
    backorder_db, plugin_manager, tmp_path
):
    outbox = tmp_path / "outbox"
    svc = make(
        backorder_db,
        plugin_manager,
        {
            "recipients": ["owner@shop.example", "ops@shop.example"],
            "outbox_dir": str(outbox),
            "events": {"assigned": False, "order_backordered": True},
        },
    )
    svc.assign([ItemInput(sku="TENT", incoming_qty=4)])  # assigned: switched off
    svc.set_stock("TENT", 0, key="count")  # backorder_enabled
    svc.unassign(["TENT"], "track")
    lines = (outbox / "shop" / "messages.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["event"]["type"] for r in records] == ["backorder_enabled", "unassigned"]
    assert records[0]["to"] == ["owner@shop.example", "ops@shop.example"]
    assert records[0]["subject"] == "[shop] Backorder enabled for TENT"
    [attachment] = records[1]["attachments"]
    assert attachment.endswith("unassigned-TENT.csv")
    with open(attachment, encoding="utf-8") as f:
        assert f.read().splitlines() == [
            "SKU,Stock,Incoming Stock,Back in stock date,Action",
            "TENT,0,4,,track",
        ]
    assert svc.outbox.backlog()["events_pending"] == 0


def test_no_recipients_means_nothing_is_written(backorder_db, plugin_manager, tmp_path):
    svc = make(backorder_db, plugin_manager, {"outbox_dir": str(tmp_path / "o")})
    svc.assign(["TENT"])
    assert not (tmp_path / "o").exists()


def test_bad_recipient_is_refused_by_the_config():
    from backorder.config import ConfigError, parse_config

    with pytest.raises(ConfigError, match=r"stores.s.notifications.recipients.0"):
        parse_config({"stores": {"s": {"notifications": {"recipients": ["not-an-address"]}}}})


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_smtp_delivery_to_a_local_server(backorder_db, plugin_manager):
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        svc = make(
            backorder_db,
            plugin_manager,
            {
                "recipients": ["owner@shop.example"],
                "transport": "smtp",
                "smtp": {"host": "127.0.0.1", "port": port, "sender": "bo@shop.example"},
            },
        )
        svc.assign(["TENT"])
        svc.unassign(["TENT"])
    finally:
        controller.stop()
    subjects = [m["Subject"] for m in inbox.messages]
    assert subjects == [
        "[shop] TENT assigned to backorder",
        "[shop] TENT unassigned from backorder",
    ]
    unassigned = inbox.messages[1]
    assert unassigned["To"] == "owner@shop.example" and unassigned["From"] == "bo@shop.example"
    [csv_part] = [p for p in unassigned.walk() if p.get_filename()]
    assert csv_part.get_filename() == "unassigned-TENT.csv"
    assert b"TENT,1,0,,keep" in csv_part.get_payload(decode=True)


def test_smtp_down_leaves_events_pending(backorder_db, plugin_manager):
    svc = make(
        backorder_db,
        plugin_manager,
        {
            "recipients": ["owner@shop.example"],
            "transport": "smtp",
            "smtp": {"port": _free_port(), "timeout": 2},
        },
    )
    svc.assign(["TENT"])
    assert svc.item("TENT").assigned
    assert svc.outbox.backlog()["events_pending"] == 1

"""``backorder serve --threads N``: at most N deliveries are handled at once in a process.

Each handling thread keeps a database connection, so this is what bounds a process's
connections when several processes share one PostgreSQL (README: "Running several
processes").
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from starlette.testclient import TestClient

from backorder.config import parse_config
from backorder.hookspecs import hookimpl
from backorder.platform import BasePlatform
from backorder.server import create_app
from backorder.webhooks import WebhookEvent


class Gate(BasePlatform):
    """A platform whose parsing holds until the test opens the gate, counting who waits."""

    name = "gate"

    def __init__(self) -> None:
        self.open = threading.Event()
        self.changed = threading.Condition()
        self.inside = self.most = 0

    @hookimpl
    def backorder_platforms(self):
        return [self]

    def parse_webhook(self, store, headers, body):
        with self.changed:
            self.inside += 1
            self.most = max(self.most, self.inside)
            self.changed.notify_all()
        self.open.wait(30)
        with self.changed:
            self.inside -= 1
        return [WebhookEvent(kind="ignored", delivery_id=body.decode())]


def test_threads_caps_the_deliveries_handled_at_once(tmp_path, plugin_manager, register_plugin):
    gate = register_plugin(Gate())
    config = parse_config({"database": f"sqlite:///{tmp_path}/t.db",
                           "stores": {"main": {"platform": "gate"}}})
    app = create_app(config, pm=plugin_manager, worker=False, threads=2)
    with TestClient(app) as client, ThreadPoolExecutor(6) as pool:
        answers = [pool.submit(client.post, "/webhooks/main", content=f"d{n}".encode())
                   for n in range(6)]
        with gate.changed:
            assert gate.changed.wait_for(lambda: gate.inside == 2, timeout=30)
            # a third would come in now if it could (it did without the cap: 6 at once)
            assert not gate.changed.wait_for(lambda: gate.inside > 2, timeout=2)
        gate.open.set()
        assert [answer.result(timeout=60).status_code for answer in answers] == [202] * 6
    assert gate.most == 2

"""Platform pushes go through a persisted outbox: written with the change, delivered after."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
import uuid

import pytest
import sqlalchemy as sa

from backorder.config import StoreConfig
from backorder.engine import StoreService
from backorder.hookspecs import hookimpl
from backorder.models import ItemInput
from backorder.platform import BasePlatform
from backorder.plugins import make_manager
from backorder.storage.db import Database
from backorder.storage.schema import push_outbox

AT = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def plugin_manager():
    return make_manager(load_entry_points=False)


class Recorder(BasePlatform):
    """A platform that records pushes; ``fail`` makes the next pushes raise."""

    name = "recorder"

    def __init__(self) -> None:
        self.sent: list[tuple[str, list[tuple[str, int]]]] = []
        self.fail = 0

    def apply_items(self, store, items, reason):
        if self.fail:
            self.fail -= 1
            raise ConnectionError("platform unreachable")
        self.sent.append((reason, [(v.sku, v.on_hand) for v in items]))

    @hookimpl
    def backorder_platforms(self):
        return [self]


def outbox_rows(db) -> list[sa.Row]:
    with db.transaction() as conn:
        return conn.execute(sa.select(push_outbox).order_by(push_outbox.c.id)).all()


def make(db, pm, name="out") -> StoreService:
    store = StoreConfig(name=name, platform="recorder")
    svc = StoreService(db, store, pm=pm, clock=lambda: AT)
    svc.upsert_catalog([ItemInput(sku=s, on_hand=2, assigned=False) for s in ("A", "B")])
    return svc


def test_pushes_are_delivered_right_after_the_commit(backorder_db, plugin_manager, register_plugin):
    platform = register_plugin(Recorder())
    svc = make(backorder_db, plugin_manager)
    svc.assign(["A"])
    svc.set_stock("A", -1, key="count-1")
    assert platform.sent[-2:] == [("assign", [("A", 2)]), ("stock", [("A", -1)])]
    assert all(row.done_at is not None for row in outbox_rows(backorder_db))
    assert svc.outbox.backlog()["pushes_pending"] == 0


def test_a_failed_push_is_kept_and_retried_with_backoff(
    backorder_db, plugin_manager, register_plugin
):
    platform = register_plugin(Recorder())
    svc = make(backorder_db, plugin_manager)
    platform.fail = 1
    svc.assign(["A"])  # the change commits even though the platform is down
    assert svc.item("A").assigned
    assert [reason for reason, _ in platform.sent] == ["catalog"]
    row = outbox_rows(backorder_db)[-1]
    assert row.done_at is None and row.attempts == 1 and "platform unreachable" in row.outcome
    assert svc.outbox.backlog() | {"events_pending": 0} == {
        "pushes_pending": 1,
        "pushes_failing": 1,
        "webhooks_pending": 0,
        "events_pending": 0,
    }
    assert svc.outbox.deliver(now=AT + dt.timedelta(seconds=5)) == (0, 0)  # backoff not over
    svc.set_stock("B", 7, key="b-count")  # other pushes still go meanwhile
    assert svc.outbox.deliver(now=AT + dt.timedelta(seconds=11)) == (1, 0)
    assert platform.sent[-1] == ("assign", [("A", 2)])
    assert outbox_rows(backorder_db)[-1].done_at is not None


def test_deferred_pushes_wait_for_a_worker_and_send_current_state(
    backorder_db, plugin_manager, register_plugin
):
    platform = register_plugin(Recorder())
    svc = make(backorder_db, plugin_manager)
    svc.inline_pushes = False
    platform.sent.clear()
    svc.assign(["A", "B"])
    svc.set_stock("A", 5, key="a-5")
    assert platform.sent == []
    assert svc.outbox.deliver() == (2, 0)
    # a late push sends the item as it is now, never a stale copy
    assert platform.sent == [("assign", [("A", 5), ("B", 2)]), ("stock", [("A", 5)])]
    assert svc.outbox.deliver() == (0, 0)


def test_without_a_plugin_manager_nothing_is_queued(backorder_db):
    svc = StoreService(backorder_db, StoreConfig(name="bare"), clock=lambda: AT)
    svc.upsert_catalog([ItemInput(sku="A", on_hand=2, assigned=False)])
    svc.assign(["A"])
    assert outbox_rows(backorder_db) == [] and svc.outbox.deliver() == (0, 0)


WORKER = textwrap.dedent(
    """
    import os, sys
    from backorder.config import StoreConfig
    from backorder.engine import StoreService
    from backorder.hookspecs import hookimpl
    from backorder.platform import BasePlatform
    from backorder.plugins import make_manager
    from backorder.storage.db import Database

    url, store, log = sys.argv[1:4]

    class Log(BasePlatform):
        name = "recorder"

        def apply_items(self, store, items, reason):
            line = "".join(f"{v.sku}\\n" for v in items).encode()
            fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            os.write(fd, line)
            os.close(fd)

        @hookimpl
        def backorder_platforms(self):
            return [self]

    pm = make_manager(load_entry_points=False)
    pm.register(Log())
    store = StoreConfig(name=store, platform="recorder")
    svc = StoreService(Database(url), store, pm=pm)
    idle = 0
    while idle < 3:
        delivered, _ = svc.outbox.deliver(limit=3)
        idle = idle + 1 if not delivered else 0
    """
)


@pytest.mark.postgres
def test_workers_in_several_processes_send_each_push_once_on_postgres(
    tmp_path, register_plugin, pg_url
):
    db = Database(pg_url)
    name = f"ops-{uuid.uuid4().hex[:10]}"
    pm = make_manager(load_entry_points=False)
    pm.register(Recorder())  # a push target exists, so changes queue pushes
    svc = StoreService(db, StoreConfig(name=name, platform="recorder"), pm=pm)
    svc.inline_pushes = False
    skus = [f"P{i:03d}" for i in range(60)]
    svc.upsert_catalog([ItemInput(sku=s, on_hand=1, assigned=False) for s in skus])
    for sku in skus:
        svc.set_stock(sku, 5, key=f"k-{sku}")
    log = tmp_path / "pushes.log"
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    procs = [
        subprocess.Popen([sys.executable, str(script), pg_url, name, str(log)]) for _ in range(3)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    pushed = log.read_text().split()
    assert sorted(pushed) == sorted(skus + skus)  # catalog load + stock: each exactly once
    assert svc.outbox.backlog()["pushes_pending"] == 0
    db.dispose()


def test_a_push_after_commit_needs_no_claiming_transaction(
    backorder_db, plugin_manager, register_plugin
):
    """Written already claimed by the service that sends it: after the change's commit,
    one read of the items and one transaction finishing the push, nothing more."""
    platform = register_plugin(Recorder())
    svc = make(backorder_db, plugin_manager)
    begins = [0]
    sa.event.listen(backorder_db.engine, "begin", lambda c: begins.__setitem__(0, begins[0] + 1))
    svc.set_stock("A", 5, key="count-1")
    assert platform.sent[-1] == ("stock", [("A", 5)])
    # the change, the read set_stock answers with, then the push: its items' read, its finish
    assert begins[0] == 4
    [row] = [r for r in outbox_rows(backorder_db) if r.reason == "stock"]
    assert row.done_at is not None and row.claimed_by is None and row.attempts == 1


def test_a_push_claimed_by_a_process_that_died_goes_to_a_worker_after_the_lease(
    backorder_db, plugin_manager, register_plugin, monkeypatch
):
    platform = register_plugin(Recorder())
    svc = make(backorder_db, plugin_manager)
    monkeypatch.setattr(svc.outbox, "deliver", lambda **kw: (0, 0))  # "dies" after commit
    svc.set_stock("A", 5, key="count-1")
    monkeypatch.undo()
    assert svc.outbox.deliver(now=AT) == (0, 0)  # still leased to the dead one
    assert svc.outbox.deliver(now=AT + dt.timedelta(minutes=3)) == (1, 0)
    assert platform.sent[-1] == ("stock", [("A", 5)])

"""Faults on purpose: 429, 5xx, lost responses and stale reads from the in-process sandbox.

A sync and a push through faults must end where they end without faults; calls that may
already have been applied are repeated only when repeating cannot do harm; retries give
up with an error naming the call.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator

import httpx
import pytest
from backorder_magento.client import AmbiguousWrite, MagentoClient, MagentoError
from backorder_magento.sandbox import SandboxStore, create_app

from backorder.config import ConfigError, StoreConfig
from backorder.engine import StoreService
from backorder.errors import PlatformError
from backorder.http import FakeClock, RetryPolicy, SyncASGITransport
from backorder.models import ItemView, Mode, StoreSettings
from backorder.storage.db import Database

TOKEN = "sandbox-token"
BASE_URL = "http://sandbox.test/rest/default"
NOW = dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC)
ASSIGNED = ["MB-01", "MB-02", "MB-03", "MB-04"]
PUT_MB01 = ("PUT", "/V1/products/MB-01/stockItems/1")


class Ceiling(random.Random):
    """Jitter pinned to the top of its range, so the waits show the backoff's ceilings."""

    def uniform(self, a: float, b: float) -> float:
        return b


@pytest.fixture
def clock() -> FakeClock:
    """The client's clock: its waits are recorded, nobody waits for real."""
    return FakeClock()


def _store(sandbox: SandboxStore, clock: FakeClock, **connection) -> StoreConfig:
    return StoreConfig(
        name="mage",
        platform="magento",
        connection={
            "base_url": BASE_URL,
            "token": TOKEN,
            "transport": SyncASGITransport(create_app(sandbox)),
            "clock": clock,
            "rng": Ceiling(),
            **connection,
        },
    )


def _client(sandbox: SandboxStore, clock: FakeClock, retries: int = 3) -> MagentoClient:
    return MagentoClient(
        BASE_URL,
        TOKEN,
        transport=SyncASGITransport(create_app(sandbox)),
        retry=RetryPolicy(retries=retries),
        clock=clock,
        rng=Ceiling(),
    )


@pytest.fixture
def magento_service(tmp_path, plugin_manager) -> Iterator[Callable[..., StoreService]]:
    """``magento_service(sandbox, clock)``: a store service on its own database."""
    databases: list[Database] = []

    def build(sandbox: SandboxStore, clock: FakeClock, **connection) -> StoreService:
        db = Database(f"sqlite:///{tmp_path}/magento-{len(databases)}.db")
        databases.append(db)
        return StoreService(db, _store(sandbox, clock, **connection), plugin_manager, lambda: NOW)

    yield build
    for db in databases:
        db.dispose()


def _sync_and_push(service: StoreService) -> StoreService:
    service.sync_from_platform()
    service.assign(ASSIGNED)  # pushes each item's settings as a stock-item PUT
    return service


def _final_state(service: StoreService, sandbox: SandboxStore):
    ours = {view.sku: view.model_dump() for view in service.items()}
    theirs = {sku: item.model_dump() for sku, item in sandbox.items.items()}
    return ours, theirs


def _count(sandbox: SandboxStore, method: str, path: str) -> int:
    return sandbox.requests.count((method, path))


def _clean_run(magento_service) -> tuple[StoreService, SandboxStore]:
    sandbox = SandboxStore(token=TOKEN)
    return _sync_and_push(magento_service(sandbox, [])), sandbox


# ------------------------------------------------- a whole sync and push through faults
FAULTS = {
    "429": [
        dict(path="/V1/products", status=429, times=2, retry_after=7),
        dict(path="/V1/stockItems/*", status=429, times=3, retry_after=2),
        dict(path="/V1/products/*/stockItems/*", method="PUT", status=429, times=1),
    ],
    "500": [
        dict(path="/V1/products", status=500, times=3),
        dict(path="/V1/stockItems/MB-03", status=502, times=1),
        dict(path="/V1/products/*/stockItems/*", method="PUT", status=503, times=3),
    ],
    "timeout": [
        dict(path="/V1/products", status="timeout", times=3),
        dict(path="/V1/stockItems/MB-02", status="timeout", times=1),
        dict(path="/V1/products/*/stockItems/*", method="PUT", status="timeout", times=3),
    ],
}


@pytest.mark.parametrize("kind", FAULTS)
def test_sync_and_push_through_faults_end_as_without_faults(magento_service, clock, kind):
    clean, clean_sandbox = _clean_run(magento_service)
    sandbox = SandboxStore(token=TOKEN)
    for fault in FAULTS[kind]:
        sandbox.add_fault(**fault)

    service = _sync_and_push(magento_service(sandbox, clock))

    assert _final_state(service, sandbox) == _final_state(clean, clean_sandbox)
    assert service.item("MB-01").mode is not Mode.OFF  # the push did change something
    assert all(fault.times == 0 for fault in sandbox.faults)  # every fault was hit
    assert service.outbox.backlog()["pushes_pending"] == 0  # no push left to redo
    assert len(sandbox.requests) > len(clean_sandbox.requests)
    if kind == "429":
        assert clock.sleeps[:2] == [7.0, 7.0] and 2.0 in clock.sleeps  # Retry-After honoured
    else:
        assert clock.sleeps[:3] == [0.5, 1.0, 2.0]  # exponential backoff


def test_timed_out_put_applied_by_the_sandbox_is_resent_without_harm(magento_service, clock):
    """MB-04 went out of stock automatically: a second save could flip state if not idempotent."""
    clean, clean_sandbox = _clean_run(magento_service)
    sandbox = SandboxStore(token=TOKEN)
    service = magento_service(sandbox, clock)
    service.sync_from_platform()
    put = ("PUT", "/V1/products/MB-04/stockItems/4")
    sandbox.add_fault(put[1], "timeout", method="PUT")

    service.assign(ASSIGNED)

    assert _count(sandbox, *put) == 2  # applied, answer lost, sent again
    assert _count(clean_sandbox, *put) == 1
    assert sandbox.items["MB-04"] == clean_sandbox.items["MB-04"]
    item = sandbox.items["MB-04"]
    assert item.qty == 0  # never written
    assert (item.backorders, item.use_config_backorders, item.is_in_stock) == (2, False, True)
    assert _final_state(service, sandbox) == _final_state(clean, clean_sandbox)


def test_put_that_writes_qty_is_not_resent_after_a_lost_answer(clock):
    sandbox = SandboxStore(token=TOKEN)
    sandbox.add_fault(PUT_MB01[1], "timeout", method="PUT")
    with (
        _client(sandbox, clock) as client,
        pytest.raises(AmbiguousWrite, match=r"PUT \S+/V1/products/MB-01/stockItems/1: no response"),
    ):
        client.update_stock_item("MB-01", 1, {"qty": 7})
    assert _count(sandbox, *PUT_MB01) == 1
    assert sandbox.items["MB-01"].qty == 7  # it did land, once


def test_source_items_post_is_retried_after_429_only(clock):
    sandbox = SandboxStore(token=TOKEN)
    post = ("POST", "/V1/inventory/source-items")
    row = {"sku": "MB-01", "source_code": "default", "quantity": 9, "status": 1}
    with _client(sandbox, clock) as client:
        sandbox.add_fault(post[1], 429, retry_after=4)
        client.save_source_items([row])  # a 429 was not processed: safe to send again
        assert (_count(sandbox, *post), sandbox.items["MB-01"].qty, clock.sleeps) == (2, 9, [4.0])

        sandbox.add_fault(post[1], 500)
        with pytest.raises(AmbiguousWrite, match="HTTP 500: sandbox fault; it may have been appl"):
            client.save_source_items([{**row, "quantity": 3}])
        assert (_count(sandbox, *post), sandbox.items["MB-01"].qty) == (3, 9)

        sandbox.add_fault(post[1], "timeout")
        with pytest.raises(AmbiguousWrite, match="no response: ReadTimeout"):
            client.save_source_items([{**row, "quantity": 4}])
        assert (_count(sandbox, *post), sandbox.items["MB-01"].qty) == (4, 4)


# ----------------------------------------------------------------------------- giving up
def test_retries_give_up_with_the_call_and_status(clock):
    sandbox = SandboxStore(token=TOKEN)
    sandbox.add_fault("/V1/stockItems/MB-01", 503, times=99)
    with _client(sandbox, clock, retries=2) as client, pytest.raises(MagentoError) as raised:
        client.stock_item("MB-01")
    assert str(raised.value) == (
        f"Magento GET {BASE_URL}/V1/stockItems/MB-01: HTTP 503: sandbox fault "
        "(gave up after 3 attempts)"
    )
    assert isinstance(raised.value, PlatformError)
    assert (raised.value.platform, raised.value.status, raised.value.method) == (
        "magento", 503, "GET"
    )
    assert raised.value.url == f"{BASE_URL}/V1/stockItems/MB-01"
    assert _count(sandbox, "GET", "/V1/stockItems/MB-01") == 3
    assert clock.sleeps == [0.5, 1.0]


def test_retry_after_is_capped_and_a_lost_answer_gives_up_too(clock):
    sandbox = SandboxStore(token=TOKEN)
    sandbox.add_fault("/V1/orders/*", 429, times=9, retry_after=3600)
    sandbox.add_fault("/V1/stockStatuses/MB-01", "timeout", times=9)
    with _client(sandbox, clock, retries=1) as client:
        with pytest.raises(MagentoError, match=r"/V1/orders/1: HTTP 429: Too Many Requests \(gave"):
            client.order("1")
        assert clock.sleeps == [30.0]  # asked for an hour, waited the cap
        with pytest.raises(MagentoError) as raised:
            client.stock_status("MB-01")
    assert raised.value.status is None
    assert str(raised.value) == (
        f"Magento GET {BASE_URL}/V1/stockStatuses/MB-01: no response: "
        "ReadTimeout: sandbox fault: read timed out (gave up after 2 attempts)"
    )


def test_connection_retries_reach_the_hooks_and_are_validated(plugin_manager, clock):
    sandbox = SandboxStore(token=TOKEN)
    sandbox.add_fault(PUT_MB01[1], 502, method="PUT", times=5)
    view = ItemView(sku="MB-01", assigned=True, tracked=True, on_hand=12, salable=None,
                    status="in_stock", purchasable=True, mode=Mode.NOTIFY, threshold=None,
                    backordered=0, state="enabled", policy=StoreSettings().defaults)  # fmt: skip
    store = _store(sandbox, clock, retries=1)
    with pytest.raises(MagentoError, match="/V1/products/MB-01/stockItems/1: HTTP 502"):
        plugin_manager.platform("magento").apply_items(store, [view], "assign")
    assert _count(sandbox, *PUT_MB01) == 2
    assert sandbox.items["MB-01"].use_config_backorders  # a 502 applied nothing

    bad = _store(sandbox, clock, retries=-1)
    with pytest.raises(ConfigError, match=r"connection\.retries: Input should be greater than"):
        plugin_manager.platform("magento").fetch_levels(bad, ["MB-01"])


# ---------------------------------------------------------------------------- stale reads
def test_stale_read_is_taken_as_is_and_the_next_sync_corrects_it(magento_service, clock):
    """The plugin cannot tell a stale read: it books the old figure; the next read fixes it."""
    sandbox = SandboxStore(token=TOKEN)
    service = magento_service(sandbox, clock)
    service.sync_from_platform()
    sandbox.stale_reads = 2  # a sync reads the product list twice (catalog, then levels)
    with _client(sandbox, clock) as merchant:
        merchant.update_stock_item("MB-01", 1, {"qty": 5})

    service.sync_from_platform()
    assert service.item("MB-01").on_hand == 12  # both reads answered the value before the PUT
    service.sync_from_platform()
    assert service.item("MB-01").on_hand == 5

    def level_read() -> int:  # GET /V1/stockItems/MB-01
        (level,) = service.platform.fetch_levels(service.store, ["MB-01"])
        return level.on_hand

    with _client(sandbox, clock) as merchant:
        merchant.update_stock_item("MB-01", 1, {"qty": 6})
    assert [level_read(), level_read(), level_read()] == [5, 5, 6]


def test_a_stale_read_does_not_spoil_a_push(magento_service, clock):
    """The push reads a stock item only for its id, then PUTs absolute values."""
    clean, clean_sandbox = _clean_run(magento_service)
    sandbox = SandboxStore(token=TOKEN)
    service = magento_service(sandbox, clock)
    service.sync_from_platform()
    sandbox.stale_reads = 1
    service.assign(ASSIGNED[:2])
    service.assign(ASSIGNED[2:])  # MB-03/04's reads happen right after MB-01/02's writes
    assert _final_state(service, sandbox) == _final_state(clean, clean_sandbox)


# --------------------------------------------------------------- the sandbox-only endpoints
def test_faults_and_stale_reads_can_be_switched_over_http(clock):
    sandbox = SandboxStore(token=TOKEN)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(
        base_url=f"{BASE_URL}/V1", transport=SyncASGITransport(create_app(sandbox))
    ) as http:
        added = http.post("/sandbox/faults", json={"path": "/V1/orders/*", "status": 502},
                          headers=auth)  # fmt: skip
        assert added.status_code == 200
        assert added.json()["faults"][0] == {"method": "*", "path": "/V1/orders/*", "status": 502,
                                             "times": 1, "retry_after": 1}  # fmt: skip
        refused = http.post("/sandbox/faults", json={"path": "/V1/x", "status": 418}, headers=auth)
        assert refused.status_code == 400 and "status" in refused.json()["message"]
        stranger = http.post("/sandbox/faults", json={"path": "/V1/x", "status": 500})
        assert stranger.status_code == 401 and sandbox.faults[1:] == []
        assert http.put("/sandbox/stale-reads", json={"reads": 1}, headers=auth).status_code == 200
        assert sandbox.stale_reads == 1

        _, order = sandbox.place_order([{"sku": "MB-01", "qty": 1}])
        with _client(sandbox, clock) as client:
            assert client.order(str(order["entity_id"]))["items"][0]["sku"] == "MB-01"
        assert clock.sleeps == [0.5]  # the 502 was hit once and retried

        cleared = http.delete("/sandbox/faults", headers=auth).json()
        assert cleared == {"faults": [], "stale_reads": 1}
    assert ("POST", "/V1/sandbox/faults") not in sandbox.requests  # controls are not logged

"""The embedding example (examples/embedding/app.py) under load: 8 threads, each event once.

Runs on SQLite and on PostgreSQL (skipped, saying why, when it is not reachable). The
example app is served by uvicorn with its lifespan, so backorder's worker runs beside the
requests and races them for the same events: the leases must still hand each event to the
notifier exactly once.
"""

import importlib.util
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from backorder import (
    BackorderPolicy,
    Database,
    EventType,
    ItemInput,
    StoreConfig,
    StoreSettings,
    hookimpl,
    make_manager,
)
from backorder.testing.browser import serve

EXAMPLE = Path(__file__).parents[1] / "examples" / "embedding" / "app.py"
THREADS, ORDERS = 8, 200


def load_example():
    spec = importlib.util.spec_from_file_location("embedding_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class CountingNotifier:
    def __init__(self):
        self.lock = threading.Lock()
        self.seen: list[str] = []

    @hookimpl
    def backorder_notify(self, store, event):
        if event.type is EventType.ORDER_BACKORDERED:
            with self.lock:
                self.seen.append(event.data["order_id"])


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path}/embedded.db")
    else:
        db = Database(request.getfixturevalue("pg_url"), pool_size=THREADS, max_overflow=4)
    yield db
    db.dispose()


def test_eight_threads_and_the_worker_deliver_each_event_once(database, monkeypatch):
    monkeypatch.setenv("BACKORDER_PLUGINS", "")
    example = load_example()
    notifier = CountingNotifier()
    pm = make_manager()
    pm.register(notifier, name="counting")
    store = StoreConfig(name=f"shop{id(database)}", platform="core",
                        settings=StoreSettings(defaults=BackorderPolicy(threshold=None)))
    services = example.build_services(database, {store.name: store}, pm)
    service = services[store.name]
    service.upsert_catalog([ItemInput(sku="MUG", product_id="1", on_hand=0, assigned=False)])
    service.assign(["MUG"])  # at zero stock: every unit sold is on backorder
    app = example.create_service_app(database, services, pm, worker_interval=0.05)

    with serve(app, lifespan="on") as base:
        def place(n: int) -> dict:
            with httpx.Client(base_url=base, timeout=60) as client:
                body = {"order_id": f"o{n}", "lines": [{"sku": "MUG", "qty": 1}]}
                response = client.post(f"/orders/{store.name}", json=body)
                assert response.status_code == 200, response.text
                return response.json()

        with ThreadPoolExecutor(THREADS) as pool:
            results = list(pool.map(place, range(ORDERS)))
        with httpx.Client(base_url=base) as client:
            reused = client.post(f"/orders/{store.name}",
                                 json={"order_id": "o1", "lines": [{"sku": "MUG", "qty": 2}]})
            assert reused.status_code == 409 and reused.json()["kind"] == "Conflict"
            assert client.get("/backorder/health").json()["stores"] == [store.name]
        for _ in range(100):  # whatever the worker has not finished yet
            if not service.notifications.pending():
                break
            service.dispatch_events()

    assert all(result["accepted"] for result in results)
    assert service.item("MUG").on_hand == -ORDERS
    counts = Counter(notifier.seen)
    assert len(counts) == ORDERS  # every order's event reached the notifier...
    assert set(counts.values()) == {1}  # ...exactly once

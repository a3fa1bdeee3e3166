"""Several processes placing orders on the same hot SKUs never sell more than salable qty."""

import uuid

import pytest

from backorder.config import StoreConfig
from backorder.engine import StoreService
from backorder.models import BackorderPolicy, ItemInput, StoreSettings
from backorder.storage import records
from backorder.storage.db import Database
from backorder.testing.race import race

HOT = ["HOT-1", "HOT-2"]
STOCK, THRESHOLD = 5, 7  # salable 12 per SKU; the workers ask for far more (4 x 15 x 2 units)


def run_race(url: str):
    store = StoreConfig(
        name=f"race-{uuid.uuid4().hex[:8]}",
        settings=StoreSettings(defaults=BackorderPolicy(threshold=THRESHOLD)),
    )
    service = StoreService(Database(url), store)
    service.upsert_catalog([ItemInput(sku=sku, on_hand=STOCK) for sku in HOT])
    result = race(url, store, HOT, workers=4, orders_per_worker=15, qty=2, timeout=120)
    return result, service


def assert_no_oversell(result, service: StoreService) -> None:
    assert result.units_taken == len(HOT) * (STOCK + THRESHOLD)  # none oversold, none lost
    for sku in HOT:
        item = service.item(sku)
        assert item.on_hand == -THRESHOLD and item.salable == 0 and not item.purchasable
        with service.db.read() as conn:
            assert records.ledger_balance(conn, service.name, sku) == item.on_hand


def test_no_oversell_across_processes_on_sqlite(tmp_path):
    assert_no_oversell(*run_race(f"sqlite:///{tmp_path}/race.db"))


@pytest.mark.postgres
def test_no_oversell_across_processes_on_postgresql(pg_url):
    assert_no_oversell(*run_race(pg_url))


def test_threads_sharing_one_service_on_sqlite_never_oversell(tmp_path):
    """Each thread writes through its own kept SQLite connection; BEGIN IMMEDIATE still
    serialises them, so 8 threads racing for the same units sell exactly salable qty."""
    from concurrent.futures import ThreadPoolExecutor

    from backorder.models import LineRequest, OrderIn

    store = StoreConfig(
        name="threads", settings=StoreSettings(defaults=BackorderPolicy(threshold=THRESHOLD))
    )
    service = StoreService(Database(f"sqlite:///{tmp_path}/threads.db"), store)
    service.upsert_catalog([ItemInput(sku=sku, on_hand=STOCK) for sku in HOT])

    def buyer(n: int) -> int:
        taken = 0
        for i in range(10):
            order = OrderIn(
                order_id=f"T{n}-{i}", lines=[LineRequest(sku=sku, qty=2) for sku in HOT]
            )
            result = service.place_order(order)
            taken += sum(line.in_stock + line.backordered for line in result.lines)
        return taken

    with ThreadPoolExecutor(max_workers=8) as pool:
        taken = sum(pool.map(buyer, range(8)))
    assert taken == len(HOT) * (STOCK + THRESHOLD)
    for sku in HOT:
        assert service.item(sku).on_hand == -THRESHOLD


def test_dispose_closes_every_kept_connection(tmp_path):
    """After ``dispose`` nothing holds the file: SQLite folds the WAL back into the database
    when its last connection closes, so the -wal file is gone."""
    from concurrent.futures import ThreadPoolExecutor

    path = tmp_path / "kept.db"
    db = Database(f"sqlite:///{path}")
    service = StoreService(db, StoreConfig(name="kept"))

    def write(n: int) -> None:
        service.upsert_catalog([ItemInput(sku=f"K-{n}", on_hand=n)])

    with ThreadPoolExecutor(max_workers=3) as pool:  # its threads (and theirs) stay alive
        list(pool.map(write, range(6)))
        assert path.with_name("kept.db-wal").exists()
        db.dispose()
        assert not path.with_name("kept.db-wal").exists()


def _order_in_child(service: StoreService, order_id: str, parents: int | None = None) -> None:
    from backorder.models import LineRequest, OrderIn

    if parents is not None:
        with service.db.transaction() as conn:
            if id(conn.connection.dbapi_connection) == parents:
                raise SystemExit(3)  # writing through the parent's SQLite connection
    service.place_order(OrderIn(order_id=order_id, lines=[LineRequest(sku="HOT-1", qty=1)]))


def test_a_forked_worker_opens_its_own_connection(tmp_path):
    """A service made before ``fork`` (a pre-forking server) keeps working in the children:
    each process writes through its own SQLite connection, never its parent's."""
    import multiprocessing as mp

    service = StoreService(Database(f"sqlite:///{tmp_path}/fork.db"), StoreConfig(name="fork"))
    service.upsert_catalog([ItemInput(sku="HOT-1", on_hand=10)])  # the parent keeps one now
    with service.db.transaction() as conn:
        parents = id(conn.connection.dbapi_connection)
    ctx = mp.get_context("fork")
    children = [
        ctx.Process(target=_order_in_child, args=(service, f"F{i}", parents)) for i in range(3)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
    assert [child.exitcode for child in children] == [0, 0, 0]
    _order_in_child(service, "P1")  # and the parent's own connection still works
    assert service.item("HOT-1").on_hand == 6

"""The webhook server under attack (issue 20, items 1, 3-5): bodies are counted as they
stream and refused at the limit, credentials in headers are checked before the body is
read, hostile authenticated bodies get a 4xx naming the field, figures the ledger cannot
hold are refused at parse time, and long delivery ids never collide."""

from __future__ import annotations

import json

import pytest
from core_support import run_coroutine
from starlette.testclient import TestClient

from backorder.config import StoreConfig, parse_config
from backorder.errors import PlatformError
from backorder.hookspecs import hookimpl
from backorder.models import MAX_QTY, ItemInput
from backorder.platform import BasePlatform
from backorder.plugins import make_manager
from backorder.server import MAX_BODY, create_app, pending_deliveries
from backorder.storage import keys
from backorder.webhooks import MAX_DEPTH, MalformedDelivery, WebhookRejected, load_json

SECRET = "s3cret"
TOKEN = {"x-backorder-token": SECRET}
MAGENTO = {"authorization": f"Bearer {SECRET}"}


@pytest.fixture
def app(tmp_path):
    config = parse_config(
        {
            "database": f"sqlite:///{tmp_path}/limits.db",
            "stores": {
                "main": {"platform": "core", "connection": {"webhook_token": SECRET}},
                "mage": {"platform": "magento", "connection": {"webhook_token": SECRET}},
            },
        }
    )
    app = create_app(config, pm=make_manager(), worker=False)
    for name in ("main", "mage"):
        svc = app.state.worker.service(name)
        svc.upsert_catalog([ItemInput(sku="TENT", product_id="10", on_hand=2, assigned=True)])
    return app


def call(app, path: str, headers: dict[str, str], chunks, *, chunk_size: int = 65_536):
    """Drive the ASGI app with a body streamed in chunks; returns (status, body, bytes the
    app pulled from the client)."""
    pulled = 0
    source = iter(chunks)
    sent: list[dict] = []

    async def receive():
        nonlocal pulled
        chunk = next(source, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    run_coroutine(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(body), pulled


def endless(total: int, size: int = 65_536):
    """A chunked upload of ``total`` bytes (a client that never says how long)."""
    for _ in range(total // size):
        yield b"x" * size


def test_a_chunked_body_over_the_limit_is_refused_without_reading_it_all(app):
    status, answer, pulled = call(app, "/webhooks/main", TOKEN, endless(20 * MAX_BODY))
    assert status == 413 and answer == {"error": f"body over {MAX_BODY} bytes"}
    assert pulled <= MAX_BODY + 65_536  # stopped at the limit, not after 20 MB


def test_a_declared_length_over_the_limit_is_refused_before_reading(app):
    headers = {**TOKEN, "content-length": str(10**9)}
    status, _, pulled = call(app, "/webhooks/main", headers, endless(20 * MAX_BODY))
    assert (status, pulled) == (413, 0)
    bad = {**TOKEN, "content-length": "-5"}
    status, answer, pulled = call(app, "/webhooks/main", bad, [b"{}"])
    assert (status, pulled) == (400, 0) and "Content-Length" in answer["error"]


@pytest.mark.parametrize(
    "store, headers",
    [
        ("main", {}),
        ("main", {"x-backorder-token": "wrong"}),
        ("mage", {}),
        ("mage", {"authorization": "Bearer no"}),
    ],
)
def test_a_delivery_without_credentials_is_refused_before_its_body_is_read(app, store, headers):
    status, answer, pulled = call(app, f"/webhooks/{store}", headers, endless(20 * MAX_BODY))
    assert status == 401 and pulled == 0, answer


def test_every_platform_checks_its_header_credentials_before_the_body():
    pm = make_manager()
    connections = {
        "core": {"webhook_token": SECRET},
        "magento": {"webhook_secret": SECRET},
        "lightspeed_ecom": {"api_key": "k", "api_secret": SECRET},
        "bigcommerce": {"store_hash": "abc", "webhook_secret": SECRET},
    }
    for name, connection in connections.items():
        platform = pm.platform(name)
        store = StoreConfig(name="s", platform=name, connection=connection)
        with pytest.raises(WebhookRejected):
            platform.authenticate_headers(store, {})
        bare = {"store_hash": "abc"} if name == "bigcommerce" else {}
        unconfigured = StoreConfig(name="s", platform=name, connection=bare)
        with pytest.raises(WebhookRejected):
            platform.authenticate_headers(unconfigured, {"x-signature": "x"})


def post(app, store: str, body: bytes | str, headers: dict[str, str]):
    return TestClient(app).post(f"/webhooks/{store}", content=body, headers=headers)


STOCK = '{"kind": "stock", "delivery_id": "d", "sku": "TENT", "on_hand": '


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    "body, field",
    [
        (STOCK + "9223372036854775808}", "on_hand"),
        (STOCK + "1e400}", "on_hand"),
        (STOCK + "NaN}", "body"),
        (STOCK + deep(2000) + "}", "body"),
    ],
    ids=["2^63", "1e400", "NaN", "2000 deep"],
)
def test_hostile_core_bodies_get_a_400_naming_the_field(app, body, field):
    response = post(app, "main", body, TOKEN)
    assert response.status_code == 400 and field in response.json()["error"]
    assert pending_deliveries(app.state.worker.service("main")) == []


def push(qty: str) -> str:
    return (
        '{"delivery_id": "p1", "event": "cataloginventory_stock_item_save_after", '
        f'"sku": "TENT", "qty": {qty}}}'
    )


@pytest.mark.parametrize("qty", ["1e400", "NaN", "Infinity", "-Infinity", "1e20", str(MAX_QTY + 1)])
def test_hostile_magento_quantities_are_refused_at_parse_time(app, qty):
    response = post(app, "mage", push(qty), MAGENTO)
    assert response.status_code == 400, response.text
    assert "qty" in response.json()["error"]
    svc = app.state.worker.service("mage")
    assert pending_deliveries(svc) == [] and svc.item("TENT").on_hand == 2


def test_the_largest_documented_quantity_is_still_taken(app):
    response = post(app, "mage", push(str(MAX_QTY)), MAGENTO)
    assert response.status_code == 202
    assert app.state.worker.service("mage").item("TENT").on_hand == MAX_QTY


def test_load_json_refuses_what_json_loads_lets_through():
    assert load_json(b'{"a": [1, 2.5, "x"]}') == {"a": [1, 2.5, "x"]}
    for body in (b"NaN", b"[Infinity]", b"[-Infinity]", b"[1e400]", deep(2000).encode()):
        with pytest.raises(MalformedDelivery):
            load_json(body)
    load_json(deep(MAX_DEPTH).encode())
    with pytest.raises(MalformedDelivery, match="nested deeper"):
        load_json(deep(MAX_DEPTH + 1).encode())


def test_long_delivery_ids_sharing_their_first_255_characters_stay_distinct(app):
    svc = app.state.worker.service("main")
    prefix = "d" * 300
    for suffix, on_hand in (("-a", 5), ("-b", 7)):
        body = {"kind": "stock", "delivery_id": prefix + suffix, "sku": "TENT", "on_hand": on_hand}
        response = post(app, "main", json.dumps(body), TOKEN)
        assert response.json() == {"received": 1, "new": 1, "duplicates": 0}
        assert svc.item("TENT").on_hand == on_hand  # the second update is applied, not dropped
    again = {"kind": "stock", "delivery_id": prefix + "-b", "sku": "TENT", "on_hand": 7}
    assert post(app, "main", json.dumps(again), TOKEN).json()["duplicates"] == 1


def test_bounded_keys_are_stable_and_never_collide():
    short = "x" * 254
    assert keys.bounded(short) == short
    long_a, long_b = "y" * 255 + "a", "y" * 255 + "b"
    assert len(keys.bounded(long_a)) == keys.LIMIT == len(keys.bounded("z" * 255))
    assert keys.bounded(long_a) == keys.bounded(long_a) != keys.bounded(long_b)
    assert len(keys.bounded("é" * 1000)) == keys.LIMIT


class Flaky(BasePlatform):
    """A platform whose parse re-reads the resource, and the platform is down."""

    name = "flaky"

    @hookimpl
    def backorder_platforms(self):
        return [self]

    def parse_webhook(self, store, headers, body):
        raise PlatformError("flaky: 502 on GET /products/1", platform="flaky", status=502)


def test_a_failed_re_read_answers_503_so_the_platform_delivers_again(
    tmp_path, plugin_manager, register_plugin
):
    pm = plugin_manager
    register_plugin(Flaky())
    config = parse_config(
        {"database": f"sqlite:///{tmp_path}/flaky.db", "stores": {"f": {"platform": "flaky"}}}
    )
    app = create_app(config, pm=pm, worker=False)
    response = post(app, "f", b"{}", {})
    assert response.status_code == 503 and response.headers["retry-after"] == "30"
    assert "502 on GET /products/1" in response.json()["error"]
    assert pending_deliveries(app.state.worker.service("f")) == []

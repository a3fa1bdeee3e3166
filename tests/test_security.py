"""Security: webhook authentication on every platform, secrets kept out of logs, output and
cassettes, sandboxed templates, SQL only through bound parameters."""

import ast
import logging
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import sqlalchemy as sa
import yaml
from core_support import T0
from starlette.testclient import TestClient

from backorder import imports, server, webhooks
from backorder.config import StoreConfig, parse_config
from backorder.documents.templating import TemplateProblem, document_environment, render_template
from backorder.engine import StoreService
from backorder.models import ItemInput, LineRequest, OrderIn
from backorder.plugins import make_manager
from backorder.storage.schema import metadata
from backorder.webhooks import WebhookRejected

ROOT = Path(__file__).resolve().parents[1]
SECRET = "s3cr3t-Zq8vL1"
CONNECTIONS = {  # each platform's webhook secret, the way its README configures it
    "core": {"webhook_token": SECRET},
    "magento": {"webhook_token": SECRET},
    "lightspeed_ecom": {"api_key": "key", "api_secret": SECRET},
    "bigcommerce": {"store_hash": "abc123", "webhook_secret": SECRET},
}
WRONG = {
    "X-Backorder-Token": "wrong",
    "Authorization": "Bearer wrong",
    "X-Signature": "wrong",
    "X-Backorder-Secret": "wrong",
    "X-Backorder-Signature": "wrong",
}
BODY = b'{"kind": "stock", "delivery_id": "1", "sku": "A", "on_hand": 1, "scope": "x", "data": {}}'

_pm = make_manager()
PLATFORMS = sorted(_pm.platform_names())


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("headers", [{}, WRONG], ids=["unsigned", "wrong-secret"])
def test_every_platform_refuses_an_unauthenticated_webhook(platform, headers):
    store = StoreConfig(name="sec", platform=platform, connection=CONNECTIONS.get(platform, {}))
    with pytest.raises(WebhookRejected):
        _pm.platform(platform).parse_webhook(store, headers, BODY)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_platform_with_no_secret_configured_accepts_nothing(platform):
    keep = {"store_hash": "abc123"} if platform == "bigcommerce" else {}
    store = StoreConfig(name="sec", platform=platform, connection=keep)
    with pytest.raises(WebhookRejected):
        _pm.platform(platform).parse_webhook(store, WRONG, BODY)


def snapshot_text(db) -> str:
    with db.read() as conn:
        return repr([conn.execute(sa.select(t)).all() for t in metadata.sorted_tables])


def test_a_secret_from_the_environment_never_reaches_logs_output_or_database(
    backorder_db, monkeypatch, caplog, capsys
):
    monkeypatch.setenv("BO_TEST_WEBHOOK_TOKEN", SECRET)
    config = parse_config(
        {
            "stores": {
                "shop": {
                    "platform": "core",
                    "connection": {"webhook_token_env": "BO_TEST_WEBHOOK_TOKEN"},
                }
            }
        }
    )
    store = config.store("shop")
    assert store.secret("webhook_token") == SECRET
    assert SECRET not in config.model_dump_json() and SECRET not in repr(config)
    service = StoreService(backorder_db, store, clock=lambda: T0)
    service.upsert_catalog([ItemInput(sku="A", on_hand=1)])
    caplog.set_level(logging.DEBUG)
    app = server.create_app(config, backorder_db, _pm, worker=False)
    body = b'{"kind": "stock", "delivery_id": "d1", "sku": "A", "on_hand": 4}'
    with TestClient(app) as client:
        good = client.post("/webhooks/shop", content=body, headers={"X-Backorder-Token": SECRET})
        bad = client.post("/webhooks/shop", content=body, headers={"X-Backorder-Token": "nope"})
        near = client.post(
            "/webhooks/shop", content=body, headers={"X-Backorder-Token": SECRET[:-1]}
        )
    assert good.status_code == 202 and bad.status_code == 401 and near.status_code == 401
    webhooks.apply_deliveries(service)
    assert service.item("A").on_hand == 4
    seen = caplog.text + capsys.readouterr().out + bad.text + near.text + good.text
    assert SECRET not in seen and SECRET[:-1] not in seen
    assert SECRET not in snapshot_text(backorder_db)


SENSITIVE_HEADERS = re.compile(
    r"^(authorization|proxy-authorization|cookie|x-auth-token|x-api-key|x-access-token|"
    r"x-backorder-token|x-backorder-signature|x-signature)$",
    re.I,
)


def cassettes() -> list[Path]:
    return sorted(ROOT.glob("plugins/*/tests/cassettes/**/*.yaml")) + sorted(
        ROOT.glob("tests/cassettes/**/*.yaml")
    )


@pytest.mark.skipif(not cassettes(), reason="no cassettes recorded in this checkout")
def test_cassettes_hold_no_credentials():
    problems = []
    for path in cassettes():
        for n, interaction in enumerate(yaml.safe_load(path.read_text())["interactions"]):
            request = interaction["request"]
            for name, values in (request.get("headers") or {}).items():
                if SENSITIVE_HEADERS.match(name) and any(
                    v not in ("", "REDACTED", "<redacted>", "FILTERED") for v in values
                ):
                    problems.append(f"{path.name} #{n}: header {name}")
            uri = urlsplit(request["uri"])
            if uri.username or uri.password:
                problems.append(f"{path.name} #{n}: credentials in the URL")
            for key, _value in parse_qsl(uri.query):
                if re.search(r"token|secret|password|api_?key|signature", key, re.I):
                    problems.append(f"{path.name} #{n}: query parameter {key}")
    assert problems == []


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ order.__class__.__init__.__globals__ }}",
        "{% set x = [] %}{{ x.append(1) }}",
    ],
)
def test_merchant_templates_run_in_the_sandbox(tmp_path, source):
    (tmp_path / "evil.html").write_text(source)
    env = document_environment([tmp_path])
    with pytest.raises(TemplateProblem) as caught:
        render_template(
            env, "evil.html", {"order": OrderIn(order_id="1", lines=[LineRequest(sku="A", qty=1)])}
        )
    assert "evil.html line 1: refused (sandbox)" in str(caught.value)


def test_templates_escape_what_customers_typed(tmp_path):
    (tmp_path / "t.html").write_text("<p>{{ name }}</p>")
    html = render_template(
        document_environment([tmp_path]), "t.html", {"name": "<script>alert(1)</script>"}
    )
    assert "<script>" not in html and "&lt;script&gt;" in html


HOSTILE = "x'); DROP TABLE items; --\" OR 1=1 /* ; DELETE FROM movements"


def test_hostile_text_goes_to_the_database_only_as_bound_parameters(store_service, tmp_path):
    service = store_service()
    statements: list[str] = []
    sa.event.listen(
        service.db.engine,
        "before_cursor_execute",
        lambda conn, cursor, statement, *rest: statements.append(statement),
    )
    service.upsert_catalog(
        [ItemInput(sku=HOSTILE, name=HOSTILE, on_hand=2, incoming_qty=1, back_in_stock_date=T0)]
    )
    result = service.place_order(
        OrderIn(order_id=HOSTILE, customer_email=HOSTILE, lines=[LineRequest(sku=HOSTILE, qty=3)])
    )
    assert result.accepted and service.item(HOSTILE).on_hand == -1
    assert service.order(HOSTILE).lines[0].sku == HOSTILE
    service.set_stock(HOSTILE, 5, key=HOSTILE)
    service.tick(T0)
    csv = f'SKU,Name,Stock\n"{HOSTILE.replace(chr(34), chr(34) * 2)}",n,7\n'.encode()
    imports.import_csv(service, csv, mode="update", name=HOSTILE)
    assert [(v.sku, v.on_hand) for v in service.items()] == [(HOSTILE, 7)]
    assert statements and not [s for s in statements if "DROP TABLE" in s]


SQL_CALLS = {"text", "exec_driver_sql"}


def test_no_sqlalchemy_sql_is_built_by_string_formatting():
    """SQL text handed to SQLAlchemy is constant; values go in bound parameters.

    (Modules that talk DB-API directly for speed, such as the import's, interpolate only
    placeholders and column names; the hostile-text test above checks them at work.)
    """
    offenders = []
    files = sorted(ROOT.glob("src/backorder/**/*.py")) + sorted(ROOT.glob("plugins/*/src/**/*.py"))
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            built = (
                isinstance(first, ast.JoinedStr)
                or (
                    isinstance(first, ast.BinOp)
                    and isinstance(first.op, ast.Mod | ast.Add)
                    and any(
                        isinstance(side, ast.Constant) and isinstance(side.value, str)
                        for side in (first.left, first.right)
                    )
                )
                or (isinstance(first, ast.Call) and getattr(first.func, "attr", "") == "format")
            )
            if name in SQL_CALLS and built:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_pdf_rendering_fetches_nothing_from_files_or_the_network(tmp_path):
    """A merchant's template cannot make the renderer read local files or call a server."""
    import http.server
    import threading

    pytest.importorskip("weasyprint")
    from backorder.platforms.weasyprint_renderer import render_pdf

    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG not really")
    url = f"http://127.0.0.1:{httpd.server_port}"
    html = (
        f'<link rel="stylesheet" href="{url}/x.css"><p>hi</p>'
        f'<img src="{url}/pixel.png"><img src="file://{secret}">'
    )
    try:
        pdf = render_pdf(html)
    finally:
        httpd.shutdown()
    assert pdf.startswith(b"%PDF") and hits == []

"""Bad input of every kind gets a clear error naming where, and leaves the database as it was.

Hypothesis feeds scenario files, config files, webhook bodies, CSV imports and message
templates with junk and with valid documents mutated at one spot. The only exceptions
allowed are each input's own error type, whose message starts with the file (or
template) name and says where; for anything written to the database, every table is
compared before and after.
"""

import copy
import json
import re

import pytest
import sqlalchemy as sa
from core_support import T0
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from backorder import imports, server
from backorder.config import ConfigError, StoreConfig, load_config, parse_config
from backorder.documents.templating import MessageTemplate, TemplateProblem
from backorder.engine import StoreService
from backorder.models import ItemInput, StoreSettings
from backorder.platforms import core
from backorder.plugins import make_manager
from backorder.simulate import ScenarioError, load_scenario, parse_scenario, simulate
from backorder.storage.schema import metadata
from backorder.webhooks import WebhookRejected

fuzz = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(["2026-13-45", "unlimited", "-1", "", "A", "1e9"]),
)
junk = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def paths(value, prefix=()):
    """Every location inside a JSON-like document."""
    yield prefix
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from paths(inner, (*prefix, index))


@st.composite
def mutated(draw, base):
    """``base`` with one location replaced by junk (or a key added, or one removed)."""
    doc = copy.deepcopy(base)
    where = draw(st.sampled_from(list(paths(doc))[1:]))
    parent = doc
    for part in where[:-1]:
        parent = parent[part]
    action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
    if action == "delete":
        del parent[where[-1]]
    elif action == "add" and isinstance(parent, dict):
        parent[draw(st.text(min_size=1, max_size=8))] = draw(junk)
    else:
        parent[where[-1]] = draw(junk)
    return doc


def snapshot(db) -> dict[str, list]:
    with db.read() as conn:
        return {
            t.name: sorted(map(repr, conn.execute(sa.select(t)).all()))
            for t in metadata.sorted_tables
        }


def assert_names_where(message: str, source: str) -> None:
    assert message.startswith(source), message
    assert len(message) > len(source) + 3, message


# ------------------------------------------------------------------------------ scenarios
SCENARIO = {
    "platform": "core",
    "settings": {
        "switch_condition": 0,
        "over_threshold": "refuse",
        "defaults": {"threshold": 3, "mode": "notify"},
    },
    "items": [
        {"sku": "A", "on_hand": 2, "incoming_qty": 5, "back_in_stock_date": "2026-12-01T00:00:00Z"},
        {"sku": "B", "on_hand": 0},
    ],
    "events": [
        {"at": "2026-11-01T10:00:00Z", "type": "order", "lines": [{"sku": "A", "qty": 3}]},
        {"at": "2026-11-02T10:00:00Z", "type": "stock", "sku": "B", "on_hand": 4},
        {"at": "2026-11-03T10:00:00Z", "type": "edit", "sku": "A", "threshold": 1},
        {"at": "2026-11-04T10:00:00Z", "type": "disable", "skus": ["B"]},
        {"at": "2026-12-02T10:00:00Z", "type": "tick"},
    ],
}


@pytest.fixture(scope="module")
def core_pm():
    pm = make_manager(load_entry_points=False)
    return pm


@fuzz
@given(doc=st.one_of(mutated(SCENARIO), junk))
def test_a_bad_scenario_is_refused_naming_the_field(core_pm, doc):
    try:
        simulate(parse_scenario(doc, "fuzz.yaml"), core_pm, "fuzz.yaml")
    except ScenarioError as exc:
        assert_names_where(str(exc), "fuzz.yaml")


@fuzz
@given(
    text=st.one_of(
        st.text(max_size=200), st.binary(max_size=200).map(lambda b: b.decode("latin-1"))
    ),
    suffix=st.sampled_from([".yaml", ".json"]),
)
def test_a_scenario_file_that_does_not_parse_names_the_file(tmp_path_factory, text, suffix):
    path = tmp_path_factory.mktemp("scn") / f"bad{suffix}"
    path.write_text(text, encoding="utf-8")
    try:
        load_scenario(path)
    except ScenarioError as exc:
        assert_names_where(str(exc), str(path))


# -------------------------------------------------------------------------------- configs
CONFIG = {
    "database": "sqlite:///x.db",
    "stores": {
        "shop": {
            "platform": "core",
            "settings": {"switch_condition": 0, "defaults": {"threshold": 10, "mode": "notify"}},
            "connection": {"webhook_token_env": "TOKEN"},
        }
    },
}


@fuzz
@given(doc=st.one_of(mutated(CONFIG), junk.filter(lambda d: isinstance(d, dict))))
def test_a_bad_config_is_refused_naming_the_field(doc):
    try:
        parse_config(doc, "shop.toml")
    except ConfigError as exc:
        assert_names_where(str(exc), "shop.toml")


@fuzz
@given(text=st.text(max_size=200))
def test_a_config_file_that_does_not_parse_names_the_file(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("cfg") / "backorder.toml"
    path.write_text(text, encoding="utf-8")
    try:
        load_config(path)
    except ConfigError as exc:
        assert_names_where(str(exc), str(path))


# ------------------------------------------------------------------------------- webhooks
WEBHOOK = {"kind": "stock", "delivery_id": "d-1", "sku": "A", "on_hand": 3}


def webhook_store(db):
    store = StoreConfig(name="hooks", connection={"webhook_token": "tok"})
    service = StoreService(db, store, clock=lambda: T0)
    if not service.items():
        service.upsert_catalog([ItemInput(sku="A", on_hand=1)])
    return service


bodies = st.one_of(
    mutated(WEBHOOK).map(lambda d: json.dumps(d).encode()),
    junk.map(lambda d: json.dumps(d).encode()),
    st.binary(max_size=100),
)


@fuzz
@given(body=bodies)
def test_a_bad_webhook_body_is_rejected_naming_the_field(backorder_db, core_pm, body):
    service = webhook_store(backorder_db)
    try:
        core.PLATFORM.parse_webhook(service.store, {"X-Backorder-Token": "tok"}, body)
    except WebhookRejected as exc:
        assert re.match(r"body field .+: \S", str(exc)), str(exc)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(body=bodies)
def test_the_server_refuses_a_bad_body_and_stores_nothing(backorder_db, core_pm, body):
    service = webhook_store(backorder_db)
    config = parse_config({"stores": {"hooks": service.store.model_dump()}})
    app = server.create_app(config, backorder_db, core_pm, worker=False)
    before = snapshot(backorder_db)
    with TestClient(app) as client:
        response = client.post(
            "/webhooks/hooks", content=body, headers={"X-Backorder-Token": "tok"}
        )
    if response.status_code != 202:
        assert response.status_code in (400, 401, 404, 422)
        assert response.json()["error"]
        assert snapshot(backorder_db) == before


# ------------------------------------------------------------------------------------ CSV
HEADER = [
    "Product ID",
    "SKU",
    "Name",
    "Stock",
    "Backorder Threshold",
    "Incoming Stock",
    "Back in stock date",
]
cells = st.one_of(
    st.sampled_from(
        [
            "",
            "1",
            "-3",
            "unlimited",
            "2026-12-01",
            "31/12/2026",
            "x",
            "1.5",
            "9" * 30,
            "SKU-1",
            "A",
            " ",
        ]
    ),
    st.text(max_size=6),
)


@fuzz
@given(
    header=st.one_of(st.just(HEADER), st.permutations([*HEADER, "Bogus"]).map(lambda h: h[:6])),
    rows=st.lists(st.lists(cells, min_size=5, max_size=8), max_size=6),
    mode=st.sampled_from(["assign", "update"]),
)
def test_a_bad_csv_is_refused_naming_row_and_column_and_changes_nothing(
    backorder_db, header, rows, mode
):
    service = StoreService(
        backorder_db, StoreConfig(name="csv", settings=StoreSettings()), clock=lambda: T0
    )
    if not service.items():
        service.upsert_catalog(
            [
                ItemInput(sku="A", product_id="1", on_hand=1, assigned=False),
                ItemInput(sku="SKU-1", product_id="2", on_hand=1),
            ]
        )
    text = "\n".join(
        ",".join(json.dumps(c) if "," in c else c for c in row) for row in [header, *rows]
    )
    before = snapshot(backorder_db)
    try:
        imports.import_csv(service, text.encode(), mode=mode, name="stock.csv")
    except imports.ImportFailed as exc:
        assert exc.errors
        for error in exc.errors:
            assert_names_where(error, "stock.csv")
        assert snapshot(backorder_db) == before


# ------------------------------------------------------------------------------ templates
@fuzz
@given(
    text=st.text(max_size=40)
    | st.sampled_from(
        ["{% for x in y %}", "{{ x.__class__ }}", "Only {stock} left", "{nope}", "[stock]", "{"]
    )
)
def test_a_bad_message_template_names_the_template_and_line(text):
    try:
        rendered = MessageTemplate("low_stock_message", text, {"stock", "date"}).render(stock=3)
    except TemplateProblem as exc:
        assert_names_where(str(exc), "low_stock_message")
    else:
        assert "__class__" not in rendered or "__class__" in text


def test_a_webhook_key_of_blanks_is_named_visibly():
    from backorder.config import StoreConfig
    from backorder.platforms import core
    from backorder.webhooks import WebhookRejected

    store = StoreConfig(name="s", connection={"webhook_token": "t"})
    body = b'{"kind": "stock", "delivery_id": "d", "\\n": 1}'
    with pytest.raises(WebhookRejected, match=r"body field '\\n': Extra inputs"):
        core.PLATFORM.parse_webhook(store, {"X-Backorder-Token": "t"}, body)

"""The single-click app, end to end on the sandbox: install -> load -> assign -> order ->
uninstall, with the store living in the database beside the config's.

The sandbox implements BigCommerce's token endpoint and signs load/uninstall payloads as
BigCommerce does (HS256 with the app's client secret, the documented claims). Every
forged, expired or misdirected callback is refused, logged without its token, and
changes nothing.
"""

from __future__ import annotations

import json
import logging
import re
import time

import pytest
import sqlalchemy as sa
from backorder_bigcommerce import schemas as s
from backorder_bigcommerce.connection import forget_clients, register_transport
from backorder_bigcommerce.sandbox import Sandbox
from backorder_bigcommerce.webhooks import SCOPES
from starlette.testclient import TestClient

from backorder.admin.sessions import COOKIE
from backorder.config import parse_config
from backorder.http import SyncASGITransport
from backorder.secretbox import ENV_KEY, new_key
from backorder.server import create_app
from backorder.storage.db import Database
from backorder.storage.schema import admin_users, stores

CLIENT_ID = "bc-app-client-id"
CLIENT_SECRET = "bc-app-client-secret-0123456789abcdef"
APP_URL = "http://backorder.test"
STORE = "bc-sandbox"

ADDRESS = s.BillingAddressBase(
    first_name="Pat", last_name="Lee", street_1="1 Main St", city="Austin", state="Texas",
    zip="78701", country="United States", country_iso2="US", email="pat@example.com",
)


class Deployment:
    """One backorder deployment serving the app, and the sandbox BigCommerce beside it."""

    def __init__(self, tmp_path, monkeypatch, plugin_manager, **plugin_options):
        monkeypatch.setenv(ENV_KEY, new_key())
        monkeypatch.setenv("BACKORDER_ADMIN_KEY", "k" * 48)
        monkeypatch.setenv("BIGCOMMERCE_CLIENT_SECRET", CLIENT_SECRET)
        self.sandbox = Sandbox()
        self.sandbox.seed_demo()
        self.sandbox.apps.register(CLIENT_ID, CLIENT_SECRET, APP_URL)
        register_transport(self.sandbox.url, self.sandbox.transport)
        self.db = Database(f"sqlite:///{tmp_path}/app.db")
        self.config = parse_config({
            "database": self.db.url,
            "stores": {"local": {"platform": "core"}},
            "plugins": {"bigcommerce": {
                "client_id": CLIENT_ID, "app_url": APP_URL, "login_url": self.sandbox.url,
                "api_url": self.sandbox.url, "store": {"settings": {"plan_limit": 50}},
                **plugin_options,
            }},
        })
        self.app = create_app(self.config, self.db, plugin_manager, worker=False)
        self.sandbox.route_deliveries(APP_URL, SyncASGITransport(self.app))
        self.browser = TestClient(self.app, follow_redirects=False)
        self.state = self.sandbox.state

    def close(self):
        forget_clients()
        self.sandbox.close()
        self.db.dispose()

    def install(self):
        url = self.sandbox.apps.auth_url(CLIENT_ID).removeprefix(APP_URL)
        return self.browser.get(url)

    def callback(self, name: str, **forgery):
        token = self.sandbox.apps.signed_payload(CLIENT_ID, **forgery)
        return self.browser.get(f"/bigcommerce/{name}", params={"signed_payload_jwt": token})

    def row(self):
        with self.db.read() as conn:
            return conn.execute(sa.select(stores).where(stores.c.name == STORE)).first()

    def csrf(self, path: str) -> str:
        page = self.browser.get(path)
        assert page.status_code == 200, page.text
        return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


@pytest.fixture
def deployment(tmp_path, monkeypatch, plugin_manager):
    built = Deployment(tmp_path, monkeypatch, plugin_manager)
    yield built
    built.close()


def test_install_load_assign_order_uninstall(deployment, caplog):
    d = deployment
    caplog.set_level(logging.DEBUG)
    installed = d.install()
    assert installed.status_code == 303 and installed.headers["location"] == f"/admin/{STORE}/"
    cookie = next(h for h in installed.headers.get_list("set-cookie") if h.startswith(COOKIE))
    assert "HttpOnly" in cookie
    # registered in the database beside the config store, with its hooks and catalog
    assert sorted(d.app.state.web.stores) == [STORE, "local"]
    hooks = list(d.state.hooks.values())
    assert sorted(h["scope"] for h in hooks) == sorted(SCOPES)
    assert {h["destination"] for h in hooks} == {f"{APP_URL}/webhooks/{STORE}"}
    assert all(h["headers"].get("X-Backorder-Secret") for h in hooks)
    dashboard = d.browser.get(f"/admin/{STORE}/items")
    assert dashboard.status_code == 200 and "MUG-BLUE" in dashboard.text  # first sync ran

    # the token is sealed at rest and never logged
    row = d.row()
    assert d.state.token not in json.dumps(row.sections) and d.state.token not in row.secrets
    assert d.state.token not in caplog.text and CLIENT_SECRET not in caplog.text

    # load from the control panel: a fresh browser, signed in by the payload
    d.browser.cookies.clear()
    loaded = d.callback("load")
    assert loaded.status_code == 303 and loaded.headers["location"] == f"/admin/{STORE}/"
    framed = d.browser.get(f"/admin/{STORE}/")
    assert "https://*.mybigcommerce.com" in framed.headers["content-security-policy"]
    assert "x-frame-options" not in framed.headers

    # assign the mug (both variants) through the web app: BigCommerce stops tracking it
    token = d.csrf(f"/admin/{STORE}/items")
    assigned = d.browser.post(f"/admin/{STORE}/items/assign", data={
        "csrf_token": token, "sku": "MUG-BLUE", "threshold": "5"})
    assert assigned.status_code == 303
    mug = next(p for p in d.state.products.values() if p.sku == "MUG")
    assert mug.tracking == "none"

    # a shopper orders 4 blue mugs at BigCommerce (2 in stock): the webhook comes back
    from backorder_bigcommerce.connection import client_for

    store = d.app.state.web.stores.store(STORE)
    variant = next(v for v in d.state.variants.values() if v.sku == "MUG-BLUE")
    client_for(store).create_order(s.OrderPost(billing_address=ADDRESS, products=[
        s.OrderCatalogProductPost(product_id=mug.id, variant_id=variant.id, quantity=4)]))
    assert d.sandbox.deliver() >= 1
    d.app.state.worker.run_once()
    report = d.browser.get(f"/admin/{STORE}/report")
    assert "MUG-BLUE" in report.text and "pat@example.com" in report.text
    assert re.search(r'<td class="num">4</td><td class="num">2</td>', report.text)

    # uninstall: hooks removed, token erased, the store and its sessions refused
    gone = d.callback("uninstall")
    removed = {"uninstalled": STORE, "hooks_removed": len(SCOPES)}
    assert gone.status_code == 200 and gone.json() == removed
    assert d.state.hooks == {}
    assert d.row().secrets is None and not d.row().active
    assert sorted(d.app.state.web.stores) == ["local"]
    assert d.browser.get(f"/admin/{STORE}/").status_code == 403  # its user is gone too
    assert d.callback("load").status_code == 404
    assert d.state.token not in caplog.text


def test_reinstalling_keeps_the_store_its_data_and_its_settings(deployment):
    d = deployment
    d.install()
    token = d.csrf(f"/admin/{STORE}/items")
    d.browser.post(f"/admin/{STORE}/items/assign", data={"csrf_token": token, "sku": "LAMP-01"})
    d.callback("uninstall")
    again = d.install()
    assert again.status_code == 303
    assert d.app.state.web.stores.store(STORE).settings.plan_limit == 50
    service = d.app.state.web.stores.get(STORE)
    assert service.item("LAMP-01").assigned  # the data stayed
    assert len(d.state.hooks) == len(SCOPES)


@pytest.mark.parametrize("forgery, reason", [
    ({"secret": "not-the-client-secret-of-this-app-at-all"}, "InvalidSignatureError"),
    ({"issued": time.time() - 2 * 86400}, "expired"),
    ({"issued": time.time() + 3600}, "ImmatureSignatureError"),
    ({"audience": "another-app"}, "InvalidAudienceError"),
])
def test_forged_or_expired_payloads_are_refused_and_change_nothing(deployment, caplog,
                                                                   forgery, reason):
    d = deployment
    d.install()
    before = (d.row().version, dict(d.state.hooks))
    for name in ("load", "uninstall", "remove_user"):
        d.browser.cookies.clear()
        with caplog.at_level(logging.WARNING, logger="backorder_bigcommerce.app"):
            answer = d.callback(name, **forgery)
        assert answer.status_code == 401, name
        assert reason in answer.text
        assert COOKIE not in answer.headers.get("set-cookie", "")
    assert (d.row().version, dict(d.state.hooks)) == before
    assert "refused GET /bigcommerce/load" in caplog.text
    token = d.sandbox.apps.signed_payload(CLIENT_ID)
    assert token not in caplog.text and CLIENT_SECRET not in caplog.text


def test_a_payload_for_a_store_not_installed_or_without_a_token_is_refused(deployment):
    d = deployment
    assert d.callback("load").status_code == 404  # nothing installed yet
    assert d.browser.get("/bigcommerce/load").status_code == 401
    unsigned = d.browser.get("/bigcommerce/load", params={
        "signed_payload_jwt": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJzdG9yZXMvc2FuZGJveCJ9."})
    assert unsigned.status_code == 401  # alg "none" is not HS256


def test_a_bad_or_reused_install_code_installs_nothing(deployment):
    d = deployment
    url = d.sandbox.apps.auth_url(CLIENT_ID).removeprefix(APP_URL)
    assert d.browser.get(url).status_code == 303
    d.callback("uninstall")
    replay = d.browser.get(url)  # a code is good once
    assert replay.status_code == 502 and "refused the install code" in replay.text
    assert not d.row().active
    assert d.browser.get("/bigcommerce/auth?code=x&context=elsewhere").status_code == 400


def test_remove_user_ends_that_users_access(deployment):
    d = deployment
    d.install()
    d.sandbox.apps.add_user(CLIENT_ID, 42, "clerk@example.com")
    clerk = TestClient(d.app, follow_redirects=False)
    token = d.sandbox.apps.signed_payload(CLIENT_ID, 42)
    assert clerk.get("/bigcommerce/load", params={"signed_payload_jwt": token}).status_code == 303
    assert clerk.get(f"/admin/{STORE}/").status_code == 200
    with d.db.read() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(admin_users)) == 2
    assert d.callback("remove_user", user_id=42).json() == {"removed": "bigcommerce:sandbox:42"}
    assert clerk.get(f"/admin/{STORE}/").status_code == 403
    assert d.browser.get(f"/admin/{STORE}/").status_code == 200  # the owner stays

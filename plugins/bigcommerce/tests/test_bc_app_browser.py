"""The single-click app in a real browser: install and load inside the control panel's
iframe, with the sandbox BigCommerce and backorder each on their own loopback port and
every call between them over real HTTP."""

from __future__ import annotations

import pytest
from backorder_bigcommerce.sandbox import Sandbox
from backorder_bigcommerce.webhooks import SCOPES

from backorder.config import parse_config
from backorder.secretbox import ENV_KEY, new_key
from backorder.server import create_app
from backorder.storage.db import Database
from backorder.testing.browser import free_port, serve

pytest_plugins = ["backorder.testing.browser"]

CLIENT_ID = "browser-app"
CLIENT_SECRET = "browser-app-client-secret-0123456789abcdef"


@pytest.fixture
def two_sites(tmp_path, monkeypatch, plugin_manager):
    monkeypatch.setenv(ENV_KEY, new_key())
    monkeypatch.setenv("BACKORDER_ADMIN_KEY", "k" * 48)
    monkeypatch.setenv("BIGCOMMERCE_CLIENT_SECRET", CLIENT_SECRET)
    sandbox = Sandbox()
    sandbox.seed_demo()
    sandbox_port, app_port = free_port(), free_port()
    sandbox_url, app_url = f"http://127.0.0.1:{sandbox_port}", f"http://127.0.0.1:{app_port}"
    sandbox.apps.register(CLIENT_ID, CLIENT_SECRET, app_url)
    db = Database(f"sqlite:///{tmp_path}/app.db")
    config = parse_config({
        "database": db.url,
        "plugins": {"bigcommerce": {
            "client_id": CLIENT_ID, "app_url": app_url, "login_url": sandbox_url,
            "api_url": sandbox_url, "control_panel": [sandbox_url],
        }},
    })
    app = create_app(config, db, plugin_manager, worker=False)
    with serve(sandbox.app, sandbox_port), serve(app, app_port):
        yield sandbox, sandbox_url, app
    db.dispose()


def test_install_and_load_inside_the_control_panels_iframe(two_sites, page, screenshots):
    sandbox, sandbox_url, app = two_sites
    page.goto(f"{sandbox_url}/manage/marketplace/apps/{CLIENT_ID}")
    frame = page.frame_locator("#app")
    frame.get_by_role("heading", name="Dashboard").wait_for()
    assert "bc-sandbox" in frame.locator(".store-name").inner_text()
    assert len(sandbox.state.hooks) == len(SCOPES)  # registered over HTTP on install
    frame.get_by_role("navigation", name="Sections").get_by_role(
        "link", name="Assign products").click()
    frame.get_by_role("code").filter(has_text="MUG-BLUE").wait_for()  # the first sync ran
    page.screenshot(path=screenshots / "bigcommerce-install.png")

    page.context.clear_cookies()  # another visit: the load callback signs in again
    page.goto(f"{sandbox_url}/manage/app/{CLIENT_ID}")
    frame = page.frame_locator("#app")
    frame.get_by_role("heading", name="Dashboard").wait_for()
    frame.get_by_role("navigation", name="Sections").get_by_role("link", name="Settings").click()
    frame.get_by_role("heading", name="Storefront preview").wait_for()
    page.screenshot(path=screenshots / "bigcommerce-load.png")
    assert app.state.web.stores.store("bc-sandbox").secret("access_token") == (
        sandbox.state.token)

"""A platform that is down, refuses the credentials or has no such order, through the CLI of
each plugin (issue 17): one line naming the platform, the URL, the status and what to check
(the address setting, the token's environment variable and scopes, the id), exit status 2.

Each platform's sandbox is served on 127.0.0.1; "down" is a port nothing listens on.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from backorder.testing.browser import serve

DOWN = "http://127.0.0.1:1"


@pytest.fixture(autouse=True)
def plugins_installed(monkeypatch):
    monkeypatch.delenv("BACKORDER_PLUGINS", raising=False)
    monkeypatch.delenv("BACKORDER_CONFIG", raising=False)


def run(tmp_path, config: str, *args: str):
    from backorder.commands import main

    path = tmp_path / "backorder.toml"
    path.write_text(f'database = "sqlite:///{tmp_path}/shop.db"\n' + config)
    return CliRunner().invoke(main, ["--config", str(path), *args])


def refused(result, *needles: str) -> str:
    """The one error line (exit 2, no traceback), holding every needle."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    for needle in needles:
        assert needle in errors[0], (needle, errors[0])
    return errors[0]


# ------------------------------------------------------------------ Lightspeed eCom
@pytest.fixture(scope="module")
def lightspeed():
    pytest.importorskip("backorder_lightspeed_ecom")
    from backorder_lightspeed_ecom.sandbox import SandboxShop, create_app, seed_demo

    with serve(create_app(seed_demo(SandboxShop("ls-key", "ls-secret")))) as url:
        yield url


def ls_config(url: str) -> str:
    return (
        '[stores.ls]\nplatform = "lightspeed_ecom"\n[stores.ls.connection]\n'
        f'base_url = "{url}"\napi_key_env = "LS_KEY"\napi_secret_env = "LS_SECRET"\n'
        "retries = 0\n"
    )


@pytest.mark.parametrize("command", [("sync",), ("lightspeed-ecom", "sync"),
                                     ("lightspeed-ecom", "order", "1")])
def test_lightspeed_refusing_the_key_names_its_variables(lightspeed, tmp_path, monkeypatch,
                                                         command):
    monkeypatch.setenv("LS_KEY", "ls-key")
    monkeypatch.setenv("LS_SECRET", "not-the-secret")
    line = refused(run(tmp_path, ls_config(lightspeed), *command),
                   f"Lightspeed GET {lightspeed}/en/", "HTTP 401",
                   "check $LS_KEY (connection.api_key_env) and $LS_SECRET "
                   "(connection.api_secret_env)", "the API key's permissions")
    assert "not-the-secret" not in line


def test_lightspeed_without_such_an_order_says_to_check_the_id(lightspeed, tmp_path,
                                                               monkeypatch):
    monkeypatch.setenv("LS_KEY", "ls-key")
    monkeypatch.setenv("LS_SECRET", "ls-secret")
    refused(run(tmp_path, ls_config(lightspeed), "lightspeed-ecom", "order", "999999"),
            f"Lightspeed GET {lightspeed}/en/orders/999999.json", "HTTP 404",
            "check the id asked for (an order's id, not its number)")


@pytest.mark.parametrize("command", [("sync",), ("lightspeed-ecom", "order", "1")])
def test_lightspeed_down_names_the_address_setting(tmp_path, monkeypatch, command):
    pytest.importorskip("backorder_lightspeed_ecom")
    monkeypatch.setenv("LS_KEY", "ls-key")
    monkeypatch.setenv("LS_SECRET", "ls-secret")
    refused(run(tmp_path, ls_config(DOWN), *command), f"Lightspeed GET {DOWN}/en/",
            "no response", f"check connection.base_url ({DOWN}) and that Lightspeed is up")


def test_lightspeed_with_an_unset_secret_variable_names_it(tmp_path, monkeypatch):
    pytest.importorskip("backorder_lightspeed_ecom")
    monkeypatch.setenv("LS_KEY", "ls-key")
    monkeypatch.delenv("LS_SECRET", raising=False)
    refused(run(tmp_path, ls_config(DOWN), "lightspeed-ecom", "order", "1"),
            "check $LS_SECRET (connection.api_secret_env, not set)")


# ------------------------------------------------------------------ Magento
@pytest.fixture(scope="module")
def magento():
    pytest.importorskip("backorder_magento")
    from backorder_magento.sandbox import SandboxStore, create_app

    with serve(create_app(SandboxStore(token="mg-token"))) as url:
        yield f"{url}/rest/default"


def mg_config(url: str) -> str:
    return (
        '[stores.mg]\nplatform = "magento"\n[stores.mg.connection]\n'
        f'base_url = "{url}"\ntoken_env = "MG_TOKEN"\nretries = 0\n'
    )


@pytest.mark.parametrize("command", [("sync",), ("magento-order", "1"),
                                     ("magento-repair-stock-status",)])
def test_magento_refusing_the_token_names_its_variable(magento, tmp_path, monkeypatch, command):
    monkeypatch.setenv("MG_TOKEN", "not-the-token")
    line = refused(run(tmp_path, mg_config(magento), *command),
                   f"Magento GET {magento}/V1/", "HTTP 401",
                   "check $MG_TOKEN (connection.token_env)", "the integration's API resources")
    assert "not-the-token" not in line


def test_magento_without_such_an_order_says_to_check_the_entity_id(magento, tmp_path,
                                                                   monkeypatch):
    monkeypatch.setenv("MG_TOKEN", "mg-token")
    refused(run(tmp_path, mg_config(magento), "magento-order", "999999"),
            f"Magento GET {magento}/V1/orders/999999", "HTTP 404",
            "an order's entity id, not its increment id", f"connection.base_url ({magento})")


@pytest.mark.parametrize("command", [("sync",), ("magento-order", "1"),
                                     ("magento-repair-stock-status",)])
def test_magento_down_names_the_address_setting(tmp_path, monkeypatch, command):
    pytest.importorskip("backorder_magento")
    monkeypatch.setenv("MG_TOKEN", "mg-token")
    refused(run(tmp_path, mg_config(f"{DOWN}/rest/default"), *command),
            f"Magento GET {DOWN}/rest/default/V1/", "no response",
            f"check connection.base_url ({DOWN}/rest/default) and that Magento is up")


# ------------------------------------------------------------------ BigCommerce
@pytest.fixture(scope="module")
def bigcommerce():
    pytest.importorskip("backorder_bigcommerce")
    from backorder_bigcommerce.sandbox import DEMO_CATALOG
    from backorder_bigcommerce.sandbox.app import build_app
    from backorder_bigcommerce.sandbox.state import SandboxState

    state = SandboxState(store_hash="shop1", token="bc-token")
    for name, sku, level, variants in DEMO_CATALOG:
        state.add_product(name, sku, level, variants=variants)
    with serve(build_app(state)) as url:
        yield url


def bc_config(url: str, store_hash: str = "shop1") -> str:
    return (
        '[stores.bc]\nplatform = "bigcommerce"\n[stores.bc.connection]\n'
        f'store_hash = "{store_hash}"\napi_url = "{url}"\naccess_token_env = "BC_TOKEN"\n'
    )


def test_bigcommerce_refusing_the_token_names_its_variable_and_scopes(bigcommerce, tmp_path,
                                                                      monkeypatch):
    monkeypatch.setenv("BC_TOKEN", "not-the-token")
    line = refused(run(tmp_path, bc_config(bigcommerce), "sync"),
                   f"BigCommerce GET {bigcommerce}/stores/shop1/v3/", "HTTP 401",
                   "check $BC_TOKEN (connection.access_token_env)", "OAuth scopes")
    assert "not-the-token" not in line


def test_bigcommerce_without_such_a_store_names_the_store_hash(bigcommerce, tmp_path,
                                                               monkeypatch):
    monkeypatch.setenv("BC_TOKEN", "bc-token")
    refused(run(tmp_path, bc_config(bigcommerce, "nosuch"), "sync"),
            f"BigCommerce GET {bigcommerce}/stores/nosuch/v3/", "HTTP 404",
            "connection.store_hash (nosuch)")


def test_bigcommerce_down_names_the_address_setting(tmp_path, monkeypatch):
    pytest.importorskip("backorder_bigcommerce")
    import httpx
    from backorder_bigcommerce.connection import forget_clients, register_transport

    from backorder.http.clock import FakeClock

    # a real transport to the closed port; the simulated clock skips the retries' waits
    register_transport(DOWN, httpx.HTTPTransport(), FakeClock())
    monkeypatch.setenv("BC_TOKEN", "bc-token")
    try:
        refused(run(tmp_path, bc_config(DOWN), "sync"),
                f"BigCommerce GET {DOWN}/stores/shop1/v3/", "no response",
                f"check connection.api_url ({DOWN}) and that BigCommerce is up")
    finally:
        register_transport(DOWN, None)  # type: ignore[arg-type]
        forget_clients()


# ------------------------------------------------------------------ one spelling for users
def test_lightspeed_commands_answer_to_both_spellings_and_show_dashes(tmp_path):
    """``lightspeed_ecom`` is the platform's name in a config; commands are shown with a dash
    (``lightspeed-ecom``, as ``fulfil-queue``) and answer to either spelling."""
    pytest.importorskip("backorder_lightspeed_ecom")
    from backorder.commands import main

    runner = CliRunner()
    listed = runner.invoke(main, ["--help"]).output
    assert "lightspeed-ecom" in listed and "lightspeed_ecom" not in listed
    sandboxes = runner.invoke(main, ["sandbox", "--help"]).output
    assert "lightspeed-ecom" in sandboxes and "lightspeed_ecom" not in sandboxes
    csv = tmp_path / "p.csv"
    csv.write_text("EN_Title_Short,SKU,Stock_Track,Stock_Disable_Sold_Out\nMug,MUG,Y,N\n")
    for spelling in ("lightspeed-ecom", "lightspeed_ecom"):
        checked = runner.invoke(main, [spelling, "import-csv", "--check", str(csv)])
        assert checked.exit_code == 0, checked.output
        assert f"{csv}: 1 row(s) OK" in checked.output
        sandbox = runner.invoke(main, ["sandbox", spelling, "--help"])
        assert sandbox.exit_code == 0 and "--port" in sandbox.output
    assert "fulfil-queue" in listed
    assert runner.invoke(main, ["fulfil_queue", "--help"]).exit_code == 0


def test_magento_repair_checks_its_csv_path_before_calling_magento(tmp_path, monkeypatch):
    pytest.importorskip("backorder_magento")
    monkeypatch.setenv("MG_TOKEN", "mg-token")
    out = tmp_path / "no" / "such" / "repairs.csv"
    line = refused(run(tmp_path, mg_config(f"{DOWN}/rest/default"),
                       "magento-repair-stock-status", "--apply", "--csv", str(out)),
                   f"--csv {out}: cannot write there")
    assert "Magento GET" not in line  # refused before any call (none could have answered)


def test_lightspeed_export_csv_keeps_the_store_header_off_its_csv(tmp_path, monkeypatch):
    pytest.importorskip("backorder_lightspeed_ecom")
    monkeypatch.setenv("LS_KEY", "ls-key")
    monkeypatch.setenv("LS_SECRET", "ls-secret")
    out = run(tmp_path, ls_config(DOWN), "lightspeed-ecom", "export-csv")  # no call made
    assert out.exit_code == 0, out.output
    assert f"store 'ls' in sqlite:///{tmp_path}/shop.db" in out.stderr
    assert "store 'ls'" not in out.stdout


@pytest.mark.parametrize(
    "status, says",
    [
        (429, "Magento is busy or failing: try again later"),
        (503, "Magento is busy or failing: try again later"),
        (400, ""),  # Magento's own words name the field
        (403, "check $MG_TOKEN (connection.token_env, not set), and the integration's"),
    ],
)
def test_what_to_check_by_status(monkeypatch, status, says):
    pytest.importorskip("backorder_magento")
    from backorder_magento.client import MagentoError

    monkeypatch.delenv("MG_TOKEN", raising=False)
    error = MagentoError("GET", "http://shop.test/rest/default/V1/x", status, "said")
    check = error.what_to_check({"base_url": "http://shop.test/rest/default",
                                 "token_env": "MG_TOKEN"})
    assert check.startswith(says) if says else check == ""

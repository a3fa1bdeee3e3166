"""Hooks BigCommerce deactivated are found and turned back on (client and CLI).

"After the final retry attempt (cumulatively 48 hours after the first delivery attempt),
the webhook will be deactivated ... To reactivate the webhook, set ``is_active`` back to
``true``" (BigCommerce docs, webhooks overview.mdx, "Callback retry mechanism").
"""

from __future__ import annotations

import httpx
import pytest
from backorder_bigcommerce.connection import client_for
from backorder_bigcommerce.sandbox.state import HOOK_RETRY_SECONDS
from backorder_bigcommerce.webhooks import SCOPES
from click.testing import CliRunner

from backorder.cli import main

DESTINATION = "http://backorder.test/webhooks/bc"
HEADERS = {"X-Backorder-Secret": "s3cret-webhook"}


def failing_receiver(sandbox) -> list[httpx.Request]:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(503)

    sandbox.route_deliveries("http://backorder.test", httpx.MockTransport(answer))
    return seen


def fail_for_48_hours(sandbox, clock) -> None:
    """A product edit whose delivery fails every retry."""
    sandbox.state.put_products([{"id": 101, "name": "Tent"}])
    sandbox.deliver()
    for wait in HOOK_RETRY_SECONDS:
        clock.sleep(wait)
        sandbox.deliver()


def test_the_sandbox_deactivates_a_hook_whose_deliveries_fail_for_48_hours(
    bc_sandbox, bc_store, bc_clock
):
    client = client_for(bc_store)
    client.ensure_hooks(SCOPES, DESTINATION, HEADERS)
    seen = failing_receiver(bc_sandbox)
    fail_for_48_hours(bc_sandbox, bc_clock)
    assert len(seen) == 1 + len(HOOK_RETRY_SECONDS)
    assert sum(HOOK_RETRY_SECONDS) == pytest.approx(48 * 3600, rel=0.05)
    updated = [h for h in client.hooks() if h.scope == "store/product/updated"]
    assert [h.is_active for h in updated] == [False]
    bc_sandbox.state.put_products([{"id": 101, "name": "Tent again"}])
    bc_sandbox.deliver()
    assert len(seen) == 1 + len(HOOK_RETRY_SECONDS)  # nothing is sent to it any more


def test_ensure_hooks_reactivates_a_deactivated_hook(bc_sandbox, bc_store, bc_clock):
    client = client_for(bc_store)
    client.ensure_hooks(SCOPES, DESTINATION, HEADERS)
    failing_receiver(bc_sandbox)
    fail_for_48_hours(bc_sandbox, bc_clock)
    problems = {c.scope: c.problem for c in client.check_hooks(SCOPES, DESTINATION, HEADERS)}
    assert problems["store/product/updated"] == "inactive"
    repaired = client.ensure_hooks(SCOPES, DESTINATION, HEADERS)
    assert [(r.scope, r.action) for r in repaired] == [("store/product/updated", "reactivated")]
    assert all(c.problem is None for c in client.check_hooks(SCOPES, DESTINATION, HEADERS))
    assert len(client.hooks()) == len(SCOPES)  # turned back on, not registered twice
    assert client.ensure_hooks(SCOPES, DESTINATION, HEADERS) == []


def test_ensure_hooks_puts_back_a_changed_secret_header(bc_sandbox, bc_store):
    client = client_for(bc_store)
    client.ensure_hooks(SCOPES, DESTINATION, {"X-Backorder-Secret": "old"})
    repaired = client.ensure_hooks(SCOPES, DESTINATION, HEADERS)
    assert {r.action for r in repaired} == {"updated"} and len(repaired) == len(SCOPES)
    assert all(h.headers == HEADERS for h in client.hooks())


@pytest.fixture
def bc_config(bc_sandbox, tmp_path):
    def write(destination: str | None = DESTINATION):
        line = f'webhook_destination = "{destination}"\n' if destination else ""
        path = tmp_path / "backorder.toml"
        path.write_text(
            f'database = "sqlite:///{tmp_path}/cli.db"\n'
            "[stores.bc]\n"
            'platform = "bigcommerce"\n'
            "[stores.bc.connection]\n"
            f'store_hash = "{bc_sandbox.state.store_hash}"\n'
            f'api_url = "{bc_sandbox.url}"\n'
            'access_token_env = "BC_TEST_TOKEN"\n'
            'webhook_secret_env = "BC_TEST_SECRET"\n' + line,
            encoding="utf-8",
        )
        return str(path)

    return write


def test_cli_lists_the_hooks_and_repairs_them_with_ensure(
    bc_sandbox, bc_store, bc_clock, bc_config
):
    config = bc_config()
    cli = ["--config", config, "--store", "bc", "bigcommerce", "hooks"]
    listed = CliRunner().invoke(main, cli)
    assert listed.exit_code == 1, listed.output
    assert "store/order/created: no hook, missing" in listed.output
    assert f"{len(SCOPES)} hook(s) need repair: run with --ensure" in listed.output
    ensured = CliRunner().invoke(main, [*cli, "--ensure"])
    assert ensured.exit_code == 0, ensured.output
    assert "store/order/created: created (hook" in ensured.output
    failing_receiver(bc_sandbox)
    fail_for_48_hours(bc_sandbox, bc_clock)
    listed = CliRunner().invoke(main, cli)
    assert listed.exit_code == 1
    assert "store/product/updated: hook" in listed.output and ", inactive" in listed.output
    ensured = CliRunner().invoke(main, [*cli, "--ensure"])
    assert "store/product/updated: reactivated" in ensured.output
    assert CliRunner().invoke(main, cli).exit_code == 0


def test_cli_without_a_destination_says_which_key_to_set(bc_sandbox, bc_config):
    result = CliRunner().invoke(
        main, ["--config", bc_config(None), "--store", "bc", "bigcommerce", "hooks"]
    )
    assert result.exit_code == 2
    assert "connection.webhook_destination is not set" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert bc_sandbox.state.hooks == {}

"""``backorder sandbox bigcommerce --port N``: the sandbox as a real loopback server."""

from __future__ import annotations

import asyncio
import contextlib

import click


@click.command("bigcommerce")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8765, show_default=True)
@click.option("--store-hash", default="sandbox", show_default=True)
@click.option(
    "--token",
    default="sandbox-token",
    show_default=True,
    help="The X-Auth-Token the sandbox accepts.",
)
@click.option(
    "--quota", type=int, default=150, show_default=True, help="Requests per 30-second window."
)
@click.option(
    "--native/--app", "native", default=False, help="Enable native backorders (beta) for the store."
)
@click.option("--demo/--empty", default=True, help="Seed the demo catalog.")
def sandbox_bigcommerce(host, port, store_hash, token, quota, native, demo):
    """Run a stateful BigCommerce sandbox (products, variants, inventory, orders, hooks)."""
    from backorder.http import needs_extra

    with needs_extra("backorder-bigcommerce", "sandbox"):
        import uvicorn

    from backorder_bigcommerce.sandbox import DEMO_CATALOG, poster
    from backorder_bigcommerce.sandbox.app import build_app
    from backorder_bigcommerce.sandbox.state import SandboxState

    state = SandboxState(store_hash=store_hash, token=token, quota=quota, native_backorders=native)
    if demo:
        for name, sku, level, variants in DEMO_CATALOG:
            state.add_product(name, sku, level, variants=variants)
    app = build_app(state, real_timeouts=True)
    post = poster()

    async def deliver_forever():
        while True:
            await asyncio.sleep(0.5)
            if state.outbox:
                await asyncio.to_thread(state.deliver, post)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        task = asyncio.create_task(deliver_forever())
        yield
        task.cancel()

    app.router.lifespan_context = lifespan
    click.echo(
        f"BigCommerce sandbox: http://{host}:{port}/stores/{store_hash}/v3 (X-Auth-Token: {token})"
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")

"""Real-browser tests: an ASGI app on a loopback port, and headless Chromium to drive it.

Playwright drives the Debian ``chromium`` package (``/usr/bin/chromium``, installed by
``scripts/system-deps.sh``); Playwright's own browser download is not used. Tests that
need a browser take the ``browser`` fixture and are skipped, saying why, when
Playwright or Chromium is missing.

- :func:`serve` runs any ASGI app under uvicorn in a thread on a free 127.0.0.1 port and
  yields its base URL; the server stops when the block ends.
- ``browser`` (session fixture) is a Playwright ``Browser``; ``page`` a fresh page in a
  fresh context (its own cookies) per test; ``screenshots`` the folder screenshots go to
  (``BACKORDER_SCREENSHOTS``, default ``test-artifacts/screenshots``).

Register in a ``conftest.py`` with ``pytest_plugins = ["backorder.testing.browser"]``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest

CHROMIUM = os.environ.get("BACKORDER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = Path(os.environ.get("BACKORDER_SCREENSHOTS", "test-artifacts/screenshots"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve(
    app: Any, port: int | None = None, timeout: float = 20.0, *,
    lifespan: Literal["on", "off", "auto"] = "off", **options: Any,
) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 in a background thread; yields ``http://127.0.0.1:PORT``.

    ``lifespan="on"`` runs the app's lifespan (start-up and shut-down) as a server would;
    ``options`` go to ``uvicorn.Config`` (``backorder.serving.uvicorn_options()`` for
    ``backorder serve``'s limits and timeouts)."""
    import uvicorn

    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan=lifespan, **options
    ))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the test server did not start on port {port}")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)


def missing_browser() -> str | None:
    """Why no browser test can run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium: scripts/system-deps.sh)"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    reason = missing_browser()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "browser", "free_port", "page", "screenshots", "serve"]

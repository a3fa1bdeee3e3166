"""The sandbox is an extra (``backorder-bigcommerce[sandbox]``): without its web packages the
plugin still loads, and the sandbox command says what to install."""

from __future__ import annotations

import sys

from click.testing import CliRunner

from backorder.cli import main


def test_sandbox_without_its_extra_names_the_install_command(monkeypatch, plugin_manager):
    for name in [m for m in sys.modules if m.startswith("backorder_bigcommerce.sandbox")]:
        monkeypatch.delitem(sys.modules, name)
    for name in [m for m in sys.modules if m == "starlette" or m.startswith("starlette.")]:
        monkeypatch.setitem(sys.modules, name, None)  # as if starlette were not installed
    assert plugin_manager.hook.backorder_platforms()  # the plugin itself loads
    result = CliRunner().invoke(main, ["sandbox", "bigcommerce", "--port", "0"])
    assert result.exit_code == 2
    assert "pip install 'backorder-bigcommerce[sandbox]'" in result.output
    assert "'starlette'" in result.output

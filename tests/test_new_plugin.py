"""``backorder new-plugin NAME``: a package skeleton that passes its own conformance tests."""

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from backorder.cli import main


def test_the_generated_plugin_passes_its_own_tests(tmp_path):
    result = CliRunner().invoke(main, ["new-plugin", "woo_demo", "-d", str(tmp_path)])
    assert result.exit_code == 0, result.output
    root = tmp_path / "backorder-woo-demo"
    assert {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} >= {
        "pyproject.toml", "README.md", "src/backorder_woo_demo/plugin.py",
        "src/backorder_woo_demo/fake.py", "tests/test_conformance.py",
    }
    assert 'woo_demo = "backorder_woo_demo.plugin"' in (root / "pyproject.toml").read_text()
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider"],
        cwd=root, capture_output=True, text=True, env=env, timeout=600,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "failed" not in out.stdout and "16 passed" in out.stdout  # the whole suite ran


def test_a_bad_name_or_an_existing_folder_is_one_line_and_exit_2(tmp_path):
    runner = CliRunner()
    bad = runner.invoke(main, ["new-plugin", "Woo-Commerce!", "-d", str(tmp_path)])
    assert bad.exit_code == 2 and "lowercase" in bad.output
    assert not list(Path(tmp_path).iterdir())
    assert runner.invoke(main, ["new-plugin", "woo", "-d", str(tmp_path)]).exit_code == 0
    again = runner.invoke(main, ["new-plugin", "woo", "-d", str(tmp_path)])
    assert again.exit_code == 2 and "exists already" in again.output
    assert "Traceback" not in again.output


def test_plugins_lists_the_platforms_each_plugin_serves():
    result = CliRunner().invoke(main, ["plugins"], env={"BACKORDER_PLUGINS": ""})
    assert result.exit_code == 0
    assert "core (backorder (built in)): platforms: core;" in result.output


def test_store_service_takes_connection_settings(store_service, plugin_manager, tmp_path):
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text("- {sku: A, product_id: '1', on_hand: 4}\n")
    service = store_service(pm=plugin_manager, connection={"catalog_file": str(catalog)},
                            switch_condition=1)
    assert service.store.connection["catalog_file"] == str(catalog)
    assert service.sync_from_platform() == (1, 0)
    assert service.item("A").on_hand == 4 and service.settings.switch_condition == 1

"""The optional extras: the core works without them, a command that needs one names it."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner
from packaging.requirements import Requirement

from backorder.commands import main

WITHOUT_EXTRAS = """
import sys
for name in ("weasyprint", "starlette", "uvicorn"):
    sys.modules[name] = None  # as if not installed: importing it raises ImportError

import importlib, pkgutil
import backorder
WEB_APP_WITHOUT_EXTRAS = {"backorder.admin", "backorder.admin.settings", "backorder.admin.commands"}
for info in pkgutil.walk_packages(backorder.__path__, "backorder."):
    if ".migrations" in info.name:  # Alembic's env.py runs only under Alembic
        continue
    if info.name.startswith("backorder.admin") and info.name not in WEB_APP_WITHOUT_EXTRAS:
        continue  # the web app's pages: imported by the server only (the server extra)
    importlib.import_module(info.name)

from backorder.commands import main
main(["demo", "--fresh"])
"""


def test_the_core_imports_and_runs_the_demo_without_any_extra(tmp_path):
    env = {**os.environ, "BACKORDER_PLUGINS": "core,notify,weasyprint"}
    env.pop("BACKORDER_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRAS],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "TENT-2P" in done.stdout and "Traceback" not in done.stderr


@pytest.mark.parametrize("hidden", ["starlette", "uvicorn"])
def test_serve_without_the_server_extra_is_one_line_and_exit_2(monkeypatch, hidden):
    monkeypatch.setitem(sys.modules, hidden, None)
    result = CliRunner().invoke(main, ["serve", "--port", "1"])
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"error: backorder: its server needs the package {hidden!r}, which is not installed; "
        "run: pip install 'backorder[server]'"
    ]


def test_the_extras_named_in_those_messages_install_the_missing_packages():
    declared: dict[str, set[str]] = {}
    for line in importlib.metadata.requires("backorder") or []:
        requirement = Requirement(line)
        for extra in ("pdf", "server"):
            if requirement.marker and requirement.marker.evaluate({"extra": extra}):
                declared.setdefault(extra, set()).add(requirement.name.lower())
    assert declared == {
        "pdf": {"weasyprint"},
        "server": {"starlette", "uvicorn", "argon2-cffi", "itsdangerous", "python-multipart",
                   "cryptography"},
    }

"""The conformance suite can fail: a plugin written from the docs passes it, and each
deliberately broken copy of that plugin fails the check its fault breaks."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from docs_plugin.suite import DocsConformance

HERE = Path(__file__).parent

EXPECTED = {
    "no_signature": {"test_webhook_with_a_forged_credential_rejected",
                     "test_webhook_for_another_shop_rejected",
                     "test_webhook_without_credentials_rejected"},
    "any_secret": {"test_webhook_for_another_shop_rejected"},
    "any_store": {"test_another_platforms_store_is_left_alone"},
    "inert_apply": {"test_apply_items_reaches_the_platform"},
    "fixed_ref": {"test_repeated_syncs_apply_changed_figures"},
    "mapping": {"test_native_combinations_map_exactly"},
}


class TestDocsPluginConforms(DocsConformance):
    """The plugin written only from the README passes every check."""


@pytest.fixture(scope="module")
def broken_run():
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    out = subprocess.run(
        [sys.executable, "-m", "pytest", str(HERE / "docs_plugin" / "check_broken.py"),
         "-q", "-rf", "-p", "no:randomly", "-p", "no:cacheprovider", "--no-header"],
        capture_output=True, text=True, env=env, cwd=HERE.parent, timeout=600,
    )
    failed: dict[str, set[str]] = {}
    for fault, test in re.findall(r"^FAILED \S+::TestBroken_(\w+?)::(test_\w+)", out.stdout, re.M):
        failed.setdefault(fault, set()).add(test)
    return out, failed


@pytest.mark.parametrize("fault", sorted(EXPECTED))
def test_a_broken_plugin_fails_exactly_its_checks(broken_run, fault):
    out, failed = broken_run
    assert failed.get(fault) == EXPECTED[fault], out.stdout[-3000:]

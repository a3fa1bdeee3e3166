"""The other areas' benchmark scripts still run (``python -m bench`` passes their output
through: one broke on a renamed constant and the full run printed a traceback)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bigcommerce_bench_runs_at_a_tiny_size():
    done = subprocess.run(
        [sys.executable, "bench/bench_bigcommerce.py", "--variants", "40"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "worst: calls 1.00" in done.stdout

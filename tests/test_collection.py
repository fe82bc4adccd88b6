"""Collection stays cheap: no torch, transformers or onnxruntime import."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import REPO

PROBE = """
import sys, time, pytest
t = time.perf_counter()
rc = pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider"])
heavy = sorted(m for m in ("torch", "transformers", "onnxruntime") if m in sys.modules)
print(f"COLLECT rc={rc} seconds={time.perf_counter() - t:.2f} heavy={heavy}")
"""


def test_collect_only_imports_nothing_heavy():
    proc = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True, timeout=120)
    line = next(l for l in proc.stdout.splitlines() if l.startswith("COLLECT"))
    print(line)
    assert "rc=0" in line and "heavy=[]" in line, proc.stdout[-2000:]

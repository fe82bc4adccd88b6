"""Benchmark: what isolation costs per test, and a `standard` run serial vs `-n 2`.

    python benchmarks/isolation.py

Prints figures; asserts nothing (speed targets are read, not enforced).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
N = 40
TRIVIAL = "\n".join(f"def test_{i}():\n    pass\n" for i in range(N))
# Through the suite's torch_module fixture, as the torch suite does: torch is imported once
# in the parent before forking, so what remains is the fork and a fresh process's first ops.
TORCHY = "\n".join(f"def test_{i}(torch_module):\n    assert float(torch_module.ones(64).sum()) == 64\n"
                   for i in range(N // 2))


def timed(args: list[str], cwd: Path) -> float:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:html", *args],
                          cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    last = (proc.stdout.strip().splitlines() or ["no output"])[-1]
    if proc.returncode not in (0, 1) or "INTERNALERROR" in proc.stdout:
        raise SystemExit(f"benchmark run `pytest {' '.join(args)}` broke (exit {proc.returncode}): {last}")
    return elapsed


def per_test_overhead(body: str, count: int, tmp: Path) -> tuple[float, float, float]:
    (tmp / "conftest.py").write_text("from plugins import PLUGINS\npytest_plugins = list(PLUGINS)\n"
                                     "from suites.conftest import live_machine, torch_module  # noqa: F401\n")
    (tmp / "test_bench.py").write_text(body)
    off = timed(["--isolation=off", f"--report-dir={tmp / 'r-off'}"], tmp)
    on = timed(["--isolation=all", f"--report-dir={tmp / 'r-on'}"], tmp)
    return off, on, (on - off) / count


def main() -> int:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        off, on, each = per_test_overhead(TRIVIAL, N, tmp)
        print(f"isolation, {N} empty tests: off {off:.2f} s, forked {on:.2f} s -> {each * 1000:.0f} ms per test")
        try:
            import torch  # noqa: F401
        except ImportError:
            print("isolation, torch tests: torch not installed")
        else:
            off, on, each = per_test_overhead(TORCHY, N // 2, tmp)
            print(f"isolation, {N // 2} small torch tests: off {off:.2f} s, forked {on:.2f} s -> "
                  f"{each * 1000:.0f} ms per test")
        args = ["suites", "--torch-device=cpu", "--level=standard", f"--report-dir={tmp / 'std'}"]
        serial = timed(args, REPO)
        parallel = timed([*args, "-n", "2"], REPO)
        print(f"standard run (suites, --torch-device=cpu): serial {serial:.1f} s, -n 2 {parallel:.1f} s "
              f"({os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

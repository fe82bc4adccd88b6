"""Benchmark: the quick level against the bare torch import, the standard CPU run, and what
the report costs per test as results grow.

    python benchmarks/speed.py [--runs 5] [--skip-standard]

Prints figures; asserts nothing (speed targets are read, not enforced):
1. medians of `python -c "import torch; torch.cuda.is_available()"` and of the main command
   at `--level=quick`, run alternately so a busy machine slows both alike, and their ratio
   (the goal is at most 1.5);
2. `pytest suites --torch-device=cpu` at the standard level, once;
3. the report's cost per test at 100, 1 000 and 10 000 synthetic results: trivial tests run
   with the suite's plugins (report, records, redaction) and without them; the difference
   per test must stay flat as the count grows (linear writing).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TORCH_IMPORT = "import torch; torch.cuda.is_available()"
SIZES = (100, 1000, 10000)


def timed(args: list[str], cwd: Path = REPO, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 5):  # 5: nothing collected is not expected either, but is no crash
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-15:]
        raise SystemExit(f"speed: {' '.join(args)} exited {proc.returncode}:\n" + "\n".join(tail))
    return elapsed


def pytest_args(*extra: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra]


def quick_vs_import(runs: int, report_dir: Path) -> None:
    imports, quicks = [], []
    for _ in range(runs):
        imports.append(timed([sys.executable, "-c", TORCH_IMPORT]))
        quicks.append(timed(pytest_args("--level=quick", f"--report-dir={report_dir}")))
    t_import, t_quick = statistics.median(imports), statistics.median(quicks)
    print(f"torch import + cuda.is_available(): median {t_import:.2f} s of {runs} "
          f"({', '.join(f'{t:.2f}' for t in imports)})")
    print(f"pytest --level=quick:               median {t_quick:.2f} s of {runs} "
          f"({', '.join(f'{t:.2f}' for t in quicks)})")
    print(f"quick / torch import: {t_quick / t_import:.2f} (goal <= 1.5)")


def standard_cpu(report_dir: Path) -> None:
    elapsed = timed(pytest_args("suites", "--torch-device=cpu", "--level=standard", f"--report-dir={report_dir}"))
    print(f"pytest suites --torch-device=cpu --level=standard: {elapsed:.1f} s")


def report_cost(sizes: tuple[int, ...]) -> None:
    """Per-test cost of the suite's plugins (report, records, redaction, summary) over bare pytest."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    with tempfile.TemporaryDirectory(prefix="apu-speed-") as tmp:
        for n in sizes:
            runs = {}
            for name, conftest in (("bare", ""), ("suite", "from plugins import PLUGINS\npytest_plugins = list(PLUGINS)\n")):
                where = Path(tmp) / f"{name}-{n}"
                where.mkdir()
                (where / "conftest.py").write_text(conftest)
                (where / "test_many.py").write_text(
                    "import pytest\n\n@pytest.mark.parametrize('i', range(%d))\ndef test_one(i):\n    pass\n" % n)
                runs[name] = timed(pytest_args("-p", "no:html", "--isolation=off", f"--report-dir={where / 'r'}")
                                   if name == "suite" else pytest_args("-p", "no:html"), cwd=where, env=env)
            per_test = (runs["suite"] - runs["bare"]) / n * 1000
            print(f"{n:>6} results: suite plugins {runs['suite']:.2f} s, bare pytest {runs['bare']:.2f} s, "
                  f"report cost {per_test:.2f} ms per test")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each side for the medians (default 5)")
    parser.add_argument("--skip-standard", action="store_true", help="leave out the standard CPU run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="apu-speed-reports-") as reports:
        quick_vs_import(max(args.runs, 1), Path(reports))
        if not args.skip_standard:
            standard_cpu(Path(reports))
    report_cost(SIZES)


if __name__ == "__main__":
    main()

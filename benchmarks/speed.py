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
   per test must stay flat as the count grows (linear writing);
4. every text parser on 512 KiB and 2 MiB of real-looking junk (one long word, many
   words, a real capture repeated): the time may grow about 4x, not 16x (no parser above
   linear time; shlex, which was quadratic on a long word, is no longer used).
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
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TORCH_IMPORT = "import torch; torch.cuda.is_available()"
SIZES = (100, 1000, 10000)
NOISE = 0.02  # CPU seconds: parser times below this are not compared


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


def parser_scaling() -> None:
    """Each parser's time on 512 KiB and 2 MiB inputs; a ratio near 4 is linear."""
    sys.path.insert(0, str(REPO))
    from fixtures.parsers.cmdline import parse_cmdline_module_params
    from fixtures.parsers.keyvalue import parse_keyvalue
    from fixtures.parsers.meminfo import parse_meminfo
    from fixtures.parsers.modprobe import parse_modprobe_conf
    from fixtures.parsers.ollama import parse_api_ps, parse_ollama_log, parse_ps_table
    from fixtures.parsers.properties import parse_properties
    from fixtures.parsers.rocminfo import parse_rocminfo
    from fixtures.parsers.systemd import parse_environment
    from fixtures.versions import parse_kernel_release, parse_version

    captures = sorted((REPO / "tests" / "data" / "captures").glob("*.txt"))
    sample = "".join(p.read_text(errors="replace") for p in captures)
    shapes = {"long word": lambda n: "a" * n, "words": lambda n: ("ttm.pages_limit=1 " * n)[:n],
              "quoted": lambda n: ('"' + "\\x" * n)[:n], "captures": lambda n: (sample * (n // len(sample) + 1))[:n],
              "continued": lambda n: ("options ttm x=1 \\\n" * n)[:n]}
    parsers = {"cmdline": parse_cmdline_module_params, "uevent": parse_keyvalue, "meminfo": parse_meminfo,
               "modprobe.d": lambda t: parse_modprobe_conf("/etc/modprobe.d/x.conf", t),
               "ollama log": parse_ollama_log, "ollama /api/ps": parse_api_ps, "ollama ps": parse_ps_table,
               "KFD properties": parse_properties, "rocminfo": parse_rocminfo,
               "systemd unit": lambda t: parse_environment("[Service]\nEnvironment=" + t),
               "kernel release": parse_kernel_release, "version": parse_version}
    worst = ("", 0.0)
    for name, parse in parsers.items():
        slowest, ratios = 0.0, []
        for shape in shapes.values():
            small, big = (_best_of(parse, shape(n)) for n in (512 * 1024, 2048 * 1024))
            slowest = max(slowest, big)
            if big >= NOISE:  # below that, timer and scheduler noise make the ratio meaningless
                ratios.append(big / max(small, 1e-6))
        growth = f"up to {max(ratios):.1f}x" if ratios else f"every input under {NOISE * 1000:.0f} ms"
        worst = max(worst, (name, max(ratios, default=0.0)), key=lambda w: w[1])
        print(f"parser {name:<15} 2 MiB: slowest {slowest:.3f} s; 2 MiB / 512 KiB time: {growth}")
    print(f"worst growth: {worst[0]} {worst[1]:.1f}x for 4x the input (linear is about 4, quadratic 16)")


def _best_of(parse: Any, text: str, runs: int = 2) -> float:
    """Best CPU time of `runs` (process time: other load on the machine does not count)."""
    times = []
    for _ in range(runs):
        start = time.process_time()
        parse(text)
        times.append(time.process_time() - start)
    return min(times)


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
    parser_scaling()


if __name__ == "__main__":
    main()

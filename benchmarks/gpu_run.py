"""The device-generic suites on a real GPU, in one prepared run (issue 11, part 8).

    python benchmarks/gpu_run.py [--runs 3] [--out docs/gpu-runs.md]

Meant for a lent GPU machine (CUDA stands in for ROCm: torch exposes both as `cuda`).
Prints and appends to --out:
1. the device and torch build;
2. whether a forked child can initialise the GPU after the parent imported torch (the
   suite's isolation path), and what happens when the parent initialised it first (the trap);
3. the per-test cost of isolation on the GPU: a fresh child's first GPU work, against a
   long-lived child that would pay it once;
4. the suite's matmul TFLOP/s and copy GB/s against torch.utils.benchmark on the same ops;
5. `pytest suites/torch suites/hf suites/onnxruntime --torch-device=cuda` N times: outcomes
   per run (the goal on a healthy GPU: zero failures in every run).
Asserts nothing; the figures are for a person to read.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

FORK_PROBE = """
import os, sys, torch
def child():
    try:
        x = torch.ones(1024, device="cuda"); ok = float((x * 2).sum()) == 2048.0
        os._exit(0 if ok else 3)
    except Exception as exc:
        print(f"child: {type(exc).__name__}: {str(exc).splitlines()[0]}", file=sys.stderr); os._exit(4)
if sys.argv[1] == "init-first":
    torch.ones(1, device="cuda")
pid = os.fork()
if pid == 0:
    child()
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status))
"""


def line(out: list[str], text: str) -> None:
    print(text, flush=True)
    out.append(text)


def fork_after_import(out: list[str]) -> None:
    for mode, meaning in (("import-only", "parent imported torch, child initialises the GPU (the suite's path)"),
                          ("init-first", "parent initialised the GPU before forking (the known trap)")):
        proc = subprocess.run([sys.executable, "-c", FORK_PROBE, mode], capture_output=True, text=True, timeout=300)
        code = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else f"rc {proc.returncode}"
        verdict = "child ran a kernel" if code == "0" else f"child failed (exit {code}) {proc.stderr.strip()[-200:]}"
        line(out, f"- fork, {meaning}: {verdict}")


def isolation_cost(out: list[str], n: int = 10) -> None:
    """A fresh child's first GPU op (context creation) per test, against one long-lived child."""
    import torch

    times = []
    for _ in range(n):
        r, w = os.pipe()
        start = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            torch.ones(1, device="cuda").sum().item()
            os.write(w, b"x")
            os._exit(0)
        os.read(r, 1)
        os.waitpid(pid, 0)
        times.append(time.perf_counter() - start)
        os.close(r), os.close(w)
    first = statistics.median(times)
    torch.ones(1, device="cuda").sum().item()  # this process's own first op: context creation, not timed
    start = time.perf_counter()
    for _ in range(n):
        torch.ones(1, device="cuda").sum().item()  # what a long-lived child pays per test after its first
    warm = (time.perf_counter() - start) / n
    line(out, f"- isolation per test on the GPU: fork + first GPU op {first * 1000:.0f} ms (median of {n}); "
              f"a long-lived child would pay that once and then {warm * 1000:.2f} ms per test")


def throughput(out: list[str]) -> None:
    import torch
    import torch.utils.benchmark as tb

    from suites.torch.throughput import copy_gbps, matmul_tflops

    for dtype, n in (("float32", 4096), ("float16", 4096), ("bfloat16", 4096)):
        ours, _, *_ = matmul_tflops(torch, "cuda", dtype, n, 15)
        a = torch.randn(n, n, device="cuda", dtype=getattr(torch, dtype))
        b = torch.randn(n, n, device="cuda", dtype=getattr(torch, dtype))
        m = tb.Timer("a @ b", globals={"a": a, "b": b}).blocked_autorange(min_run_time=1.0)
        ref = 2 * n**3 / m.median / 1e12
        line(out, f"- matmul {dtype} {n}^3: suite {ours:.1f} TFLOP/s, torch.utils.benchmark {ref:.1f} TFLOP/s "
                  f"({(ours / ref - 1) * 100:+.1f} %)")
    nbytes = 1 << 30
    ours, _ = copy_gbps(torch, "cuda", nbytes, 15)
    src = torch.empty(nbytes // 4, device="cuda")
    dst = torch.empty_like(src)
    m = tb.Timer("dst.copy_(src)", globals={"src": src, "dst": dst}).blocked_autorange(min_run_time=1.0)
    ref = 2 * nbytes / m.median / 1e9
    line(out, f"- copy 1 GiB: suite {ours:.0f} GB/s, torch.utils.benchmark {ref:.0f} GB/s ({(ours / ref - 1) * 100:+.1f} %)")


def suite_runs(out: list[str], runs: int) -> None:
    for i in range(runs):
        with tempfile.TemporaryDirectory(prefix="apu-gpu-") as tmp:
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "pytest", "suites/torch", "suites/hf", "suites/onnxruntime",
                                   "--torch-device=cuda", "--level=standard", f"--report-dir={tmp}", "-q",
                                   "-p", "no:cacheprovider"], cwd=REPO, capture_output=True, text=True)
            elapsed = time.perf_counter() - start
            docs = list(Path(tmp).glob("*.json"))
            outcomes: dict[str, int] = {}
            failures = []
            if docs:
                for rec in json.loads(docs[0].read_text())["results"]:
                    outcomes[rec["outcome"]] = outcomes.get(rec["outcome"], 0) + 1
                    if rec["outcome"] not in ("passed", "skipped", "xfailed"):
                        failures.append(f"{rec['nodeid']}: {(rec.get('message') or '').splitlines()[:1]}")
            line(out, f"- run {i + 1}: exit {proc.returncode} in {elapsed:.0f} s: "
                      + ", ".join(f"{n} {o}" for o, n in sorted(outcomes.items())))
            for failure in failures[:10]:
                line(out, f"  - {failure}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", default=str(REPO / "docs" / "gpu-runs.md"))
    args = parser.parse_args()
    import torch

    if not torch.cuda.is_available():
        raise SystemExit("gpu_run: torch.cuda.is_available() is False: run this on a machine with a GPU")
    out: list[str] = []
    line(out, f"## {time.strftime('%Y-%m-%d')}: {torch.cuda.get_device_name(0)}, torch {torch.__version__} "
              f"(CUDA {torch.version.cuda}, HIP {torch.version.hip})")
    fork_after_import(out)
    isolation_cost(out)
    throughput(out)
    suite_runs(out, args.runs)
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fh.write("\n".join(out) + "\n\n")
    print(f"appended to {path}")


if __name__ == "__main__":
    main()

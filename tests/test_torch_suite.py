"""suites/torch end to end on the CPU build: green as it is, and red where a fault is
injected (a 1e-2 relative error in float32 matmul, a flipped softmax element, ...).

These runs are subprocesses: an in-process pytester run unloads the torch submodules it
imported, and torch cannot register its operator libraries a second time."""

from __future__ import annotations


import pytest

from tests.helpers import REPO, load_report

pytest.importorskip("torch")


def run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict]:
    reports = pytester.path / "reports"
    result = pytester.runpytest_subprocess(str(REPO / "suites" / "torch"), "--torch-device=cpu",
                                          f"--report-dir={reports}", "-p", "no:cacheprovider", *args)
    return result, load_report(reports)


def by_test(doc: dict) -> dict[str, dict]:
    return {r["nodeid"].split("::")[-1]: r for r in doc["results"]}


def test_suite_is_green_on_the_cpu(pytester):
    result, doc = run(pytester, "--level=quick")
    assert result.ret == 0, result.stdout.str()[-3000:]
    parity = [r for r in doc["results"] if "test_parity[" in r["nodeid"]]
    assert len(parity) >= 100 and all(r["outcome"] == "passed" for r in parity)
    examples = sum(r["measurements"]["examples"] for r in parity)
    print(f"parity: {len(parity)} op/dtype cases, {examples} examples")
    assert examples >= 2 * len(parity)


def test_matmul_relative_error_is_caught(pytester):
    result, doc = run(pytester, "-k", "matmul-float32 or matmul-float16 or (throughput and float32)",
                      "--inject-fault=matmul:float32:rel=1e-2")
    tests = by_test(doc)
    bad = tests["test_parity[matmul-float32]"]
    assert bad["outcome"] == "failed"
    for words in ("matmul float32 on the device differs from the CPU (float64)", "worst element",
                  "max abs err", "max rel err 0.01", "tolerance: atol 1e-05, rtol 1.3e-06", "Falsifying example"):
        assert words in bad["message"], bad["message"]
    assert tests["test_parity[matmul-float16]"]["outcome"] == "passed"  # the fault is float32's only
    assert tests["test_matmul_throughput[float32]"]["outcome"] == "failed"  # fast and wrong is caught too


def test_softmax_sign_flip_is_caught(pytester):
    _, doc = run(pytester, "-k", "softmax-float32", "--inject-fault=softmax:float32:flip")
    bad = by_test(doc)["test_parity[softmax-float32]"]
    assert bad["outcome"] == "failed" and "max rel err 2" in bad["message"]


def test_wrong_precision_path_is_caught(pytester):
    _, doc = run(pytester, "-k", "linear-float32", "--inject-fault=linear:float32:lowp=bfloat16")
    assert by_test(doc)["test_parity[linear-float32]"]["outcome"] == "failed"


def test_training_fault_is_caught(pytester):
    _, doc = run(pytester, "-k", "training", "--inject-fault=training:float32:rel=1e-2")
    assert {r["outcome"] for r in doc["results"]} == {"failed"}
    assert "device loss" in doc["results"][0]["verdict"]["found"]


@pytest.mark.parametrize("spec, words", [
    ("matmul:float32", "expected OP:DTYPE:FAULT"),
    ("nosuchop:float32:flip", "unknown op 'nosuchop'"),
    ("matmul:float8:flip", "unknown dtype 'float8'"),
    ("matmul:float32:rel=lots", "rel needs a number"),
])
def test_bad_fault_specs_are_usage_errors(pytester, spec, words):
    pytester.makeconftest("from plugins import PLUGINS\npytest_plugins = list(PLUGINS)\n")
    result = pytester.runpytest_inprocess(f"--inject-fault={spec}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert words in result.stderr.str()

"""Isolation: a test that segfaults, aborts, hangs or is killed for memory is recorded as
crashed/timeout with what it was doing, the run goes on and the report stays valid; a
parallel run gives the same report as a serial one."""

from __future__ import annotations

import json

import pytest

from tests.helpers import MACHINES, PLUGINS_CONFTEST, REPO, load_report

DANGEROUS = '''
import ctypes, os, signal, time
import pytest

def test_passes():
    pass

def test_segfault():
    ctypes.string_at(0)

def test_abort():
    os.abort()

def test_hang():
    time.sleep(60)

def test_killed_like_oom():
    os.kill(os.getpid(), signal.SIGKILL)

def test_memory_limit():
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))  # only this test's child is limited
    blocks = [bytearray(1 << 26) for _ in range(64)]  # 4 GiB

@pytest.mark.parametrize("size", [3])
def test_fails(size):
    assert size == 4

def test_after_all_that():
    pass
'''


@pytest.fixture(autouse=True)
def repo_on_path(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(REPO))


def run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict]:
    pytester.makeconftest(PLUGINS_CONFTEST)
    pytester.makepyfile(test_danger=DANGEROUS)
    result = pytester.runpytest_subprocess("--isolation=all", "--test-timeout=8", "-p", "no:cacheprovider", *args)
    return result, load_report((pytester.path / "reports"))


def test_crashes_and_hangs_are_results(pytester):
    result, doc = run(pytester)
    got = {r["nodeid"].split("::")[-1]: r for r in doc["results"]}
    assert {k: v["outcome"] for k, v in got.items()} == {
        "test_passes": "passed", "test_segfault": "crashed", "test_abort": "crashed", "test_hang": "timeout",
        "test_killed_like_oom": "crashed", "test_memory_limit": "failed", "test_fails[3]": "failed",
        "test_after_all_that": "passed"}
    assert "MemoryError" in got["test_memory_limit"]["message"]
    assert "killed by SIGSEGV" in got["test_segfault"]["message"] and "test_segfault" in got["test_segfault"]["message"]
    assert "killed by SIGABRT" in got["test_abort"]["message"]
    assert "did not finish within 8 s" in got["test_hang"]["message"]
    assert "Python stack" in got["test_segfault"]["message"] and "in test_segfault" in got["test_segfault"]["message"]
    assert "in test_hang" in got["test_hang"]["message"]
    assert "OOM killer" in got["test_killed_like_oom"]["message"]
    assert doc["status"] == "complete" and doc["areas"]["other"]["verdict"] == "broken"
    from tests.test_report import validate

    validate(doc)
    out = result.stdout.str()
    assert "crashed" in out and "timeout" in out


def test_parameters_are_named(pytester):
    pytester.makeconftest(PLUGINS_CONFTEST)
    pytester.makepyfile(test_p="import os, pytest\n@pytest.mark.parametrize('dtype', ['float16'])\n"
                               "def test_x(dtype):\n    os.abort()\n")
    pytester.runpytest_subprocess("--isolation=all", "-p", "no:cacheprovider")
    (path,) = (pytester.path / "reports").glob("*.json")
    (rec,) = json.loads(path.read_text())["results"]
    assert "(parameters {'dtype': 'float16'})" in rec["message"]


def strip(doc: dict) -> list[tuple]:
    return sorted((r["nodeid"], r["outcome"], json.dumps(r["verdict"], sort_keys=True), json.dumps(r["measurements"],
                   sort_keys=True)) for r in doc["results"])


def test_parallel_and_serial_runs_give_the_same_report(pytester):
    def kernel_run(*args: str) -> dict:
        out = pytester.path / f"r{len(args)}"
        pytester.runpytest_subprocess(str(REPO / "suites" / "kernel"), str(REPO / "suites" / "ollama"),
                                      f"--sysroot={MACHINES / '780m-no-render-group'}", f"--report-dir={out}",
                                      "-p", "no:cacheprovider", *args)
        return load_report(out)

    serial, parallel = kernel_run(), kernel_run("-n", "2")
    assert strip(serial) == strip(parallel)
    assert serial["areas"] == parallel["areas"]


def test_gpu_tests_are_grouped_on_one_worker(pytester):
    from plugins.isolation import group_gpu_tests

    class Item:
        def __init__(self, fixtures):
            self.fixturenames, self.marks = fixtures, []

        def add_marker(self, mark):
            self.marks.append(mark)

    gpu, cpu = Item(["torch_module", "check"]), Item(["system", "check"])
    group_gpu_tests([gpu, cpu])
    assert [m.mark.kwargs or m.mark.args for m in gpu.marks] == [("gpu",)] and cpu.marks == []
    on_cpu, server = Item(["torch_module"]), Item(["ollama"])
    group_gpu_tests([on_cpu, server], cpu_device=True)
    assert on_cpu.marks == [] and len(server.marks) == 1  # the ollama server still drives the GPU


def test_isolated_and_plain_tests_mix_across_modules(pytester):
    """Plain tests keep their fixtures in the parent; isolated ones run in children; in any order."""
    pytester.makeconftest(PLUGINS_CONFTEST + GPU_ORT + "\nimport pytest\n\n@pytest.fixture(scope='module')\n"
                          "def module_thing():\n    yield 1\n\n@pytest.fixture\ndef ort():\n    return 'gpu'\n")
    pytester.makepyfile(test_a="def test_plain(module_thing):\n    pass\n\ndef test_gpu(ort):\n    pass\n",
                        test_b="def test_gpu_first(ort):\n    pass\n\ndef test_plain_b(module_thing):\n    pass\n",
                        test_c="def test_plain_c(module_thing):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)


# A simulated ONNX Runtime with a GPU provider (this machine's has none), for the isolation decision.
GPU_ORT = "import plugins.isolation\nplugins.isolation.ort_gpu_providers = lambda: ('MIGraphXExecutionProvider',)\n"

DECISIONS = """
import json, os
import pytest
from plugins.isolation import should_isolate

PARENT = os.getpid()

@pytest.fixture
def ort():
    return os.getpid()

@pytest.fixture
def torch_module():
    return os.getpid()

def pytest_collection_finish(session):
    decided = {item.name: should_isolate(item) for item in session.items}
    (session.config.rootpath / "decided.json").write_text(json.dumps(decided))
"""

DECIDED_TESTS = """
import os
import pytest
from conftest import PARENT

def test_gpu_ort(ort):
    assert os.getpid() != PARENT  # forked

def test_cpu_only_torch(torch_module):
    assert os.getpid() == PARENT  # this machine's torch is a CPU-only build: nothing to protect

@pytest.mark.skip(reason="skipped by its marker")
def test_marked_skip(ort):
    pass

@pytest.mark.requires("amd_gpu")
def test_unmet_requirement(ort):
    pass

@pytest.mark.skipif("True", reason="condition")
def test_skipif(ort):
    pass

def test_plain():
    assert os.getpid() == PARENT
"""


def test_isolation_is_decided_before_forking(pytester):
    """Only a test that will drive the GPU in-process forks; one that will skip (its markers) or
    whose torch can only use the CPU runs in the parent, as with --torch-device=cpu."""
    pytester.makeconftest(PLUGINS_CONFTEST + GPU_ORT + DECISIONS)
    pytester.makepyfile(test_decided=DECIDED_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, skipped=3)
    assert json.loads((pytester.path / "decided.json").read_text()) == {
        "test_gpu_ort": True, "test_cpu_only_torch": False, "test_marked_skip": False,
        "test_unmet_requirement": False, "test_skipif": False, "test_plain": False}
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--torch-device=cpu", "-k", "gpu_ort")
    assert json.loads((pytester.path / "decided.json").read_text())["test_gpu_ort"] is False
    result.assert_outcomes(failed=1)  # not forked: the assertion that it was fails


def test_parallel_torch_run_sends_its_versions(pytester):
    pytest.importorskip("torch")
    out = pytester.path / "r"
    result = pytester.runpytest_subprocess(str(REPO / "suites" / "torch"), "--torch-device=cpu", "-n", "2",
                                           "-k", "first_kernel_launch or memory_visible", f"--report-dir={out}",
                                           "-p", "no:cacheprovider")
    assert "INTERNALERROR" not in result.stdout.str() and result.ret == 0
    (path,) = out.glob("*.json")
    assert json.loads(path.read_text())["versions"]["torch"].startswith("2.")

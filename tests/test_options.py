"""Every option the suite adds, given junk: one usage line naming the option, exit code 4,
never a traceback or INTERNALERROR.  A new option without a junk case here fails
`test_every_option_has_a_junk_case`."""

from __future__ import annotations

import os

import pytest

from tests.helpers import MACHINES, PLUGINS_CONFTEST

# option -> junk values (each run on its own) and words the one line must hold
JUNK: dict[str, list[tuple[str, str]]] = {
    "--apu": [("gfx9999", "unknown --apu target 'gfx9999'"), ("💥", "unknown --apu target")],
    "--rocm": [(">>6", "not a version specifier")],
    "--sysroot": [("/nonexistent/machine", "not a directory")],
    "--min-gtt": [("lots", "cannot read 'lots' as a size"), ("-5G", "cannot read '-5G'")],
    "--level": [("extreme", "--level 'extreme': not one of quick, standard, full")],
    "--report-dir": [("{file}", "is a file, not a directory"), ("{file}/sub", "is a file, not a directory"),
                     ("/proc/1/reports", "cannot write there"), ("", "give a directory")],
    "--torch-device": [("banana", "give auto, cpu, cuda or cuda:N"), ("cuda:x", "give auto, cpu, cuda")],
    "--hf-model": [("./no/such/folder", "no such folder"), ("not a model id!", "not a model folder nor a model id")],
    "--ollama-url": [("::junk", "give an http(s) URL"), ("http://127.0.0.1:99999", "not a URL"),
                     ("ftp://host", "give an http(s) URL"), ("http://", "give an http(s) URL")],
    "--ollama-model": [("two words", "not a valid name"), ("", "not a valid name")],
    "--ollama-log": [("/no/such/ollama.log", "no such readable file")],
    "--ollama-timeout": [("soon", "not a number of seconds"), ("0", "above zero"), ("-3", "above zero"),
                         ("nan", "above zero"), ("inf", "above zero")],
    "--docker-image": [("Not An Image!", "not a valid name"), ("rocm/ROCM", "not a valid name")],
    "--inject-fault": [("matmul", "expected OP:DTYPE:FAULT"), ("nope:float32:flip", "unknown op 'nope'")],
    "--isolation": [("maybe", "--isolation 'maybe': not one of auto, all, off")],
    "--test-timeout": [("-1", "above zero"), ("0", "above zero"), ("never", "not a number of seconds"),
                       ("nan", "above zero")],
    "--baseline": [("/no/such/report.json", "no such file"), ("{file}", "not JSON")],
    "--html": [("/proc/1/log.html", "cannot write there"), ("{file}/log.html", "is a file, not a directory")],
}
FLAGS = {"--no-redact", "--hf-online", "--ollama-spawn", "--docker-pull", "--live"}
CASES = [(option, value, words) for option, cases in JUNK.items() for value, words in cases]


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(PLUGINS_CONFTEST)
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    (pytester.path / "afile").write_text("not a directory")
    return pytester


@pytest.mark.parametrize("option, value, words", CASES, ids=[f"{o}={v}" for o, v, _ in CASES])
def test_junk_is_one_usage_line(suite, option, value, words):
    value = value.replace("{file}", str(suite.path / "afile"))
    result = suite.runpytest_inprocess(f"{option}={value}", f"--sysroot={MACHINES / '780m-good'}"
                                       if option != "--sysroot" else "-q", "-p", "no:cacheprovider")
    out = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR, out
    lines = [line for line in result.errlines + result.outlines if line.startswith("ERROR")]
    assert len(lines) == 1 and words in lines[0], out
    assert "Traceback" not in out and "INTERNALERROR" not in out
    assert not (suite.path / "reports").exists()  # nothing ran, nothing was written


def test_unwritable_directory_when_not_root(suite):
    if os.geteuid() == 0:
        pytest.skip("root writes into a read-only directory anyway (the /proc case covers root)")
    locked = suite.path / "locked"
    locked.mkdir(mode=0o500)
    result = suite.runpytest_inprocess(f"--report-dir={locked / 'r'}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR and "cannot write there" in result.stderr.str()


def test_good_values_pass(suite):
    log = suite.path / "ollama.log"
    log.write_text("")
    result = suite.runpytest_inprocess(
        "--ollama-url=http://alice:pw@127.0.0.1:11434", "--ollama-timeout=2.5", "--ollama-model=qwen2.5:0.5b",
        f"--ollama-log={log}", "--docker-image=docker.io/rocm/dev-ubuntu-22.04:6.2.4", "--isolation=off",
        "--test-timeout=30", "--torch-device=cuda:1", "--hf-model=sentence-transformers/all-MiniLM-L6-v2",
        "--level=quick", f"--report-dir={suite.path / 'new' / 'dir'}", "-p", "no:cacheprovider")
    assert result.ret == 0, result.stdout.str()
    assert list((suite.path / "new" / "dir").glob("*.json"))


def test_every_option_has_a_junk_case(pytester):
    pytester.makeconftest(PLUGINS_CONFTEST)
    config = pytester.parseconfig()
    group = next(g for g in config._parser._groups if g.name == "apu")
    options = {name for opt in group.options for name in opt.names() if name.startswith("--")}
    assert options - FLAGS - set(JUNK) == set()
    flags = {name for opt in group.options for name in opt.names() if opt.attrs().get("action") == "store_true"}
    assert flags == FLAGS

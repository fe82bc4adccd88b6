"""suites/ollama against the simulated server's scenarios, the fake `ollama serve`, and
recorded service set-ups; plus the log/ps parsers on real captures."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from fixtures.parsers.ollama import parse_api_ps, parse_ollama_log, parse_ps_table, processor_text
from fixtures.parsers.systemd import parse_environment
from tests.helpers import MACHINES, REPO, capture_body, load_report
from tests.ollama_sim import SimulatedOllama

SEED_OVERRIDE = """[Service]
Environment="HSA_OVERRIDE_GFX_VERSION=11.0.0" # 780m
Environment="OLLAMA_MAX_LOADED_MODELS=1"
Environment="OLLAMA_NUM_PARALLEL=1"
"""
UNIT = "[Unit]\nDescription=Ollama Service\n[Service]\nExecStart=/usr/local/bin/ollama serve\nEnvironment=\"PATH=/usr/bin\"\n"


def run(pytester: pytest.Pytester, *args: str, machine: str | Path = "780m-good") -> tuple[pytest.RunResult, dict]:
    reports = pytester.path / f"reports-{len(list(pytester.path.glob('reports-*')))}"
    root = machine if isinstance(machine, Path) else MACHINES / machine
    result = pytester.runpytest_inprocess(str(REPO / "suites" / "ollama"), f"--sysroot={root}",
                                          f"--report-dir={reports}", "-p", "no:cacheprovider", *args)
    return result, load_report(reports)


def by_test(doc: dict) -> dict[str, dict]:
    return {r["nodeid"].split("::")[-1]: r for r in doc["results"]}


def test_gtt_aware_server_passes(pytester):
    with SimulatedOllama("gtt") as sim:
        result, doc = run(pytester, f"--ollama-url={sim.url}")
    t = by_test(doc)
    assert t["test_model_fully_on_gpu"]["outcome"] == "passed"
    assert "ollama ps: 100% GPU" in t["test_model_fully_on_gpu"]["verdict"]["found"]
    # the simulator says 0.6.6, inside ollama-5471's range (<0.14.0): the pass is flagged
    assert t["test_model_fully_on_gpu"]["known_issue_not_reproduced"] == ["ollama-5471"]
    speed = t["test_generation_speed"]["measurements"]
    assert speed["tokens_per_s"] == 20.0 and speed["bound_tokens_per_s"] == pytest.approx(68.92, rel=1e-3)
    assert doc["versions"]["ollama"] == "0.6.6"
    assert not sim.state.loaded  # left as found: the model this suite loaded was unloaded


def test_vram_only_server_fails_with_split_and_known_issue(pytester):
    with SimulatedOllama("vram-only") as sim:
        _, doc = run(pytester, f"--ollama-url={sim.url}")
    rec = by_test(doc)["test_model_fully_on_gpu"]
    assert rec["outcome"] == "xfailed"  # 0.6.6 on an APU: ollama#5471 covers it
    assert "ollama ps: 59%/41% CPU/GPU" in rec["verdict"]["found"]
    assert "about the VRAM carve-out" in rec["verdict"]["found"]
    assert "known issue ollama-5471" in rec["message"] and "github.com/ollama/ollama/issues/5471" in rec["message"]


def test_vram_only_split_outside_the_known_issue_fails_plainly(recorded, monkeypatch):
    """Where the table names no issue, the same split is a plain failure (no xfail, no link)."""
    from fixtures.parsers.ollama import LoadedModel
    from fixtures.target import resolve_target
    from suites.ollama import checks, diagnosis

    monkeypatch.setattr(checks, "known_issues", lambda: {})
    monkeypatch.setattr(diagnosis, "known_issues", lambda: {})
    profile = recorded("780m-good")
    loaded = LoadedModel("tinyllama:1.1b", 1_300_000_000, 512 * 1024**2, "59%/41% CPU/GPU")
    verdict, ids = checks.offload("tinyllama:1.1b", loaded, profile, resolve_target("auto", profile), "0.6.6")
    assert verdict.status == "fail" and ids == [] and "59%/41% CPU/GPU" in verdict.found and not verdict.link


@pytest.mark.parametrize("scenario, words", [
    ("error", "HTTP 500: llama runner process has terminated"),
    ("timeout", "did not answer within 1 s"),
])
def test_broken_servers_give_clear_messages(pytester, scenario, words):
    with SimulatedOllama(scenario) as sim:
        result, doc = run(pytester, f"--ollama-url={sim.url}", "--ollama-timeout=1")
    failing = [r for r in doc["results"] if r["outcome"] == "error"]
    assert failing and all(words in r["message"] for r in failing)
    assert "Traceback" not in result.stdout.str() and "INTERNALERROR" not in result.stdout.str()


def test_junk_answers_are_named(pytester):
    with SimulatedOllama("junk") as sim:
        _, doc = run(pytester, f"--ollama-url={sim.url}")
    messages = {r["message"] for r in doc["results"] if r["outcome"] == "skipped" and "model list" in r["message"]}
    assert messages and "not JSON: '<html>proxy login</html>'" in messages.pop()


def test_no_server_skips_with_the_url_tried(pytester):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result, doc = run(pytester, f"--ollama-url=http://127.0.0.1:{port}")
    assert result.ret == 0
    reasons = {r["message"] for r in doc["results"] if r["nodeid"].endswith(("server_version", "fully_on_gpu"))}
    assert reasons == {f"no ollama server: http://127.0.0.1:{port}/api/version could not be reached: ConnectionError"}


def test_spawned_fake_ollama_is_started_checked_and_stopped(pytester, monkeypatch):
    monkeypatch.setenv("PATH", f"{REPO / 'tests' / 'fake_bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("OLLAMA_SIM_SCENARIO", "vram-only")
    pidfile = pytester.path / "ollama.pid"
    monkeypatch.setenv("OLLAMA_SIM_PIDFILE", str(pidfile))
    _, doc = run(pytester, "--ollama-spawn")
    t = by_test(doc)
    assert t["test_server_log"]["outcome"] == "failed"
    assert "offloaded 3/23 layers to GPU" in t["test_server_log"]["verdict"]["found"]
    pid = int(pidfile.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # no orphan left
    (log,) = (pytester.path / "reports-0").glob("ollama-serve-*.log")
    assert "HSA_OVERRIDE_GFX_VERSION=11.0.0" in log.read_text()  # the arch table's override, as the seed sets it


def test_spawn_without_ollama_skips(pytester, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    _, doc = run(pytester, "--ollama-spawn")
    assert any("no ollama executable on PATH" in r["message"] for r in doc["results"])


def test_service_environment(pytester, derive):
    good = derive("780m-good", {"/etc/systemd/system/ollama.service": UNIT,
                                "/etc/systemd/system/ollama.service.d/override.conf": SEED_OVERRIDE})
    _, doc = run(pytester, "-k", "service", machine=good)
    assert by_test(doc)["test_service_environment"]["outcome"] == "passed"
    # ollama 0.12's ROCm build has no gfx1103 kernels (runtimes.toml): the service needs the override
    bare = derive("780m-good", {"/etc/systemd/system/ollama.service": UNIT}, {"ollama": {"version": "0.12.0"}})
    _, doc = run(pytester, "-k", "service", machine=bare)
    rec = by_test(doc)["test_service_environment"]
    assert rec["outcome"] == "failed" and "sudo systemctl edit ollama" in rec["verdict"]["remedy"]
    # ollama 0.25 carries gfx1103 kernels: the seed's override now forces gfx1100 code on them
    native = derive("780m-good", {"/etc/systemd/system/ollama.service": UNIT,
                                  "/etc/systemd/system/ollama.service.d/override.conf": SEED_OVERRIDE},
                    {"ollama": {"version": "0.25.0"}})
    _, doc = run(pytester, "-k", "service", machine=native)
    rec = by_test(doc)["test_service_environment"]
    assert rec["outcome"] == "failed" and "remove HSA_OVERRIDE_GFX_VERSION from ollama.service" in rec["verdict"]["remedy"]
    assert "ollama 0.25.0 is >=0.18.0,<0.31.2" in rec["verdict"]["found"]
    # without a version (no server to ask) and no override, the suite cannot tell, and says what to give
    unknown = derive("780m-good", {"/etc/systemd/system/ollama.service": UNIT})
    _, doc = run(pytester, "-k", "service", machine=unknown)
    rec = by_test(doc)["test_service_environment"]
    assert rec["outcome"] == "skipped" and "give --ollama-url" in rec["verdict"]["found"]
    _, doc = run(pytester, "-k", "service")
    assert by_test(doc)["test_service_environment"]["outcome"] == "skipped"


# -- parsers ------------------------------------------------------------------------------

@pytest.mark.parametrize("capture, offloaded, layers", [
    ("ollama-log-gfx1103-ollama12303b.txt", 0, 35),
    ("ollama-log-gfx1100-ollama11420.txt", 15, 49),
    ("ollama-log-dgpu-ollama12922.txt", 5, 67),
    ("ollama-log-gfx1151-rocm4909.txt", 37, 37),
    ("ollama-log-nvidia-ollama10823.txt", 49, 63),  # hard-wrapped by the poster
])
def test_offload_lines_of_every_format(capture, offloaded, layers):
    log = parse_ollama_log(capture_body(capture))
    assert (log.offloaded, log.layers) == (offloaded, layers)


def test_discovery_lines():
    assert parse_ollama_log(capture_body("ollama-log-gfx1103-ollama4099.txt")).unsupported == ("gfx1103",)
    assert "falling back to CPU" in parse_ollama_log(capture_body("ollama-log-apu-ollama2566.txt")).cpu_fallback
    two = parse_ollama_log(capture_body("ollama-log-gfx1151-override-rjmalagon34.txt")).devices
    assert [d["compute"] for d in two] == ["gfx1151", "gfx1151"] and two[1]["type"] == "iGPU"
    gpus = parse_ollama_log(capture_body("ollama-log-gfx1100-7900xt-ollama13002.txt")).gpus
    assert gpus == (("AMD Radeon RX 7900 XT", "gfx1100"),)
    cpu = parse_ollama_log(capture_body("ollama-log-cpuonly-ollama12903.txt")).devices
    assert cpu[0]["library"] == "cpu"


def test_ps_outputs():
    (row,) = parse_ps_table(capture_body("ollama-ps-gfx1030-ollama13569.txt"))
    assert row.processor == "100% CPU"
    (model,) = parse_api_ps(capture_body("ollama-ps-unknown-apijson-nirmato13.txt"))
    assert model.processor == "100% GPU" and model.gpu_fraction == 1.0
    (old,) = parse_api_ps('{"models": [{"name": "m", "size": 100}]}')  # old servers omit size_vram when 0
    assert old.processor == "100% CPU"
    assert parse_api_ps("<html>") is None and parse_api_ps('{"models": 3}') is None
    assert processor_text(1000, 410) == "59%/41% CPU/GPU"


@pytest.mark.parametrize("size, vram, text", [
    (1000, 875, "13%/87% CPU/GPU"),   # CPU 12.5 -> 13 (Go's math.Round; Python's round gives 12)
    (1000, 415, "59%/41% CPU/GPU"),   # CPU 58.5 -> 59
    (8, 1, "88%/12% CPU/GPU"),        # CPU 87.5 -> 88
    (200, 199, "1%/99% CPU/GPU"),     # CPU 0.5 -> 1: a sliver on the CPU shows
    (200, 1, "100%/0% CPU/GPU"),      # CPU 99.5 -> 100, as ollama prints it
    (1000, 0, "100% CPU"),
    (1000, 1000, "100% GPU"),
    (1000, 1001, "Unknown"),          # size_vram > size (the suite used to call this 100% GPU)
    (0, 5, "Unknown"),
    (0, 0, "100% CPU"),               # cmd.go tests size_vram == 0 first
])
def test_split_is_printed_as_ollama_prints_it(size, vram, text):
    """cmd/cmd.go (v0.32.15): CPU share = math.Round((size-size_vram)/size*100), GPU the rest."""
    assert processor_text(size, vram) == text


def test_systemd_environment_parsing():
    env = parse_environment(UNIT + SEED_OVERRIDE)
    assert env["HSA_OVERRIDE_GFX_VERSION"] == "11.0.0" and env["OLLAMA_NUM_PARALLEL"] == "1"
    assert parse_environment("[Service]\nEnvironment=A=1\nEnvironment=\nEnvironment=B=2\n") == {"B": "2"}


def test_ollama_checks_fail_where_they_should(recorded):
    from fixtures.parsers.ollama import OllamaLog
    from fixtures.target import resolve_target
    from suites.ollama import checks

    target = resolve_target("auto", recorded("780m-good"))
    assert checks.speed({"eval_count": 0}, None, target).status == "fail"
    assert checks.speed({"response": "hi"}, None, target).status == "fail"
    verdict, _ = checks.offload("m", None, recorded("780m-good"), target, "0.6.6")
    assert verdict.status == "fail" and "not listed" in verdict.found
    assert checks.server_log(OllamaLog(unsupported=("gfx1103",)), target).status == "fail"
    assert checks.server_log(OllamaLog(cpu_fallback="not enough vram available"), target).status == "fail"
    assert checks.server_log(OllamaLog(), target).status == "n/a"


@pytest.mark.parametrize("version, gfx, env, kept", [
    ("0.6.6", "gfx1103", {}, True),                               # no variable before 0.30.0
    ("0.30.0", "gfx1151", {}, False),                             # 0.30.0 keeps CUDA iGPUs only
    ("0.30.1", "gfx1151", {}, True),                              # 8060S by default from 0.30.1
    ("0.32.15", "gfx1103", {}, False),                            # a 780M needs the variable
    ("0.32.15", "gfx1103", {"OLLAMA_IGPU_ENABLE": "1"}, True),
    ("0.32.15", "gfx1103", {"OLLAMA_IGPU_ENABLE": "yes"}, True),  # unparsable counts as true (BoolWithDefault)
    ("0.32.15", "gfx1151", {"OLLAMA_IGPU_ENABLE": "0"}, False),   # explicit false drops even the default list
    ("0.32.15", "gfx1151", {"HSA_OVERRIDE_GFX_VERSION": "11.0.0"}, False),  # reported as gfx1100: not in the list
    ("0.32.15", "gfx1103", {"HSA_OVERRIDE_GFX_VERSION": "11.5.1"}, True),   # reported as gfx1151: kept
])
def test_igpu_policy_per_release(version, gfx, env, kept):
    from fixtures.knowledge.ollama_igpu import admission

    assert admission(version, gfx, env).kept is kept


# -- recorded machines of today's stack (fixtures/machines, made by make_machines.py) -------------

def test_780m_on_0_32_without_the_igpu_variable_fails_with_the_dropin(pytester):
    _, doc = run(pytester, machine="780m-ollama-0.32-igpu-dropped")
    t = by_test(doc)
    for name in ("test_service_igpu_enabled", "test_model_fully_on_gpu"):
        rec = t[name]
        assert rec["outcome"] == "failed", name
        assert "OLLAMA_IGPU_ENABLE=1" in rec["verdict"]["remedy"] and "ollama.service.d/apu-ollama-igpu-enable.conf" in rec["verdict"]["remedy"]
        (step,) = rec["verdict"]["fix"]
        assert step["group"] == "service-env" and step["restart"] == ["ollama"]
    assert "cause a:" in t["test_model_fully_on_gpu"]["verdict"]["found"]
    assert "ollama ps: 100% CPU" in t["test_model_fully_on_gpu"]["verdict"]["found"]
    (step, restart) = doc["fix_plan"]  # both failures share one drop-in step, then the restart
    assert step["edits"] == ["/etc/systemd/system/ollama.service.d/apu-ollama-igpu-enable.conf"]
    assert restart["commands"] == ["sudo systemctl daemon-reload", "sudo systemctl restart ollama"]


def test_780m_on_0_32_with_the_igpu_variable_passes(pytester):
    _, doc = run(pytester, machine="780m-ollama-0.32-igpu-enabled")
    t = by_test(doc)
    assert t["test_service_igpu_enabled"]["outcome"] == "passed"
    assert t["test_model_fully_on_gpu"]["outcome"] == "passed"
    assert doc["versions"]["ollama"] == "0.32.15"


def test_780m_on_0_6_is_the_5471_failure_with_the_fixed_release_named(pytester):
    _, doc = run(pytester, machine="780m-ollama-0.6")
    rec = by_test(doc)["test_model_fully_on_gpu"]
    assert rec["outcome"] == "xfailed" and "ollama-5471" in rec["message"]
    assert "cause b:" in rec["verdict"]["found"] and "upgrade ollama to 0.14.0 or later" in rec["verdict"]["remedy"]
    assert [s["group"] for s in rec["verdict"]["fix"]] == ["packages", "service-env"]


def test_server_log_failures_of_the_new_generations(recorded):
    from fixtures.parsers.ollama import OllamaLog
    from fixtures.target import resolve_target
    from suites.ollama import checks

    target = resolve_target("auto", recorded("780m-good"))
    dropped = checks.server_log(OllamaLog(dropped_igpus=({"library": "ROCm", "compute": "gfx1103"},)), target)
    assert dropped.status == "fail" and "OLLAMA_IGPU_ENABLE=1" in dropped.remedy
    crash = checks.server_log(OllamaLog(runtime_errors=("ROCm error: invalid device function",)), target)
    assert crash.status == "fail" and "HSA_OVERRIDE_GFX_VERSION=11.0.0" in crash.remedy
    oom = checks.server_log(OllamaLog(runtime_errors=("ROCm error: out of memory",)), target)
    assert oom.status == "fail"
    cpu_only = checks.server_log(OllamaLog(offloaded=0, weights=(("CPU", "6.8 GiB"),)), target)
    assert cpu_only.status == "fail" and "offloaded 0/?" in cpu_only.found
    found_only = checks.server_log(OllamaLog(gpus=(("AMD Radeon Graphics", "gfx1100"),)), target)
    assert found_only.status == "n/a" and "no offload line" in found_only.found


def test_spawn_sets_the_igpu_variable(pytester, monkeypatch):
    monkeypatch.setenv("PATH", f"{REPO / 'tests' / 'fake_bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("OLLAMA_SIM_SCENARIO", "gtt")
    monkeypatch.delenv("OLLAMA_IGPU_ENABLE", raising=False)
    _, doc = run(pytester, "--ollama-spawn", "-k", "igpu")
    rec = by_test(doc)["test_service_igpu_enabled"]
    assert rec["outcome"] == "passed"  # the sim says 0.6.6: no filter; the environment is the spawned one
    assert "the server --ollama-spawn started" in rec["verdict"]["found"]
    (log,) = (pytester.path / "reports-0").glob("ollama-serve-*.log")
    assert "OLLAMA_IGPU_ENABLE=1" in log.read_text()

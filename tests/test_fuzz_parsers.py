"""Every parser under hypothesis-generated garbage, with a stated number of examples:
no exception escapes.  The counts and time are printed (pytest -s shows them)."""

from __future__ import annotations

import json
import time
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures.machine import CommandResult
from fixtures.parsers.cmdline import parse_cmdline_module_params
from fixtures.parsers.keyvalue import parse_keyvalue
from fixtures.parsers.meminfo import parse_meminfo
from fixtures.parsers.modprobe import parse_modprobe_conf
from fixtures.parsers.numbers import parse_int
from fixtures.parsers.ollama import parse_api_ps, parse_ollama_log, parse_ps_table
from fixtures.parsers.properties import parse_properties
from fixtures.parsers.rocminfo import parse_rocminfo
from fixtures.parsers.systemd import parse_environment
from fixtures.versions import parse_kernel_release, parse_version
from suites.docker.checks import daemon, isolated, sees_gpu
from tests.helpers import capture_body

EXAMPLES = 400
TEXT = st.text(max_size=600)
# Real outputs cut at random places and spliced: closer to the garbage real files hold.
SEEDS = [capture_body(n) for n in ("rocminfo-gfx1103-rocm6273.txt", "ollama-log-gfx1151-rocm4909.txt",
                                   "sysfs-gfx902-fiji-amdgpu66.txt", "modprobe-gfx1151-rocm5853.txt")]
SPLICED = st.builds(lambda i, a, b: SEEDS[i % len(SEEDS)][a:a + b], st.integers(0, 3), st.integers(0, 4000),
                    st.integers(0, 800))
JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
                       lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                                    max_size=4), max_leaves=12)

PARSERS: dict[str, Callable[[str], Any]] = {
    "kernel release": parse_kernel_release, "version": parse_version, "sysfs integer": parse_int,
    "meminfo": parse_meminfo, "uevent": parse_keyvalue, "cmdline": parse_cmdline_module_params,
    "KFD properties": parse_properties, "rocminfo": parse_rocminfo, "systemd unit": parse_environment,
    "modprobe.d": lambda t: parse_modprobe_conf("/etc/modprobe.d/x.conf", t),
    "ollama log": parse_ollama_log, "ollama /api/ps": parse_api_ps, "ollama ps table": parse_ps_table,
    "docker rocminfo": lambda t: sees_gpu(CommandResult(("docker",), 0, t), _target(), "11.0.0"),
    "docker isolation": lambda t: isolated(CommandResult(("docker",), 1, t, t)),
}


def _target():
    from fixtures.target import Target

    return Target("gfx1103", "gfx1103", None, None, True, "fuzz")


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_parser_survives_garbage(name):
    parser = PARSERS[name]
    count = {"n": 0}

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(text=TEXT | SPLICED)
    def fuzz(text):
        count["n"] += 1
        parser(text)

    start = time.perf_counter()
    fuzz()
    print(f"{name}: {count['n']} examples in {time.perf_counter() - start:.2f} s, no exception")
    assert count["n"] >= EXAMPLES // 2


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None)
@given(data=JSONISH, stderr=st.text(max_size=200))
def test_docker_version_json_survives_junk(data, stderr):
    if isinstance(data, dict):
        data = {**data, "Server": {"Version": 1}, "Client": data.get("Client", 3)}  # reach the parsing branch
    verdict = daemon(data if isinstance(data, dict) else None, CommandResult(("docker",), 1, json.dumps(data), stderr))
    assert verdict.status in ("pass", "fail", "n/a")


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None)
@given(data=JSONISH)
def test_ollama_ps_json_survives_junk(data):
    parse_api_ps(json.dumps(data))

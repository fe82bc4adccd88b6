"""Every parser under hypothesis-generated garbage, with a stated number of examples:
no exception escapes.  The counts and time are printed (pytest -s shows them).  The number
is the fuzz profile's (tests/conftest.py: 400 in CI, 10 000 with --fuzz-profile=thorough);
inputs are random text, slices of real captures and real captures mutated in place."""

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
from tests.helpers import CAPTURES, capture_body

TEXT = st.text(max_size=600)
# Real outputs cut at random places: closer to the garbage real files hold.
SEEDS = [capture_body(p.name) for p in sorted(CAPTURES.glob("*.txt"))]
SPLICED = st.builds(lambda i, a, b: SEEDS[i % len(SEEDS)][a:a + b], st.integers(0, len(SEEDS) - 1),
                    st.integers(0, 4000), st.integers(0, 800))
# ... and mutated: characters replaced, lines dropped or repeated, bytes inserted.
EDITS = st.lists(st.tuples(st.sampled_from(("replace", "drop", "repeat", "insert")), st.integers(0, 1 << 16),
                           st.text(min_size=1, max_size=8)), min_size=1, max_size=6)


def mutate(text: str, edits: list[tuple[str, int, str]]) -> str:
    lines = text.splitlines(keepends=True) or [""]
    for kind, where, junk in edits:
        i = where % len(lines)
        if kind == "replace" and lines[i]:
            j = where % len(lines[i])
            lines[i] = lines[i][:j] + junk + lines[i][j + 1:]
        elif kind == "drop" and len(lines) > 1:
            del lines[i]
        elif kind == "repeat":
            lines.insert(i, lines[i])
        else:
            lines.insert(i, junk)
    return "".join(lines)


MUTATED = st.builds(lambda i, edits: mutate(SEEDS[i % len(SEEDS)], edits), st.integers(0, len(SEEDS) - 1), EDITS)
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

    @settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(text=TEXT | SPLICED | MUTATED)
    def fuzz(text):
        count["n"] += 1
        parser(text)

    start = time.perf_counter()
    fuzz()
    print(f"{name}: {count['n']} examples in {time.perf_counter() - start:.2f} s, no exception")
    assert count["n"] >= settings.default.max_examples // 2


@given(data=JSONISH, stderr=st.text(max_size=200))
def test_docker_version_json_survives_junk(data, stderr):
    if isinstance(data, dict):
        data = {**data, "Server": {"Version": 1}, "Client": data.get("Client", 3)}  # reach the parsing branch
    verdict = daemon(data if isinstance(data, dict) else None, CommandResult(("docker",), 1, json.dumps(data), stderr))
    assert verdict.status in ("pass", "fail", "n/a")


@given(data=JSONISH)
def test_ollama_ps_json_survives_junk(data):
    parse_api_ps(json.dumps(data))


@given(text=st.text(alphabet=" \t\n\\'\"=ab.", max_size=40))
def test_word_splitting_matches_shlex(text):
    """The linear splitter gives shlex's words (and whitespace splitting where shlex raises)."""
    import shlex

    from fixtures.parsers.words import split_words

    try:
        expected = shlex.split(text)
    except ValueError:
        expected = text.split()
    assert split_words(text) == expected

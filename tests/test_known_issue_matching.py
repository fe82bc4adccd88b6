"""Which configurations a known issue covers: archs, APU-only, kernel, versions, fixed_in."""

from __future__ import annotations

from dataclasses import replace

from packaging.version import Version

from fixtures.knowledge.matching import applies, component_versions
from fixtures.knowledge.tables import known_issues
from fixtures.target import resolve_target

BASE = known_issues()["linux-eb853413"]
ISSUE = replace(BASE, component="ollama", archs=("gfx11*",), apu_only=True, kernel="", affected=">=0.1.30",
                fixed_in="0.14.1")


def target(recorded, name):
    return resolve_target("auto", recorded(name))


def test_version_window(recorded):
    t = target(recorded, "780m-good")
    assert applies(ISSUE, t, {"ollama": Version("0.6.6")}).applies
    assert not applies(ISSUE, t, {"ollama": Version("0.1.2")}).applies
    fixed = applies(ISSUE, t, {"ollama": Version("0.15.0")})
    assert not fixed.applies and "has the fix" in fixed.why
    unknown = applies(ISSUE, t, {})
    assert not unknown.applies and "version unknown" in unknown.why


def test_arch_and_apu(recorded):
    assert not applies(ISSUE, target(recorded, "rx7900xtx"), {"ollama": Version("0.6.6")}).applies
    assert not applies(replace(ISSUE, archs=("gfx90c",)), target(recorded, "780m-good"),
                       {"ollama": Version("0.6.6")}).applies


def test_kernel_range(recorded):
    old = recorded("780m-kernel-6.8")
    assert applies(BASE, resolve_target("auto", old), component_versions(old, {})).applies
    good = recorded("780m-good")
    assert not applies(BASE, resolve_target("auto", good), component_versions(good, {})).applies


def test_component_versions_come_from_profile_and_fixtures(recorded):
    versions = component_versions(recorded("780m-good"), {"ollama": "0.12.9"})
    assert versions["kernel"] == Version("6.11.0") and versions["rocm"] == Version("6.2.4")
    assert versions["ollama"] == Version("0.12.9")

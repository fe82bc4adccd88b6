"""The torch decision of `python3 -m fixtures.provision`: never the CUDA default."""

from __future__ import annotations

import pytest

from fixtures.provision import TORCH_INDEX, plan_torch


def test_installed_torch_is_kept():
    plan = plan_torch("2.5.1+rocm6.2", kfd=True, host_rocm="6.2.4")
    assert plan.action == "keep" and "2.5.1+rocm6.2" in plan.why


def test_cpu_build_without_kfd():
    plan = plan_torch(None, kfd=False, host_rocm=None)
    assert plan.indexes == (f"{TORCH_INDEX}/cpu",)


@pytest.mark.parametrize("host, first", [("6.2.4-120", "rocm6.2.4"), ("6.3.2", "rocm6.3"), ("7.0.2", "rocm7.0"),
                                         ("9.9", "rocm7.1"), (None, "rocm7.1"), ("5.7.1", "rocm6.0")])
def test_rocm_build_nearest_to_the_host(host, first):
    plan = plan_torch(None, kfd=True, host_rocm=host)
    assert plan.action == "install" and plan.indexes[0] == f"{TORCH_INDEX}/{first}"
    assert all("/rocm" in i for i in plan.indexes)


def test_no_plan_ever_uses_pypi_default():
    for kfd in (True, False):
        for choice in ("auto", "cpu", "rocm", "keep", "skip"):
            plan = plan_torch(None, kfd=kfd, host_rocm="6.2", choice=choice)
            assert all(i.startswith(TORCH_INDEX) for i in plan.indexes)


def test_explicit_choices():
    assert plan_torch("2.6", kfd=True, host_rocm=None, choice="cpu").indexes == (f"{TORCH_INDEX}/cpu",)
    assert plan_torch(None, kfd=False, host_rocm=None, choice="keep").action == "skip"
    assert plan_torch(None, kfd=False, host_rocm=None, choice="skip").action == "skip"

"""Every op of the table in every dtype agrees with the CPU in float64.

Examples come from hypothesis (seeded and derandomised: the same run every time; the
count per case follows --level), plus fixed edge cases; a failure shrinks to the
smallest sizes that still fail and reports op, dtype, sizes, worst element, errors and
the tolerance.
"""

from __future__ import annotations

import pytest

from fixtures.verdict import failed, passed
from fixtures.versions import parse_version
from suites.torch.parity.faults import matching
from suites.torch.parity.inputs import edge_examples, examples
from suites.torch.parity.ops import OPS_BY_NAME, cases
from suites.torch.parity.runner import NotRepresentable, run_example

pytestmark = [pytest.mark.requires("torch"), pytest.mark.level("quick")]


@pytest.mark.parametrize("op_name, dtype", cases(), ids=[f"{o}-{d}" for o, d in cases()])
def test_parity(op_name, dtype, torch_module, torch_device, faults, examples_per_case, check):
    """the op on the device agrees with the CPU in float64."""
    from hypothesis import HealthCheck, given, reject, settings  # not at collection: it costs about 1 s

    op = OPS_BY_NAME[op_name]
    if op.min_version and parse_version(torch_module.__version__) < parse_version(op.min_version):
        pytest.skip(f"{op_name} needs torch >= {op.min_version}; found {torch_module.__version__}")
    fault = matching(faults, op_name, dtype)
    stats = {"examples": 0, "rejected": 0, "worst_nmse": 0.0}

    def one(example, drawn=True):
        try:
            outcome = run_example(op, dtype, example, torch_device, fault)
        except NotRepresentable:
            stats["rejected"] += 1
            if drawn:
                reject()
            return
        stats["examples"] += 1
        stats["worst_nmse"] = max(stats["worst_nmse"], outcome.worst_nmse)
        if not outcome.ok:
            raise AssertionError(outcome.message())  # not `assert`: no rewriting noise around the message

    @settings(max_examples=examples_per_case, derandomize=True, database=None, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
    @given(example=examples(op, dtype))
    def drawn(example):
        one(example)

    name = f"{op_name} in {dtype} on {torch_device} agrees with the CPU in float64"
    expected = "every example within tolerance (see suites/torch/parity/tolerance.py)"
    measurements: dict = {**stats, "injected_fault": str(fault) if fault else None}
    failure = None
    try:
        for example in edge_examples(op, dtype):
            one(example, drawn=False)
        drawn()
    except AssertionError as exc:  # hypothesis has shrunk it; its example is in the notes
        failure = f"{exc}\n" + "\n".join(getattr(exc, "__notes__", []))
    measurements.update(stats)
    if failure:
        check(failed(name, expected, failure.strip(), measurements=measurements,
                     why="wrong numbers on the GPU are silent: models give garbage without an error",
                     remedy=f"re-run this case alone (pytest -k '{op_name}-{dtype}'); report it with the example above"))
    check(passed(name, expected, f"{stats['examples']} examples passed ({stats['rejected']} rejected as not "
                 f"representable in {dtype}); worst NMSE {stats['worst_nmse']:.3g}", measurements=measurements))

"""Op-by-op numerical parity of the device under test against the CPU in float64.

ops.py       the data-driven op table (torch imported lazily inside each function)
tolerance.py per-dtype tolerances (PyTorch's assert_close defaults) and the comparison
inputs.py    hypothesis strategies: sizes, values, layouts; plus fixed edge cases
runner.py    one case: build inputs, run on both sides, forward and backward, compare
faults.py    injected faults (--inject-fault) that prove the comparison can fail
"""

"""Two small ONNX models made here, without a download: an MLP exported from torch, and
a graph written with onnx.helper (MatMul, Add, Relu, Softmax) in float32 or float16.
Each comes with its inputs and a float64 reference computed by torch from the same
weights, so a provider can be held to the CPU's numbers."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any

IN, HIDDEN, OUT, BATCH = 16, 32, 8, 5


@dataclass
class OnnxCase:
    name: str
    dtype: str
    model: bytes
    feeds: dict[str, Any]  # numpy arrays
    reference: Any  # torch float64 tensor
    k: int  # the longest reduction, for the tolerance


def exported_mlp(torch: Any, seed: int = 0) -> OnnxCase:
    """Linear-GELU-Linear exported with torch.onnx (the TorchScript exporter: needs only onnx)."""
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(IN, HIDDEN), torch.nn.GELU(), torch.nn.Linear(HIDDEN, OUT)).eval()
    x = torch.randn(BATCH, IN, generator=torch.Generator().manual_seed(seed + 1))
    buf = io.BytesIO()
    with warnings.catch_warnings():  # the torch.export-based exporter would need onnxscript as well
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(model, (x,), buf, dynamo=False, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "n"}})
    with torch.no_grad():
        reference = model.double()(x.double())
    return OnnxCase("torch-exported MLP", "float32", buf.getvalue(), {"x": x.numpy()}, reference, HIDDEN)


def helper_graph(torch: Any, dtype: str = "float32", seed: int = 0) -> OnnxCase:
    """softmax(relu(x @ W + b)) written node by node with onnx.helper."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    np_dtype = {"float32": np.float32, "float16": np.float16}[dtype]
    elem = {"float32": TensorProto.FLOAT, "float16": TensorProto.FLOAT16}[dtype]
    gen = torch.Generator().manual_seed(seed)
    w = (torch.randn(IN, OUT, generator=gen) * 0.5).numpy().astype(np_dtype)
    b = (torch.randn(OUT, generator=gen) * 0.1).numpy().astype(np_dtype)
    x = torch.randn(BATCH, IN, generator=gen).numpy().astype(np_dtype)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["xw"]), helper.make_node("Add", ["xw", "b"], ["z"]),
         helper.make_node("Relu", ["z"], ["r"]), helper.make_node("Softmax", ["r"], ["y"], axis=-1)],
        "apu_helper_graph",
        [helper.make_tensor_value_info("x", elem, ["n", IN])],
        [helper.make_tensor_value_info("y", elem, ["n", OUT])],
        initializer=[numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = min(model.ir_version, 9)
    onnx.checker.check_model(model)
    t = lambda a: torch.from_numpy(a.astype(np.float64))  # noqa: E731
    reference = torch.softmax(torch.relu(t(x) @ t(w) + t(b)), dim=-1)
    return OnnxCase(f"onnx.helper graph ({dtype})", dtype, model.SerializeToString(), {"x": x}, reference, IN)


def run(ort: Any, case: OnnxCase, provider: str) -> Any:
    """Outputs of one provider alone (no fallback to the CPU, so a GPU run is a GPU run)."""
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(case.model, sess_options=options, providers=[provider])
    used = session.get_providers()
    if provider not in used:
        raise RuntimeError(f"session fell back to {used}")
    return session.run(None, case.feeds)[0]

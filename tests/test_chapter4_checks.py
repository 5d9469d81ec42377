"""Chapter 4's planted model changes one weighted node, the divergence finder names it, and the check says so."""

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from onnx_crossings.checks import when_a_crossing_breaks as checks
from onnx_crossings.teaching import divergence


def three_layers() -> onnx.ModelProto:
    """x → Gemm → Relu → Gemm → Relu → Gemm: three weighted nodes, the last one never planted."""
    generator = np.random.default_rng(0)
    nodes, weights, source = [], [], "x"
    for layer in range(3):
        name = f"layer{layer}"
        weights.append(
            numpy_helper.from_array(
                generator.standard_normal((6, 6)).astype(np.float32), f"{name}.w"
            )
        )
        output = "y" if layer == 2 else f"{name}_out"
        nodes.append(helper.make_node("Gemm", [source, f"{name}.w"], [output], name=name, transB=1))
        if layer < 2:
            nodes.append(helper.make_node("Relu", [output], [f"{name}_relu"], name=f"{name}_relu"))
            source = f"{name}_relu"
    graph = helper.make_graph(
        nodes,
        "three",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 6])],
        initializer=weights,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=9)


@pytest.mark.parametrize("seed", range(6))
def test_the_planted_node_is_the_one_the_divergence_finder_names(seed):
    good = three_layers()
    planted = checks.planted_model(good, seed)
    changed = [
        before.name
        for before, after in zip(good.graph.initializer, planted.graph.initializer, strict=True)
        if not np.array_equal(numpy_helper.to_array(before), numpy_helper.to_array(after))
    ]
    assert len(changed) == 1 and changed[0] in ("layer0.w", "layer1.w")
    inputs = {"x": np.random.default_rng(1).standard_normal((16, 6)).astype(np.float32)}
    found = divergence.first_divergence(
        divergence.node_differences(
            planted,
            divergence.runtime_outputs(good, inputs),
            divergence.runtime_outputs(planted, inputs),
        )
    )
    assert found.node == changed[0].removesuffix(".w")
    assert "layer" in checks.planted_node_found(found.node, good, seed)


def test_a_wrong_node_is_refused_with_advice():
    good = three_layers()
    expected, _ = checks._planted_choice(good, 0)
    wrong = next(name for name in ("layer0", "layer1") if name != expected)
    with pytest.raises(AssertionError, match="first node over its tolerance"):
        checks.planted_node_found(wrong, good, 0)
    with pytest.raises(AssertionError, match="one of"):
        checks.planted_node_found("nowhere", good, 0)

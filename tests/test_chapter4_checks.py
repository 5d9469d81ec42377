"""Chapter 4's planted model changes two weighted nodes, and its check accepts exactly those two, in any order."""

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from onnx_crossings.checks import when_a_crossing_breaks as checks
from onnx_crossings.teaching import divergence

LAYERS = 4
INPUTS = np.random.default_rng(1).standard_normal((64, 6)).astype(np.float32)


def four_layers() -> onnx.ModelProto:
    """x → Gemm → Relu → ... → Gemm: four weighted nodes, the last one never planted."""
    generator = np.random.default_rng(0)
    nodes, weights, source = [], [], "x"
    for layer in range(LAYERS):
        name = f"layer{layer}"
        weights.append(
            numpy_helper.from_array(
                generator.standard_normal((6, 6)).astype(np.float32), f"{name}.w"
            )
        )
        output = "y" if layer == LAYERS - 1 else f"{name}_out"
        nodes.append(helper.make_node("Gemm", [source, f"{name}.w"], [output], name=name, transB=1))
        if layer < LAYERS - 1:
            nodes.append(helper.make_node("Relu", [output], [f"{name}_relu"], name=f"{name}_relu"))
            source = f"{name}_relu"
    graph = helper.make_graph(
        nodes,
        "four",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 6])],
        initializer=weights,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=9)


def changed_nodes(good: onnx.ModelProto, planted: onnx.ModelProto) -> list[str]:
    """The nodes whose weights differ between the two models, in graph order."""
    return [
        before.name.removesuffix(".w")
        for before, after in zip(good.graph.initializer, planted.graph.initializer, strict=True)
        if not np.array_equal(numpy_helper.to_array(before), numpy_helper.to_array(after))
    ]


@pytest.mark.parametrize("seed", range(6))
def test_two_weighted_nodes_are_planted_never_the_last(seed):
    good = four_layers()
    changed = changed_nodes(good, checks.planted_model(good, seed))
    assert len(changed) == 2 and set(changed) <= {"layer0", "layer1", "layer2"}
    assert changed == list(checks._planted_choice(good, seed))


def test_the_seed_picks_different_nodes():
    good = four_layers()
    picks = {tuple(changed_nodes(good, checks.planted_model(good, seed))) for seed in range(12)}
    assert len(picks) > 1


@pytest.mark.parametrize("seed", range(3))
def test_the_first_divergence_names_only_the_first_planted_node(seed):
    """Why the exercise needs thought: after the first changed node every tensor differs, the second hidden."""
    good = four_layers()
    planted = checks.planted_model(good, seed)
    first, second = changed_nodes(good, planted)
    differences = divergence.node_differences(
        planted,
        divergence.runtime_outputs(good, {"x": INPUTS}),
        divergence.runtime_outputs(planted, {"x": INPUTS}),
    )
    assert divergence.first_divergence(differences).node == first
    from_first = [d.node for d in differences][[d.node for d in differences].index(first) :]
    assert second in from_first and all(d.diverges for d in differences if d.node in from_first)


@pytest.mark.parametrize("seed", range(3))
def test_the_check_accepts_both_planted_nodes_in_any_order_and_any_container(seed):
    good = four_layers()
    first, second = changed_nodes(good, checks.planted_model(good, seed))
    for answer in ([first, second], (second, first), {first, second}, [first, second, first]):
        assert first in checks.planted_nodes_found(answer, good, seed, INPUTS)


def test_the_check_refuses_a_missing_node_an_unchanged_one_and_what_is_no_list_of_nodes():
    good = four_layers()
    first, second = changed_nodes(good, checks.planted_model(good, 0))
    unchanged = next(f"layer{k}" for k in range(LAYERS) if f"layer{k}" not in (first, second))
    with pytest.raises(AssertionError, match="a changed node is missing"):
        checks.planted_nodes_found([first], good, 0, INPUTS)
    with pytest.raises(AssertionError, match=f"{unchanged} was not changed"):
        checks.planted_nodes_found([first, second, unchanged], good, 0, INPUTS)
    for not_nodes in (None, first, [first, "nowhere"], ["layer0_out"]):
        with pytest.raises(AssertionError, match="a list of the changed nodes' names"):
            checks.planted_nodes_found(not_nodes, good, 0, INPUTS)

"""Chapter 2's checks on small made-up cases: the opset check's oracle, and every cheapest threshold accepted."""

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from onnx_crossings.checks import imdb_keras_to_pytorch as checks
from onnx_crossings.teaching import benchmark, graph

RTOL, ATOL = 1e-5, 1e-4  # chapter 2's parity tolerance, which the threshold check allows for

# six reviews, logits 0 to 5: a threshold between the first two costs 4 (the last review, a negative, called
# positive), one above them all costs 4 too (the four positives called negative), every other one more: two
# separate ranges of thresholds tie for the least cost
LOGITS = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]], dtype=np.float32)
LABELS = np.array([0, 1, 1, 1, 1, 0])


def reduce_max_model(opset: int) -> onnx.ModelProto:
    """Relu then ReduceMax over axis 1, as an exporter writes it at opset 17 (axes an attribute) or 18 (an input)."""
    if opset < 18:
        reduce = helper.make_node("ReduceMax", ["r"], ["y"], axes=[1], keepdims=0)
        initializers = []
    else:
        reduce = helper.make_node("ReduceMax", ["r", "axes"], ["y"], keepdims=0)
        initializers = [helper.make_tensor("axes", TensorProto.INT64, [1], [1])]
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["r"]), reduce],
        "reduce",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.checker.check_model(model, full_check=True)
    return model


def test_the_opset_check_finds_the_nodes_another_opset_refuses_and_only_those():
    opset17, opset18 = reduce_max_model(17), reduce_max_model(18)
    assert graph.operator_types_refused(opset18, 17) == {"ReduceMax"}
    assert graph.operator_types_refused(opset17, 18) == {"ReduceMax"}
    assert graph.operator_types_refused(opset17, 17) == set()
    assert graph.operator_types_refused(opset18, 18) == set()


def cost(threshold: float, strictly_above: bool = False) -> int:
    """The exercise's cost of a threshold on the made-up reviews, counted by hand."""
    logits = LOGITS[:, 0]
    positive = logits > threshold if strictly_above else logits >= threshold
    return int(4 * np.sum(positive & (LABELS == 0)) + np.sum(~positive & (LABELS == 1)))


@pytest.fixture
def validation_logits(monkeypatch):
    """The check runs the ONNX file on x_val: here it gets the made-up logits."""
    monkeypatch.setattr(
        benchmark, "run_onnx_in_batches", lambda path, inputs: benchmark.TimedRun(LOGITS, 0.0)
    )


def judge(threshold, test_cost) -> str:
    """The threshold check on the made-up reviews, used as both validation and test reviews."""
    runs = {
        "Keras": benchmark.TimedRun(LOGITS, 0.0),
        "ONNX Runtime": benchmark.TimedRun(LOGITS, 0.0),
    }
    return checks.cheapest_threshold(
        threshold, test_cost, "model.onnx", None, LABELS, runs, LABELS, RTOL, ATOL
    )


@pytest.mark.parametrize("threshold", np.arange(-0.5, 6.0, 1.0))
def test_every_threshold_with_the_least_cost_passes_and_no_other(validation_logits, threshold):
    least = min(cost(t) for t in np.arange(-0.5, 6.0, 1.0))
    if cost(threshold) == least:
        assert "2 separate ranges" in judge(threshold, cost(threshold))
    else:
        with pytest.raises(AssertionError, match="others cost less"):
            judge(threshold, cost(threshold))


@pytest.mark.parametrize("threshold", [0.0, 5.0])
def test_a_threshold_on_a_logit_applied_with_greater_than_passes(validation_logits, threshold):
    assert cost(threshold, strictly_above=True) == 4 < cost(threshold)
    judge(threshold, cost(threshold, strictly_above=True))


def test_a_wrong_test_cost_fails(validation_logits):
    with pytest.raises(AssertionError, match="test_cost"):
        judge(0.5, cost(0.5) + 1)

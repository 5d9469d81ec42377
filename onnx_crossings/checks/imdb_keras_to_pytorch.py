"""The checks of chapter 2's exercises (notebooks/02_imdb_keras_to_pytorch.ipynb)."""

import math
import os

import numpy as np
import onnx

from onnx_crossings.data import imdb
from onnx_crossings.teaching import benchmark, graph, parity

# the threshold exercise's costs: a negative review called positive (shown), a positive one called negative
COST_OF_A_FALSE_POSITIVE, COST_OF_A_FALSE_NEGATIVE = 4, 1


def opset_18_export(opset18_path, changed_operators, onnx_path, test_tokens, keras_run, RTOL, ATOL):
    """The opset 18 file matches Keras's logits, and the operator types whose nodes changed are named."""
    assert opset18_path is not None and os.path.exists(opset18_path), (
        "export the model and set opset18_path"
    )
    opset18 = onnx.load(opset18_path)
    assert {entry.domain: entry.version for entry in opset18.opset_import}.get("") == 18, (
        "export to opset 18"
    )
    assert [node.op_type for node in opset18.graph.node].count("LSTM") == 1, (
        "the LSTM should stay one operator"
    )
    opset18_logits = benchmark.run_onnx_in_batches(opset18_path, test_tokens).outputs
    parity.assert_parity(
        parity.compare(
            keras_run.outputs, opset18_logits, names=("Keras", "ONNX opset 18"), quantity="logits"
        ),
        rtol=RTOL,
        atol=ATOL,
    )
    assert changed_operators is not None and not isinstance(changed_operators, str), (
        "set changed_operators to a set of operator types"
    )
    named, opset17 = set(changed_operators), onnx.load(onnx_path)
    present = {node.op_type for model in (opset17, opset18) for node in model.graph.node}
    assert named <= present, f"no node of the two files is of type {sorted(named - present)}"
    # Not the exercise's node-by-node comparison: ONNX's definitions of each operator say which nodes of one
    # file the other opset refuses. A node whose inputs or attributes moved is refused; one unchanged is not.
    refused = graph.operator_types_refused(opset18, 17) | graph.operator_types_refused(opset17, 18)
    assert not named - refused, (
        f"{sorted(named - refused)}: the nodes of this type take the same inputs and attributes in both files"
    )
    assert not refused - named, (
        "an operator whose nodes differ is missing: compare every node's operator type, number of inputs "
        "and attribute names in the two files"
    )
    return f"the opset 18 file matches Keras; what changed: {sorted(named)}"


def _mistakes(logits, labels, thresholds) -> tuple[np.ndarray, np.ndarray]:
    """For each threshold, the negative reviews called positive and the positive ones called negative.

    A review is called positive when its logit is at least the threshold.
    """
    logits = np.asarray(logits, dtype=np.float64).reshape(len(labels))
    negatives, positives = np.sort(logits[labels == 0]), np.sort(logits[labels == 1])
    thresholds = np.asarray(thresholds, dtype=np.float64)
    return (
        len(negatives) - np.searchsorted(negatives, thresholds, side="left"),
        np.searchsorted(positives, thresholds, side="left"),
    )


def _costs(logits, labels, thresholds) -> np.ndarray:
    """What each threshold costs: COST_OF_A_FALSE_POSITIVE per negative called positive, and so on."""
    false_positives, false_negatives = _mistakes(logits, labels, thresholds)
    return COST_OF_A_FALSE_POSITIVE * false_positives + COST_OF_A_FALSE_NEGATIVE * false_negatives


def cheapest_threshold(threshold, test_cost, onnx_path, x_val, y_val, runs, y_test, RTOL, ATOL):
    """A logit threshold with the least cost on the validation reviews, and what it costs on the test reviews.

    It tests what the threshold does, not which number it is: every threshold whose validation cost is the
    least passes, and several separate ranges of thresholds often tie for it. So does one within twice the
    chapter's parity tolerance of such a threshold, as far as two runtimes' logits may differ, so that a
    threshold taken from Keras's or PyTorch's logits, or applied with `>`, passes too.
    """
    assert threshold is not None and test_cost is not None, "set threshold and test_cost"
    threshold = float(threshold)
    assert math.isfinite(threshold), "the threshold is a logit: a finite number"
    slack = 2 * (ATOL + RTOL * abs(threshold))
    validation = benchmark.run_onnx_in_batches(onnx_path, x_val).outputs.reshape(-1)
    # every way a threshold can split the validation reviews: at each logit, and above them all
    every_split = _costs(validation, y_val, np.append(np.unique(validation), np.inf))
    least = every_split.min()
    # every split a threshold within the slack of yours makes
    near = [
        threshold - slack,
        *validation[np.abs(validation - threshold) <= slack],
        threshold + slack,
    ]
    assert _costs(validation, y_val, near).min() == least, (
        f"a threshold of {threshold:.4g} costs {_costs(validation, y_val, [threshold])[0]} on the "
        f"validation reviews, and others cost less: count {COST_OF_A_FALSE_POSITIVE} for each negative "
        f"review of x_val called positive and {COST_OF_A_FALSE_NEGATIVE} for each positive one called negative"
    )
    # on the test reviews, a threshold within the slack of yours costs at least the fewest mistakes of each
    # kind it can make, and at most the most; any of the three runtimes' logits may have been used
    possible = []
    for run in runs.values():
        false_positives, false_negatives = _mistakes(
            run.outputs, y_test, [threshold - slack, threshold + slack]
        )
        possible.append(
            (
                COST_OF_A_FALSE_POSITIVE * false_positives[1]
                + COST_OF_A_FALSE_NEGATIVE * false_negatives[0],
                COST_OF_A_FALSE_POSITIVE * false_positives[0]
                + COST_OF_A_FALSE_NEGATIVE * false_negatives[1],
            )
        )
    assert any(low <= float(test_cost) <= high for low, high in possible), (
        "test_cost: what your threshold costs on the test reviews (y_test), counted the same way"
    )
    cheapest = every_split == least
    ranges = int(cheapest[0]) + int(np.sum(cheapest[1:] & ~cheapest[:-1]))
    return (
        f"threshold {threshold:.3f} has the least validation cost, {least}, which {ranges} separate "
        f"range{'s' if ranges > 1 else ''} of thresholds reach; it costs "
        f"{_costs(runs['ONNX Runtime'].outputs, y_test, [threshold])[0]} on the test reviews"
    )


def parity_broken_by_vocabulary(
    wrong_vocabulary_accuracy, reviews, VOCABULARY_SIZE, SEQUENCE_LENGTH, onnx_path, y_test
):
    """ONNX Runtime's accuracy on test reviews encoded with the test reviews' own vocabulary collapses."""
    assert wrong_vocabulary_accuracy is not None, "set wrong_vocabulary_accuracy"
    scrambled = imdb.encode(
        reviews.test_texts,
        imdb.build_vocabulary(reviews.test_texts, VOCABULARY_SIZE),
        SEQUENCE_LENGTH,
    )
    scrambled_outputs = benchmark.run_onnx_in_batches(onnx_path, scrambled).outputs
    expected = float((parity.labels_of(scrambled_outputs) == y_test).mean())
    assert abs(wrong_vocabulary_accuracy - expected) < 1e-9, (
        "accuracy of ONNX Runtime on the test reviews encoded with a vocabulary of the test reviews"
    )
    assert expected < 0.8, (
        "a vocabulary that does not travel with the model should ruin the accuracy"
    )
    return f"accuracy falls to {expected:.2%} with the wrong vocabulary"

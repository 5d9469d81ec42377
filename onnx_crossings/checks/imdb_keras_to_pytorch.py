"""The checks of chapter 2's exercises (notebooks/02_imdb_keras_to_pytorch.ipynb)."""

import os

import numpy as np
import onnx

from onnx_crossings.checks import node_signatures
from onnx_crossings.data import imdb
from onnx_crossings.teaching import benchmark, parity


def opset_18_export(opset18_path, changed_operators, onnx_path, test_tokens, keras_run, RTOL, ATOL):
    """The opset 18 file matches Keras's logits, and the operators whose signature changed are named."""
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
    differing = node_signatures(onnx.load(onnx_path)) ^ node_signatures(opset18)
    expected = {op_type for op_type, _, _ in differing}
    assert changed_operators is not None and set(changed_operators) == expected, (
        "compare every node's operator type, number of inputs and attribute names in the two files, "
        "and keep the operator types that differ"
    )
    return f"the opset 18 file matches Keras; what changed: {sorted(expected)}"


def roc_auc_per_runtime(roc_auc, runs, y_test):
    """One ROC AUC per runtime, from its logits on the test reviews."""
    assert isinstance(roc_auc, dict) and set(roc_auc) == set(runs), (
        "one ROC AUC per runtime in `runs`"
    )
    for name, run in runs.items():
        scores = run.outputs[:, 0].astype(np.float64)
        positive, negative = np.sort(scores[y_test == 1]), scores[y_test == 0]
        # positives scored at most each negative
        below = np.searchsorted(positive, negative, side="right")
        ties = below - np.searchsorted(positive, negative, side="left")
        expected = 1 - (below.sum() - ties.sum() / 2) / (len(positive) * len(negative))
        assert abs(roc_auc[name] - expected) < 1e-9, (
            f"{name}: ROC AUC of its logits on the test set"
        )
    return f"ROC AUC for every runtime ({roc_auc['PyTorch']:.4f} for PyTorch)"


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

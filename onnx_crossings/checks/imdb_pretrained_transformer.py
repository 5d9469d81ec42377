"""The checks of chapter 2 bonus's exercises (notebooks/02b_imdb_pretrained_transformer.ipynb)."""

import os

import numpy as np

from onnx_crossings.teaching import benchmark, graph, parity, transformer


def head_only_truncation(head_only_accuracy, evaluation_texts, y_test, onnx_path, MAX_TOKENS):
    """The float32 ONNX model's accuracy on the evaluation reviews cut to their first 126 tokens."""
    assert head_only_accuracy is not None, "set head_only_accuracy"
    ids = transformer.head_and_tail_ids(
        transformer.load_tokenizer(transformer.pretrained_folder()),
        evaluation_texts,
        MAX_TOKENS,
        MAX_TOKENS - 2,
    )
    outputs = benchmark.run_onnx_in_batches(onnx_path, ids, batch_size=64).outputs
    expected = float((parity.labels_of(outputs) == y_test).mean())
    assert abs(head_only_accuracy - expected) < 1e-9, (
        "keep [CLS], the first 126 tokens and [SEP] of each evaluation review, and score the float32 ONNX model"
    )
    return f"keeping only the head, the model scores {expected:.2%}"


def fused_transformer(fused_path, fused_parity, onnx_path, pytorch_run, test_ids, RTOL, ATOL):
    """The optimized file holds fused operators and matches PyTorch's logits."""
    assert fused_path is not None and os.path.exists(fused_path), (
        "optimize the model and set fused_path"
    )
    fused, plain = graph.operator_counts(fused_path), graph.operator_counts(onnx_path)
    assert sum(fused.values()) < sum(plain.values()) and set(fused) - set(plain), (
        "the file should hold fused operators that the exported one does not: was it optimized?"
    )
    outputs = benchmark.run_onnx_in_batches(fused_path, test_ids, batch_size=64).outputs
    expected = parity.compare(
        pytorch_run.outputs, outputs, names=("PyTorch", "fused"), quantity="logits"
    )
    parity.assert_parity(expected, rtol=RTOL, atol=ATOL)
    assert fused_parity is not None and fused_parity.samples == len(test_ids), (
        "compare with PyTorch on every evaluation review"
    )
    assert abs(fused_parity.max_abs_diff - expected.max_abs_diff) < 1e-7, (
        "compare the fused file's logits with pytorch_run.outputs"
    )
    new = sorted(set(fused) - set(plain))
    return f"fused operators {new}; parity with PyTorch holds ({expected.max_abs_diff:.1e})"


def whose_mistakes(only_lstm_right, cut_shares, runs, y_test, onnx_side_ids):
    """The evaluation reviews only the LSTM gets right, and how many of them the transformer read only in part."""
    assert only_lstm_right is not None and cut_shares is not None, (
        "set only_lstm_right and cut_shares"
    )
    transformer_right = parity.labels_of(runs["MiniLM, ONNX Runtime"].outputs) == y_test
    lstm_right = parity.labels_of(runs["LSTM, ONNX Runtime"].outputs) == y_test
    expected = np.flatnonzero(lstm_right & ~transformer_right)
    given = {int(index) for index in np.asarray(only_lstm_right).reshape(-1)}
    assert given == set(expected.tolist()), (
        "positions of the reviews the LSTM gets right and the transformer wrong"
    )
    was_cut = (onnx_side_ids != transformer.BERT_PAD_ID).all(axis=1)
    assert len(cut_shares) == 2, "two shares: among those reviews, and among all evaluation reviews"
    assert np.allclose(cut_shares, (was_cut[expected].mean(), was_cut.mean()), rtol=0, atol=1e-9), (
        "the share of reviews with no padding left in their 128 token ids, among those reviews and among all"
    )
    return f"only the LSTM right on {len(expected)} reviews, {cut_shares[0]:.0%} of them cut"

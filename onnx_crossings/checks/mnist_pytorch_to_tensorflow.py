"""The checks of chapter 1's exercises (notebooks/01_mnist_pytorch_to_tensorflow.ipynb)."""

import os

import numpy as np
import onnx

from onnx_crossings.data import mnist
from onnx_crossings.teaching import benchmark, layout, parity


def legacy_export(legacy_path, test_inputs, pytorch_run, RTOL, ATOL):
    """The legacy exporter's file declares opset 17, takes any batch size and matches PyTorch's logits."""
    assert legacy_path is not None and os.path.exists(legacy_path), (
        "export the model and set legacy_path"
    )
    legacy_model = onnx.load(legacy_path)
    assert {entry.domain: entry.version for entry in legacy_model.opset_import}.get("") == 17, (
        "export to opset 17"
    )
    assert "Constant" in {node.op_type for node in legacy_model.graph.node}, (
        "use the TorchScript-based exporter (dynamo=False)"
    )
    # batches of 1,000 and of 7: the file must not have kept the example's batch size
    for batch_size in (1_000, 7):
        legacy_run = benchmark.run_onnx_in_batches(legacy_path, test_inputs, batch_size)
    parity.assert_parity(
        parity.compare(
            pytorch_run.outputs,
            legacy_run.outputs,
            names=("PyTorch", "ONNX, legacy exporter"),
            quantity="logits",
        ),
        rtol=RTOL,
        atol=ATOL,
    )
    return "the legacy export declares opset 17, takes any batch size and matches PyTorch on every test image"


def eight_bit_weights(quantized_path, quantized_accuracy, onnx_path, test_inputs, true_labels):
    """The 8-bit file is at least twice smaller, runs, and its test accuracy is measured."""
    assert quantized_path is not None and os.path.exists(quantized_path), (
        "quantise the model and set quantized_path"
    )
    assert os.path.getsize(quantized_path) < 0.5 * os.path.getsize(onnx_path), (
        "8-bit weights: at least twice smaller"
    )
    check_logits = benchmark.run_onnx_in_batches(quantized_path, test_inputs).outputs
    expected = float((parity.labels_of(check_logits) == true_labels).mean())
    assert quantized_accuracy is not None and abs(quantized_accuracy - expected) < 1e-9, (
        "accuracy over the test set"
    )
    assert expected >= 0.98, f"the quantised model should still read digits ({expected:.2%})"
    return f"{os.path.getsize(quantized_path) / 1e6:.2f} MB, test accuracy {expected:.2%}"


def recall_per_digit(per_digit_recall, hardest_digit, tensorflow_labels, true_labels):
    """Ten recalls of the TensorFlow model, one per digit, and a digit whose recall is lowest or within noise of it."""
    assert per_digit_recall is not None and len(per_digit_recall) == 10, "one recall per digit"
    recalls = np.array([np.mean(tensorflow_labels[true_labels == d] == d) for d in range(10)])
    assert np.allclose(per_digit_recall, recalls, rtol=0, atol=1e-12), (
        "recall of the TensorFlow model, digit by digit: the share of each true digit it recognises"
    )
    assert hardest_digit in range(10), "hardest_digit is one digit, 0 to 9"
    counts = np.bincount(true_labels, minlength=10)
    errors = np.sqrt(recalls * (1 - recalls) / counts)
    lowest = int(np.argmin(recalls))
    gap = recalls[hardest_digit] - recalls[lowest]
    noise = 1.96 * np.hypot(errors[hardest_digit], errors[lowest])
    assert gap <= noise, (
        f"digit {hardest_digit}'s recall is {100 * gap:.2f} points above the lowest, more than the noise "
        f"({100 * noise:.2f} points): look for the lowest recall"
    )
    tied = "the lowest" if hardest_digit == lowest else f"within the noise of digit {lowest}'s"
    return f"recall per digit; hardest: {hardest_digit}, {tied}"


def parity_broken_by_raw_pixels(
    raw_parity, raw_accuracy, digits, pytorch_run, true_labels, saved_model_dir, RTOL, ATOL
):
    """Logits of unstandardised images fall outside the tolerance, and their accuracy is measured."""
    import tensorflow as tf  # imported here: only this check runs TensorFlow

    assert raw_parity is not None and raw_accuracy is not None, "set raw_parity and raw_accuracy"
    serve_raw = tf.saved_model.load(str(saved_model_dir)).signatures["serving_default"]
    raw_images = layout.nchw_to_nhwc(mnist.normalise(digits.test_images, 0.0, 1.0))
    raw_logits = benchmark.run_in_batches(
        lambda batch: serve_raw(images=tf.constant(batch))["logits"].numpy(), raw_images
    ).outputs
    assert raw_parity.samples == len(true_labels), "compare on every test image"
    expected = np.abs(pytorch_run.outputs.astype(np.float64) - raw_logits).max()
    assert abs(raw_parity.max_abs_diff - expected) < 1e-6, (
        "compare PyTorch's logits with TensorFlow's on images scaled to 0-1, not standardised"
    )
    assert raw_parity.share_of_tolerance(rtol=RTOL, atol=ATOL) > 1, (
        "without standardisation the logits should no longer match"
    )
    assert abs(raw_accuracy - float((parity.labels_of(raw_logits) == true_labels).mean())) < 1e-9, (
        "accuracy on raw images"
    )
    return f"parity broken on purpose: max |difference| {raw_parity.max_abs_diff:.1f}, accuracy {raw_accuracy:.2%}"

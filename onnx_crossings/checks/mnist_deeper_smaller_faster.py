"""The checks of chapter 1 bonus's exercises (notebooks/01b_mnist_deeper_smaller_faster.ipynb)."""

import os

import onnx

from onnx_crossings.teaching import benchmark, graph, parity


def few_calibration_images(
    few_images_path,
    few_images_agreement,
    few_images_verdict,
    float_logits,
    best,
    test_inputs,
    true_labels,
):
    """The model calibrated on 32 images is static int8, its agreement measured and judged by the course's rule."""
    assert few_images_path is not None and os.path.exists(few_images_path), (
        "quantize the model and set few_images_path"
    )
    operators = graph.operator_counts(few_images_path)
    assert operators.get("QuantizeLinear", 0) > 0, "use static quantization in the QDQ format"
    logits = benchmark.run_onnx_in_batches(few_images_path, test_inputs).outputs
    expected = float((parity.labels_of(logits) == parity.labels_of(float_logits[best])).mean())
    assert few_images_agreement is not None and abs(few_images_agreement - expected) < 1e-9, (
        "compare the quantized model's labels with float_logits[best] on every test image"
    )
    verdict = parity.judge_lower_precision(
        float_logits[best], logits, true_labels, names=("float", "int8")
    ).verdict
    assert few_images_verdict == verdict, (
        "judge the quantized model's logits against float_logits[best], on every test image and its true label, "
        "and keep the verdict's word"
    )
    return (
        f"calibrated on 32 images, the int8 model agrees with the float one on {expected:.2%} of the test digits, "
        f"and {verdict} the rule"
    )


def linear_layers_only(
    linear_int8_path, linear_int8_accuracy, onnx_paths, test_inputs, true_labels
):
    """Only the chapter CNN's matrix multiplications are int8, and the file's accuracy is measured."""
    assert linear_int8_path is not None and os.path.exists(linear_int8_path), (
        "quantize the model and set linear_int8_path"
    )
    operators = graph.operator_counts(linear_int8_path)
    assert operators.get("Conv", 0) == 2 and "ConvInteger" not in operators, (
        "leave the two convolutions in float"
    )
    assert "MatMulInteger" in operators, "quantize the linear layers"
    ratio = os.path.getsize(linear_int8_path) / os.path.getsize(onnx_paths["chapter CNN"])
    assert ratio < 0.35, (
        f"the file is {ratio:.2f} × the float one: are the linear layers quantized?"
    )
    logits = benchmark.run_onnx_in_batches(linear_int8_path, test_inputs).outputs
    expected = float((parity.labels_of(logits) == true_labels).mean())
    assert linear_int8_accuracy is not None and abs(linear_int8_accuracy - expected) < 1e-9, (
        "measure the test accuracy of the quantized file"
    )
    return f"linear layers in int8, convolutions in float: {ratio:.2f} × the size, {expected:.2%} accuracy"


def portable_optimized_file(
    portable_path, portable_parity, pytorch_outputs, best, test_inputs, RTOL, ATOL
):
    """The file optimized at the extended level holds no NCHWc operator and matches PyTorch's logits."""
    assert portable_path is not None and os.path.exists(portable_path), (
        "save the optimized graph and set portable_path"
    )
    domains = {node.domain for node in onnx.load(portable_path).graph.node}
    assert "com.microsoft.nchwc" not in domains, "optimize at the extended level, not 'all'"
    outputs = benchmark.run_onnx_in_batches(portable_path, test_inputs).outputs
    expected = parity.compare(
        pytorch_outputs[best], outputs, names=("PyTorch", "portable"), quantity="logits"
    )
    parity.assert_parity(expected, rtol=RTOL, atol=ATOL)
    assert portable_parity is not None and portable_parity.samples == len(test_inputs), (
        "compare with PyTorch on every test image"
    )
    assert abs(portable_parity.max_abs_diff - expected.max_abs_diff) < 1e-6, (
        "compare the portable file's logits with pytorch_outputs[best]"
    )
    return f"the portable file has no NCHWc operator and matches PyTorch within {expected.max_abs_diff:.1e}"

"""The checks of chapter 4's exercises (notebooks/04_when_a_crossing_breaks.ipynb), and the model the first one uses."""

import numpy as np
import onnx
from onnx import numpy_helper

from onnx_crossings.teaching import benchmark, divergence, parity, runtimes

PLANTED_FACTOR = (
    1.1  # one output channel's weights, 10% too large: accuracy hardly moves, parity breaks
)
INT8_RTOL = 0.05  # the chapter's tolerance for an int8 activation: 5% of its scale


def _planted_choice(good: onnx.ModelProto, seed: int) -> tuple[str, int]:
    """The weighted node (Conv or Gemm) and the output channel the exercise's seed picks."""
    generator = np.random.default_rng(seed)
    # not the last node: a change there shows in the logits alone, with nothing to trace
    weighted = [node for node in good.graph.node[:-1] if node.op_type in ("Conv", "Gemm")]
    node = weighted[generator.integers(len(weighted))]
    weights = {tensor.name: tensor for tensor in good.graph.initializer}
    channels = weights[node.input[1]].dims[0]
    return node.name, int(generator.integers(channels))


def planted_model(good: onnx.ModelProto, seed: int) -> onnx.ModelProto:
    """The good model with one output channel of one node's weights scaled by PLANTED_FACTOR."""
    name, channel = _planted_choice(good, seed)
    planted = onnx.ModelProto()
    planted.CopyFrom(good)
    node = next(node for node in planted.graph.node if node.name == name)
    weight = next(tensor for tensor in planted.graph.initializer if tensor.name == node.input[1])
    array = numpy_helper.to_array(weight).copy()
    array[channel] *= PLANTED_FACTOR
    weight.CopyFrom(numpy_helper.from_array(array, weight.name))
    return planted


def planted_node_found(planted_node, good, SEED):
    """The node whose weights were changed is named."""
    expected, _ = _planted_choice(good, SEED)
    node_names = [node.name for node in good.graph.node]
    assert planted_node in node_names, (
        f"set planted_node to the name of a node of the model (one of {node_names})"
    )
    assert planted_node == expected, (
        f"{planted_node} is not where the planted model first differs: compare its tensors with "
        "divergence.node_differences and take the first node over its tolerance"
    )
    return f"found the changed weights in {expected}"


def frozen_batch_thawed(any_batch_path, test_inputs, torch_logits, RTOL, ATOL):
    """The repaired file runs at batch sizes 1, 7 and 1,000 and matches PyTorch on every test digit."""
    assert any_batch_path is not None, (
        "save your repaired model and set any_batch_path to the file's path"
    )
    model = onnx.load(any_batch_path)
    session = runtimes.inference_session(model.SerializeToString(), providers=[runtimes.CPU])
    for size in (1, 7):
        shape = session.run(None, {"images": test_inputs[:size]})[0].shape
        assert shape == (size, 10), f"at batch {size} it returns shape {shape}, not ({size}, 10)"
    logits = benchmark.run_onnx_in_batches(any_batch_path, test_inputs).outputs
    parity.assert_parity(
        parity.compare(
            torch_logits, logits, names=("PyTorch", "the repaired file"), quantity="logits"
        ),
        rtol=RTOL,
        atol=ATOL,
    )
    return "the repaired file runs at any batch size and matches PyTorch on all 10,000 digits"


def calibration_slip_diagnosed(
    first_bad_tensor, input_range, levels_used, raw_path, good, test_inputs
):
    """The first activation over 5% of its scale is named; the int8 input's range and the levels pixels use."""
    raw = onnx.load(raw_path)
    sample = {"images": test_inputs[:64]}
    float_run = divergence.runtime_outputs(good, sample) | sample
    mapping = {f"{name}_DequantizeLinear_Output": name for name in float_run} | {"logits": "logits"}
    differences = divergence.node_differences(
        raw, float_run, divergence.runtime_outputs(raw, sample), mapping=mapping, rtol=INT8_RTOL
    )
    expected = mapping[divergence.first_divergence(differences).tensor]
    assert first_bad_tensor == expected, (
        "compare each DequantizeLinear output with the float model's tensor of the same name, in graph "
        "order, with a tolerance of 5% of its scale, and give the float tensor's name"
    )
    constants = {tensor.name: numpy_helper.to_array(tensor) for tensor in raw.graph.initializer}
    quantizer = next(
        node
        for node in raw.graph.node
        if node.op_type == "QuantizeLinear" and node.input[0] == "images"
    )
    scale, zero_point = constants[quantizer.input[1]], constants[quantizer.input[2]]
    low, high = (0 - int(zero_point)) * float(scale), (255 - int(zero_point)) * float(scale)
    assert input_range is not None and len(input_range) == 2, "set input_range to (low, high)"
    assert np.allclose(input_range, (low, high), rtol=1e-6, atol=1e-9), (
        "an unsigned 8-bit input holds the integers 0 to 255: the values (q - zero_point) × scale at both ends"
    )
    levels = np.clip(np.round(test_inputs / scale) + zero_point, 0, 255)
    expected_levels = len(np.unique(levels))
    assert levels_used == expected_levels, (
        "quantize every test pixel as the model's input does, round(x / scale) + zero_point clipped to 0..255, "
        "and count the distinct values"
    )
    return (
        f"{expected} is the first tensor over 5% of its scale; the int8 input holds [{low:.3g}, {high:.3g}], "
        f"and the test pixels use {expected_levels} of its 256 levels"
    )

"""The checks of chapter 4's exercises (notebooks/04_when_a_crossing_breaks.ipynb), and the model the first one uses."""

import numpy as np
import onnx
from onnx import numpy_helper

from onnx_crossings.teaching import benchmark, divergence, parity, runtimes

# one output channel's weights, 10% too large: accuracy hardly moves, parity breaks
PLANTED_FACTOR = 1.1
# two nodes: the first one the comparison names hides the second, since every tensor after it differs
PLANTED_NODES = 2
INT8_RTOL = 0.05  # the chapter's tolerance for an int8 activation: 5% of its scale


def _planted_choice(good: onnx.ModelProto, seed: int) -> dict[str, int]:
    """The weighted nodes (Conv or Gemm) the exercise's seed picks, in graph order, and the output channel of each."""
    generator = np.random.default_rng(seed)
    # not the last node: a change there shows in the logits alone, with nothing to trace
    weighted = [node for node in good.graph.node[:-1] if node.op_type in ("Conv", "Gemm")]
    picked = sorted(generator.choice(len(weighted), size=PLANTED_NODES, replace=False))
    weights = {tensor.name: tensor for tensor in good.graph.initializer}
    return {
        weighted[index].name: int(generator.integers(weights[weighted[index].input[1]].dims[0]))
        for index in picked
    }


def planted_model(good: onnx.ModelProto, seed: int) -> onnx.ModelProto:
    """The good model with one output channel of each of two nodes' weights scaled by PLANTED_FACTOR."""
    planted = onnx.ModelProto()
    planted.CopyFrom(good)
    weights = {tensor.name: tensor for tensor in planted.graph.initializer}
    for name, channel in _planted_choice(good, seed).items():
        node = next(node for node in planted.graph.node if node.name == name)
        array = numpy_helper.to_array(weights[node.input[1]]).copy()
        array[channel] *= PLANTED_FACTOR
        weights[node.input[1]].CopyFrom(numpy_helper.from_array(array, node.input[1]))
    return planted


def _restored(planted: onnx.ModelProto, good: onnx.ModelProto, nodes: set[str]) -> onnx.ModelProto:
    """The planted model with the good model's constants (initializers) and attributes back in the named nodes."""
    restored = onnx.ModelProto()
    restored.CopyFrom(planted)
    good_nodes = {node.name: node for node in good.graph.node}
    good_constants = {tensor.name: tensor for tensor in good.graph.initializer}
    for node in restored.graph.node:
        if node.name in nodes:
            del node.attribute[:]
            node.attribute.extend(good_nodes[node.name].attribute)
            for tensor in restored.graph.initializer:
                if tensor.name in node.input and tensor.name in good_constants:
                    tensor.CopyFrom(good_constants[tensor.name])
    return restored


def planted_nodes_found(planted_nodes, good, SEED, test_inputs):
    """Putting the good model's weights back in the named nodes, and in no fewer, makes every tensor the good one's."""
    planted = planted_model(
        good, SEED
    )  # made again: a solution may have repaired the chapter's copy in place
    names = [node.name for node in planted.graph.node]
    assert isinstance(planted_nodes, (list, tuple, set, frozenset)) and all(
        name in names for name in planted_nodes
    ), f"set planted_nodes to a list of the changed nodes' names (each one of {names})"
    named = set(planted_nodes)
    sample = {good.graph.input[0].name: test_inputs[:64]}
    reference = divergence.runtime_outputs(good, sample)

    def same_as_good(nodes: set[str]) -> bool:
        run = divergence.runtime_outputs(_restored(planted, good, nodes), sample)
        return all(
            np.allclose(run[tensor], reference[tensor], rtol=1e-6, atol=1e-6)
            for tensor in reference
        )

    assert same_as_good(named), (
        f"with the good weights back in {sorted(named) or 'no node'}, the planted model still differs: a changed "
        "node is missing. After the first node that differs every tensor differs, changed or not: put that "
        "node's weights right and compare again"
    )
    for name in sorted(named):
        assert not same_as_good(named - {name}), (
            f"{name} was not changed: without it, the others' weights put back already give the good model"
        )
    return f"the planted weights are in {', '.join(name for name in names if name in named)}"


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

import functools
import warnings
from collections.abc import Callable

import keras
import numpy as np
import onnx
import onnx2torch
import onnxruntime as ort
import pytest
import tensorflow as tf
import tf2onnx
import torch
from onnx import TensorProto, helper, numpy_helper
from onnx.backend.test.case.node import collect_testcases
from onnx.backend.test.case.test_case import TestCase
from onnx2torch.node_converters.registry import get_converter

from onnx_crossings.teaching.onnx_lstm import (
    DEFAULT_ACTIVATIONS,
    OnnxLSTM,
    convert_lstm_node,
    convert_to_torch,
)

STEPS, BATCH, INPUT_SIZE, HIDDEN_SIZE = 5, 3, 4, 6
MIXED_LENGTHS = [3, 5, 1]
ENTRY_POINTS = {"convert_to_torch": convert_to_torch, "onnx2torch.convert": onnx2torch.convert}
BATCH_MAJOR_INPUTS = ("X", "initial_h", "initial_c")
LSTM_INPUTS = ("X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P")
DIRECTIONS = ["forward", "reverse", "bidirectional"]
TOLERANCE = 1e-5


def with_constant_inputs(
    model: onnx.ModelProto, feeds: dict[str, np.ndarray], names: tuple[str, ...]
) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    """The model with the graph inputs in names turned into initializers holding their feeds, and the feeds left."""
    for value in list(model.graph.input):
        if value.name in names:
            model.graph.input.remove(value)
            model.graph.initializer.append(numpy_helper.from_array(feeds[value.name], value.name))
    return model, {name: array for name, array in feeds.items() if name not in names}


def lstm_model(
    *,
    direction: str = "forward",
    hidden_size: int = HIDDEN_SIZE,  # the node's attribute; W and R are always shaped for HIDDEN_SIZE
    layout: int = 0,
    opset: int = 14,
    bias: bool = True,
    initial_state: bool = False,
    sequence_lens: list[int] | None = None,
    peepholes: bool = False,
    outputs: tuple[str, ...] = ("Y", "Y_h", "Y_c"),
    constants: tuple[str, ...] = ("W", "R", "B", "P"),
    **attributes,
) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    """A one-node LSTM model with random W, R, B and P as initializers (those in constants), and feeds for the rest."""
    rng = np.random.default_rng(0)
    directions = 2 if direction == "bidirectional" else 1
    x_axes = (BATCH, STEPS) if layout else (STEPS, BATCH)
    state_axes = (BATCH, directions) if layout else (directions, BATCH)

    def random(*shape: int) -> np.ndarray:
        return rng.normal(scale=0.5, size=shape).astype(np.float32)

    feeds = {
        "X": random(*x_axes, INPUT_SIZE),
        "W": random(directions, 4 * HIDDEN_SIZE, INPUT_SIZE),
        "R": random(directions, 4 * HIDDEN_SIZE, HIDDEN_SIZE),
    }
    if bias:
        feeds["B"] = random(directions, 8 * HIDDEN_SIZE)
    if sequence_lens is not None:
        feeds["sequence_lens"] = np.array(sequence_lens, dtype=np.int32)
    if initial_state:
        feeds["initial_h"] = random(*state_axes, HIDDEN_SIZE)
        feeds["initial_c"] = random(*state_axes, HIDDEN_SIZE)
    if peepholes:
        feeds["P"] = random(directions, 3 * HIDDEN_SIZE)
    if opset >= 14:
        attributes["layout"] = layout
    node = helper.make_node(
        "LSTM",
        [name if name in feeds else "" for name in LSTM_INPUTS],
        list(outputs),
        hidden_size=hidden_size,
        direction=direction,
        **attributes,
    )
    graph = helper.make_graph(
        [node],
        "lstm",
        [
            helper.make_tensor_value_info(
                name, helper.np_dtype_to_tensor_dtype(array.dtype), array.shape
            )
            for name, array in feeds.items()
        ],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in outputs if name],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=10)
    return with_constant_inputs(model, feeds, constants)


@functools.cache
def backend_cases() -> dict[str, TestCase]:
    """ONNX's own LSTM node test cases by name, generated as its backend tests do (its wheels no longer ship them)."""
    with warnings.catch_warnings():
        # the other operators' case modules divide by zero on purpose
        warnings.simplefilter("ignore")
        return {case.name: case for case in collect_testcases("LSTM")}


def backend_case(name: str) -> tuple[onnx.ModelProto, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """ONNX's LSTM test case: its model with W, R, B and P as initializers, the other inputs, and the outputs."""
    case = backend_cases()[name]
    inputs, outputs = case.data_sets[0]
    model = onnx.ModelProto()
    model.CopyFrom(case.model)  # with_constant_inputs changes the model it is given
    feeds = {value.name: array for value, array in zip(model.graph.input, inputs, strict=True)}
    model, feeds = with_constant_inputs(model, feeds, ("W", "R", "B", "P"))
    expected = {value.name: array for value, array in zip(model.graph.output, outputs, strict=True)}
    return model, feeds, expected


def onnxruntime_outputs(
    model: onnx.ModelProto, feeds: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """ONNX Runtime's outputs of the model, by name."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    return dict(
        zip(
            [output.name for output in session.get_outputs()], session.run(None, feeds), strict=True
        )
    )


def torch_outputs(
    model: onnx.ModelProto,
    feeds: dict[str, np.ndarray],
    convert: Callable[[onnx.ModelProto], torch.nn.Module] = convert_to_torch,
) -> dict[str, np.ndarray]:
    """The converted module's outputs by name; onnx2torch returns all outputs of the node that ends the graph."""
    with torch.no_grad():
        result = convert(model)(*(torch.tensor(feeds[value.name]) for value in model.graph.input))
    results = (result,) if isinstance(result, torch.Tensor) else result
    last_node_outputs = list(model.graph.node[-1].output)
    return {
        value.name: results[last_node_outputs.index(value.name)].numpy()
        for value in model.graph.output
    }


def max_difference(expected: dict[str, np.ndarray], actual: dict[str, np.ndarray]) -> float:
    """Largest absolute difference over all outputs, after checking both have the same names and shapes."""
    assert actual.keys() == expected.keys()
    assert [actual[name].shape for name in expected] == [array.shape for array in expected.values()]
    return max(float(np.abs(expected[name] - actual[name]).max()) for name in expected)


def difference_from_onnxruntime(
    *,
    layout: int = 0,
    convert: Callable[[onnx.ModelProto], torch.nn.Module] = convert_to_torch,
    **options,
) -> float:
    """Largest |difference| between the lstm_model's outputs converted by convert and onnxruntime_reference's."""
    model, feeds = lstm_model(layout=layout, **options)
    return max_difference(
        onnxruntime_reference(feeds, layout=layout, **options), torch_outputs(model, feeds, convert)
    )


def onnxruntime_reference(
    feeds: dict[str, np.ndarray], *, layout: int, **options
) -> dict[str, np.ndarray]:
    """ONNX Runtime's outputs of lstm_model; as it cannot run layout=1, those of the layout=0 twin with axes swapped."""
    # the same random draws, so the same weights
    time_major_model, _ = lstm_model(layout=0, **options)
    if not layout:
        return onnxruntime_outputs(time_major_model, feeds)
    swapped = {
        name: array.swapaxes(0, 1) if name in BATCH_MAJOR_INPUTS else array
        for name, array in feeds.items()
    }
    outputs = onnxruntime_outputs(time_major_model, swapped)
    # Time-major outputs have the batch axis second to last (Y is [seq, dirs, batch, hidden]); batch-major ones first.
    return {name: np.moveaxis(array, -2, 0) for name, array in outputs.items()}


@pytest.mark.parametrize("opset", [1, 7, 13, 14, 17, 22, onnx.defs.onnx_opset_version()])
def test_importing_the_module_registers_the_converter_for_every_opset(opset):
    assert get_converter(operation_type="LSTM", version=opset) is convert_lstm_node


def test_plain_onnx2torch_convert_uses_the_registered_converter():
    model, _ = lstm_model()
    assert any(isinstance(module, OnnxLSTM) for module in onnx2torch.convert(model).modules())


def test_convert_to_torch_reads_an_onnx_file(tmp_path):
    model, _ = lstm_model()
    onnx.save(model, tmp_path / "lstm.onnx")
    assert any(
        isinstance(module, OnnxLSTM)
        for module in convert_to_torch(tmp_path / "lstm.onnx").modules()
    )


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("layout", [0, 1])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("initial_state", [False, True])
def test_matches_onnxruntime(direction, layout, bias, initial_state):
    options = {
        "direction": direction,
        "layout": layout,
        "bias": bias,
        "initial_state": initial_state,
    }
    assert difference_from_onnxruntime(**options) <= TOLERANCE


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("layout", [0, 1])
def test_mixed_sequence_lengths_match_onnxruntime(direction, layout):
    options = {
        "direction": direction,
        "layout": layout,
        "initial_state": True,
        "sequence_lens": MIXED_LENGTHS,
    }
    assert difference_from_onnxruntime(**options) <= TOLERANCE
    y = torch_outputs(*lstm_model(**options))["Y"]
    shortest_sample_y = y[2] if layout else y[:, :, 2]
    assert np.all(shortest_sample_y[1:] == 0), "Y should be zero past a sample's length (here 1)"


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_full_sequence_lengths_give_the_same_outputs_as_none(direction):
    with_lengths = torch_outputs(
        *lstm_model(direction=direction, initial_state=True, sequence_lens=[STEPS] * BATCH)
    )
    without_lengths = torch_outputs(*lstm_model(direction=direction, initial_state=True))
    assert max_difference(without_lengths, with_lengths) <= 1e-6


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
@pytest.mark.parametrize(
    "outputs", [("Y",), ("Y", "Y_h"), ("", "Y_h"), ("", "", "Y_c"), ("Y", "", "Y_c")]
)
def test_requested_and_omitted_outputs_match_onnxruntime(outputs, entry_point):
    options = {
        "direction": "bidirectional",
        "outputs": outputs,
        "convert": ENTRY_POINTS[entry_point],
    }
    assert difference_from_onnxruntime(**options) <= TOLERANCE


def test_omitted_input_of_another_node_after_an_omitted_output_needs_convert_to_torch():
    model, feeds = lstm_model(outputs=("", "Y_h"))
    # Resize's omitted roi would be fed from the LSTM's omitted Y by plain onnx2torch.convert.
    model.graph.node.append(
        helper.make_node(
            "Resize",
            ["Y_h", "", "scales"],
            ["resized"],
            coordinate_transformation_mode="asymmetric",
            nearest_mode="floor",
        )
    )
    model.graph.initializer.append(
        numpy_helper.from_array(np.array([1, 1, 2], dtype=np.float32), "scales")
    )
    model.graph.output[0].CopyFrom(
        helper.make_tensor_value_info("resized", TensorProto.FLOAT, None)
    )
    with pytest.raises(
        ValueError,
        match="'LSTM' omits an output and node 'Resize' omits an input.*convert_to_torch",
    ):
        onnx2torch.convert(model)
    assert (
        max_difference(onnxruntime_outputs(model, feeds), torch_outputs(model, feeds)) <= TOLERANCE
    )


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("opset", [7, 22])
def test_other_opsets_match_onnxruntime(direction, opset):
    assert (
        difference_from_onnxruntime(direction=direction, opset=opset, initial_state=True)
        <= TOLERANCE
    )


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("layout", [0, 1])
@pytest.mark.parametrize("initial_state", [False, True])
@pytest.mark.parametrize("sequence_lens", [[3, 0, 5], [0, 0, 0]])
def test_zero_sequence_lengths_match_onnxruntime(direction, layout, initial_state, sequence_lens):
    options = {
        "direction": direction,
        "layout": layout,
        "initial_state": initial_state,
        "sequence_lens": sequence_lens,
    }
    assert difference_from_onnxruntime(**options) <= TOLERANCE


# jit.trace's, expected
@pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::torch.jit.TracerWarning")
def test_traced_reverse_lstm_with_sequence_lens_runs_at_another_length():
    torch.manual_seed(0)
    weights = torch.randn(1, 4 * HIDDEN_SIZE, INPUT_SIZE)
    recurrence_weights = torch.randn(1, 4 * HIDDEN_SIZE, HIDDEN_SIZE)
    module = OnnxLSTM(
        weights, recurrence_weights, torch.randn(1, 8 * HIDDEN_SIZE), direction="reverse"
    )
    traced = torch.jit.trace(
        module, (torch.randn(STEPS, BATCH, INPUT_SIZE), torch.tensor(MIXED_LENGTHS))
    )
    longer_x, longer_lengths = torch.randn(STEPS + 3, BATCH, INPUT_SIZE), torch.tensor([8, 2, 6])
    torch.testing.assert_close(traced(longer_x, longer_lengths), module(longer_x, longer_lengths))


def test_explicit_default_values_of_refused_attributes_are_accepted():
    options = {"activations": DEFAULT_ACTIVATIONS * 2, "input_forget": 0}
    assert difference_from_onnxruntime(direction="bidirectional", **options) <= TOLERANCE


@pytest.mark.parametrize("activations", [["sigmoid", "tanh", "tanh"], ["SIGMOID", "TANH", "tanh"]])
def test_default_activations_are_accepted_in_any_case(activations):
    assert (
        difference_from_onnxruntime(direction="bidirectional", activations=activations * 2)
        <= TOLERANCE
    )


@pytest.mark.parametrize(
    "case", ["test_lstm_defaults", "test_lstm_with_initial_bias", "test_lstm_batchwise"]
)
def test_matches_onnx_backend_test_data(case):
    model, feeds, expected = backend_case(case)
    assert max_difference(expected, torch_outputs(model, feeds)) <= TOLERANCE


def test_onnx_backend_peephole_case_is_refused():
    model, _, _ = backend_case("test_lstm_with_peepholes")
    with pytest.raises(NotImplementedError, match="input P"):
        convert_to_torch(model)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"peepholes": True}, NotImplementedError, "input P"),
        ({"clip": 3.0}, NotImplementedError, "attribute clip=3.0 "),
        (
            {"activations": ["Sigmoid", "Relu", "Tanh"]},
            NotImplementedError,
            "attribute activations=",
        ),
        (
            {"activations": ["sigmoid", "relu", "tanh"]},
            NotImplementedError,
            "attribute activations=",
        ),
        ({"input_forget": 1}, NotImplementedError, "attribute input_forget=1 "),
        ({"activation_alpha": [0.5]}, NotImplementedError, "attribute activation_alpha="),
        ({"constants": ("R", "B")}, ValueError, "input W"),
    ],
)
def test_what_torch_lstm_cannot_reproduce_is_refused_at_conversion(options, error, message):
    model, _ = lstm_model(**options)
    with pytest.raises(error, match=message):
        convert_to_torch(model)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"hidden_size": 7},
            "node 'LSTM': hidden_size=7 contradicts W .*, which implies hidden size 6 ",
        ),
        (
            {"direction": "backward"},
            "node 'LSTM': direction='backward' is not .*forward, reverse or bidirectional",
        ),
    ],
)
def test_models_that_onnxruntime_rejects_are_refused_at_conversion(options, message):
    model, _ = lstm_model(**options)
    with pytest.raises(ValueError, match=message):
        convert_to_torch(model)


def test_keras_bidirectional_lstm_exported_by_tf2onnx_matches_keras_and_onnxruntime():
    keras.utils.set_random_seed(0)
    tokens = keras.Input(shape=(20,), dtype="int32", name="tokens")
    encoded = keras.layers.Bidirectional(keras.layers.LSTM(6))(
        keras.layers.Embedding(100, 8)(tokens)
    )
    model = keras.Model(tokens, keras.layers.Dense(1, activation="sigmoid")(encoded))
    onnx_model, _ = tf2onnx.convert.from_keras(
        model, input_signature=[tf.TensorSpec((None, 20), tf.int32, name="tokens")], opset=17
    )
    assert [node.op_type for node in onnx_model.graph.node].count("LSTM") == 1
    feeds = {"tokens": np.random.default_rng(0).integers(0, 100, size=(16, 20), dtype=np.int32)}
    expected = onnxruntime_outputs(onnx_model, feeds)
    assert max_difference(expected, torch_outputs(onnx_model, feeds)) <= TOLERANCE
    (onnxruntime_predictions,) = expected.values()
    assert np.abs(model(feeds["tokens"]).numpy() - onnxruntime_predictions).max() <= TOLERANCE

"""A scikit-learn ensemble of the course's estimators becomes one ONNX file that computes what it computes."""

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper
from sklearn.ensemble import VotingRegressor
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from onnx_crossings.teaching.onnx_estimator import PrefitOnnxRegressor
from onnx_crossings.teaching.sklearn_onnx import WindowFlattener, to_onnx

DAYS, FEATURES, HIDDEN = 6, 3, 4


def lstm_model(path):
    """A one-layer ONNX LSTM whose optional sequence_lens is left empty, as tf2onnx writes it, then a linear head."""
    rng = np.random.default_rng(0)
    weights = {
        "W": rng.normal(0, 0.5, (1, 4 * HIDDEN, FEATURES)),
        "R": rng.normal(0, 0.5, (1, 4 * HIDDEN, HIDDEN)),
        "B": rng.normal(0, 0.1, (1, 8 * HIDDEN)),
        "head": rng.normal(0, 1, (HIDDEN, 1)),
    }
    nodes = [
        helper.make_node("Transpose", ["window"], ["time_major"], perm=[1, 0, 2]),
        helper.make_node(
            "LSTM", ["time_major", "W", "R", "B", ""], ["all_h", "last_h"], hidden_size=HIDDEN
        ),
        helper.make_node("Squeeze", ["last_h", "zero"], ["state"]),
        helper.make_node("MatMul", ["state", "head"], ["forecast"]),
    ]
    graph = helper.make_graph(
        nodes,
        "lstm",
        [helper.make_tensor_value_info("window", TensorProto.FLOAT, ["batch", DAYS, FEATURES])],
        [helper.make_tensor_value_info("forecast", TensorProto.FLOAT, ["batch", 1])],
        initializer=[helper.make_tensor("zero", TensorProto.INT64, [1], [0])]
        + [
            onnx.numpy_helper.from_array(value.astype(np.float32), name)
            for name, value in weights.items()
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    onnx.save(model, path)
    return path


@pytest.fixture
def windows():
    return np.random.default_rng(1).normal(size=(50, DAYS, FEATURES)).astype(np.float32)


def test_an_ensemble_of_an_onnx_lstm_and_a_ridge_pipeline_is_one_checked_file(tmp_path, windows):
    target = windows[:, -1, 0] + 0.1 * windows[:, 0, 1]
    ridge = make_pipeline(WindowFlattener(), StandardScaler(), Ridge(alpha=1.0))
    lstm = PrefitOnnxRegressor(lstm_model(tmp_path / "lstm.onnx"))
    # skl2onnx reads the weights as an array (a list fails in its VotingRegressor converter)
    ensemble = VotingRegressor([("lstm", lstm), ("ridge", ridge)], weights=np.array([1.0, 3.0]))
    ensemble.fit(windows, target)
    model = to_onnx(ensemble, windows.shape[1:], name="ensemble")  # runs the full checker too
    (tmp_path / "lstm.onnx").unlink()  # the single file needs no other
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    onnx_forecast = session.run(None, {"window": windows})[0].reshape(-1)
    np.testing.assert_allclose(onnx_forecast, ensemble.predict(windows), rtol=1e-5, atol=1e-6)
    assert "LSTM" in {node.op_type for node in model.graph.node}


def test_the_flattener_makes_one_row_per_window(windows):
    flat = WindowFlattener().fit_transform(windows)
    assert flat.shape == (50, DAYS * FEATURES) and np.array_equal(flat[3], windows[3].reshape(-1))

"""The ONNX regressor behaves as a scikit-learn estimator and refuses input it cannot run."""

import pickle

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from sklearn.base import clone
from sklearn.metrics import mean_absolute_error
from sklearn.model_selection import TimeSeriesSplit, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from helpers.onnx_estimator import OnnxRegressor

WINDOW, FEATURES = 5, 3


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    """A tiny ONNX model: the mean of each (window, features) sample, batch size free."""
    node = helper.make_node("ReduceMean", ["windows", "axes"], ["forecast"], keepdims=0)
    graph = helper.make_graph(
        [node],
        "mean",
        [helper.make_tensor_value_info("windows", TensorProto.FLOAT, ["batch", WINDOW, FEATURES])],
        [helper.make_tensor_value_info("forecast", TensorProto.FLOAT, ["batch"])],
        initializer=[helper.make_tensor("axes", TensorProto.INT64, [2], [1, 2])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=10)
    helper.set_model_props(model, {"features": "open,high,low"})
    path = tmp_path_factory.mktemp("onnx") / "mean.onnx"
    onnx.save(model, path)
    return path


@pytest.fixture
def windows():
    return np.random.default_rng(0).normal(size=(40, WINDOW, FEATURES))


def test_predicts_what_the_onnx_model_computes(model_path, windows):
    forecast = OnnxRegressor(model_path, batch_size=7).fit(windows).predict(windows)
    assert forecast.shape == (40,) and forecast.dtype == np.float32
    np.testing.assert_allclose(forecast, windows.mean(axis=(1, 2)), atol=1e-6)


def test_reads_the_metadata_stored_in_the_onnx_file(model_path, windows):
    assert OnnxRegressor(model_path).fit(windows).metadata_ == {"features": "open,high,low"}


def test_clone_pickle_and_score(model_path, windows):
    target = windows.mean(axis=(1, 2))
    fitted = OnnxRegressor(model_path).fit(windows)
    assert clone(fitted).get_params() == {"onnx_path": model_path, "batch_size": 1_024}
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict(windows), fitted.predict(windows))
    assert fitted.score(windows, target) == pytest.approx(1.0, abs=1e-9)


def test_works_in_a_pipeline_and_cross_validation(model_path, windows):
    target = 2 * windows.mean(axis=(1, 2))
    doubled = make_pipeline(FunctionTransformer(lambda x: 2 * x), OnnxRegressor(model_path))
    scores = cross_val_score(
        doubled, windows, target, cv=TimeSeriesSplit(3), scoring="neg_mean_absolute_error"
    )
    assert scores.shape == (3,) and np.all(scores > -1e-6)
    assert mean_absolute_error(target, doubled.fit(windows, target).predict(windows)) < 1e-6


def test_wrong_shape_names_both_shapes(model_path, windows):
    fitted = OnnxRegressor(model_path).fit(windows)
    with pytest.raises(ValueError, match=r"takes input of shape \(any, 5, 3\), got \(40, 4, 3\)"):
        fitted.predict(windows[:, :4])
    with pytest.raises(ValueError, match=r"got \(40, 15\)"):
        fitted.predict(windows.reshape(40, -1))


def test_non_numeric_input_and_missing_model_are_refused(model_path, tmp_path, windows):
    with pytest.raises(TypeError, match="needs numbers"):
        OnnxRegressor(model_path).fit(windows).predict(np.full((2, WINDOW, FEATURES), "a"))
    with pytest.raises(
        FileNotFoundError, match="no ONNX model at .*export one first, as chapter 3 does"
    ):
        OnnxRegressor(tmp_path / "missing.onnx").fit(windows)


def test_predict_before_fit_is_refused(model_path, windows):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        OnnxRegressor(model_path).predict(windows)

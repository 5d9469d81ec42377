"""The ONNX regressors behave as scikit-learn estimators, carry their model, and refuse input they cannot run."""

import pickle

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from sklearn.base import clone
from sklearn.metrics import mean_absolute_error
from sklearn.model_selection import TimeSeriesSplit, cross_val_score, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from onnx_crossings.teaching import onnx_estimator
from onnx_crossings.teaching.onnx_estimator import KerasOnnxRegressor, PrefitOnnxRegressor

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
    regressor = PrefitOnnxRegressor(model_path)
    regressor.batch_size = 7  # forty windows in six batches
    forecast = regressor.fit(windows).predict(windows)
    assert forecast.shape == (40,) and forecast.dtype == np.float32
    np.testing.assert_allclose(forecast, windows.mean(axis=(1, 2)), atol=1e-6)


def test_reads_the_metadata_stored_in_the_onnx_file(model_path, windows):
    assert PrefitOnnxRegressor(model_path).fit(windows).metadata_ == {"features": "open,high,low"}


def test_clone_pickle_and_score(model_path, windows):
    target = windows.mean(axis=(1, 2))
    fitted = PrefitOnnxRegressor(model_path).fit(windows)
    assert clone(fitted).get_params() == {"onnx_path": model_path}
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict(windows), fitted.predict(windows))
    assert fitted.score(windows, target) == pytest.approx(1.0, abs=1e-9)


def test_works_in_a_pipeline_and_cross_validation(model_path, windows):
    target = 2 * windows.mean(axis=(1, 2))
    doubled = make_pipeline(FunctionTransformer(lambda x: 2 * x), PrefitOnnxRegressor(model_path))
    scores = cross_val_score(
        doubled, windows, target, cv=TimeSeriesSplit(3), scoring="neg_mean_absolute_error"
    )
    assert scores.shape == (3,) and np.all(scores > -1e-6)
    assert mean_absolute_error(target, doubled.fit(windows, target).predict(windows)) < 1e-6


def test_wrong_shape_names_both_shapes(model_path, windows):
    fitted = PrefitOnnxRegressor(model_path).fit(windows)
    with pytest.raises(ValueError, match=r"takes input of shape \(any, 5, 3\), got \(40, 4, 3\)"):
        fitted.predict(windows[:, :4])
    with pytest.raises(ValueError, match=r"got \(40, 15\)"):
        fitted.predict(windows.reshape(40, -1))


def test_non_numeric_input_and_missing_model_are_refused(model_path, tmp_path, windows):
    with pytest.raises(TypeError, match="needs numbers"):
        PrefitOnnxRegressor(model_path).fit(windows).predict(np.full((2, WINDOW, FEATURES), "a"))
    with pytest.raises(
        FileNotFoundError, match="no ONNX model at .*export one first, as chapter 3 does"
    ):
        PrefitOnnxRegressor(tmp_path / "missing.onnx").fit(windows)


def test_predict_before_fit_is_refused(model_path, windows):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        PrefitOnnxRegressor(model_path).predict(windows)


def test_a_pickled_regressor_predicts_after_its_file_is_deleted(model_path, tmp_path, windows):
    copy = tmp_path / "copy.onnx"
    copy.write_bytes(model_path.read_bytes())
    pickled = pickle.dumps(PrefitOnnxRegressor(copy).fit(windows))
    copy.unlink()
    np.testing.assert_allclose(
        pickle.loads(pickled).predict(windows), windows.mean(axis=(1, 2)), atol=1e-6
    )


def tiny_model(x_train, y_train, seed):
    """A Keras model with two outputs, like chapter 3's: a forecast from the window's mean, and a spread."""
    import keras

    keras.utils.set_random_seed(seed)
    window = keras.Input(x_train.shape[1:], name="window")
    flat = keras.layers.Flatten()(window)
    outputs = {
        "forecast": keras.layers.Dense(1, name="forecast")(flat),
        "spread": keras.layers.Dense(2, name="spread")(flat),
    }
    model = keras.Model(window, outputs)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    return model


def test_keras_regressor_trains_in_fit_so_each_fold_learns_its_own_model(windows):
    target = windows.mean(axis=(1, 2)) * 3 + 1
    regressor = KerasOnnxRegressor(
        tiny_model, validation_size=10, max_epochs=60, metadata={"target": "mean"}
    )
    run = cross_validate(
        regressor, windows, target, cv=TimeSeriesSplit(2, test_size=5), return_estimator=True
    )
    first, second = run["estimator"]
    assert first.onnx_bytes_ != second.onnx_bytes_, "every fold trains its own model"
    assert first.output_names_ == ["forecast", "spread"] and first.metadata_ == {"target": "mean"}
    assert first.predict(windows).shape == (40,) and first.predict_outputs(windows)[
        "spread"
    ].shape == (40, 2)
    keras_forecast = first.keras_model_.predict(windows.astype(np.float32), verbose=0)[
        "forecast"
    ].reshape(-1)
    np.testing.assert_allclose(first.predict(windows), keras_forecast, rtol=1e-5, atol=1e-6)
    restored = pickle.loads(pickle.dumps(first))
    assert not hasattr(restored, "keras_model_")
    np.testing.assert_array_equal(restored.predict(windows), first.predict(windows))


def test_keras_regressor_refuses_too_little_history_for_its_validation_slice(windows):
    with pytest.raises(ValueError, match="give fit\\(\\) more history or lower validation_size"):
        KerasOnnxRegressor(tiny_model, validation_size=30).fit(windows, windows.mean(axis=(1, 2)))


@pytest.mark.parametrize("refit", [True, False])
def test_keras_regressor_refits_the_chosen_epochs_on_every_sample(windows, refit):
    built_on = []

    def recording_model(x_train, y_train, seed):
        built_on.append(len(x_train))
        return tiny_model(x_train, y_train, seed)

    target = windows.mean(axis=(1, 2))
    regressor = KerasOnnxRegressor(
        recording_model, validation_size=10, max_epochs=8, patience=2, refit=refit
    ).fit(windows, target)
    assert built_on == ([30, 40] if refit else [30])
    samples = 40 if refit else 30
    epochs = regressor.best_epoch_ if refit else len(regressor.history_["loss"])
    steps = epochs * -(-samples // onnx_estimator.BATCH_SIZE)
    assert int(regressor.keras_model_.optimizer.iterations) == steps

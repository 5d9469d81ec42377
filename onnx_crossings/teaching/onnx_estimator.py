"""scikit-learn regressors that predict through ONNX Runtime: one trains a Keras model in fit, one is prefit."""

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from onnx_crossings.plumbing import batching, quiet
from onnx_crossings.teaching import runtimes

ONNX_FLOAT = "tensor(float)"
OPSET = 17
BATCH_SIZE = 32  # samples per training step


class _OnnxPredictor(RegressorMixin, BaseEstimator):
    """What both regressors share once they hold an ONNX model's bytes: batched predictions, checks, pickling."""

    batch_size = 1_024

    def predict(self, X) -> np.ndarray:
        """One prediction per sample from the model's first output, as a 1-D float array."""
        return self.predict_outputs(X)[self.output_names_[0]].reshape(len(X), -1).squeeze(axis=1)

    def predict_outputs(self, X) -> dict[str, np.ndarray]:
        """Every output of the ONNX model, by name, computed in batches."""
        check_is_fitted(self, "onnx_bytes_")
        X = self._checked(X)
        if not hasattr(self, "_session"):  # unpickled: sessions do not travel, the model's bytes do
            self._session = _session(self.onnx_bytes_)
        outputs = batching.in_batches(
            lambda batch: self._session.run(None, {self.input_name_: batch}), X, self.batch_size
        )
        return dict(zip(self.output_names_, outputs, strict=True))

    def _load(self, onnx_bytes: bytes, X):
        """Open the model, read its input, outputs and metadata, and check that X fits the input."""
        self.onnx_bytes_ = onnx_bytes
        self._session = _session(onnx_bytes)
        model_input = self._session.get_inputs()[0]
        if model_input.type != ONNX_FLOAT:
            raise TypeError(
                f"the model expects {model_input.type}; these regressors feed float32 only"
            )
        self.input_name_ = model_input.name
        self.input_shape_ = tuple(
            size if isinstance(size, int) else None for size in model_input.shape
        )
        self.output_names_ = [output.name for output in self._session.get_outputs()]
        # the key-value pairs the exporter stored in the file (ONNX metadata_props)
        self.metadata_ = dict(self._session.get_modelmeta().custom_metadata_map)
        self._checked(X)
        return self

    def _checked(self, X) -> np.ndarray:
        """X as float32, or a ValueError that names the expected and the received shape."""
        X = np.asarray(X)
        if not np.issubdtype(X.dtype, np.number):
            raise TypeError(f"{type(self).__name__} needs numbers, got an array of {X.dtype}")
        expected = self.input_shape_
        fits = X.ndim == len(expected) and all(
            want is None or want == got for want, got in zip(expected[1:], X.shape[1:], strict=True)
        )
        if not fits:
            shown = "(" + ", ".join("any" if size is None else str(size) for size in expected) + ")"
            raise ValueError(f"{self._model_name()} takes input of shape {shown}, got {X.shape}")
        return np.ascontiguousarray(X, dtype=np.float32)

    def _model_name(self) -> str:
        """How error messages name the model."""
        return "the model"

    def __getstate__(self) -> dict:
        """Everything but the live objects (ONNX Runtime session, Keras model); the ONNX bytes travel."""
        return {
            key: value
            for key, value in self.__dict__.items()
            if key not in ("_session", "keras_model_")
        }


class PrefitOnnxRegressor(_OnnxPredictor):
    """A model trained elsewhere, read from its ONNX file: fit() trains nothing, it reads and checks the file."""

    def __init__(self, onnx_path: str | Path):
        self.onnx_path = onnx_path

    def fit(self, X, y=None):
        """Read the ONNX file (its bytes stay with the estimator) and check that X fits its input; y is ignored."""
        if not Path(self.onnx_path).exists():
            raise FileNotFoundError(
                f"no ONNX model at {self.onnx_path}: export one first, as chapter 3 does"
            )
        return self._load(Path(self.onnx_path).read_bytes(), X)

    def _model_name(self) -> str:
        return Path(self.onnx_path).name


class KerasOnnxRegressor(_OnnxPredictor):
    """Trains a Keras model in fit(), exports it with tf2onnx and predicts through ONNX Runtime."""

    def __init__(
        self,
        build: Callable,
        *,
        seed: int = 0,
        validation_size: int = 250,
        patience: int = 10,
        max_epochs: int = 100,
        refit: bool = True,
        metadata: dict[str, str] | None = None,
    ):
        self.build = build
        self.seed = seed
        self.validation_size = validation_size
        self.patience = patience
        self.max_epochs = max_epochs
        self.refit = refit
        self.metadata = metadata

    def fit(self, X, y):
        """Choose the epoch by early stopping on the last `validation_size` samples, refit on all, export and open."""
        import keras  # imported here, so that the prefit regressor needs no TensorFlow

        X, y = np.asarray(X, np.float32), np.asarray(y, np.float32).reshape(-1, 1)
        training = len(X) - self.validation_size
        if training < self.validation_size:
            raise ValueError(
                f"{len(X)} samples leave {training} for training after {self.validation_size} for validation: "
                "give fit() more history or lower validation_size"
            )
        model = self.build(X[:training], y[:training], self.seed)
        # every output (the expected value, its quantiles) learns from the same y
        fit = model.fit(
            X[:training],
            {name: y[:training] for name in model.output_names},
            validation_data=(X[training:], {name: y[training:] for name in model.output_names}),
            epochs=self.max_epochs,
            batch_size=BATCH_SIZE,
            shuffle=True,
            verbose=0,
            callbacks=[
                keras.callbacks.EarlyStopping(patience=self.patience, restore_best_weights=True)
            ],
        )
        self.history_ = fit.history
        self.best_epoch_ = int(np.argmin(fit.history["val_loss"])) + 1
        if (
            self.refit
        ):  # the chosen number of epochs again, from scratch, on every sample: the newest year too
            model = self.build(X, y, self.seed)
            model.fit(
                X,
                {name: y for name in model.output_names},
                epochs=self.best_epoch_,
                batch_size=BATCH_SIZE,
                shuffle=True,
                verbose=0,
            )
        self.keras_model_ = model
        return self._load(export_keras(model, X.shape[1:], self.metadata or {}), X)


def export_keras(model, sample_shape: tuple[int, ...], metadata: dict[str, str]) -> bytes:
    """A Keras model as ONNX bytes (tf2onnx, opset 17, batch size free), with its metadata, fully checked."""
    with quiet.silence_native_stderr():  # TensorFlow's C++ libraries print notices we do not need
        import tensorflow as tf
        import tf2onnx

        signature = [tf.TensorSpec((None, *sample_shape), tf.float32, name=model.inputs[0].name)]
        onnx_model, _ = tf2onnx.convert.from_keras(model, input_signature=signature, opset=OPSET)
    onnx.helper.set_model_props(onnx_model, metadata)
    onnx.checker.check_model(onnx_model, full_check=True)
    return onnx_model.SerializeToString()


def _session(onnx_bytes: bytes) -> ort.InferenceSession:
    """An ONNX Runtime session on a model held in memory, on the best provider this machine has."""
    return runtimes.inference_session(onnx_bytes)

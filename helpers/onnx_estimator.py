"""A scikit-learn regressor that runs an ONNX model: clone, pickle, Pipeline and cross-validation work."""

from pathlib import Path

import numpy as np
import onnxruntime as ort
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

ONNX_FLOAT = "tensor(float)"


class OnnxRegressor(RegressorMixin, BaseEstimator):
    """Predicts with an exported ONNX model; fit() only loads and checks it, the model is trained already."""

    def __init__(self, onnx_path: str | Path, batch_size: int = 1_024):
        self.onnx_path = onnx_path
        self.batch_size = batch_size

    def fit(self, X, y=None):
        """Open the ONNX model and check that X fits its input; training happened in the original framework."""
        self._session = _open(self.onnx_path)
        model_input = self._session.get_inputs()[0]
        if model_input.type != ONNX_FLOAT:
            raise TypeError(
                f"{self.onnx_path} expects {model_input.type}; OnnxRegressor feeds float32 only"
            )
        self.input_name_ = model_input.name
        self.input_shape_ = tuple(
            size if isinstance(size, int) else None for size in model_input.shape
        )
        # the key-value pairs the exporter stored in the file (ONNX metadata_props)
        self.metadata_ = dict(self._session.get_modelmeta().custom_metadata_map)
        self._checked(X)
        return self

    def predict(self, X) -> np.ndarray:
        """One prediction per sample, as a 1-D float array, computed in batches."""
        check_is_fitted(self, "input_name_")
        X = self._checked(X)
        if not hasattr(self, "_session"):  # unpickled: sessions do not travel
            self._session = _open(self.onnx_path)
        outputs = [
            self._session.run(None, {self.input_name_: X[start : start + self.batch_size]})[0]
            for start in range(0, len(X), self.batch_size)
        ]
        return np.concatenate(outputs).reshape(len(X), -1).squeeze(axis=1)

    def _checked(self, X) -> np.ndarray:
        """X as float32, or a ValueError that names the expected and the received shape."""
        X = np.asarray(X)
        if not np.issubdtype(X.dtype, np.number):
            raise TypeError(f"OnnxRegressor needs numbers, got an array of {X.dtype}")
        expected = self.input_shape_
        fits = X.ndim == len(expected) and all(
            want is None or want == got for want, got in zip(expected[1:], X.shape[1:], strict=True)
        )
        if not fits:
            shown = "(" + ", ".join("any" if size is None else str(size) for size in expected) + ")"
            raise ValueError(
                f"{Path(self.onnx_path).name} takes input of shape {shown}, got {X.shape}"
            )
        return np.ascontiguousarray(X, dtype=np.float32)

    def __getstate__(self) -> dict:
        """Everything but the ONNX Runtime session, which cannot be pickled; predict() reopens it."""
        return {key: value for key, value in self.__dict__.items() if key != "_session"}


def _open(onnx_path) -> ort.InferenceSession:
    """An ONNX Runtime CPU session, or a FileNotFoundError that says where the model should be."""
    if not Path(onnx_path).exists():
        raise FileNotFoundError(
            f"no ONNX model at {onnx_path}: export one first, as chapter 3 does"
        )
    return ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])

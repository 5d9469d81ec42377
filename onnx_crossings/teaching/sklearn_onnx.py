"""scikit-learn to ONNX with skl2onnx, with converters for the course's own estimators: a whole ensemble, one file."""

import numpy as np
import onnx
import onnx.compose
from skl2onnx import convert_sklearn, update_registered_converter
from skl2onnx.common.data_types import FloatTensorType
from sklearn.base import BaseEstimator, TransformerMixin

from onnx_crossings.teaching.onnx_estimator import OPSET, KerasOnnxRegressor, PrefitOnnxRegressor

RECURRENT = ("LSTM", "GRU", "RNN")
SEQUENCE_LENS = 4  # ONNX's recurrent operators take sequence_lens 5th


class WindowFlattener(TransformerMixin, BaseEstimator):
    """Each (days, features) window as one row of days × features numbers, for models that read flat rows."""

    def fit(self, X, y=None):
        """Remember the window's shape, which the ONNX converter needs."""
        self.window_shape_ = tuple(np.shape(X)[1:])
        return self

    def transform(self, X) -> np.ndarray:
        """The windows, flattened."""
        return np.asarray(X).reshape(len(X), -1)


def to_onnx(estimator, sample_shape: tuple[int, ...], *, name: str) -> onnx.ModelProto:
    """A fitted scikit-learn model of windows (pipelines, ensembles, the course's ONNX regressors) as one ONNX model."""
    model = convert_sklearn(
        estimator,
        name,
        initial_types=[("window", FloatTensorType([None, *sample_shape]))],
        target_opset=OPSET,
    )
    onnx.checker.check_model(model, full_check=True)
    return model


def _flattened_shape(operator):
    """The flattener's output: one row per window."""
    window_shape = operator.raw_operator.window_shape_
    operator.outputs[0].type = FloatTensorType(
        [operator.inputs[0].get_first_dimension(), int(np.prod(window_shape))]
    )


def _convert_flattener(scope, operator, container):
    """A Reshape to (windows, days × features)."""
    shape = scope.get_unique_variable_name("flat_shape")
    container.add_initializer(
        shape, onnx.TensorProto.INT64, [2], [-1, int(np.prod(operator.raw_operator.window_shape_))]
    )
    container.add_node(
        "Reshape",
        [operator.inputs[0].full_name, shape],
        operator.outputs[0].full_name,
        name=scope.get_unique_operator_name("Flatten"),
    )


def _full_lengths(scope, container, window: str, days: int) -> str:
    """Every window's length in days, as a recurrent node's sequence_lens: the same as leaving it out."""
    batch, lengths = (
        scope.get_unique_variable_name("batch"),
        scope.get_unique_variable_name("sequence_lens"),
    )
    container.add_node(
        "Shape", window, batch, name=scope.get_unique_operator_name("Batch"), start=0, end=1
    )
    container.add_node(
        "ConstantOfShape",
        batch,
        lengths,
        name=scope.get_unique_operator_name("SequenceLens"),
        value=onnx.helper.make_tensor("days", onnx.TensorProto.INT32, [1], [days]),
    )
    return lengths


def _regressor_shape(operator):
    """A regressor's output as skl2onnx expects it: one column per window."""
    operator.outputs[0].type = FloatTensorType([operator.inputs[0].get_first_dimension(), 1])


def _convert_onnx_regressor(scope, operator, container):
    """The regressor's own ONNX graph, its names prefixed, wired from the input to its first output."""
    estimator = operator.raw_operator
    prefix = scope.get_unique_variable_name(f"{operator.full_name}_") + "_"
    graph = onnx.compose.add_prefix(onnx.load_from_string(estimator.onnx_bytes_), prefix).graph
    container.add_node(
        "Identity", operator.inputs[0].full_name, graph.input[0].name, name=prefix + "input"
    )
    for initializer in graph.initializer:
        container.initializers.append(initializer)
    lengths = None
    for node in graph.node:
        inputs = list(node.input)
        # an optional input left out: skl2onnx's graph sorter needs every input to be a tensor
        if "" in inputs:
            if (
                node.op_type not in RECURRENT
                or inputs.index("") != SEQUENCE_LENS
                or inputs.count("") > 1
            ):
                raise NotImplementedError(
                    f"{node.op_type} node {node.name} leaves out an input this converter cannot fill"
                )
            lengths = lengths or _full_lengths(
                scope, container, graph.input[0].name, estimator.input_shape_[1]
            )
            inputs[SEQUENCE_LENS] = lengths
        attributes = {
            attribute.name: onnx.helper.get_attribute_value(attribute)
            for attribute in node.attribute
        }
        container.add_node(
            node.op_type,
            inputs,
            list(node.output),
            op_domain=node.domain,
            name=node.name,
            **attributes,
        )
    column = scope.get_unique_variable_name("column_shape")
    container.add_initializer(column, onnx.TensorProto.INT64, [2], [-1, 1])
    container.add_node(
        "Reshape",
        [graph.output[0].name, column],
        operator.outputs[0].full_name,
        name=prefix + "output",
    )


update_registered_converter(
    WindowFlattener, "CourseWindowFlattener", _flattened_shape, _convert_flattener
)
for _regressor in (KerasOnnxRegressor, PrefitOnnxRegressor):
    update_registered_converter(
        _regressor, f"Course{_regressor.__name__}", _regressor_shape, _convert_onnx_regressor
    )

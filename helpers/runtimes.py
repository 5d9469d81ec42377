"""Predict functions for the runtimes chapter 1's bonus compares, each with a fixed number of threads."""

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime as ort

Predict = Callable[[np.ndarray], np.ndarray]


def onnxruntime_predictor(
    onnx_path: Path,
    threads: int | None = None,
    level: ort.GraphOptimizationLevel = ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    save_optimized_to: Path | None = None,
) -> Predict:
    """ONNX Runtime on the CPU at one optimization level, on threads (None: its default), maybe saving the graph."""
    options = ort.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    options.graph_optimization_level = level
    if save_optimized_to is not None:
        options.optimized_model_filepath = str(save_optimized_to)
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    return lambda batch: session.run(None, {input_name: batch})[0]


def tflite_predictor(tflite_path: Path, threads: int) -> Predict:
    """A TensorFlow Lite interpreter (LiteRT) that takes batches of any size, resizing its input when it changes."""
    from ai_edge_litert.interpreter import Interpreter  # imported here: only the bonus needs it

    interpreter = Interpreter(model_path=str(tflite_path), num_threads=threads)
    (given,), (wanted,) = interpreter.get_input_details(), interpreter.get_output_details()
    interpreter.allocate_tensors()
    allocated = tuple(given["shape"])

    def predict(batch: np.ndarray) -> np.ndarray:
        nonlocal allocated
        if batch.shape != allocated:
            interpreter.resize_tensor_input(given["index"], batch.shape)
            interpreter.allocate_tensors()
            allocated = batch.shape
        interpreter.set_tensor(given["index"], np.ascontiguousarray(batch, dtype=given["dtype"]))
        interpreter.invoke()
        return interpreter.get_tensor(wanted["index"]).copy()

    return predict

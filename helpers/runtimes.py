"""Predict functions for the runtimes chapter 1 and its bonus race: each runtime as its documentation advises."""

import copy
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import onnxruntime as ort

from helpers import devices, quiet

if TYPE_CHECKING:
    import torch

Predict = Callable[[np.ndarray], np.ndarray]


def pytorch_predictor(model: "torch.nn.Module") -> Predict:
    """A copy of a CNN as PyTorch's CPU performance guide advises: inference mode, model and images channels-last."""
    import torch  # imported here, not above: chapter 3 uses this module where PyTorch may not be installed

    fast = copy.deepcopy(model).eval().to(memory_format=torch.channels_last)

    def predict(batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            images = torch.from_numpy(batch).contiguous(memory_format=torch.channels_last)
            return fast(images).numpy()

    return predict


def onnxruntime_predictor(
    onnx_path: Path,
    threads: int | None = None,
    level: ort.GraphOptimizationLevel = ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    save_optimized_to: Path | None = None,
) -> Predict:
    """ONNX Runtime on the CPU at one optimization level, on threads (None: its default), maybe saving the graph.

    The CPU by name, even where a GPU is there: chapter 1's bonus races runtimes on the same cores.
    """
    options = ort.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    options.graph_optimization_level = level
    if save_optimized_to is not None:
        options.optimized_model_filepath = str(save_optimized_to)
        # at level 'all' ONNX Runtime warns, in colour on stderr, that the file suits this CPU only
        options.log_severity_level = 3
    session = devices.inference_session(str(onnx_path), options, providers=[devices.CPU])
    input_name = session.get_inputs()[0].name
    return lambda batch: session.run(None, {input_name: batch})[0]


def tflite_predictor(tflite_path: Path, threads: int) -> Predict:
    """A TensorFlow Lite interpreter (LiteRT) that takes batches of any size, resizing its input when it changes."""
    from ai_edge_litert.interpreter import Interpreter  # imported here: only the bonus needs it

    with quiet.silence_native_stderr():  # LiteRT announces its XNNPACK delegate
        interpreter = Interpreter(model_path=str(tflite_path), num_threads=threads)
        interpreter.allocate_tensors()
    (given,), (wanted,) = interpreter.get_input_details(), interpreter.get_output_details()
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

"""ONNX Runtime's sessions, on the best provider that really starts, and each runtime's predict function.

ONNX Runtime is asked for its providers best first (a GPU, then the platform's accelerator, the CPU last), and a
session reports the providers it really uses: a provider that is listed but cannot start falls back to the next one,
visibly. The predict functions run each runtime as its documentation advises, for chapter 1's and its bonus's races.
"""

import copy
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import onnxruntime as ort

from onnx_crossings.plumbing import quiet

if TYPE_CHECKING:
    import torch

Predict = Callable[[np.ndarray], np.ndarray]

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
# ONNX Runtime's providers in the order a learner wants them; each exists only in its own build of the package
# (onnxruntime-gpu for CUDA, the macOS wheel for CoreML, onnxruntime-directml for DirectML on Windows).
PROVIDER_ORDER = (CUDA, "CoreMLExecutionProvider", "DmlExecutionProvider", CPU)
# ONNX Runtime's CUDA provider multiplies float32 as TF32 on recent GPUs unless told not to (as in keep_float32_exact)
PROVIDER_OPTIONS = {CUDA: {"use_tf32": "0"}}


def preferred_providers(available: Sequence[str] | None = None) -> list[str]:
    """The providers to ask ONNX Runtime for, best first, among those its build has (the CPU always last)."""
    available = ort.get_available_providers() if available is None else available
    return [
        provider for provider in PROVIDER_ORDER if provider in available and provider != CPU
    ] + [CPU]


def inference_session(
    model, options: ort.SessionOptions | None = None, providers: Sequence[str] | None = None
) -> ort.InferenceSession:
    """A session (on a path or a model's bytes) on the first provider that really starts, saying when one does not.

    ONNX Runtime falls back to the CPU without an error when a GPU provider's libraries or device are missing;
    the session's own list of providers shows it, so each one is read back before it is trusted.
    """
    *accelerators, last = preferred_providers() if providers is None else providers
    for provider in accelerators:
        try:
            if provider == CUDA:
                ort.preload_dlls()  # the CUDA and cuDNN libraries that onnxruntime-gpu[cuda,cudnn] installed
            asked = [(provider, PROVIDER_OPTIONS.get(provider, {})), CPU]
            session = ort.InferenceSession(model, options, providers=asked)
        except Exception as error:  # ONNX Runtime's own exception types
            print(
                f"ONNX Runtime could not start {provider}: {str(error).strip() or type(error).__name__}"
            )
            continue
        if provider in session.get_providers():
            return session
        print(
            f"ONNX Runtime was asked for {provider} and fell back to {', '.join(session.get_providers())}"
        )
    return ort.InferenceSession(model, options, providers=[last])


def used_providers(session: ort.InferenceSession) -> list[str]:
    """The providers a session actually runs on, as it reports them (the CPU also takes what a GPU cannot)."""
    return session.get_providers()


def pytorch_predictor(model: "torch.nn.Module") -> Predict:
    """A copy of a CNN as PyTorch's CPU performance guide advises: batch normalisation folded into the convolutions
    (as the ONNX exporter folds it), inference mode, model and images channels-last."""
    import torch  # imported here, not above: chapter 3 uses this module where PyTorch may not be installed
    from torch.fx.experimental.optimization import fuse

    fast = fuse(copy.deepcopy(model).eval()).to(memory_format=torch.channels_last)

    def predict(batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            images = torch.from_numpy(batch).contiguous(memory_format=torch.channels_last)
            return fast(images).numpy()

    return predict


def tensorflow_on_cpu(predict: Predict) -> Predict:
    """A TensorFlow predict function held to the CPU by name, where TensorFlow would otherwise place it on a GPU."""
    import tensorflow as tf  # imported here: only the chapters that run TensorFlow need it

    def on_cpu(batch: np.ndarray) -> np.ndarray:
        with tf.device("/CPU:0"):
            return predict(batch)

    return on_cpu


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
    session = inference_session(str(onnx_path), options, providers=[CPU])
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

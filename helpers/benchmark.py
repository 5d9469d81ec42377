"""Timing a framework's predictions over a whole data set, batch by batch."""

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import onnxruntime as ort


@dataclass(frozen=True)
class TimedRun:
    """Outputs of a batched run and the wall-clock seconds it took."""

    outputs: np.ndarray
    seconds: float

    @property
    def per_second(self) -> float:
        """Samples processed per second."""
        return len(self.outputs) / self.seconds


def run_in_batches(
    predict: Callable[[np.ndarray], np.ndarray], inputs: np.ndarray, batch_size: int = 1000
) -> TimedRun:
    """Run predict over inputs in batches, concatenate its outputs and time the whole pass."""
    start = time.perf_counter()
    outputs = np.concatenate(
        [predict(inputs[i : i + batch_size]) for i in range(0, len(inputs), batch_size)]
    )
    return TimedRun(outputs=outputs, seconds=time.perf_counter() - start)


def run_onnx_in_batches(onnx_path, inputs: np.ndarray, batch_size: int = 1000) -> TimedRun:
    """Run an ONNX file in ONNX Runtime on the CPU over inputs, fed to its one input, batch by batch."""
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    return run_in_batches(
        lambda batch: session.run(None, {input_name: batch})[0], inputs, batch_size
    )

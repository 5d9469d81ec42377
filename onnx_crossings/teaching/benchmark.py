"""Timing predictions: one pass over a whole data set, and repeated calls on one batch (latency, throughput)."""

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from onnx_crossings.plumbing import batching


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
    outputs = batching.in_batches(predict, inputs, batch_size)
    return TimedRun(outputs=outputs, seconds=time.perf_counter() - start)


def run_onnx_in_batches(onnx_path, inputs: np.ndarray, batch_size: int = 1000) -> TimedRun:
    """Run an ONNX file in ONNX Runtime on the CPU over inputs, fed to its one input, batch by batch."""
    # imported here: TimedRun travels to processes that never run a model
    from onnx_crossings.teaching import runtimes

    return run_in_batches(runtimes.onnxruntime_predictor(onnx_path), inputs, batch_size)


@dataclass(frozen=True)
class Timing:
    """Seconds of each timed call on one batch (after warm-up), with the batch size and thread count used."""

    seconds: tuple[float, ...]
    batch_size: int
    threads: int

    def milliseconds(self, percentile: float) -> float:
        """The given percentile of the per-call times, in milliseconds."""
        return float(np.percentile(self.seconds, percentile)) * 1e3

    @property
    def per_second(self) -> float:
        """Samples per second at the median call time."""
        return self.batch_size / float(np.median(self.seconds))


def measure(
    call: Callable[[], object],
    *,
    batch_size: int,
    threads: int,
    repeats: int,
    warmup: int = 10,
    clock: Callable[[], float] = time.perf_counter,
) -> Timing:
    """Call warmup times untimed, then repeats times, timing each call on its own."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1 to time anything, not {repeats}")
    for _ in range(warmup):
        call()
    seconds = []
    for _ in range(repeats):
        start = clock()
        call()
        seconds.append(clock() - start)
    return Timing(tuple(seconds), batch_size, threads)

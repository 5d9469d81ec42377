"""The hardware each framework runs on, chosen in one place and read back from what actually runs.

PyTorch trains on CUDA when it sees a GPU, on Apple's MPS on a Mac that has it, else on the CPU. ONNX Runtime is
asked for its providers best first (a GPU, then the platform's accelerator, the CPU last), and a session reports
the providers it really uses: a provider that is listed but cannot start falls back to the next one, visibly.
"""

from collections.abc import Sequence
from typing import TYPE_CHECKING

import onnxruntime as ort

if TYPE_CHECKING:
    import torch

CPU = "CPUExecutionProvider"
# ONNX Runtime's providers in the order a learner wants them; each exists only in its own build of the package
# (onnxruntime-gpu for CUDA, the macOS wheel for CoreML, onnxruntime-directml for DirectML on Windows).
PROVIDER_ORDER = ("CUDAExecutionProvider", "CoreMLExecutionProvider", "DmlExecutionProvider", CPU)


def torch_device() -> "torch.device":
    """The device PyTorch should train on here: CUDA, else Apple's MPS, else the CPU."""
    import torch  # imported here: chapter 3 uses this module where PyTorch may not be installed

    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


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
            session = ort.InferenceSession(model, options, providers=[provider, CPU])
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


def tensorflow_gpus() -> list[str]:
    """The GPUs TensorFlow sees, by name (none on a machine without a CUDA build and driver)."""
    import tensorflow as tf  # imported here: most chapters never start TensorFlow

    return [device.name for device in tf.config.list_physical_devices("GPU")]


def hardware_line(torch_device_name: str | None, session: ort.InferenceSession | None) -> str:
    """One line saying what PyTorch trains on and which providers an ONNX Runtime session really uses."""
    parts = []
    if torch_device_name is not None:
        parts.append(f"PyTorch trains on {torch_device_name}")
    if session is not None:
        parts.append(f"ONNX Runtime runs on {', '.join(used_providers(session))}")
    return "; ".join(parts)


def keep_float32_exact() -> None:
    """On a GPU, make PyTorch multiply in full float32 and pick the same kernels every run.

    Ampere and later GPUs may run float32 matrix products and convolutions as TF32 (a 10-bit mantissa), and
    cuDNN may pick a different, nondeterministic algorithm each run: both move outputs by far more than float32
    rounding, so a parity check against ONNX Runtime on the CPU would measure them, not the crossing.
    """
    import torch

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    torch.set_float32_matmul_precision("highest")

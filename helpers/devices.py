"""The hardware each framework runs on, and the one ONNX Runtime session builder: chosen in one place, read back.

PyTorch trains on CUDA when it sees a GPU, on Apple's MPS on a Mac that has it, else on the CPU. ONNX Runtime is
asked for its providers best first (a GPU, then the platform's accelerator, the CPU last), and a session reports
the providers it really uses: a provider that is listed but cannot start falls back to the next one, visibly.
`python -m helpers.devices` prints what this machine's builds can use.
"""

import importlib.metadata
from collections.abc import Sequence
from typing import TYPE_CHECKING

import onnx
import onnxruntime as ort

from helpers import quiet

if TYPE_CHECKING:
    import torch

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
# ONNX Runtime's providers in the order a learner wants them; each exists only in its own build of the package
# (onnxruntime-gpu for CUDA, the macOS wheel for CoreML, onnxruntime-directml for DirectML on Windows).
PROVIDER_ORDER = (CUDA, "CoreMLExecutionProvider", "DmlExecutionProvider", CPU)
# ONNX Runtime's CUDA provider multiplies float32 as TF32 on recent GPUs unless told not to (see keep_float32_exact)
PROVIDER_OPTIONS = {CUDA: {"use_tf32": "0"}}


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


def tensorflow_gpus() -> list[str]:
    """The GPUs TensorFlow sees, by name (none on a machine without a CUDA build and driver)."""
    with quiet.silence_native_stderr():  # TensorFlow's C++ libraries announce themselves
        import tensorflow as tf  # imported here: most chapters never start TensorFlow

        found = tf.config.list_physical_devices("GPU")
    return [device.name.removeprefix("/physical_device:") for device in found]


def torch_device_name(device: "torch.device") -> str:
    """A device as a learner would name it: the CPU, the GPU's model, or Apple's GPU."""
    import torch

    if device.type == "cuda":
        return f"the GPU {torch.cuda.get_device_name(device)}"
    return {"mps": "Apple's GPU (MPS)", "cpu": "the CPU"}.get(device.type, str(device))


def hardware_line(
    *,
    pytorch: "torch.device | None" = None,
    tensorflow: bool = False,
    sessions: Sequence[ort.InferenceSession] = (),
) -> str:
    """One line saying what PyTorch trains on, what TensorFlow runs on, and what ONNX Runtime's sessions use.

    The providers are read back from the sessions, so a GPU provider that fell back to the CPU shows.
    """
    parts = []
    if pytorch is not None:
        parts.append(f"PyTorch trains on {torch_device_name(pytorch)}")
    if tensorflow:
        parts.append(f"TensorFlow on {', '.join(tensorflow_gpus()) or 'the CPU'}")
    for providers in dict.fromkeys(tuple(used_providers(session)) for session in sessions):
        parts.append(f"ONNX Runtime on {', '.join(providers)}")
    return "Hardware: " + "; ".join(parts)


def keep_float32_exact(pytorch: bool = True, tensorflow: bool = False) -> None:
    """On a GPU, make PyTorch (and TensorFlow, when asked) multiply in full float32, PyTorch with the same kernels.

    Ampere and later GPUs may run float32 matrix products and convolutions as TF32 (a 10-bit mantissa), and
    cuDNN may pick a different, nondeterministic algorithm each run: both move outputs by far more than float32
    rounding, so a parity check against ONNX Runtime on the CPU would measure them, not the crossing.
    On a CPU none of this changes a number.
    """
    if pytorch:
        import torch

        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
        torch.set_float32_matmul_precision("highest")
    if tensorflow:
        with quiet.silence_native_stderr():
            import tensorflow as tf

        tf.config.experimental.enable_tensor_float_32_execution(False)


def tf32_rounded(tensor: "torch.Tensor") -> "torch.Tensor":
    """A float32 tensor rounded to TF32's precision (10 of float32's 23 mantissa bits), as tensor cores read it."""
    import torch

    bits = tensor.detach().contiguous().view(torch.int32)
    # round to nearest, then drop the 13 lowest bits
    return ((bits + 0x1000) & -0x2000).view(torch.float32)


def as_if_tf32(model: "torch.nn.Module") -> "torch.nn.Module":
    """A copy of a model whose convolutions and linear layers read weights and inputs at TF32's precision.

    It does on any device what a GPU's TF32 mode does to those layers' products (the sums stay float32).
    """
    import copy

    import torch

    rounded = copy.deepcopy(model)
    with torch.no_grad():
        for module in rounded.modules():
            if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
                module.weight.copy_(tf32_rounded(module.weight))
                module.register_forward_pre_hook(lambda _, inputs: tuple(map(tf32_rounded, inputs)))
    return rounded


def installed(distribution: str) -> str | None:
    """The installed version of a distribution (a pip package), or None."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def identity_model() -> bytes:
    """The smallest ONNX model, one Identity node, to open a session and read back its providers."""
    value = onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])
    result = onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])
    node = onnx.helper.make_node("Identity", ["x"], ["y"])
    graph = onnx.helper.make_graph([node], "identity", [value], [result])
    model = onnx.helper.make_model(
        graph, opset_imports=[onnx.helper.make_opsetid("", 17)], ir_version=8
    )
    return model.SerializeToString()


def report() -> list[str]:
    """What this machine's builds of PyTorch, ONNX Runtime and TensorFlow can use, one line each."""
    lines = []
    try:
        import torch
    except ImportError:
        lines.append("PyTorch: not installed")
    else:
        built = f"a CUDA {torch.version.cuda} build" if torch.version.cuda else "a CPU-only build"
        lines.append(
            f"PyTorch {torch.__version__} ({built}): CUDA GPU {'found' if torch.cuda.is_available() else 'not found'},"
            f" Apple MPS {'found' if torch.backends.mps.is_available() else 'not found'};"
            f" trains on {torch_device_name(torch_device())}"
        )
    packages = [name for name in ("onnxruntime", "onnxruntime-gpu") if installed(name)]
    if len(packages) > 1:
        lines.append(
            "onnxruntime and onnxruntime-gpu are both installed and share one import: "
            "uninstall both, then install the one you want"
        )
    session = inference_session(identity_model())
    lines.append(
        f"ONNX Runtime {ort.__version__} ({', '.join(packages)}): its build has "
        f"{', '.join(ort.get_available_providers())}; a session asks for "
        f"{', '.join(preferred_providers())} and runs on {', '.join(used_providers(session))}"
    )
    try:
        gpus = tensorflow_gpus()
    except ImportError:
        lines.append("TensorFlow: not installed")
    else:
        lines.append(f"TensorFlow: GPUs {', '.join(gpus) or 'none'}")
    return lines


if __name__ == "__main__":
    print("\n".join(report()))

"""The hardware each framework runs on: chosen in one place, read back, said in one line.

PyTorch trains on CUDA when it sees a GPU, on Apple's MPS on a Mac that has it, else on the CPU; TensorFlow uses
the GPUs it sees; ONNX Runtime's providers are picked by `runtimes.inference_session`, which reads them back.
`python -m onnx_crossings.plumbing.devices` prints what this machine's builds can use.
"""

import importlib.metadata
from collections.abc import Sequence
from typing import TYPE_CHECKING

import onnx
import onnxruntime as ort

from onnx_crossings.plumbing import quiet
from onnx_crossings.teaching import runtimes

if TYPE_CHECKING:
    import torch


def torch_device() -> "torch.device":
    """The device PyTorch should train on here: CUDA, else Apple's MPS, else the CPU."""
    import torch  # imported here: chapter 3 uses this module where PyTorch may not be installed

    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


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
    for providers in dict.fromkeys(tuple(runtimes.used_providers(session)) for session in sessions):
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
    session = runtimes.inference_session(identity_model())
    lines.append(
        f"ONNX Runtime {ort.__version__} ({', '.join(packages)}): its build has "
        f"{', '.join(ort.get_available_providers())}; a session asks for "
        f"{', '.join(runtimes.preferred_providers())} and runs on {', '.join(runtimes.used_providers(session))}"
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

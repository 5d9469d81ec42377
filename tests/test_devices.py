"""PyTorch's device picked in one place, float32 kept exact on a GPU, and the hardware said in one line."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from launching import NOBODY, enterable_by_everyone

from onnx_crossings.plumbing import devices
from onnx_crossings.plumbing.paths import REPO_ROOT
from onnx_crossings.teaching import runtimes

CUDA, CPU = runtimes.CUDA, runtimes.CPU


class GpuSession:
    """An InferenceSession stand-in that runs on CUDA, the CPU taking what CUDA cannot."""

    def get_providers(self):
        return [CUDA, CPU]


def test_the_hardware_line_names_the_gpu_and_the_providers_read_back_once(monkeypatch):
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device: "NVIDIA H100")
    session = GpuSession()
    assert devices.hardware_line(pytorch=torch.device("cuda"), sessions=[session, session]) == (
        "Hardware: PyTorch trains on the GPU NVIDIA H100; ONNX Runtime on CUDAExecutionProvider, CPUExecutionProvider"
    )


def test_this_machine_trains_on_the_cpu():
    assert devices.torch_device() == torch.device("cpu")


def test_pytorch_picks_cuda_then_mps_then_the_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert devices.torch_device() == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert devices.torch_device() == torch.device("mps")


def test_float32_stays_float32_on_a_gpu(monkeypatch):
    # cuBLAS's allow_tf32 is served by __getattr__, which pytest 9's monkeypatch cannot restore: set it by hand
    tf32 = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    monkeypatch.setattr(torch.backends.cudnn, "deterministic", False)
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", True)
    precision = torch.get_float32_matmul_precision()
    try:
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
        devices.keep_float32_exact()
        assert not torch.backends.cuda.matmul.allow_tf32 and not torch.backends.cudnn.allow_tf32
        assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
        assert torch.get_float32_matmul_precision() == "highest"
    finally:
        torch.set_float32_matmul_precision(precision)
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = tf32


def test_tensorflow_float32_stays_float32_when_asked():
    import tensorflow as tf

    tf.config.experimental.enable_tensor_float_32_execution(True)
    devices.keep_float32_exact(pytorch=False, tensorflow=True)
    assert not tf.config.experimental.tensor_float_32_execution_enabled()


def test_the_hardware_line_on_this_machine_reads_the_cpu_everywhere():
    session = runtimes.inference_session(devices.identity_model())
    line = devices.hardware_line(
        pytorch=devices.torch_device(), tensorflow=True, sessions=[session]
    )
    assert (
        line
        == "Hardware: PyTorch trains on the CPU; TensorFlow on the CPU; ONNX Runtime on CPUExecutionProvider"
    )


@pytest.mark.parametrize("as_nobody", [False, True], ids=["as this user", "as nobody"])
def test_the_documented_device_report_runs_from_the_repository_root(as_nobody):
    setup_page = (REPO_ROOT / "book" / "setup.md").read_text()
    documented = re.search(
        r"^\.venv/bin/python (-m onnx_crossings\.plumbing\.devices)$", setup_page, flags=re.M
    )
    assert documented, "the setup page shows the device report's command"
    prefix = [shutil.which(NOBODY[0]), *NOBODY[1:]] if as_nobody else []
    with enterable_by_everyone(REPO_ROOT, Path(sys.executable).resolve()):
        result = subprocess.run(
            [*prefix, sys.executable, *documented.group(1).split()],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 0, result.stderr
    torch_line, runtime_line, tensorflow_line = result.stdout.splitlines()
    assert torch_line.startswith("PyTorch ") and torch_line.endswith("trains on the CPU")
    assert runtime_line.endswith("runs on CPUExecutionProvider")
    assert tensorflow_line == "TensorFlow: GPUs none"


def test_tf32_keeps_ten_mantissa_bits_rounded_to_nearest():
    values = torch.tensor([1 + 2**-11 + 2**-12, 1 + 2**-12, -(1 + 2**-11 + 2**-12), 3.0])
    assert devices.tf32_rounded(values).tolist() == [1 + 2**-10, 1.0, -(1 + 2**-10), 3.0]
    assert not (devices.tf32_rounded(torch.randn(100)).view(torch.int32) & 0x1FFF).any()


def test_a_model_as_if_on_tf32_moves_its_outputs_by_about_a_thousandth():
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(256, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10)
    )
    inputs = torch.randn(64, 256)
    with torch.no_grad():
        exact, rounded = model(inputs), devices.as_if_tf32(model)(inputs)
    relative = ((rounded - exact).abs().max() / exact.abs().max()).item()
    assert 1e-5 < relative < 1e-2
    with torch.no_grad():
        assert torch.equal(model(inputs), exact), "the original model is left as it was"

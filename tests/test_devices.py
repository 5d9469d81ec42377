"""One place picks the hardware: the GPU first when it is there, the CPU otherwise, and a fallback is said aloud."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import onnxruntime as ort
import pytest
import torch
from launching import NOBODY, enterable_by_everyone

from helpers import devices, runtimes
from helpers.paths import REPO_ROOT

CUDA, COREML, DML, CPU = runtimes.PROVIDER_ORDER


def test_providers_are_asked_for_best_first_and_the_cpu_always_last():
    assert runtimes.preferred_providers([CPU, CUDA]) == [CUDA, CPU]
    assert runtimes.preferred_providers([CPU, "AzureExecutionProvider", COREML]) == [COREML, CPU]
    assert runtimes.preferred_providers([CPU]) == [CPU]
    assert runtimes.preferred_providers([]) == [CPU]


def test_this_machine_has_the_cpu_build():
    assert runtimes.preferred_providers() == [CPU]
    assert devices.torch_device() == torch.device("cpu")


class FakeSession:
    """An InferenceSession stand-in: CUDA starts, fails, or silently falls back to the CPU, as set."""

    cuda = "starts"
    asked: list[list[str]] = []

    def __init__(self, model, options=None, providers=()):
        providers = [
            provider if isinstance(provider, str) else provider[0] for provider in providers
        ]
        FakeSession.asked.append(providers)
        if providers[0] == CUDA and self.cuda == "fails":
            raise RuntimeError("CUDA_PATH is set but CUDA wasn't able to be loaded")
        falls_back = providers[0] == CUDA and self.cuda == "falls back"
        self.providers = [CPU] if falls_back else list(providers)

    def get_providers(self):
        return self.providers


@pytest.fixture
def fake_sessions(monkeypatch):
    monkeypatch.setattr(ort, "InferenceSession", FakeSession)
    monkeypatch.setattr(ort, "preload_dlls", lambda: None)
    FakeSession.asked = []
    return FakeSession


def test_a_listed_gpu_that_starts_is_used(fake_sessions, capsys, monkeypatch):
    fake_sessions.cuda = "starts"
    session = runtimes.inference_session(b"model", providers=[CUDA, CPU])
    assert runtimes.used_providers(session) == [CUDA, CPU] and fake_sessions.asked == [[CUDA, CPU]]
    assert capsys.readouterr().out == ""
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device: "NVIDIA H100")
    assert devices.hardware_line(pytorch=torch.device("cuda"), sessions=[session, session]) == (
        "Hardware: PyTorch trains on the GPU NVIDIA H100; ONNX Runtime on CUDAExecutionProvider, CPUExecutionProvider"
    )


@pytest.mark.parametrize(
    ("behaviour", "said"),
    [
        ("fails", "could not start CUDAExecutionProvider: CUDA_PATH is set"),
        ("falls back", "was asked for CUDAExecutionProvider and fell back to CPUExecutionProvider"),
    ],
)
def test_a_gpu_that_does_not_start_falls_back_to_the_cpu_and_says_so(
    fake_sessions, capsys, behaviour, said
):
    fake_sessions.cuda = behaviour
    session = runtimes.inference_session(b"model", providers=[CUDA, CPU])
    assert runtimes.used_providers(session) == [CPU]
    assert said in capsys.readouterr().out


def test_without_a_gpu_the_cpu_is_asked_for_alone(fake_sessions, capsys):
    session = runtimes.inference_session(b"model", providers=[CPU])
    assert fake_sessions.asked == [[CPU]] and runtimes.used_providers(session) == [CPU]
    assert capsys.readouterr().out == ""


def test_a_model_the_cpu_cannot_load_still_raises_the_runtimes_error(tmp_path):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    with pytest.raises(Exception, match="broken.onnx"):
        runtimes.inference_session(str(broken))


def test_pytorch_picks_cuda_then_mps_then_the_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert devices.torch_device() == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert devices.torch_device() == torch.device("mps")


def test_float32_stays_float32_on_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.backends.cuda.matmul, "allow_tf32", True)
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", True)
    monkeypatch.setattr(torch.backends.cudnn, "deterministic", False)
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", True)
    precision = torch.get_float32_matmul_precision()
    try:
        devices.keep_float32_exact()
        assert not torch.backends.cuda.matmul.allow_tf32 and not torch.backends.cudnn.allow_tf32
        assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
        assert torch.get_float32_matmul_precision() == "highest"
    finally:
        torch.set_float32_matmul_precision(precision)


def test_tensorflow_float32_stays_float32_when_asked():
    import tensorflow as tf

    tf.config.experimental.enable_tensor_float_32_execution(True)
    devices.keep_float32_exact(pytorch=False, tensorflow=True)
    assert not tf.config.experimental.tensor_float_32_execution_enabled()


def test_the_cuda_provider_is_asked_for_full_float32(monkeypatch):
    asked = []
    monkeypatch.setattr(ort, "preload_dlls", lambda: None)
    monkeypatch.setattr(
        ort, "InferenceSession", lambda model, options, providers: asked.append(providers) or 1 / 0
    )
    with pytest.raises(ZeroDivisionError):
        runtimes.inference_session(b"model", providers=[CUDA, CPU])
    assert asked[0] == [(CUDA, {"use_tf32": "0"}), CPU]


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
def test_the_readmes_device_report_runs_from_the_repository_root(as_nobody):
    readme = (REPO_ROOT / "README.md").read_text()
    documented = re.search(r"^\.venv/bin/python (-m helpers\.devices)$", readme, flags=re.M)
    assert documented, "the README shows the device report's command"
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

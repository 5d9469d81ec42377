"""One place picks the hardware: the GPU first when it is there, the CPU otherwise, and a fallback is said aloud."""

import onnxruntime as ort
import pytest
import torch

from helpers import devices

CUDA, COREML, DML, CPU = devices.PROVIDER_ORDER


def test_providers_are_asked_for_best_first_and_the_cpu_always_last():
    assert devices.preferred_providers([CPU, CUDA]) == [CUDA, CPU]
    assert devices.preferred_providers([CPU, "AzureExecutionProvider", COREML]) == [COREML, CPU]
    assert devices.preferred_providers([CPU]) == [CPU]
    assert devices.preferred_providers([]) == [CPU]


def test_this_machine_has_the_cpu_build():
    assert devices.preferred_providers() == [CPU]
    assert devices.torch_device() == torch.device("cpu")


class FakeSession:
    """An InferenceSession stand-in: CUDA starts, fails, or silently falls back to the CPU, as set."""

    cuda = "starts"
    asked: list[list[str]] = []

    def __init__(self, model, options=None, providers=()):
        FakeSession.asked.append(list(providers))
        if providers[0] == CUDA and self.cuda == "fails":
            raise RuntimeError("CUDA_PATH is set but CUDA wasn't able to be loaded")
        falls_back = providers[0] == CUDA and self.cuda == "falls back"
        self.providers = [CPU] if falls_back else list(providers)

    def get_providers(self):
        return self.providers


@pytest.fixture
def fake_sessions(monkeypatch):
    monkeypatch.setattr(ort, "InferenceSession", FakeSession)
    FakeSession.asked = []
    return FakeSession


def test_a_listed_gpu_that_starts_is_used(fake_sessions, capsys):
    fake_sessions.cuda = "starts"
    session = devices.inference_session(b"model", providers=[CUDA, CPU])
    assert devices.used_providers(session) == [CUDA, CPU] and fake_sessions.asked == [[CUDA, CPU]]
    assert capsys.readouterr().out == ""
    assert devices.hardware_line("cuda", session) == (
        "PyTorch trains on cuda; ONNX Runtime runs on CUDAExecutionProvider, CPUExecutionProvider"
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
    session = devices.inference_session(b"model", providers=[CUDA, CPU])
    assert devices.used_providers(session) == [CPU]
    assert said in capsys.readouterr().out


def test_without_a_gpu_the_cpu_is_asked_for_alone(fake_sessions, capsys):
    session = devices.inference_session(b"model", providers=[CPU])
    assert fake_sessions.asked == [[CPU]] and devices.used_providers(session) == [CPU]
    assert capsys.readouterr().out == ""


def test_a_model_the_cpu_cannot_load_still_raises_the_runtimes_error(tmp_path):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    with pytest.raises(Exception, match="broken.onnx"):
        devices.inference_session(str(broken))


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

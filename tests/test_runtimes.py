"""ONNX Runtime's sessions on the best provider that starts, said aloud when one does not; each runtime's predict."""

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from onnx_crossings.teaching import models, runtimes

CUDA, COREML, DML, CPU = runtimes.PROVIDER_ORDER


def test_providers_are_asked_for_best_first_and_the_cpu_always_last():
    assert runtimes.preferred_providers([CPU, CUDA]) == [CUDA, CPU]
    assert runtimes.preferred_providers([CPU, "AzureExecutionProvider", COREML]) == [COREML, CPU]
    assert runtimes.preferred_providers([CPU]) == [CPU]
    assert runtimes.preferred_providers([]) == [CPU]


def test_this_machine_has_the_cpu_build():
    assert runtimes.preferred_providers() == [CPU]


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


def test_a_listed_gpu_that_starts_is_used(fake_sessions, capsys):
    fake_sessions.cuda = "starts"
    session = runtimes.inference_session(b"model", providers=[CUDA, CPU])
    assert runtimes.used_providers(session) == [CUDA, CPU] and fake_sessions.asked == [[CUDA, CPU]]
    assert capsys.readouterr().out == ""


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


def test_the_cuda_provider_is_asked_for_full_float32(monkeypatch):
    asked = []
    monkeypatch.setattr(ort, "preload_dlls", lambda: None)
    monkeypatch.setattr(
        ort, "InferenceSession", lambda model, options, providers: asked.append(providers) or 1 / 0
    )
    with pytest.raises(ZeroDivisionError):
        runtimes.inference_session(b"model", providers=[CUDA, CPU])
    assert asked[0] == [(CUDA, {"use_tf32": "0"}), CPU]


def test_pytorch_predictor_gives_the_models_logits_and_leaves_the_model_as_it_was():
    torch.manual_seed(0)
    model = models.DigitCNN().eval()
    for layer in model.modules():  # statistics a folded batch normalisation must carry over
        if isinstance(layer, torch.nn.BatchNorm2d):
            layer.running_mean.uniform_(-1, 1)
            layer.running_var.uniform_(0.5, 2)
    batch = np.random.default_rng(0).normal(size=(5, 1, 28, 28)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(batch)).numpy()
    np.testing.assert_allclose(
        runtimes.pytorch_predictor(model)(batch), expected, rtol=1e-5, atol=1e-5
    )
    assert model.features[0].weight.is_contiguous(), "the chapter's model keeps its own layout"
    assert isinstance(model.features[1], torch.nn.BatchNorm2d), "and its own batch normalisation"


@pytest.mark.parametrize("level", ["ORT_DISABLE_ALL", "ORT_ENABLE_BASIC", "ORT_ENABLE_ALL"])
def test_onnxruntime_predictor_runs_at_each_level_and_saves_the_optimized_graph(
    tmp_path, doubling_onnx, level
):
    path = doubling_onnx(width=3)
    saved = tmp_path / "optimized.onnx"
    predict = runtimes.onnxruntime_predictor(
        path, threads=1, level=getattr(ort.GraphOptimizationLevel, level), save_optimized_to=saved
    )
    batch = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(predict(batch), 2 * batch)
    onnx.checker.check_model(onnx.load(saved))
    np.testing.assert_array_equal(
        runtimes.onnxruntime_predictor(saved, threads=1)(batch), 2 * batch
    )


def test_tflite_predictor_resizes_for_each_new_batch_size(tmp_path):
    tf = pytest.importorskip("tensorflow")

    @tf.function(input_signature=[tf.TensorSpec([1, 3], tf.float32)])
    def double(x):
        return x * 2.0

    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [double.get_concrete_function()], double
    )
    path = tmp_path / "double.tflite"
    path.write_bytes(converter.convert())
    predict = runtimes.tflite_predictor(path, threads=1)
    for rows in (1, 4, 4, 2):
        batch = np.arange(3 * rows, dtype=np.float32).reshape(rows, 3)
        np.testing.assert_array_equal(predict(batch), 2 * batch)

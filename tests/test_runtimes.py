"""The runtimes chapter 1 and its bonus race: PyTorch channels-last, ONNX Runtime's levels, LiteRT at any batch."""

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from helpers import models, runtimes


def test_pytorch_predictor_gives_the_models_logits_and_leaves_the_model_as_it_was():
    torch.manual_seed(0)
    model = models.DigitCNN().eval()
    batch = np.random.default_rng(0).normal(size=(5, 1, 28, 28)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(batch)).numpy()
    np.testing.assert_allclose(
        runtimes.pytorch_predictor(model)(batch), expected, rtol=1e-5, atol=1e-5
    )
    assert model.features[0].weight.is_contiguous(), "the chapter's model keeps its own layout"


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

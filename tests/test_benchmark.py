import numpy as np
import onnx
from onnx import TensorProto, helper

from helpers.benchmark import run_in_batches, run_onnx_in_batches


def test_batches_cover_every_input_in_order():
    inputs = np.arange(2_500, dtype=np.float32).reshape(-1, 1)
    seen = []

    def predict(batch):
        seen.append(len(batch))
        return batch * 2

    run = run_in_batches(predict, inputs, batch_size=1_000)
    assert seen == [1_000, 1_000, 500]
    np.testing.assert_array_equal(run.outputs, inputs * 2)
    assert run.seconds > 0
    assert run.per_second == len(inputs) / run.seconds


def test_an_onnx_file_runs_over_every_input_whatever_its_input_is_called(tmp_path):
    doubled = helper.make_graph(
        [helper.make_node("Add", ["pixels", "pixels"], ["twice"])],
        "doubling",
        [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["batch", 1])],
        [helper.make_tensor_value_info("twice", TensorProto.FLOAT, ["batch", 1])],
    )
    onnx.save(
        helper.make_model(doubled, opset_imports=[helper.make_opsetid("", 17)], ir_version=9),
        tmp_path / "d.onnx",
    )
    inputs = np.arange(2_500, dtype=np.float32).reshape(-1, 1)
    run = run_onnx_in_batches(tmp_path / "d.onnx", inputs, batch_size=1_000)
    np.testing.assert_array_equal(run.outputs, inputs * 2)

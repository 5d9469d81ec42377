from onnx_crossings.plumbing.source import source_of
from onnx_crossings.teaching.onnx_estimator import PrefitOnnxRegressor
from onnx_crossings.teaching.onnx_lstm import torch_gate_order


def test_source_of_reads_each_object_from_its_file_dedented_in_order():
    shown = source_of(torch_gate_order, PrefitOnnxRegressor.predict)
    assert shown.startswith("def torch_gate_order(gates: torch.Tensor) -> torch.Tensor:\n")
    assert "\n\n\ndef predict(self, X) -> np.ndarray:\n" in shown and shown.endswith("\n")

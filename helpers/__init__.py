"""The course's plumbing, one job a module; the chapters import what they show.

| module | holds | chapters |
| --- | --- | --- |
| `mnist`, `imdb`, `stocks` | the data sets, checksummed: loaders, splits, encodings | 1, 1b, 4; 2, 2b; 3 |
| `download`, `files` | fetching from mirrors; atomic writes, sha256, ModelFilesError | all |
| `features`, `feeds` | technical indicators; new daily bars as they arrive | 3 |
| `forecasting` | walk-forward folds, benchmark forecasts, prediction intervals | 3 |
| `models` | the models two chapters share: the digit CNN, the review LSTM (Keras) | 1, 1b, 2, 2b, 4 |
| `training` | the digit CNN's training loop (`fit`), shared by chapters 1, 1b and 4 | 1, 1b, 4 |
| `transformer` | the pretrained MiniLM: files, tokenizer, the classifier, fine-tuning, predictions | 2b |
| `onnx_estimator` | scikit-learn estimators that predict through ONNX Runtime | 3 |
| `sklearn_onnx` | scikit-learn to ONNX, the course's estimators included | 3 |
| `onnx_lstm` | ONNX's LSTM as torch.nn.LSTM, for onnx2torch | 2 |
| `devices` | the hardware: PyTorch's device, TensorFlow's GPUs, float32 kept exact, the hardware line | all |
| `batching` | the one batch loop | all |
| `runtimes` | ONNX Runtime's providers and the session builder; each runtime's predict function | all |
| `benchmark` | timing runs of predict functions | 1, 1b, 2b, 4 |
| `parity`, `significance` | parity checks; differences with intervals and tests | all; 1b, 2b, 3 |
| `divergence` | the first node where two runs of one model part ways | 4 |
| `graph`, `layout`, `plots` | ONNX graph pictures and census; NCHW and NHWC; the chapters' figures | all |
| `results`, `budgets` | the chapters' headline figures; time budgets and measured times | all |
| `paths`, `quiet` | where files go; keeping libraries' chatter out of the chapters | all |
| `reproducibility`, `source`, `install` | seeds; the course's code shown; a lone chapter's installs | all |
"""

import importlib.util
import sys

# TensorFlow 2.20 and newer load their LLVM into the process's global symbols, and Triton (the GPU compiler that
# CUDA builds of PyTorch bring) then crashes the process when it loads later (tensorflow/tensorflow#124205).
# PyTorch loads Triton lazily, after the chapters' TensorFlow, so load it here first, where it is installed.
if "tensorflow" not in sys.modules and importlib.util.find_spec("triton") is not None:
    import triton  # noqa: F401

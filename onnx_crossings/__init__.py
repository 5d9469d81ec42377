"""The ONNX crossings course's package: the chapters import what they show from its sub-packages.

| module | holds | chapters |
| --- | --- | --- |
| `data.mnist`, `data.imdb`, `data.stocks` | the data sets, checksummed: loaders, splits | 1, 1b, 4; 2, 2b; 3 |
| `data.download` | fetching from the canonical sources and the npm registry's copies | 1, 2 |
| `data.features`, `data.feeds` | technical indicators; new daily bars as they arrive | 3 |
| `teaching.forecasting` | walk-forward folds, benchmark forecasts, prediction intervals | 3 |
| `teaching.models` | the models two chapters share: the digit CNN, the review LSTM (Keras) | 1, 1b, 2, 2b, 4 |
| `teaching.training` | the digit CNN's training loop (`fit`), shared by chapters 1, 1b and 4 | 1, 1b, 4 |
| `teaching.transformer` | the pretrained MiniLM: files, tokenizer, the classifier, fine-tuning, predictions | 2b |
| `teaching.onnx_estimator` | scikit-learn estimators that predict through ONNX Runtime | 3 |
| `teaching.sklearn_onnx` | scikit-learn to ONNX, the course's estimators included | 3 |
| `teaching.onnx_lstm` | ONNX's LSTM as torch.nn.LSTM, for onnx2torch | 2 |
| `teaching.runtimes` | ONNX Runtime's providers and the session builder; each runtime's predict function | all |
| `teaching.benchmark` | timing runs of predict functions | 1, 1b, 2b, 4 |
| `teaching.parity`, `teaching.significance` | parity checks; differences with intervals and tests | all; 1b, 2b, 3 |
| `teaching.divergence` | the first node where two runs of one model part ways | 4 |
| `teaching.graph`, `teaching.layout`, `teaching.plots` | ONNX graph pictures and census; NCHW and NHWC; figures | all |
| `plumbing.devices`, `plumbing.batching` | the hardware, float32 kept exact; the one batch loop | all |
| `plumbing.results` | the chapters' headline figures | all |
| `plumbing.paths`, `plumbing.files`, `plumbing.quiet` | where files go; atomic writes; libraries' chatter | all |
| `plumbing.reproducibility`, `plumbing.source`, `plumbing.install` | seeds; the course's code shown; installs | all |
| `checks` | the exercises' checks, one module per chapter | all |
| `grading` | student versions, the sandbox and the grader (`python -m onnx_crossings.grading`) | |
| `app` | chapter 2's model as a web app (`python -m onnx_crossings.app`) | 2 |
"""

import importlib.util
import sys

# TensorFlow 2.20 and newer load their LLVM into the process's global symbols, and Triton (the GPU compiler that
# CUDA builds of PyTorch bring) then crashes the process when it loads later (tensorflow/tensorflow#124205).
# PyTorch loads Triton lazily, after the chapters' TensorFlow, so load it here first, where it is installed.
if "tensorflow" not in sys.modules and importlib.util.find_spec("triton") is not None:
    import triton  # noqa: F401

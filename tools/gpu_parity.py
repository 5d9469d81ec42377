"""Chapter 1's CNN trained with one seed on each device here (the GPU, when there is one, and the CPU), each exported
and checked against ONNX Runtime on the CPU; then the transformer's fine-tuning step timed on each device.

    .venv/bin/python tools/gpu_parity.py [--epochs 1] [--train-size 55000] [--steps 200]

It prints one line per device and part. Without a GPU it measures the CPU alone and says so. The transformer is
MiniLM's architecture from the course's pretrained files when they are installed, else the same shape newly
initialised (a step's time depends on shapes, not on weights); its batches are 16 reviews of 256 tokens.
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from onnx_crossings.data import mnist
from onnx_crossings.plumbing import devices, reproducibility
from onnx_crossings.teaching import models, parity, runtimes, training, transformer

SEED = 2024
REVIEWS_A_BATCH, TOKENS_A_REVIEW = 16, 256
RTOL, ATOL = 1e-5, 1e-4  # chapter 1's tolerance on logits


def digits(train_size: int):
    """Chapter 1's standardised training, validation and test tensors, the training set cut to train_size."""
    data = mnist.load_mnist()
    train_images, train_labels, val_images, val_labels = mnist.train_validation_split(
        data.train_images, data.train_labels, validation_size=5_000, seed=SEED
    )
    mean, std = mnist.pixel_statistics(train_images)
    train = mnist.as_tensors(train_images[:train_size], train_labels[:train_size], mean, std)
    validation = mnist.as_tensors(val_images, val_labels, mean, std)
    return train, validation, mnist.as_tensors(data.test_images, data.test_labels, mean, std)


def pytorch_logits(
    model: torch.nn.Module, images: torch.Tensor, device: torch.device
) -> np.ndarray:
    """The model's logits computed on device, a thousand images at a time."""
    model.to(device)
    with torch.no_grad():
        logits = torch.cat([model(batch.to(device)).cpu() for batch in images.split(1_000)])
    model.to("cpu")
    return logits.numpy()


def cnn_parity(
    device: torch.device, epochs: int, train, validation, test_images, folder: Path
) -> list[str]:
    """Train the CNN on device, export it, and compare ONNX Runtime on the CPU with PyTorch on that device."""
    reproducibility.seed_everything(SEED)
    model = models.DigitCNN().to(memory_format=torch.channels_last)
    _, seconds = training.fit(model, train, validation, epochs, device=device)
    model = model.to(memory_format=torch.contiguous_format).eval()
    onnx_path = folder / f"digit_cnn_{device.type}.onnx"
    torch.onnx.export(
        model,
        (test_images[:2],),
        onnx_path,
        dynamo=True,
        opset_version=18,
        input_names=["images"],
        output_names=["logits"],
        dynamic_shapes={"images": {0: torch.export.Dim("batch")}},
        external_data=False,
        verbose=False,
    )
    session = runtimes.inference_session(str(onnx_path), providers=[runtimes.CPU])
    found = session.run(None, {"images": test_images.numpy()})[0]
    runs = [("float32 exact", pytorch_logits(model, test_images, device))]
    if device.type == "cuda":  # the same model with the GPU's TF32 allowed, for contrast
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
        runs.append(("TF32 allowed", pytorch_logits(model, test_images, device)))
        devices.keep_float32_exact()
    lines = [
        f"CNN trained on {devices.torch_device_name(device)} in {seconds:.0f} s, {epochs} epoch(s)"
    ]
    for setting, expected in runs:
        result = parity.compare(
            expected, found, names=("PyTorch", "ONNX Runtime"), quantity="logits"
        )
        lines.append(
            f"  ONNX Runtime (CPU) vs PyTorch ({device.type}, {setting}): max |difference| "
            f"{result.max_abs_diff:.2e} on logits up to {np.abs(expected).max():.1f}, "
            f"{result.share_of_tolerance(rtol=RTOL, atol=ATOL):.2f} of chapter 1's tolerance, "
            f"labels agree on {result.label_agreement:.4%}"
        )
    return lines


def review_classifier() -> transformer.ReviewClassifier:
    """MiniLM with the course's head: pretrained when its package is installed, else newly initialised."""
    from transformers import AutoConfig, AutoModel

    try:
        folder = transformer.pretrained_folder()
        return transformer.ReviewClassifier(AutoModel.from_pretrained(folder))
    except transformer.ModelFilesError:
        config = AutoConfig.for_model(
            "bert",
            hidden_size=384,
            num_hidden_layers=6,
            num_attention_heads=12,
            intermediate_size=1536,
        )
        return transformer.ReviewClassifier(AutoModel.from_config(config))


def fine_tuning_step_time(device: torch.device, steps: int) -> str:
    """Seconds a fine-tuning step takes on device (two layers and the head trained, as chapter 2's bonus does)."""
    reproducibility.seed_everything(SEED)
    model = review_classifier()
    transformer.unfreeze_top_layers(model, 2)
    generator = np.random.default_rng(SEED)
    ids = generator.integers(
        1_000, 30_000, (steps * REVIEWS_A_BATCH, TOKENS_A_REVIEW), dtype=np.int64
    )
    labels = generator.integers(0, 2, steps * REVIEWS_A_BATCH)
    started = time.perf_counter()
    transformer.fine_tune(
        model, (ids, labels), epochs=1, max_lr=1e-4, batch_size=REVIEWS_A_BATCH, device=device
    )
    seconds = time.perf_counter() - started
    return (
        f"Transformer fine-tuning on {devices.torch_device_name(device)}: {steps} steps of "
        f"{REVIEWS_A_BATCH} x {TOKENS_A_REVIEW} tokens, {seconds / steps * 1000:.0f} ms a step"
    )


def main() -> None:
    """Measure each device here and print the lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--train-size", type=int, default=55_000)
    parser.add_argument("--steps", type=int, default=200)
    arguments = parser.parse_args()
    devices.keep_float32_exact()
    best = devices.torch_device()
    found = [best] if best.type == "cpu" else [best, torch.device("cpu")]
    if len(found) == 1:
        print("No GPU here: the CPU alone is measured.")
    train, validation, (test_images, _) = digits(arguments.train_size)
    with tempfile.TemporaryDirectory() as folder:
        for device in found:
            print(
                "\n".join(
                    cnn_parity(
                        device, arguments.epochs, train, validation, test_images, Path(folder)
                    )
                )
            )
    for device in found:
        print(fine_tuning_step_time(device, arguments.steps))


if __name__ == "__main__":
    main()

"""The training loop chapter 1 and its bonus share, on a tiny separable problem."""

import pytest
import torch
from torch import nn

from onnx_crossings.teaching import models, training


def tiny_problem(samples=1024):
    """Noise images, those of class 1 one unit brighter: learnable in a few steps."""
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(samples) % 2
    images = torch.randn(samples, 1, 28, 28, generator=generator) + labels[:, None, None, None]
    return images, labels


def test_fit_records_every_epoch_and_learns():
    torch.manual_seed(0)
    images, labels = tiny_problem()
    model = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 2))
    before = training.evaluate(model, images, labels)[0]
    history, seconds = training.fit(model, (images, labels), (images, labels), epochs=3)
    assert set(history) == {"train_loss", "train_accuracy", "val_loss", "val_accuracy"}
    assert all(len(values) == 3 for values in history.values()) and seconds > 0
    assert history["val_loss"][-1] < 0.8 * before and history["val_accuracy"][-1] > 0.7


def test_evaluate_scores_in_eval_mode_and_batches_cover_everything():
    images, labels = tiny_problem(samples=10)
    model = nn.Sequential(nn.Flatten(), nn.Dropout(0.99), nn.Linear(28 * 28, 2))
    model.train()
    first = training.evaluate(model, images, labels, batch_size=3)
    assert not model.training, "dropout must be off when scoring"
    assert first == pytest.approx(training.evaluate(model, images, labels, batch_size=10))


def test_the_chapter_cnn_maps_digits_to_ten_logits():
    model = models.DigitCNN().eval()
    assert model(torch.zeros(5, 1, 28, 28)).shape == (5, 10)
    assert sum(p.numel() for p in model.parameters()) == 421_738


def test_a_kept_model_loads_whole_with_its_history_and_seconds(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    torch.manual_seed(0)
    model = models.DigitCNN()
    path = training.trained_copy(models.DigitCNN, epochs=6, seed=0)
    assert path.parent == tmp_path / "trained"
    training.save_trained(model, {"val_accuracy": [0.9, 0.95]}, 12.5, path)
    assert [file.name for file in path.parent.iterdir()] == [path.name], "no partial file left"
    fresh = models.DigitCNN()
    history, seconds = training.load_trained(fresh, path)
    assert history == {"val_accuracy": [0.9, 0.95]} and seconds == 12.5
    for kept, loaded in zip(model.state_dict().values(), fresh.state_dict().values(), strict=True):
        assert torch.equal(kept, loaded)


def test_a_kept_model_is_named_by_its_recipe():
    six_epochs = training.trained_copy(models.DigitCNN, epochs=6, seed=0)
    assert six_epochs == training.trained_copy(models.DigitCNN, epochs=6, seed=0)
    assert six_epochs != training.trained_copy(models.DigitCNN, epochs=5, seed=0)
    assert six_epochs != training.trained_copy(models.DigitCNN, epochs=6, seed=1)
    assert six_epochs.name.startswith("DigitCNN-")

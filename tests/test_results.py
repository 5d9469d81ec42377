"""The committed results agree with the committed notebooks and meet the course's targets."""

import json
from pathlib import Path

import nbformat
import pytest

from helpers.paths import REPO_ROOT
from helpers.results import load_results, save_results

CHAPTERS = {
    "chapter1_mnist": REPO_ROOT / "notebooks" / "01_mnist_pytorch_to_tensorflow.ipynb",
    "chapter2_imdb": REPO_ROOT / "notebooks" / "02_imdb_keras_to_pytorch.ipynb",
}
TARGETS = {"chapter1_mnist": {"accuracy": 0.992}, "chapter2_imdb": {"accuracy": 0.889}}


def test_save_and_load_round_trip(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path))
    path = save_results("chapter9", {"accuracy": {"A": 0.5}})
    assert path == tmp_path / "results" / "chapter9.json"
    assert load_results() == {"chapter9": {"accuracy": {"A": 0.5}}}
    assert [p.name for p in path.parent.iterdir()] == ["chapter9.json"]


def committed(chapter: str) -> dict:
    """The results file a chapter's last full run wrote into the repository."""
    return json.loads((REPO_ROOT / "results" / f"{chapter}.json").read_text())


def printed(notebook: Path) -> dict:
    """The figures a notebook printed after 'Saved <chapter>.json', parsed back from its stored output."""
    for cell in nbformat.read(notebook, as_version=4).cells:
        for output in cell.get("outputs", []):
            text = output.get("text", "")
            if text.startswith("Saved "):
                return json.loads(text.split("\n", 1)[1])
    raise AssertionError(f"{notebook.name} has no stored output of its results cell: run `make chapters`")


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_committed_results_match_the_notebook_output(chapter):
    assert committed(chapter) == printed(CHAPTERS[chapter])


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_committed_results_meet_the_targets(chapter):
    figures = committed(chapter)
    for framework, accuracy in figures["accuracy"].items():
        assert accuracy >= TARGETS[chapter]["accuracy"], framework
    for framework in figures["max_abs_diff"]:
        assert figures["max_abs_diff"][framework] <= 1e-4, framework
        assert figures["label_agreement"][framework] >= 0.9999, framework

"""Running and judging: what the grader notes when the verdict process gives it nothing to read; cell timeouts."""

import tomllib

from nbformat.v4 import new_notebook

from onnx_crossings.grading import execution
from onnx_crossings.grading.execution import CELL_TIMEOUT
from onnx_crossings.grading.sandbox import Limits, Outcome
from onnx_crossings.plumbing.paths import REPO_ROOT


def test_a_verdict_process_that_writes_nothing_readable_is_noted(tmp_path, monkeypatch):
    def exits_cleanly_writing_garbage(command, **options):
        (options["writable"] / "verdict.json").write_text("{half a verdict")
        return Outcome(returncode=0, timed_out=False, seconds=0.1)

    monkeypatch.setattr(execution, "run_contained", exits_cleanly_writing_garbage)
    monkeypatch.setattr(
        execution, "prepare_writable", lambda folder, user: folder.mkdir(parents=True)
    )
    batch = execution.Batch(
        tmp_path / "chapter.ipynb",
        new_notebook(),
        "09_tiny",
        tmp_path,
        (),
        Limits(),
        60,
        chapter_values=tmp_path / "reference" / "chapter_values.pkl",
    )
    verdict = execution.run_verdict(
        tmp_path / "answers" / "x", tmp_path / "report.xml", {}, tmp_path / "v", batch
    )
    assert verdict["notes"] == [
        "the checks left no readable verdict (JSONDecodeError), so every exercise scores 0"
    ]


def test_pytests_nbval_gives_a_cell_the_graders_time():
    settings = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert (
        f"--nbval-cell-timeout={CELL_TIMEOUT}"
        in settings["tool"]["pytest"]["ini_options"]["addopts"]
    )

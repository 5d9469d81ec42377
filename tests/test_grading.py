"""The grader gives the reference full marks, a blank sheet zero, and nothing to any answer that games it.

One folder of submissions to a tiny chapter holds every attack the grader must withstand; each must score
nothing it did not solve, and leave every other submission, the inbox and the tables as they would be.
"""

import csv
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from onnx_crossings.grading import assembly, execution, grader
from onnx_crossings.grading.exercises import (
    ANSWER,
    CHECK,
    SOLUTION,
    answer_sheet,
    exercise_of,
    student_version,
    tags,
)
from onnx_crossings.grading.sandbox import Limits
from onnx_crossings.plumbing.paths import REPO_ROOT
from tools.local_server import free_port

CHAPTER = "09_tiny"
MEAN, NORM = "average = sum(values) / len(values)", "norm = math.sqrt(sum(v * v for v in values))"
CHECKS = "tiny_chapter_checks"  # the tiny chapter's check module, written beside it
CHECKS_SOURCE = """import math


def mean_of_values(average, values):
    assert average is not None and abs(average - sum(values) / len(values)) < 1e-12, "the mean of values"
    return "mean"


def norm_of_values(norm, values):
    assert norm is not None and math.isclose(norm, math.sqrt(sum(v * v for v in values)), abs_tol=1e-12), "norm"
    return "norm"
"""
VALUES = "import random\n\nvalues = [random.random() for _ in range(3)]  # new values in every run, unless reused"
SLEEPER = "987654"  # how long the attackers' background processes would sleep: the tests look for them by it


def exercise_cells(name: str, solution: str, stub: str, check: str) -> list:
    """The prompt, solution and check cells of one exercise."""
    return [
        new_markdown_cell(f"Exercise {name}"),
        new_code_cell(solution, metadata={"tags": [SOLUTION], "exercise": name, "stub": stub}),
        new_code_cell(check, metadata={"tags": [CHECK], "exercise": name}),
    ]


@pytest.fixture(scope="module")
def chapter(tmp_path_factory):
    """A tiny chapter with two exercises on values that differ in every run, in notebooks/ beside its checks."""
    folder = tmp_path_factory.mktemp("course") / "notebooks"
    folder.mkdir()
    (folder / f"{CHECKS}.py").write_text(CHECKS_SOURCE)
    imports = (
        f"import math\nimport sys\n\nsys.path.insert(0, {str(folder)!r})\n\n"
        f"from onnx_crossings.checks import check\n\nimport {CHECKS} as checks"
    )
    notebook = new_notebook(
        cells=[
            new_code_cell(imports),
            new_markdown_cell("# Tiny"),
            new_code_cell(VALUES, metadata={"grading": {"reuse": ["values"]}}),
        ]
        + exercise_cells("mean", MEAN, "average = None", "check(checks.mean_of_values)")
        + exercise_cells("norm", NORM, "norm = None", "check(checks.norm_of_values)"),
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    path = folder / f"{CHAPTER}.ipynb"
    nbformat.write(notebook, path)
    # the import cell puts the check module on the kernel's path; while the tests use the chapter, it is on this
    # process's path too (tests that start the grader pass PYTHONPATH)
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(folder))
        yield path


def with_checks_importable(chapter) -> dict[str, str]:
    """This process's environment, with the tiny chapter's check module importable: for the grader's processes."""
    return os.environ | {"PYTHONPATH": str(chapter.parent)}


def answered(chapter_path, **answers):
    """The chapter's student version with some answer cells filled in."""
    student = student_version(nbformat.read(chapter_path, as_version=4), CHAPTER)
    for cell in student.cells:
        if ANSWER in tags(cell) and exercise_of(cell) in answers:
            cell.source = answers[exercise_of(cell)]
    return student


def with_checks(student, change):
    """A student version whose check cells the student changed."""
    for cell in student.cells:
        if CHECK in tags(cell):
            change(cell)
    return student


def with_stored_outputs(chapter_path):
    """A blank sheet carrying the passing outputs and execution counts of someone else's run."""
    student = answered(chapter_path)
    for number, cell in enumerate(c for c in student.cells if c.cell_type == "code"):
        cell.execution_count = number + 1
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="✓ mean\n")]
    return student


# Each attack answers `mean` correctly, so it can be seen to keep that mark, and games `norm` without solving it.
ATTACKS = {
    "ipython_hooks": """ip = get_ipython()
ip.input_transformers_cleanup.append(lambda lines: ["norm = 0.0\\n"] + lines)
import ast
class Pass(ast.NodeTransformer):
    def visit_Assert(self, node):
        return ast.Pass()
ip.ast_transformers.append(Pass())
ip.events.register("post_run_cell", lambda result: ip.user_ns.update(norm=0.0))
norm = 0.0""",
    "exception_handlers": """import sys
get_ipython().set_custom_exc((BaseException,), lambda *args, **kwargs: None)
sys.excepthook = lambda *args: None
norm = "wrong" + 1""",
    "monkeypatches": """import builtins, math, onnx_crossings.checks, numpy
math.isclose = lambda *args, **kwargs: True
math.sqrt = lambda x: 0.0
builtins.abs = lambda x: 0.0
builtins.sum = lambda *args: 0.0
onnx_crossings.checks.check = lambda function: None
numpy.allclose = lambda *args, **kwargs: True
norm = 0.0""",
    "rebinds_check_inputs": "values = [0.0]\nnorm = 0.0",
    "reads_the_grader": """import json, pathlib
grades = list(pathlib.Path.cwd().parents)  # this run's folder lies in the grades folder
for cmdline in pathlib.Path("/proc").glob("*/cmdline"):  # the grader's command lines name its folders
    grades += [word.decode().split("/submissions/")[0] for word in cmdline.read_bytes().split(bytes(1))
               if b"/submissions/" in word]
copies = [pathlib.Path(folder, "reference/run/answers/norm/values.json") for folder in grades]
copies = [json.loads(copy.read_text())["norm"]["value"] for copy in copies if copy.is_file()]
norm = copies[0] if copies else 0.0""",
    "outlives_the_kernel": f"""import os, subprocess
subprocess.Popen(["sleep", "{SLEEPER}"], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", "{SLEEPER}"])
    os._exit(0)
norm = 0.0""",
    "holds_the_output": f"""import subprocess, sys
subprocess.Popen(["sleep", "{SLEEPER}"], stdout=sys.__stdout__, stderr=sys.__stderr__)
norm = 0.0""",
    "writes_everywhere": """import pathlib
written = []
for target in ["../../../../inbox/reference.ipynb", "../../../scores.csv", "../../../summary.md",
               "../../0001/run/answers/norm/values.json", "../../../conftest.py", "conftest.py", "/tmp/conftest.py",
               str(pathlib.Path(__import__("onnx_crossings").__file__).parents[1] / "conftest.py"), "/conftest.py"]:
    try:
        pathlib.Path(target).write_text("import pytest\\npytest.exit('gamed')\\n")
        written.append(target)
    except OSError:
        pass
norm = 0.0""",
}


def write_malformed(folder, blank):
    """Files that are not student versions, in every way the grader has seen, beside the good ones."""
    student = json.loads(nbformat.writes(blank))
    cases = {
        "not_json.ipynb": "{ this is not a notebook",
        "a_list.ipynb": json.dumps([1, 2, 3]),
        "cells_not_a_list.ipynb": json.dumps(student | {"cells": "none"}),
        "course_is_text.ipynb": json.dumps(student | {"metadata": {"course": "09_tiny"}}),
        "chapter_is_a_number.ipynb": json.dumps(student | {"metadata": {"course": {"chapter": 9}}}),
        "another_chapter.ipynb": json.dumps(
            student | {"metadata": {"course": {"chapter": "01_mnist"}}}
        ),
        "not_a_notebook.txt": "hello",
    }
    for name, text in cases.items():
        (folder / name).write_text(text)
    odd = json.loads(json.dumps(student))
    for cell in odd["cells"]:
        if ANSWER in cell["metadata"].get("tags", []):
            cell["source"] = {"mean": MEAN + "\n# \ud800 lone surrogate", "norm": 42}[
                cell["metadata"]["exercise"]
            ]
    odd["cells"] += [
        {
            "cell_type": "code",
            "metadata": {"tags": "answer", "exercise": "norm"},
            "source": "norm = 0",
            "outputs": [],
        },
        {
            "cell_type": "code",
            "metadata": {"tags": [ANSWER], "exercise": ["norm"]},
            "source": "x",
            "outputs": [],
        },
        {
            "cell_type": "code",
            "metadata": {"tags": [ANSWER], "exercise": "unknown"},
            "source": "x",
            "outputs": [],
        },
        {
            "cell_type": "code",
            "metadata": {"tags": [ANSWER], "exercise": "norm"},
            "source": "#" * 300_000,
        },
        "not a cell",
    ]
    (folder / "odd|name\nwith newline.ipynb").write_text(json.dumps(odd))
    (folder / os.fsdecode(b"undecodable \xff name.ipynb")).write_text(
        json.dumps(student | {"metadata": {"course": {"chapter": "\ud800"}}})
    )
    (folder / "a_folder").mkdir()
    (folder / "a_link.ipynb").symlink_to(folder / "not_json.ipynb")


@pytest.fixture(scope="module")
def graded(chapter, tmp_path_factory):
    """Grade one folder holding every kind of submission, two at a time; return the grades, the folders and hashes."""
    root = tmp_path_factory.mktemp("class")
    inbox, out = root / "inbox", root / "grades"
    inbox.mkdir()
    submissions = {
        "reference": answer_sheet(nbformat.read(chapter, as_version=4), CHAPTER),
        "blank": answered(chapter),
        "half": answered(chapter, mean=MEAN),
        "edits_checks": with_checks(
            answered(chapter), lambda cell: setattr(cell, "source", "assert True")
        ),
        "stored_outputs": with_stored_outputs(chapter),
        "marks_answer": answered(
            chapter, mean="# NBVAL_RAISES_EXCEPTION\naverage = 0", norm="# NBVAL_SKIP\n" + NORM
        ),
        "raises": answered(chapter, mean=MEAN, norm="norm = 1 / 0"),
        "hangs": answered(chapter, mean=MEAN, norm="while True:\n    pass"),
        "exits": answered(chapter, mean=MEAN, norm="import os\nos._exit(1)"),
        "fork_bomb": answered(chapter, mean=MEAN, norm="import os\nwhile True:\n    os.fork()"),
        "duplicated": answered(chapter, mean="average = 0.0", norm=NORM),
    } | {name: answered(chapter, mean=MEAN, norm=attack) for name, attack in ATTACKS.items()}
    duplicated = submissions["duplicated"]
    duplicated.cells.append(new_code_cell(MEAN, metadata={"tags": [ANSWER], "exercise": "mean"}))
    for name, notebook in submissions.items():
        nbformat.write(notebook, inbox / f"{name}.ipynb")
    write_malformed(inbox, answered(chapter))
    before = {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in inbox.iterdir()
        if path.is_file()
    }
    results = grader.grade_folder(
        inbox,
        chapter,
        out,
        jobs=2,
        cell_timeout=10,
        limits=Limits(wall_seconds=90, cpu_seconds=120, processes=256),
    )
    after = {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in inbox.iterdir()
        if path.is_file()
    }
    return {grade.student: grade for grade in results}, out, before == after


def test_reference_solutions_score_full_marks(graded):
    assert graded[0]["reference"].scores == {
        "mean": 1,
        "norm": 1,
    }  # computed on the reference run's values


def test_a_blank_student_version_scores_zero(graded):
    grade = graded[0]["blank"]
    assert grade.scores == {"mean": 0, "norm": 0} and grade.status == "graded"
    assert "mean: the mean of values" in grade.notes  # the check's own advice reaches the table


def test_partial_answers_score_per_exercise(graded):
    assert graded[0]["half"].scores == {"mean": 1, "norm": 0}


@pytest.mark.parametrize("student", ["edits_checks", "stored_outputs"])
def test_checks_and_outputs_in_a_submission_are_never_used(graded, student):
    assert graded[0][student].total == 0


def test_nbval_markers_in_answers_change_nothing(graded):
    assert graded[0]["marks_answer"].scores == {"mean": 0, "norm": 1}


@pytest.mark.parametrize("student", sorted(ATTACKS))
def test_an_attack_scores_only_what_it_solved(graded, student):
    assert graded[0][student].scores == {"mean": 1, "norm": 0}


def test_attackers_left_no_process_behind(graded):
    running = subprocess.run(
        ["pgrep", "-f", f"sleep {SLEEPER}"], capture_output=True, text=True
    ).stdout
    assert running == ""


def test_the_inbox_tables_and_course_are_untouched(graded, chapter):
    grades, out, inbox_unchanged = graded
    assert inbox_unchanged
    assert not (chapter.parents[1] / "conftest.py").exists() and not (out / "conftest.py").exists()
    assert not (REPO_ROOT / "conftest.py").exists()
    assert "gamed" not in (out / "scores.csv").read_text()
    # graded beside the attackers
    assert grades["reference"].total == 2 and grades["half"].total == 1


def test_an_answer_that_raises_loses_only_its_exercise(graded):
    grade = graded[0]["raises"]
    assert grade.scores == {"mean": 1, "norm": 0}
    assert "the answer to norm raised an error" in grade.notes


@pytest.mark.parametrize("student", ["hangs", "exits", "fork_bomb"])
def test_hanging_exiting_or_forking_answers_lose_only_their_exercise(graded, student):
    grade = graded[0][student]
    assert grade.scores == {"mean": 1, "norm": 0}
    assert grade.status == "graded" and grade.notes


def test_answer_cells_of_one_exercise_run_together(graded):
    assert graded[0]["duplicated"].scores == {"mean": 1, "norm": 1}


@pytest.mark.parametrize(
    "student, status",
    [
        ("not_json", "not a readable notebook (JSONDecodeError)"),
        ("a_list", "not a notebook (no list of cells)"),
        ("cells_not_a_list", "not a notebook (no list of cells)"),
        ("course_is_text", "is not a student version of any chapter, not 09_tiny"),
        ("chapter_is_a_number", "is not a student version of any chapter, not 09_tiny"),
        ("another_chapter", "answers '01_mnist', not 09_tiny"),
        ("not_a_notebook.txt", "not a readable notebook (JSONDecodeError)"),
        ("a_folder", "not a regular file"),
        ("a_link", "not a regular file"),
        ("undecodable ? name", "answers '\\ud800', not 09_tiny"),
    ],
)
def test_every_file_gets_a_row_and_a_clear_status(graded, student, status):
    assert graded[0][student].status == status and graded[0][student].total == 0


def test_malformed_cells_are_skipped_with_notes_and_the_rest_graded(graded):
    grade = graded[0]["odd|name\nwith newline"]
    assert grade.scores == {"mean": 1, "norm": 0}
    assert any("unknown exercise" in note for note in grade.notes)
    assert any("longer than" in note for note in grade.notes)


def test_tables_list_every_file_once_and_escape_names(graded):
    grades, out, _ = graded
    with (out / "scores.csv").open(newline="") as table:
        rows = list(csv.reader(table))
    assert rows[0][:6] == ["student", "mean", "norm", "total", "out_of", "status"]
    assert sorted(row[0] for row in rows[1:]) == sorted(grades)
    summary = (out / "summary.md").read_text().splitlines()
    assert len(summary) == 2 + len(grades)
    assert any(line.startswith("| odd\\|name with newline |") for line in summary)
    assert all(
        line.count(" | ") == summary[0].count(" | ") for line in summary[2:] if "\\|" not in line
    )


def test_the_graded_notebook_is_the_reference_with_answers_exports_and_no_checks(chapter, tmp_path):
    reference = nbformat.read(chapter, as_version=4)
    submission = with_checks(
        answered(chapter, mean=MEAN), lambda cell: setattr(cell, "source", "assert True")
    )
    notebook = assembly.graded_notebook(reference, {"mean": MEAN}, tmp_path)
    assert not [cell for cell in notebook.cells if CHECK in tags(cell)]
    assert [cell.source for cell in notebook.cells if ANSWER in tags(cell)] == [MEAN, ""]
    exports = [cell.source for cell in notebook.cells if "export" in tags(cell)]
    assert len(exports) == 2 and "'average': globals().get('average')" in exports[0]
    # the chapter's own cells come from the reference
    assert notebook.cells[2].source == reference.cells[2].source
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
    # what the submission did to its checks is never read
    assert submission.cells[-1].source == "assert True"
    reused = assembly.with_state_reused(notebook, tmp_path / "state").cells[2]
    assert (
        reused.source.startswith("# reused from the reference run: values\n")
        and str(tmp_path / "state") in reused.source
    )


def test_jobs_side_by_side_share_the_cores_between_their_math_libraries():
    # one job alone uses every core
    assert execution.thread_limits(execution.threads_per_job(1)) == {}
    shared = execution.thread_limits(execution.threads_per_job(os.cpu_count()))
    assert shared["OMP_NUM_THREADS"] == shared["TF_NUM_INTRAOP_THREADS"] == "1"


def test_a_reference_run_that_nbval_fails_stops_grading_and_says_where(chapter, tmp_path):
    broken = nbformat.read(chapter, as_version=4)
    stale = nbformat.v4.new_output("stream", name="stdout", text="3\n")
    broken.cells.insert(
        2,
        new_code_cell(
            "print(1 + 1)",
            metadata={"tags": ["nbval-check-output"]},
            outputs=[stale],
            execution_count=1,
        ),
    )
    path = tmp_path / "notebooks" / f"{CHAPTER}.ipynb"
    path.parent.mkdir()
    nbformat.write(broken, path)
    (tmp_path / "inbox").mkdir()
    with pytest.raises(
        execution.GradingError, match=r"failed \(code cell 1 \('print\(1 \+ 1\)'\): "
    ) as stopped:
        grader.grade_folder(tmp_path / "inbox", path, tmp_path / "grades", cell_timeout=60)
    assert "Cell outputs differ" in str(stopped.value) and "[91m" not in str(stopped.value)
    assert not (tmp_path / "grades" / "scores.csv").exists()


def test_a_passing_reference_run_is_reused_until_the_chapter_changes(chapter, tmp_path, capsys):
    path = tmp_path / "notebooks" / f"{CHAPTER}.ipynb"
    path.parent.mkdir()
    shutil.copy(chapter, path)
    (tmp_path / "inbox").mkdir()
    nbformat.write(answered(chapter, mean=MEAN), tmp_path / "inbox" / "half.ipynb")
    # new random values in every real run
    values = tmp_path / "grades" / "reference" / "run" / "chapter_values.pkl"
    runs = []
    for edit in (None, None, "An edited explanation."):
        if edit:
            edited = nbformat.read(path, as_version=4)
            edited.cells.insert(1, new_markdown_cell(edit))
            nbformat.write(edited, path)
        grades = grader.grade_folder(tmp_path / "inbox", path, tmp_path / "grades", cell_timeout=60)
        runs.append(
            (values.read_bytes(), "reused from" in capsys.readouterr().out, grades[0].scores)
        )
    assert [reused for _, reused, _ in runs] == [False, True, False]
    assert runs[0][0] == runs[1][0] != runs[2][0]
    assert all(scores == {"mean": 1, "norm": 0} for _, _, scores in runs)


def test_ctrl_c_keeps_what_was_graded_and_stops_every_run(chapter, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    nbformat.write(answered(chapter, mean=MEAN), inbox / "a_quick.ipynb")
    nbformat.write(
        answered(chapter, mean=MEAN, norm=f"import time\ntime.sleep({SLEEPER})"),
        inbox / "b_slow.ipynb",
    )
    command = [
        sys.executable,
        "-m",
        "onnx_crossings.grading",
        "inbox",
        "--chapter",
        str(chapter),
        "--out",
        "grades",
    ]
    # Ctrl-C as at a terminal, where the grader runs in the foreground: a background job started by a
    # shell without job control (as a CI runner may start this test) would inherit SIGINT ignored
    grading = subprocess.Popen(
        command,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=with_checks_importable(chapter),
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        for line in grading.stdout:  # the quick one is graded first, then the slow one starts
            if line.startswith("a_quick:"):
                time.sleep(5)
                grading.send_signal(signal.SIGINT)
                break
        output = grading.communicate(timeout=60)[0]
    finally:
        grading.kill()
    assert (
        grading.returncode == 1
        and "interrupted: the tables hold the 1 submissions graded so far" in output
    )
    assert [
        line.split(" | ")[0]
        for line in (tmp_path / "grades" / "summary.md").read_text().splitlines()[2:]
    ] == ["| a_quick"]
    # no kernel
    assert (
        subprocess.run(["pgrep", "-f", str(tmp_path / "grades")], capture_output=True).stdout == b""
    )


def test_a_dask_cluster_started_as_documented_grades_as_this_machine_does(
    chapter, graded, tmp_path
):
    page = (REPO_ROOT / "book" / "instructors.md").read_text()
    assert ".venv/bin/dask scheduler --host " in page and ".venv/bin/dask worker tcp://" in page
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    submissions = {
        "reference": answer_sheet(nbformat.read(chapter, as_version=4), CHAPTER),
        "blank": answered(chapter),
        "half": answered(chapter, mean=MEAN),
        "monkeypatches": answered(chapter, mean=MEAN, norm=ATTACKS["monkeypatches"]),
    }
    for name, notebook in submissions.items():
        nbformat.write(notebook, inbox / f"{name}.ipynb")
    (inbox / "not_json.ipynb").write_text("{")
    dask, address = Path(sys.executable).parent / "dask", f"tcp://127.0.0.1:{free_port()}"
    cluster = [
        subprocess.Popen(
            [
                dask,
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                address.rsplit(":", 1)[1],
                "--no-dashboard",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    cluster.append(
        subprocess.Popen(
            [dask, "worker", address, "--nthreads", "2", "--host", "127.0.0.1", "--no-dashboard"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=with_checks_importable(chapter),
        )
    )
    try:
        grading = subprocess.run(
            [
                sys.executable,
                "-m",
                "onnx_crossings.grading",
                str(inbox),
                "--chapter",
                str(chapter),
                "--out",
                str(tmp_path / "grades"),
                "--scheduler",
                address,
                "--submission-timeout",
                "120",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            env=with_checks_importable(chapter),
        )
    finally:
        for process in cluster:
            process.terminate()
            process.wait(timeout=30)
    assert grading.returncode == 0, grading.stdout[-2000:] + grading.stderr[-2000:]
    with (tmp_path / "grades" / "scores.csv").open(newline="") as table:
        scores = {
            row["student"]: {exercise: int(row[exercise]) for exercise in ("mean", "norm")}
            for row in csv.DictReader(table)
        }
    assert scores == {name: graded[0][name].scores for name in [*submissions, "not_json"]}


def test_a_worker_unpacks_the_reference_run_once_and_whole(tmp_path):
    source = tmp_path / "here" / "reference" / "run"
    source.mkdir(parents=True)
    (source / "chapter_values.pkl").write_bytes(b"values")
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        tar.add(tmp_path / "here" / "reference", arcname="reference")
    worker = tmp_path / "worker"
    grader.unpack_reference(archive.getvalue(), worker)
    assert (worker / "reference" / "run" / "chapter_values.pkl").read_bytes() == b"values"
    (worker / "reference" / "run" / "chapter_values.pkl").write_bytes(b"kept")
    grader.unpack_reference(archive.getvalue(), worker)  # already there: left alone
    assert (worker / "reference" / "run" / "chapter_values.pkl").read_bytes() == b"kept"
    assert sorted(path.name for path in worker.iterdir()) == [
        "reference"
    ]  # no staging folder left behind

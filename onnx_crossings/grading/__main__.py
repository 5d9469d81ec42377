"""python -m onnx_crossings.grading: grade a folder of submissions against a chapter."""

import argparse
import sys
from pathlib import Path

from onnx_crossings.grading.execution import CELL_TIMEOUT, SUBMISSION_TIMEOUT, GradingError
from onnx_crossings.grading.grader import grade_folder
from onnx_crossings.grading.sandbox import Limits


def main(arguments: list[str] | None = None) -> None:
    """Command line: python -m onnx_crossings.grading SUBMISSIONS --chapter CHAPTER.ipynb [--out GRADES] [--jobs N]."""
    parser = argparse.ArgumentParser(
        prog="python -m onnx_crossings.grading", description=main.__doc__
    )
    parser.add_argument("submissions", type=Path, help="folder of submitted student notebooks")
    parser.add_argument(
        "--chapter",
        type=Path,
        required=True,
        help="the reference chapter, e.g. notebooks/03_...ipynb",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("grades"), help="where scores and reports go"
    )
    parser.add_argument(
        "--jobs", type=int, default=1, help="submissions graded side by side on this machine"
    )
    parser.add_argument(
        "--scheduler", help="a Dask scheduler's address (tcp://host:8786): grade on its workers"
    )
    parser.add_argument(
        "--cell-timeout", type=int, default=CELL_TIMEOUT, help="seconds for any one cell"
    )
    parser.add_argument(
        "--submission-timeout",
        type=int,
        default=SUBMISSION_TIMEOUT,
        help="seconds for one submission's whole notebook",
    )
    options = parser.parse_args(arguments)
    limits = Limits(
        wall_seconds=options.submission_timeout, cpu_seconds=2 * options.submission_timeout
    )
    try:
        grade_folder(
            options.submissions,
            options.chapter,
            options.out,
            jobs=options.jobs,
            scheduler=options.scheduler,
            limits=limits,
            cell_timeout=options.cell_timeout,
        )
    except GradingError as error:
        sys.exit(f"grading stopped: {error}")
    print(f"scores: {options.out / 'scores.csv'}, summary: {options.out / 'summary.md'}")


if __name__ == "__main__":
    main()

"""The score tables: scores.csv and summary.md, rewritten whole after each grade."""

import csv
import re
from pathlib import Path

from onnx_crossings.grading.execution import Grade
from onnx_crossings.plumbing.files import atomic_write_text


def table_cell(text: str) -> str:
    """Text made safe for one cell of a Markdown table."""
    return re.sub(r"\s+", " ", text).replace("\\", "\\\\").replace("|", "\\|")[:1000]


def write_tables(grades: list[Grade], exercises: list[str], out_dir: Path) -> None:
    """scores.csv (one row per student, one column per exercise) and summary.md, each replaced atomically."""
    grades = sorted(grades, key=lambda grade: (grade.student, grade.folder))
    with atomic_write_text(out_dir / "scores.csv", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["student", *exercises, "total", "out_of", "status", "seconds", "folder", "notes"]
        )
        for grade in grades:
            writer.writerow(
                [
                    grade.student,
                    *grade.scores.values(),
                    grade.total,
                    len(grade.scores),
                    grade.status,
                    f"{grade.seconds:.0f}",
                    grade.folder,
                    "; ".join(grade.notes),
                ]
            )
    lines = [
        "| student | " + " | ".join(exercises) + " | total | seconds | status |",
        "|---" * (len(exercises) + 4) + "|",
    ]
    for grade in grades:
        marks = " | ".join("✓" if score else "✗" for score in grade.scores.values())
        status = table_cell(grade.status + "".join(f"; {note}" for note in grade.notes))
        lines.append(
            f"| {table_cell(grade.student)} | {marks} | {grade.total}/{len(grade.scores)} | "
            f"{grade.seconds:.0f} | {status} |"
        )
    with atomic_write_text(out_dir / "summary.md") as out:
        out.write("\n".join(lines) + "\n")

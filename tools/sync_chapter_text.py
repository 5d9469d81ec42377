"""Keep the text a notebook shows in JupyterLab and the text the HTML book renders the same.

JupyterLab cannot read a figure's caption from cell metadata, nor include a file, so the notebooks carry both
as plain markdown and this tool copies them to where the book reads them:
- a figure's caption is the markdown cell right after the figure, `**Figure:** ...`, tagged `remove-cell`
  (the book numbers the caption it finds in the figure cell's `mystnb` metadata, which this tool writes);
- a troubleshooting snippet sits between `<!-- from book/troubleshooting/NAME.md -->` and
  `<!-- end of book/troubleshooting/NAME.md -->`, and this tool refreshes it from that file.

    python tools/sync_chapter_text.py notebooks/*.ipynb book/*.ipynb           # rewrite what is out of date
    python tools/sync_chapter_text.py --check notebooks/*.ipynb book/*.ipynb   # only say what is
"""

import argparse
import re
import sys
from pathlib import Path

import nbformat

REPO_ROOT = Path(__file__).resolve().parent.parent
CAPTION_PREFIX = "**Figure:** "
CAPTION_TAG = "remove-cell"  # the book shows the numbered caption from the metadata instead
SNIPPET = re.compile(
    r"(<!-- from (?P<path>book/troubleshooting/[\w.-]+\.md) -->\n)(?P<text>.*?)(\n<!-- end of (?P=path) -->)",
    re.DOTALL,
)


def figure_of(cell) -> dict | None:
    """The figure a code cell shows (its `mystnb.figure` metadata), if any."""
    return cell.get("metadata", {}).get("mystnb", {}).get("figure")


def caption_problems(notebook) -> list[str]:
    """Copy each figure's visible caption into its metadata; the problems that need an author."""
    problems = []
    for cell, following in zip(notebook.cells, notebook.cells[1:] + [None], strict=True):
        figure = figure_of(cell)
        if figure is None:
            continue
        visible = following is not None and following.cell_type == "markdown"
        if not (visible and following.source.startswith(CAPTION_PREFIX)):
            problems.append(
                f"{figure['name']}: the cell after the figure must be its caption, "
                f"a markdown cell starting {CAPTION_PREFIX!r}"
            )
            continue
        if CAPTION_TAG not in following.metadata.get("tags", []):
            problems.append(f"{figure['name']}: tag its caption cell {CAPTION_TAG!r}")
        figure["caption"] = following.source.removeprefix(CAPTION_PREFIX).strip()
    return problems


def refresh_snippets(notebook) -> None:
    """Replace each troubleshooting snippet in the markdown cells with its file's text."""

    def current(match: re.Match) -> str:
        text = (REPO_ROOT / match["path"]).read_text().strip()
        return match.group(1) + text + match.group(4)

    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = SNIPPET.sub(current, cell.source)


def sync(path: Path, check: bool) -> list[str]:
    """Bring one notebook up to date (or, with check, only report); what is wrong or out of date."""
    notebook = nbformat.read(path, as_version=4)
    before = nbformat.writes(notebook)
    problems = caption_problems(notebook)
    refresh_snippets(notebook)
    changed = nbformat.writes(notebook) != before
    if changed and not check:
        nbformat.write(notebook, path)
    if changed and check:
        problems.append("captions or troubleshooting snippets are out of date")
    return [f"{path}: {problem}" for problem in problems]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="change nothing; fail if out of date")
    arguments = parser.parse_args(argv)
    problems = [problem for path in arguments.notebooks for problem in sync(path, arguments.check)]
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems and arguments.check:
        print(
            "run: python tools/sync_chapter_text.py notebooks/*.ipynb book/*.ipynb", file=sys.stderr
        )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

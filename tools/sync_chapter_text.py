"""Keep the text a notebook shows in JupyterLab and the text the HTML book renders the same.

JupyterLab cannot read a figure's caption from cell metadata, nor include a file, so the notebooks carry both
as plain markdown and this tool copies them to where the book reads them:
- a figure's caption is the markdown cell right after the figure, `**Figure:** ...`, tagged `remove-cell`
  (the book numbers the caption it finds in the figure cell's `mystnb` metadata, which this tool writes);
- a troubleshooting snippet sits between `<!-- from book/troubleshooting/NAME.md -->` and
  `<!-- end of book/troubleshooting/NAME.md -->`, and this tool refreshes it from that file.
It also writes what `_config.yml` says of where the course lives (its repository, the ref the book is built from,
the book's address) into each chapter's first cell, the set-up cell of `onnx_crossings/plumbing/install.py`, and
into the README's badges, so the launch buttons, the set-up cells and the badges name the same repository and
ref; and the time budgets of `tools/budgets.py` into CONTRIBUTING.md's table.

    python tools/sync_chapter_text.py notebooks/*.ipynb book/*.ipynb           # rewrite what is out of date
    python tools/sync_chapter_text.py --check notebooks/*.ipynb book/*.ipynb   # only say what is
"""

import argparse
import re
import sys
from pathlib import Path

import nbformat
import yaml

from onnx_crossings.plumbing import install
from tools import budgets

REPO_ROOT = Path(__file__).resolve().parent.parent
CAPTION_PREFIX = "**Figure:** "
CAPTION_TAG = "remove-cell"  # the book shows the numbered caption from the metadata instead
SNIPPET = re.compile(
    r"(<!-- from (?P<path>book/troubleshooting/[\w.-]+\.md) -->\n)(?P<text>.*?)(\n<!-- end of (?P=path) -->)",
    re.DOTALL,
)
SETUP_TAG = "course-setup"
# The book folds the set-up cell away behind this line; JupyterLab and Colab show it.
SETUP_PROMPT = "Running this chapter elsewhere (Colab, your own Jupyter)? Show the set-up cell"
# generated blocks in pages: the comment that opens each and the one that closes it
BADGES = ("<!-- badges from _config.yml -->", "<!-- end of badges -->")
BUDGETS = ("<!-- budgets from tools/budgets.py -->", "<!-- end of budgets -->")
BADGE_LINES = """\
[![Tests]({repository}/actions/workflows/test.yml/badge.svg)]({repository}/actions/workflows/test.yml)
[![The book](https://img.shields.io/badge/book-read_online-blue)]({book})
[![Open chapter 1 in Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab})
[![Open chapter 3 in Binder](https://mybinder.org/badge_logo.svg)]({binder})"""


def course_address() -> dict[str, str]:
    """Where the course lives, as _config.yml says: its repository URL, the ref the book is built from, the book."""
    config = yaml.safe_load((REPO_ROOT / "_config.yml").read_text())
    return {
        "repository": config["repository"]["url"].rstrip("/"),
        "ref": config["repository"]["branch"],
        "book": config["html"]["baseurl"],
    }


def refresh_setup_cell(notebook, chapter: str, address: dict[str, str]) -> None:
    """Make the chapter's first code cell the set-up cell for this course's repository and ref."""
    source = install.setup_cell(chapter, address["repository"], address["ref"])
    tagged = [cell for cell in notebook.cells if SETUP_TAG in cell.metadata.get("tags", [])]
    if tagged:
        tagged[0].source = source
        return
    first_code = next(i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code")
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata = {
        "tags": [SETUP_TAG, "hide-input"],
        "mystnb": {"code_prompt_show": SETUP_PROMPT, "code_prompt_hide": "Hide the set-up cell"},
    }
    notebook.cells.insert(first_code, cell)


def badges(address: dict[str, str]) -> str:
    """The README's badges: the tests, the book, chapter 1 in Colab, chapter 3 in Binder."""
    owner_and_name = address["repository"].removeprefix("https://github.com/")
    ref = address["ref"]
    colab = f"https://colab.research.google.com/github/{owner_and_name}/blob/{ref}/notebooks/01_mnist_pytorch_to_tensorflow.ipynb"
    binder = f"https://mybinder.org/v2/gh/{owner_and_name}/{ref}?urlpath=lab/tree/notebooks/03_aapl_keras_to_scikit_learn.ipynb"
    return BADGE_LINES.format(colab=colab, binder=binder, **address)


def sync_block(path: Path, markers: tuple[str, str], content: str, check: bool) -> list[str]:
    """Bring the text between a page's two marker comments up to date (or, with check, only report)."""
    opening, closing = markers
    block = re.compile(f"({re.escape(opening)}\n).*?({re.escape(closing)})", re.DOTALL)
    text = path.read_text()
    if not block.search(text):
        return [f"{path}: it has no '{opening}' block"]
    current = block.sub(lambda match: match.group(1) + content + "\n" + match.group(2), text)
    if current == text:
        return []
    if check:
        return [f"{path}: the block after '{opening}' is out of date"]
    path.write_text(current)
    return []


def sync_pages(check: bool) -> list[str]:
    """The README's badges from _config.yml, CONTRIBUTING.md's budget table from tools/budgets.py."""
    return sync_block(
        REPO_ROOT / "README.md", BADGES, badges(course_address()), check
    ) + sync_block(REPO_ROOT / "CONTRIBUTING.md", BUDGETS, budgets.budget_table(), check)


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
    if path.stem in install.CHAPTER_PACKAGES:
        refresh_setup_cell(notebook, path.stem, course_address())
    changed = nbformat.writes(notebook) != before
    if changed and not check:
        nbformat.write(notebook, path)
    if changed and check:
        problems.append("captions, troubleshooting snippets or the set-up cell are out of date")
    return [f"{path}: {problem}" for problem in problems]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="change nothing; fail if out of date")
    arguments = parser.parse_args(argv)
    problems = [problem for path in arguments.notebooks for problem in sync(path, arguments.check)]
    problems += sync_pages(arguments.check)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems and arguments.check:
        print(
            "run: python tools/sync_chapter_text.py notebooks/*.ipynb book/*.ipynb", file=sys.stderr
        )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

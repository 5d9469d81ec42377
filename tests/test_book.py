"""The book renders from the committed notebooks with warnings as errors, figures included."""

import re
import subprocess
import sys
from pathlib import Path

import nbformat

from helpers.paths import REPO_ROOT

SNIPPETS = re.compile(r"<!-- from (\S+) -->.*?<!-- end of \1 -->", re.DOTALL)


def test_book_builds_without_warnings(tmp_path):
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    build = subprocess.run(
        [
            str(jupyter_book),
            "build",
            str(REPO_ROOT),
            "--path-output",
            str(tmp_path),
            "--warningiserror",
            "--nitpick",
            "--keep-going",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    html = tmp_path / "_build" / "html"
    for notebook in sorted((REPO_ROOT / "notebooks").glob("*.ipynb")):
        chapter = (html / "notebooks" / notebook.with_suffix(".html").name).read_text()
        assert chapter.count("<img") >= 4, f"the plots of {notebook.name} are missing from the HTML"
        assert "<svg" in chapter or ".svg" in chapter, (
            f"the ONNX graph picture of {notebook.name} is missing"
        )
        assert "Parity broken" not in chapter
    assert (html / "book" / "results.html").exists()
    web_app = (html / "book" / "web_app.html").read_text()
    assert "<img" in web_app and ".svg" in web_app, "the web app's screenshot or diagram is missing"


def test_troubleshooting_is_written_once_and_shown_where_it_is_needed():
    page = (REPO_ROOT / "book" / "troubleshooting.md").read_text()
    for snippet in sorted((REPO_ROOT / "book" / "troubleshooting").glob("*.md")):
        assert f"```{{include}} troubleshooting/{snippet.name}" in page, (
            f"{snippet.name} is not on the page"
        )
    # JupyterLab cannot include a file: a chapter carries its snippets' text, which
    # tools/sync_chapter_text.py copies from the files (tests/test_sync_chapter_text.py checks it is current)
    for chapter in sorted((REPO_ROOT / "notebooks").glob("*.ipynb")):
        cells = nbformat.read(chapter, as_version=4).cells
        [dropdown] = [
            cell.source for cell in cells if "Troubleshooting the crossing" in cell.source
        ]
        tips = SNIPPETS.sub("", dropdown.split("Troubleshooting the crossing", 1)[1])
        assert "<!-- from book/troubleshooting/" in dropdown and "- **" not in tips, (
            f"{chapter.name} types its own tips"
        )

"""tools/sync_chapter_text.py keeps the captions and tips JupyterLab shows equal to what the book renders."""

import importlib.util
import subprocess
import sys

import nbformat
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from onnx_crossings.plumbing import install
from onnx_crossings.plumbing.paths import REPO_ROOT
from tools import budgets

SCRIPT = REPO_ROOT / "tools" / "sync_chapter_text.py"
NOTEBOOKS = sorted(REPO_ROOT.glob("notebooks/*.ipynb")) + sorted(REPO_ROOT.glob("book/*.ipynb"))
SNIPPET = "book/troubleshooting/prices.md"


def sync(*arguments) -> subprocess.CompletedProcess:
    """Run the tool from the repository root, as its docstring tells an author to."""
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, arguments)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )


def figure_notebook(path, caption_cell) -> None:
    """A notebook with one figure cell, whose metadata caption is stale, and the given cell after it."""
    figure = new_code_cell(
        "plot()", metadata={"mystnb": {"figure": {"name": "fig-x", "caption": "old words"}}}
    )
    nbformat.write(new_notebook(cells=[figure, caption_cell]), path)


def test_the_committed_notebooks_are_in_sync():
    checked = sync("--check", *NOTEBOOKS)
    assert checked.returncode == 0, checked.stderr


def test_a_visible_caption_becomes_the_books_caption(tmp_path):
    path = tmp_path / "chapter.ipynb"
    figure_notebook(
        path, new_markdown_cell("**Figure:** New words.", metadata={"tags": ["remove-cell"]})
    )
    assert sync("--check", path).returncode == 1
    assert sync(path).returncode == 0
    caption = nbformat.read(path, as_version=4).cells[0].metadata["mystnb"]["figure"]["caption"]
    assert caption == "New words."
    assert sync("--check", path).returncode == 0


def test_a_figure_without_a_visible_caption_is_refused(tmp_path):
    path = tmp_path / "chapter.ipynb"
    figure_notebook(path, new_markdown_cell("Some prose."))
    synced = sync(path)
    assert synced.returncode == 1 and "fig-x" in synced.stderr and "**Figure:**" in synced.stderr


def test_a_stale_troubleshooting_snippet_is_refreshed_from_its_file(tmp_path):
    path = tmp_path / "chapter.ipynb"
    stale = f"Tips:\n<!-- from {SNIPPET} -->\n- an old tip\n<!-- end of {SNIPPET} -->\nMore."
    nbformat.write(new_notebook(cells=[new_markdown_cell(stale)]), path)
    assert sync("--check", path).returncode == 1
    assert sync(path).returncode == 0
    source = nbformat.read(path, as_version=4).cells[0].source
    assert (REPO_ROOT / SNIPPET).read_text().strip() in source and "an old tip" not in source
    assert source.startswith("Tips:\n") and source.endswith("\nMore.")


def test_a_chapter_gets_the_set_up_cell_for_the_configured_repository_and_ref_first(tmp_path):
    config = yaml.safe_load((REPO_ROOT / "_config.yml").read_text())["repository"]
    path = tmp_path / "03_aapl_keras_to_scikit_learn.ipynb"
    cells = [new_markdown_cell("# Chapter 3"), new_code_cell("import numpy")]
    nbformat.write(new_notebook(cells=cells), path)
    assert sync("--check", path).returncode == 1
    assert sync(path).returncode == 0
    code = [cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
    assert code[0].source == install.setup_cell(path.stem, config["url"], config["branch"])
    assert f'"git+{config["url"]}@{config["branch"]}"' in code[0].source
    assert code[1].source == "import numpy" and "hide-input" in code[0].metadata["tags"]
    notebook = nbformat.read(path, as_version=4)
    notebook.cells[1].source = notebook.cells[1].source.replace(config["branch"], "an-old-ref")
    nbformat.write(notebook, path)
    assert sync("--check", path).returncode == 1 and sync(path).returncode == 0
    assert len(nbformat.read(path, as_version=4).cells) == 3, (
        "the stale cell was replaced, not added to"
    )
    assert sync("--check", path).returncode == 0


def test_the_readme_badges_name_the_configured_repository_ref_and_book():
    config = yaml.safe_load((REPO_ROOT / "_config.yml").read_text())
    readme = (REPO_ROOT / "README.md").read_text()
    repository, ref = config["repository"]["url"], config["repository"]["branch"]
    assert f"]({repository}/actions/workflows/test.yml)" in readme
    assert f"]({config['html']['baseurl']})" in readme
    owner_and_name = repository.removeprefix("https://github.com/")
    assert f"colab.research.google.com/github/{owner_and_name}/blob/{ref}/notebooks/" in readme
    assert f"mybinder.org/v2/gh/{owner_and_name}/{ref}?urlpath=" in readme


def test_a_stale_budget_table_is_reported_then_rewritten_from_the_budgets(tmp_path):
    spec = importlib.util.spec_from_file_location("sync_chapter_text", SCRIPT)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    page = tmp_path / "CONTRIBUTING.md"
    opening, closing = tool.BUDGETS
    page.write_text(f"# Contributing\n\n{opening}\n| old | table |\n{closing}\n\nThe end.\n")
    table = budgets.budget_table()
    assert tool.sync_block(page, tool.BUDGETS, table, check=True) == [
        f"{page}: the block after '{opening}' is out of date"
    ]
    assert tool.sync_block(page, tool.BUDGETS, table, check=False) == []
    assert page.read_text() == f"# Contributing\n\n{opening}\n{table}\n{closing}\n\nThe end.\n"
    assert tool.sync_block(page, tool.BUDGETS, table, check=True) == []

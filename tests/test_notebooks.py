"""Every notebook is committed as one complete top-to-bottom run, with cells nbval compares."""

import ast
import importlib
import importlib.util
import json
import re

import nbformat
import pytest

from onnx_crossings.plumbing.paths import REPO_ROOT
from onnx_crossings.plumbing.source import source_of

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb")) + [
    REPO_ROOT / "book" / "results.ipynb"
]
CHAPTERS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
STUDENT_VERSIONS = sorted((REPO_ROOT / "students").glob("*.ipynb"))


def code_cells(path):
    """The code cells of a notebook."""
    return [cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_committed_as_one_complete_run(path):
    counts = [cell.execution_count for cell in code_cells(path)]
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name} was not run top to bottom in one go (execution counts {counts}): run `make chapters`"
    )


@pytest.mark.parametrize(
    "path", NOTEBOOKS + STUDENT_VERSIONS, ids=lambda path: f"{path.parent.name}/{path.name}"
)
def test_no_execution_timestamps(path):
    stamped = [cell.id for cell in code_cells(path) if "execution" in cell.metadata]
    assert not stamped, (
        f"{path.name} keeps execution timestamps (cells {stamped[:3]}...): run `make chapters`"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_no_stored_errors(path):
    errors = [o for cell in code_cells(path) for o in cell.outputs if o.output_type == "error"]
    assert not errors, f"{path.name} stores an error output: {errors[0].ename}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.name)
def test_chapter_marks_deterministic_cells_for_nbval(path):
    checked = [c for c in code_cells(path) if "nbval-check-output" in c.metadata.get("tags", [])]
    assert len(checked) >= 5, f"{path.name} marks only {len(checked)} cells for nbval to compare"
    assert all(cell.outputs for cell in checked), "a cell nbval compares has no stored output"
    assert not any(
        tag in cell.metadata.get("tags", [])
        for cell in code_cells(path)
        for tag in ("nbval-skip", "nbval-raises-exception", "raises-exception")
    ), f"{path.name} lets a cell skip or fail silently"


def test_no_section_numbers_are_typed():
    """Cross-references are MyST labels ({ref}), which the book build (-W -n) checks; typed numbers go stale."""
    typed = re.compile(r"\bsections? \d", re.IGNORECASE)
    texts = {
        str(path.relative_to(REPO_ROOT)): path.read_text()
        for path in (REPO_ROOT / "onnx_crossings").rglob("*.py")
    }
    for path in CHAPTERS:
        for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
            texts[f"{path.name}, cell {index}"] = cell.source + json.dumps(cell.metadata)
    stale = {place: found.group() for place, text in texts.items() if (found := typed.search(text))}
    assert not stale, (
        f"typed section numbers (use a label and {{ref}} in markdown, a section's name in code): {stale}"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_no_random_table_ids_or_memory_addresses(path):
    outputs = [json.dumps(o.get("data", {})) for c in code_cells(path) for o in c.outputs]
    unstable = [text for text in outputs if re.search(r'id=\\"T_(?!cell-)| at 0x[0-9a-f]+>', text)]
    assert not unstable, (
        f"{path.name} stores output that changes every run: {unstable[0][:200]}: run `make chapters`"
    )


@pytest.mark.parametrize(
    "path", NOTEBOOKS + [REPO_ROOT / "book" / "web_app.ipynb"], ids=lambda path: path.name
)
def test_no_terminal_colours_or_exporter_banners_in_stored_outputs(path):
    """What a learner reads is the notebook's own output, not a terminal's escape codes or a tool's progress."""
    noisy = [
        cell.id
        for cell in code_cells(path)
        for text in printed_text(cell)
        if "\x1b[" in text or "[torch.onnx]" in text
    ]
    assert not noisy, (
        f"{path.name} stores terminal colour codes or exporter banners in cells {noisy}: print plainly "
        "(Keras: summary(print_fn=print), fit(verbose=2); torch.onnx.export(verbose=False))"
    )


def printed_text(cell) -> list[str]:
    """What a code cell printed or displayed as text, in order."""
    texts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            texts.append(output.text)
        elif "text/plain" in output.get("data", {}):
            texts.append(output.data["text/plain"])
    return texts


def test_the_book_pages_show_what_their_cells_give_from_the_committed_results(monkeypatch):
    from nbclient import NotebookClient

    # the kernel reads the committed results, wherever the test run writes its own
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(REPO_ROOT))
    for name in ("web_app", "results"):  # the order `make chapters` runs them in
        path = REPO_ROOT / "book" / f"{name}.ipynb"
        fresh = nbformat.read(path, as_version=4)
        NotebookClient(
            fresh, timeout=120, resources={"metadata": {"path": str(path.parent)}}
        ).execute()
        rerun = [cell for cell in fresh.cells if cell.cell_type == "code"]
        for stored, again in zip(code_cells(path), rerun, strict=True):
            assert printed_text(stored) == printed_text(again), (
                f"book/{name}.ipynb cell {stored.id} shows figures its results no longer give: "
                "run `make chapters` (it executes the pages after every chapter)"
            )


def imported_module(name: str):
    """The course's module a chapter imports by its bare name (`plots`), from the sub-package that holds it."""
    for package in ("data", "teaching", "plumbing"):
        if importlib.util.find_spec(f"onnx_crossings.{package}.{name}") is not None:
            return importlib.import_module(f"onnx_crossings.{package}.{name}")
    raise ModuleNotFoundError(f"no module of the course is named {name}")


def shown_objects(cell_source: str) -> list:
    """The course objects a `source.show_source(module.name, ...)` call in a cell names, imported afresh."""
    calls = [
        node
        for node in ast.walk(ast.parse(cell_source))
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "source.show_source"
    ]
    objects = []
    for argument in (argument for call in calls for argument in call.args):
        module, *attributes = ast.unparse(argument).split(".")
        found = imported_module(module)
        for attribute in attributes:
            found = getattr(found, attribute)
        objects.append(found)
    return objects


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.name)
def test_the_course_code_a_chapter_shows_is_the_code_as_it_stands(path):
    """A chapter shows the course's code from their files; its stored output must not lag behind an edit."""
    for cell in code_cells(path):
        objects = shown_objects(cell.source) if "source.show_source(" in cell.source else []
        if objects:
            stored = "".join(cell.outputs[0]["data"]["text/plain"])
            assert stored.rstrip("\n") == source_of(*objects).rstrip("\n"), (
                f"{path.name} cell {cell.id} shows an older version of {[item.__qualname__ for item in objects]}: "
                "run `make chapters`"
            )

"""In JupyterLab as `make lab` starts it, every chapter and book notebook reads as the HTML book does.

Headless Chromium opens each notebook, scrolls it to the end and reads what every markdown cell shows: no raw
MyST (roles, directives, targets, unresolved labels), every markdown cell rendered, every figure's caption
visible in the cell right after it.
"""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
from launching import first_address
from playwright.sync_api import Page, sync_playwright

from onnx_crossings.plumbing.paths import REPO_ROOT

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb")) + sorted(
    (REPO_ROOT / "book").glob("*.ipynb")
)
ADDRESS = r"http://127\.0\.0\.1:\d+/lab/tree/notebooks\?token=\w+"
RAW_MYST = re.compile(
    r"\{[\w:-]+\}`"  # a role
    r"|^\s*(:::|```)"  # a directive's fence
    r"|^\([\w-]+\)=$"  # a target
    r"|\b(fig-)?ch\d+b?-[\w-]+"  # a label left unresolved
    r"|\{(glue|include|numref)\b",
    re.MULTILINE,
)
CAPTION_WORDS = 6  # compared with what the caption cell shows
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
# what each markdown cell shows, by its position in the notebook (with the text of closed dropdowns); None
# where it did not render
SHOWN_MARKDOWN = f"""() => Object.fromEntries(
    Array.from(document.querySelectorAll('{PANEL} .jp-MarkdownCell')).map(cell => {{
        const rendered = cell.querySelector('.myst, .jp-RenderedMarkdown');
        const editing = cell.querySelector('.jp-InputArea-editor:not(.lm-mod-hidden)');
        const text = rendered && !editing ? rendered.innerText + '\\n' + rendered.textContent : null;
        return [cell.dataset.windowedListIndex, text];
    }}))"""
SCROLL_DOWN = f"""() => {{
    const scroller = document.querySelector('{PANEL} .jp-WindowedPanel-outer');
    const before = scroller.scrollTop;
    scroller.scrollTop += scroller.clientHeight * 0.8;
    return scroller.scrollTop > before;
}}"""


@pytest.fixture(scope="module")
def lab_address():
    """JupyterLab started with `make lab`, as a learner starts it; its address with the token."""
    home = Path(tempfile.mkdtemp(prefix="lab-home-"))
    lab = subprocess.Popen(
        ["make", "lab"],
        cwd=REPO_ROOT,
        env=os.environ | {"HOME": str(home), "BROWSER": "true"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        yield first_address(lab.stdout, ADDRESS, seconds=120)
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        lab.wait(timeout=60)
        shutil.rmtree(home)


@pytest.fixture(scope="module")
def browser_page():
    """A page in Debian's headless Chromium, tall enough to render many cells at a time."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium"), args=["--no-sandbox"]
        )
        try:
            yield browser.new_page(viewport={"width": 1280, "height": 2400})
        finally:
            browser.close()


def shown_markdown(page: Page, address: str, notebook: Path) -> dict[int, str | None]:
    """Open a notebook in JupyterLab, scroll to its end and collect what each markdown cell showed."""
    relative = notebook.relative_to(REPO_ROOT).as_posix()
    page.goto(address.replace("/lab/tree/notebooks?", f"/lab/tree/{relative}?reset&"))
    page.wait_for_selector(f"{PANEL} .jp-MarkdownCell .myst", timeout=120_000)
    shown: dict[int, str | None] = {}
    while True:
        time.sleep(0.5)  # the cells scrolled into view render
        for index, text in page.evaluate(SHOWN_MARKDOWN).items():
            # out of view, a cell shows less
            if len(text or "") >= len(shown.get(int(index)) or ""):
                shown[int(index)] = text
        if not page.evaluate(SCROLL_DOWN):
            return shown


def plain(text: str) -> str:
    """Words without markdown's markup and typographic quotes, to compare source with what a browser shows."""
    text = re.sub(r"[*_`]", "", text).translate(str.maketrans("‘’“”", "''\"\""))
    return " ".join(text.split())


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_jupyterlab_shows_the_notebook_as_the_book_does(lab_address, browser_page, notebook):
    cells = nbformat.read(notebook, as_version=4).cells
    shown = shown_markdown(browser_page, lab_address, notebook)
    problems = []
    for index, cell in enumerate(cells):
        if cell.cell_type != "markdown":
            continue
        text = shown.get(index)
        if text is None:
            problems.append(f"cell {index} did not render: {cell.source[:60]!r}")
        elif raw := RAW_MYST.search(text):
            problems.append(f"cell {index} shows raw MyST {raw.group()!r} in: {text[:200]!r}")
    for index, cell in enumerate(cells[:-1]):
        figure = cell.metadata.get("mystnb", {}).get("figure")
        if figure is None:
            continue
        caption = " ".join(plain(figure["caption"]).split()[:CAPTION_WORDS])
        below = plain(shown.get(index + 1) or "")
        if not below.startswith("Figure:") or caption not in below:
            problems.append(
                f"{figure['name']}: its caption is not shown below it (saw {below[:80]!r})"
            )
    assert not problems, f"{notebook.name} in JupyterLab:\n" + "\n".join(problems)

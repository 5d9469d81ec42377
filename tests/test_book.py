"""The book renders from the committed notebooks with warnings as errors, figures included."""

import re
import subprocess

import nbformat
import pytest
import yaml

from onnx_crossings.plumbing.paths import REPO_ROOT

SNIPPETS = re.compile(r"<!-- from (\S+) -->.*?<!-- end of \1 -->", re.DOTALL)


@pytest.fixture(scope="module")
def built_book(tmp_path_factory):
    """The book built by `make book`, as the README and the Pages workflow run it, into a temporary folder."""
    output = tmp_path_factory.mktemp("book")
    # `make book` first stamps the set-up cells and badges: they must already be current, or CI would not see it
    stamped = subprocess.run(
        ["git", "status", "--porcelain", "notebooks", "README.md"],
        cwd=REPO_ROOT,
        capture_output=True,
    ).stdout
    build = subprocess.run(
        ["make", "--no-print-directory", "book", f"BOOK_OUTPUT={output}"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    after = subprocess.run(
        ["git", "status", "--porcelain", "notebooks", "README.md"],
        cwd=REPO_ROOT,
        capture_output=True,
    ).stdout
    assert after == stamped, (
        "`make book` changed the committed chapters or README: run it and commit"
    )
    return output / "_build" / "html", build


def test_book_builds_without_warnings(built_book):
    html, build = built_book
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    for notebook in sorted((REPO_ROOT / "notebooks").glob("*.ipynb")):
        chapter = (html / "notebooks" / notebook.with_suffix(".html").name).read_text()
        assert chapter.count("<img") >= 4, f"the plots of {notebook.name} are missing from the HTML"
        if "image/svg+xml" in notebook.read_text():  # a chapter that draws its ONNX graph
            assert re.search(r'<img [^>]*src="\.\./_images/\w+\.svg"', chapter), (
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


def test_every_launch_button_is_one_the_configuration_allows_and_opens_this_repository_and_ref(
    built_book,
):
    html, _ = built_book
    config = yaml.safe_load((REPO_ROOT / "_config.yml").read_text())
    repository = config["repository"]["url"].removeprefix("https://github.com/")
    ref = config["repository"]["branch"]
    allowed = config["sphinx"]["config"]["launch_pages"]
    expected = {
        "colab": "https://colab.research.google.com/github/{repository}/blob/{ref}/{page}.ipynb",
        "binder": "https://mybinder.org/v2/gh/{repository}/{ref}?urlpath=lab/tree/{page}.ipynb",
    }
    shown = {}
    for page in sorted(html.rglob("*.html")):
        name = page.relative_to(html).with_suffix("").as_posix()
        for url in re.findall(
            r'href="(https://(?:colab\.research\.google\.com|mybinder\.org)/[^"]+)"',
            page.read_text(),
        ):
            shown.setdefault(name, set()).add(url.replace("&amp;", "&"))
    wanted = {}
    for button, pages in allowed.items():
        for page in pages:
            url = expected[button].format(repository=repository, ref=ref, page=page)
            wanted.setdefault(page, set()).add(url)
    assert shown == wanted
    for page in {page for pages in allowed.values() for page in pages}:
        assert (REPO_ROOT / f"{page}.ipynb").exists(), (
            f"a launch button for {page}, which is not a notebook"
        )


def test_binder_builds_what_the_binder_buttons_open():
    config = yaml.safe_load((REPO_ROOT / "_config.yml").read_text())
    binder_pages = config["sphinx"]["config"]["launch_pages"]["binder"]
    post_build = (REPO_ROOT / "binder" / "postBuild").read_text()
    installed = re.findall(
        r"^python -m onnx_crossings.plumbing.install (\S+)$", post_build, re.MULTILINE
    )
    assert sorted(f"notebooks/{chapter}" for chapter in installed) == sorted(binder_pages)
    assert (REPO_ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.13"

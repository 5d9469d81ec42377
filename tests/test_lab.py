"""`make lab`, the README's way into the chapters, starts JupyterLab on 127.0.0.1, as root and as an ordinary user."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from launching import NOBODY, enterable_by_everyone, first_address, page_at

from onnx_crossings.plumbing.paths import REPO_ROOT

ADDRESS = r"http://127\.0\.0\.1:\d+/lab/tree/notebooks\?token=\w+"  # the repository, opened at the chapters


@pytest.mark.parametrize("user", ["this user", "an ordinary user"])
def test_make_lab_serves_the_chapters_on_this_machine(user):
    if user == "an ordinary user" and os.getuid() != 0:
        pytest.skip("this user is the ordinary user; only root can run make as another")
    home = Path(tempfile.mkdtemp(prefix="lab-home-"))  # outside root's private temporary folder
    home.chmod(0o777)
    # the command as the README types it, with a home of the user's own and no browser to open on a test machine
    environment = os.environ | {"HOME": str(home), "BROWSER": "true"}
    command = (NOBODY if user == "an ordinary user" else []) + ["make", "lab"]
    # the environment's Python may be root's (pyenv in /root); an ordinary user's own clone has their own
    with enterable_by_everyone(REPO_ROOT, Path(sys.executable).resolve()):
        lab = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            address = first_address(lab.stdout, ADDRESS, seconds=120)
            assert "JupyterLab" in page_at(address, seconds=60)
            assert "01_mnist_pytorch_to_tensorflow.ipynb" in page_at(
                address.replace("/lab/tree/notebooks?", "/api/contents/notebooks?"), 30
            )
        finally:
            os.killpg(lab.pid, signal.SIGTERM)
            lab.wait(timeout=60)
            shutil.rmtree(home)

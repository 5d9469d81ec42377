"""`make lab`, the README's way into the chapters, starts JupyterLab on 127.0.0.1, as root and as an ordinary user."""

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from helpers.paths import REPO_ROOT

ADDRESS = re.compile(r"http://127\.0\.0\.1:\d+/lab\?token=\w+")
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def first_address(stream, seconds: float) -> str:
    """The lab address printed on stream within seconds, or an AssertionError with what was printed instead."""
    lines = queue.Queue()
    threading.Thread(target=lambda: [*map(lines.put, stream), lines.put(None)], daemon=True).start()
    printed, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        if line is None:  # it stopped
            break
        printed.append(line)
        if found := ADDRESS.search(line):
            return found.group()
    raise AssertionError("make lab printed no address to open:\n" + "".join(printed))


def page_at(address: str, seconds: float) -> str:
    """The page at address, asked again while the server (which prints its address first) starts listening."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(address, timeout=30) as page:
                assert page.status == 200
                return page.read().decode()
        except urllib.error.URLError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


@contextmanager
def enterable_by_everyone(*folders: Path):
    """Let other users pass through the folders' ancestors for a while (a clone in a private temporary folder)."""
    ancestors = {parent for folder in folders for parent in folder.parents}
    modes = {
        parent: parent.stat().st_mode for parent in ancestors if not parent.stat().st_mode & 0o001
    }
    try:
        for parent, mode in modes.items():
            parent.chmod(mode | 0o001)
        yield
    finally:
        for parent, mode in modes.items():
            parent.chmod(mode)


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
            address = first_address(lab.stdout, seconds=120)
            assert "JupyterLab" in page_at(address, seconds=60)
            assert "01_mnist_pytorch_to_tensorflow.ipynb" in page_at(
                address.replace("/lab?", "/api/contents?"), 30
            )
        finally:
            os.killpg(lab.pid, signal.SIGTERM)
            lab.wait(timeout=60)
            shutil.rmtree(home)

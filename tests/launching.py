"""Running a documented server command as the README and the book type it, as root and as an ordinary user."""

import queue
import re
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def first_address(stream, pattern: str, seconds: float) -> str:
    """The first match of pattern printed on stream within seconds, or an AssertionError with what was printed."""
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
        if found := re.search(pattern, line):
            return found.group()
    raise AssertionError("the command printed no address to open:\n" + "".join(printed))


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

"""The app in a child process on a free loopback port, as `make app` starts it: for the checks and the load test."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from onnx_crossings.plumbing.paths import REPO_ROOT

START_SECONDS = 60


def free_port() -> int:
    """A loopback port no one listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def health(base_url: str) -> dict:
    """The server's GET /health answer."""
    with urllib.request.urlopen(f"{base_url}/health", timeout=10) as answer:
        return json.load(answer)


@contextmanager
def running_server(micro_batching: bool = True) -> Iterator[str]:
    """Start the web app on 127.0.0.1 and yield its base URL once /health answers; stop it afterwards."""
    port = free_port()
    command = [sys.executable, "-m", "onnx_crossings.app", "--port", str(port)]
    if not micro_batching:
        command.append("--no-micro-batching")
    server = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                health(base_url)
                break
            except (urllib.error.URLError, ConnectionError):
                if server.poll() is not None or time.monotonic() > deadline:
                    server.kill()
                    raise RuntimeError(f"the app did not start:\n{server.stdout.read()}") from None
                time.sleep(0.2)
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=30)

"""A contained command can write only its own folder and reach nothing outside, within its limits."""

import ast
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
from pathlib import Path

import pytest

from onnx_crossings.grading import sandbox
from onnx_crossings.grading.sandbox import Limits, base_environment, prepare_writable, run_contained
from onnx_crossings.plumbing.paths import REPO_ROOT


@pytest.fixture
def contained(tmp_path):
    """Run Python code contained in tmp_path/run, with tmp_path/hidden hidden; return its outcome and log."""
    run, hidden = tmp_path / "run", tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "secret.txt").write_text("secret")
    prepare_writable(run)

    def contain(code: str, **limits):
        log = tmp_path / "log.txt"
        outcome = run_contained(
            [sys.executable, "-c", textwrap.dedent(code)],
            writable=run,
            readable=[],
            hidden=[hidden],
            environment=base_environment(run),
            limits=Limits(**limits),
            log=log,
        )
        return outcome, log.read_text()

    return contain, tmp_path


def test_only_its_own_folder_is_writable_and_hidden_folders_are_empty(contained):
    contain, root = contained
    outcome, log = contain(f"""
        import os
        open("mine.txt", "w").write("mine")
        for path in ["{root}/outside.txt", "{sys.prefix}/x.txt", "/etc/x.txt"]:
            try:
                open(path, "w")
                print("wrote", path)
            except OSError as error:
                print("refused", type(error).__name__)
        print("hidden holds", os.listdir("{root}/hidden"))
    """)
    assert outcome.returncode == 0, log
    assert (root / "run" / "mine.txt").read_text() == "mine" and "wrote" not in log
    assert "hidden holds []" in log and not (root / "outside.txt").exists()


def test_no_network_no_other_processes_no_environment(contained):
    contain, _ = contained
    server = socket.create_server(("127.0.0.1", 0))
    try:
        outcome, log = contain(f"""
            import os, socket
            try:
                socket.create_connection(("127.0.0.1", {server.getsockname()[1]}), timeout=2)
                print("reached the grader's loopback")
            except OSError:
                print("no connection")
            print("processes", sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
            print("parent", os.getppid(), "user", os.getuid(), "environment", sorted(os.environ))
            try:
                os.kill({os.getpid()}, 9)
                print("killed the grader")
            except OSError:
                print("cannot signal outside")
        """)
    finally:
        server.close()
    assert "no connection" in log and "cannot signal outside" in log, log
    processes = ast.literal_eval(log.split("processes ")[1].splitlines()[0])
    # its own namespace: bubblewrap's init, the command and what it started
    assert max(processes) < 10
    if os.geteuid() == 0:
        assert " user 65534 " in log  # root's grader runs it as nobody
    assert "COURSE" not in log and "PYTEST" not in log


@pytest.mark.parametrize(
    "code, limits, stopped_by",
    [
        ("while True:\n    pass", {"cpu_seconds": 2, "wall_seconds": 60}, "cpu"),
        ("import time\ntime.sleep(60)", {"wall_seconds": 2}, "wall"),
        ("x = bytearray(3 * 2**30)", {"memory_bytes": 2**30}, "memory"),
    ],
)
def test_limits_stop_a_run_and_it_is_the_limit_set_that_stops_it(
    contained, code, limits, stopped_by
):
    contain, _ = contained
    outcome, log = contain(code, **limits)
    assert outcome.returncode != 0 and outcome.seconds < 30
    assert outcome.timed_out == (stopped_by == "wall"), outcome
    if stopped_by == "cpu":
        # the kernel's signal for a spent CPU limit, as the shell reports it through bwrap
        assert outcome.returncode in (
            -signal.SIGXCPU,
            128 + signal.SIGXCPU,
            -signal.SIGKILL,
            128 + signal.SIGKILL,
        )
        assert outcome.seconds < 10, "stopped by its CPU time, long before the wall limit"
    if stopped_by == "memory":
        assert "MemoryError" in log


@pytest.mark.skipif(os.geteuid() != 0, reason="becoming an ordinary user needs root")
def test_an_ordinary_users_grader_gets_the_same_sandbox(tmp_path):
    folder = Path(tempfile.mkdtemp(prefix="ordinary-"))  # outside root's private temporary folder
    try:
        folder.chmod(0o777)
        # a copy the ordinary user can read wherever the repository lies
        shutil.copytree(
            REPO_ROOT / "onnx_crossings",
            folder / "course" / "onnx_crossings",
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        script = textwrap.dedent(f"""
            import sys
            from pathlib import Path
            from onnx_crossings.grading.sandbox import Limits, base_environment, run_contained
            run = Path("{folder}/run")
            run.mkdir()
            code = ("import os; open('mine.txt', 'w');"
                    "print(os.getuid(), sorted(p for p in os.listdir('/proc') if p.isdigit()));"
                    "open('/etc/x', 'w')")
            outcome = run_contained([sys.executable, "-c", code], writable=run, readable=[], hidden=[],
                                    environment=base_environment(run), limits=Limits(wall_seconds=30), log=run / "log")
            print(outcome.returncode, (run / "log").read_text())
        """)
        # the system's Python: this environment's may lie in root's home, which nobody else can enter
        ordinary = subprocess.run(
            [
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "/usr/bin/python3",
                "-c",
                script,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=folder,
            env={"PYTHONPATH": str(folder / "course"), "PATH": "/usr/bin:/bin"},
        )
        assert ordinary.returncode == 0, ordinary.stderr
        # it failed there
        assert ordinary.stdout.startswith("1 ") and "Read-only file system" in ordinary.stdout
        assert "65534 ['1', '2']" in ordinary.stdout  # as itself, seeing its own two processes only
        assert (folder / "run" / "mine.txt").exists()
    finally:
        shutil.rmtree(folder)


def test_a_run_starting_while_the_grader_stops_is_stopped_too(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "STOPPING", threading.Event())
    start = subprocess.Popen

    def start_as_ctrl_c_arrives(*arguments, **options):
        """Let the grader's stop_all() run (or wait its turn) just as this run starts."""
        stopping = threading.Thread(target=sandbox.stop_all)
        stopping.start()
        stopping.join(timeout=1)
        return start(*arguments, **options)

    monkeypatch.setattr(sandbox.subprocess, "Popen", start_as_ctrl_c_arrives)
    outcome = sandbox.run_logged(["sleep", "60"], log=tmp_path / "log", wall_seconds=30)
    assert not outcome.timed_out and outcome.seconds < 10, "the run outlived the grader's stop"
    with pytest.raises(sandbox.GraderStopping, match="the grader is stopping"):
        sandbox.run_logged(["true"], log=tmp_path / "log", wall_seconds=30)

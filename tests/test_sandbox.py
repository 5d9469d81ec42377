"""A contained command can write only its own folder and reach nothing outside, within its limits."""

import ast
import os
import socket
import sys
import textwrap

import pytest

from grading.sandbox import Limits, base_environment, prepare_writable, run_contained


@pytest.fixture
def contained(tmp_path):
    """Run Python code contained in tmp_path/run, with tmp_path/hidden hidden; return its outcome and log."""
    run, hidden = tmp_path / "run", tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "secret.txt").write_text("secret")
    prepare_writable(run)

    def contain(code: str, **limits):
        log = tmp_path / "log.txt"
        outcome = run_contained([sys.executable, "-c", textwrap.dedent(code)], writable=run, readable=[],
                                hidden=[hidden], environment=base_environment(run), limits=Limits(**limits), log=log)
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
    assert max(processes) < 10  # its own namespace: bubblewrap's init, the command and what it started
    if os.geteuid() == 0:
        assert " user 65534 " in log  # root's grader runs it as nobody
    assert "COURSE" not in log and "PYTEST" not in log


@pytest.mark.parametrize("code, limits", [
    ("while True:\n    pass", {"cpu_seconds": 2, "wall_seconds": 60}),
    ("import time\ntime.sleep(60)", {"wall_seconds": 2}),
    ("x = bytearray(3 * 2**30)", {"memory_bytes": 2**30}),
])
def test_limits_stop_a_run(contained, code, limits):
    contain, _ = contained
    outcome, _ = contain(code, **limits)
    assert outcome.returncode != 0 and outcome.seconds < 30

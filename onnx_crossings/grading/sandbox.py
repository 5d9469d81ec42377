"""Run a command contained: bubblewrap namespaces, a read-only file system but for one folder, and hard limits.

Inside, the command sees the machine read-only, its own folder writable, fresh /tmp and /dev/shm, no network
(only its own loopback), its own process tree (it cannot see or signal anything outside), no environment but
what it is given, and none of the hidden folders (the inbox, the grades). When it ends or runs out of time,
everything it started ends with it. Started by root, the command runs as an unprivileged user without
capabilities (`nobody`, or a user id of its own per submission), so the process limit holds, and holds apart
for each run.
"""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from onnx_crossings.plumbing.paths import REPO_ROOT

NOBODY = 65534


class GraderStopping(RuntimeError):
    """The grader was interrupted: no new run starts, and the submission under way gets no grade."""


# the runs under way, so that an interrupted grader can stop them all
RUNNING: set[subprocess.Popen] = set()
STOPPING = threading.Event()  # set once the grader is interrupted: no new run starts
# held while a run starts, so that stop_all() sees it or it never starts
STARTING = threading.Lock()
# each submission runs as a user of its own: 65000 + its number modulo 500
FIRST_GRADING_USER = 65000


@dataclass(frozen=True)
class Limits:
    """What one contained run may use."""

    wall_seconds: float = 1800
    cpu_seconds: int = 3600
    # address space: TensorFlow and PyTorch reserve far more than they use
    memory_bytes: int = 16 * 2**30
    processes: int = 1024
    file_bytes: int = 2 * 2**30


@dataclass(frozen=True)
class Outcome:
    """How a contained run ended."""

    returncode: int
    timed_out: bool
    seconds: float


def require_bubblewrap() -> str:
    """The bwrap executable, or an error saying how to install it."""
    found = shutil.which("bwrap")
    if found is None:
        raise RuntimeError(
            "grading runs submissions inside bubblewrap, which is missing: install it with "
            "`sudo apt-get install bubblewrap` (or run `make setup` as root)"
        )
    return found


def grader_is_root() -> bool:
    """Whether the grader runs as root, in which case its contained runs drop to the unprivileged user."""
    return os.geteuid() == 0


def prepare_writable(folder: Path, user: int = NOBODY) -> None:
    """Create the folder a contained run may write, owned by the user it runs as."""
    folder.mkdir(parents=True, exist_ok=True)
    if grader_is_root():
        os.chown(folder, user, user)


def _tasks_of(user: int) -> int:
    """How many processes and threads a user runs now: the process limit counts them all."""
    count = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        with contextlib.suppress(OSError):
            fields = dict(
                line.split(":", 1) for line in status.read_text().splitlines() if ":" in line
            )
            count += int(fields["Threads"]) if int(fields["Uid"].split()[0]) == user else 0
    return count


def _closed_folders(paths: list[Path]) -> list[Path]:
    """Folders on the way to these paths that other users cannot enter (root's home, say)."""
    closed = {
        folder
        for path in paths
        for folder in path.parents
        if folder != Path("/") and not folder.stat().st_mode & 0o001
    }
    return sorted(closed)


def _way_in(path: Path, covered: list[Path]) -> list[str]:
    """bwrap arguments creating, open to all, the folders leading to path inside a folder the sandbox replaced."""
    inside = [
        folder
        for folder in reversed(path.parents)
        if any(folder.is_relative_to(top) and folder != top for top in covered)
    ]
    return [argument for folder in inside for argument in ("--perms", "0755", "--dir", str(folder))]


def sandbox_command(
    command: list[str],
    *,
    writable: Path,
    readable: list[Path],
    hidden: list[Path],
    environment: dict[str, str],
    limits: Limits,
    user: int = NOBODY,
) -> list[str]:
    """The prlimit + bwrap (+ setpriv, as root) command line that contains a command."""
    # as root, the command runs as a user of its own; otherwise the limit must leave room for the user's own tasks
    processes = limits.processes + (0 if grader_is_root() else _tasks_of(os.getuid()))
    arguments = [
        "prlimit",
        f"--cpu={limits.cpu_seconds}",
        f"--as={limits.memory_bytes}",
        f"--fsize={limits.file_bytes}",
        f"--nproc={processes}",
        "--core=0",
        "--",
        require_bubblewrap(),
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--perms",
        "1777",
        "--tmpfs",
        "/tmp",
        "--perms",
        "1777",
        "--tmpfs",
        "/dev/shm",
    ]
    # this Python and the course must stay reachable for `nobody`: closed folders on their way become empty
    # ones holding just them
    needed = (
        [Path(sys.base_prefix).resolve(), Path(sys.prefix), REPO_ROOT] if grader_is_root() else []
    )
    closed = _closed_folders(needed)
    covered = [Path("/tmp"), *closed, *hidden]
    for folder in closed:
        arguments += ["--tmpfs", str(folder)]
    for folder in needed:
        arguments += [*_way_in(folder, covered), "--ro-bind", str(folder), str(folder)]
    for folder in [
        folder for folder in hidden if folder.exists()
    ]:  # on a cluster's worker, the inbox is elsewhere
        arguments += [*_way_in(folder, covered), "--tmpfs", str(folder)]
    for folder in readable:
        arguments += [*_way_in(folder, covered), "--ro-bind", str(folder), str(folder)]
    arguments += [
        *_way_in(writable, covered),
        "--bind",
        str(writable),
        str(writable),
        "--chdir",
        str(writable),
        "--die-with-parent",
        "--new-session",
        "--clearenv",
    ]
    if grader_is_root():  # root keeps its user so that setpriv can leave it, for good, inside
        arguments += [
            "--unshare-ipc",
            "--unshare-pid",
            "--unshare-net",
            "--unshare-uts",
            "--unshare-cgroup-try",
        ]
        command = [
            "setpriv",
            f"--reuid={user}",
            f"--regid={user}",
            "--clear-groups",
            "--no-new-privs",
            "--bounding-set=-all",
            "--inh-caps=-all",
            "--",
            *command,
        ]
    else:
        arguments += ["--unshare-all"]
    for name, value in environment.items():
        arguments += ["--setenv", name, value]
    return arguments + ["--", *command]


def base_environment(home: Path) -> dict[str, str]:
    """The few variables a contained Python needs: a path to this environment, a home, a locale."""
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "TMPDIR": "/tmp",
        "PYTHONDONTWRITEBYTECODE": "1",
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }


def stop(process: subprocess.Popen) -> None:
    """Kill a run's whole process group, if it is still running, and reap it."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def stop_all() -> None:
    """Stop every run under way and refuse new ones (the grader was interrupted)."""
    with STARTING:
        STOPPING.set()
    for process in list(RUNNING):
        stop(process)


def run_logged(
    arguments: list[str],
    *,
    log: Path,
    wall_seconds: float,
    environment: dict[str, str] | None = None,
) -> Outcome:
    """Run a command with its output going to a log file (never a pipe); kill its process group at the wall limit."""
    started = time.monotonic()
    with log.open("wb") as output:
        with STARTING:
            if STOPPING.is_set():
                raise GraderStopping("the grader is stopping")
            process = subprocess.Popen(
                arguments,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                env=environment,
                start_new_session=True,
            )
            RUNNING.add(process)
        try:
            returncode, timed_out = process.wait(timeout=wall_seconds), False
        except subprocess.TimeoutExpired:
            returncode, timed_out = None, True
        finally:  # also on Ctrl-C: a sandbox's process tree dies with its outer bwrap
            stop(process)
            RUNNING.discard(process)
    return Outcome(
        process.returncode if returncode is None else returncode,
        timed_out,
        time.monotonic() - started,
    )


def run_contained(
    command: list[str],
    *,
    writable: Path,
    readable: list[Path],
    hidden: list[Path],
    environment: dict[str, str],
    limits: Limits,
    log: Path,
    user: int = NOBODY,
) -> Outcome:
    """Run a command contained, logged, for at most the wall limit."""
    arguments = sandbox_command(
        command,
        writable=writable,
        readable=readable,
        hidden=hidden,
        environment=environment,
        limits=limits,
        user=user,
    )
    return run_logged(arguments, log=log, wall_seconds=limits.wall_seconds)

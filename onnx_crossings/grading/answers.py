"""Answers leave a submission's run as data only: JSON, NumPy arrays and copies of files, read back with limits.

The export runs inside the student's sandbox; the reading runs in the trusted verdict process. Nothing read
back can carry code: no pickles, arrays are loaded with pickling off, files become paths to read-only copies,
and only a few plain records of the course (a parity report, a timed run) are rebuilt, field by field.
"""

import json
import os
import shutil
from dataclasses import asdict
from pathlib import Path

import numpy as np

from onnx_crossings.teaching.benchmark import TimedRun
from onnx_crossings.teaching.parity import Parity

VALUES_FILE = "values.json"
RECORDS = {"Parity": Parity, "TimedRun": TimedRun}
MAX_JSON_BYTES = 20_000_000
MAX_FILE_BYTES = 512_000_000
MAX_DEPTH = 32


class UnreadableAnswer(ValueError):
    """An exported answer that is not one of the plain kinds of value an answer may be."""


def _is_inside(path: Path, root: Path) -> bool:
    """Whether a path resolves to a regular file inside root."""
    try:
        resolved = path.resolve()
        return resolved.is_file() and resolved.is_relative_to(root.resolve())
    except (OSError, ValueError):  # a name too long, or with a NUL byte, names no file
        return False


class _Encoder:
    """Turns one answer into JSON, writing arrays and files beside it."""

    def __init__(self, folder: Path, root: Path):
        self.folder, self.root, self.count = folder, root, 0

    def _store(self, kind: str, write) -> dict:
        self.count += 1
        name = f"{kind}/{self.count}"
        (self.folder / kind).mkdir(exist_ok=True)
        write(self.folder / name)
        return {"type": kind.rstrip("s"), "file": name}

    def encode(self, value, depth: int = 0):
        if depth > MAX_DEPTH:
            raise UnreadableAnswer("nested too deeply")
        if value is None or type(value) is bool:
            return value
        if isinstance(value, np.generic):
            return self.encode(value.item(), depth)
        if isinstance(value, int):  # subclasses of the plain number types travel as the plain type
            return int(value)
        if isinstance(value, float):
            return float(value)
        if (
            isinstance(value, (str, os.PathLike))
            and len(str(value)) < 4096
            and _is_inside(Path(value), self.root)
        ):
            return self._store("files", lambda path: shutil.copyfile(Path(value).resolve(), path))
        if isinstance(value, str):
            return value
        if isinstance(value, os.PathLike):
            return {"type": "path", "path": os.fspath(value)}
        if isinstance(value, np.ndarray):
            if value.dtype.hasobject:
                raise UnreadableAnswer("an array of Python objects; use numbers or strings")
            return self._store(
                "arrays", lambda path: np.save(path.with_suffix(".npy"), value, allow_pickle=False)
            )
        if isinstance(value, (list, tuple, set, frozenset)):  # a set arrives as a list of its items
            return {"type": "list", "items": [self.encode(item, depth + 1) for item in value]}
        if isinstance(value, dict):
            if not all(isinstance(key, (str, int)) for key in value):
                raise UnreadableAnswer("a dictionary whose keys are not all strings or integers")
            return {
                "type": "dict",
                "items": [[key, self.encode(item, depth + 1)] for key, item in value.items()],
            }
        record = type(value).__name__
        if RECORDS.get(record) is type(value):
            return {
                "type": "record",
                "record": record,
                "fields": self.encode(asdict(value), depth + 1),
            }
        raise UnreadableAnswer(
            f"a {type(value).__name__}; answers are numbers, strings, lists, sets, dicts, arrays or files"
        )


def export_answers(values: dict, folder: Path, root: Path) -> None:
    """Write answers to folder; a str or path naming a file inside root travels as a copy of that file."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    encoder, encoded = _Encoder(folder, Path(root)), {}
    for name, value in values.items():
        try:
            encoded[name] = {"value": encoder.encode(value)}
        except Exception as error:  # an answer that cannot travel is reported, the others still go
            encoded[name] = {"error": f"{type(error).__name__}: {error}"}
    (folder / VALUES_FILE).write_text(json.dumps(encoded))


class _Decoder:
    """Rebuilds answers from the JSON and files of an export, trusting none of it."""

    def __init__(self, folder: Path):
        self.folder = folder.resolve()

    def _file(self, name, suffix: str = "") -> Path:
        path = self.folder / f"{name}{suffix}"
        if not isinstance(name, str) or path.is_symlink() or not _is_inside(path, self.folder):
            raise UnreadableAnswer(f"{name!r} is not a file of the export")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise UnreadableAnswer(f"{name} is larger than {MAX_FILE_BYTES // 1_000_000} MB")
        return path

    def decode(self, value, depth: int = 0):
        if depth > MAX_DEPTH:
            raise UnreadableAnswer("nested too deeply")
        if value is None or type(value) in (bool, int, float, str):
            return value
        if type(value) is not dict:
            raise UnreadableAnswer(f"unexpected {type(value).__name__} in the export")
        kind = value.get("type")
        if kind == "file":
            return self._file(value.get("file"))
        if kind == "array":
            return np.load(self._file(value.get("file"), ".npy"), allow_pickle=False)
        if kind == "path" and type(value.get("path")) is str:
            return Path(value["path"])
        if kind == "list" and type(value.get("items")) is list:
            return [self.decode(item, depth + 1) for item in value["items"]]
        if kind == "dict" and type(value.get("items")) is list:
            pairs = [pair for pair in value["items"] if type(pair) is list and len(pair) == 2]
            if len(pairs) != len(value["items"]) or not all(
                type(key) in (str, int) for key, _ in pairs
            ):
                raise UnreadableAnswer("a malformed dictionary")
            return {key: self.decode(item, depth + 1) for key, item in pairs}
        if kind == "record" and value.get("record") in RECORDS:
            fields = self.decode(value.get("fields"), depth + 1)
            if type(fields) is not dict or not all(type(key) is str for key in fields):
                raise UnreadableAnswer("a malformed record")
            return RECORDS[value["record"]](**fields)
        raise UnreadableAnswer(f"unknown kind of value {kind!r}")


def read_answers(folder: Path, names: list[str]) -> tuple[dict, dict[str, str]]:
    """The named answers of an export (None where missing), and why each unreadable one could not be read."""
    folder = Path(folder)
    answers, problems = dict.fromkeys(names), {}
    values_path = folder / VALUES_FILE
    if not values_path.is_file() or values_path.is_symlink():
        return answers, dict.fromkeys(
            names, "no answers were exported (did the notebook stop before them?)"
        )
    if values_path.stat().st_size > MAX_JSON_BYTES:
        return answers, dict.fromkeys(
            names, f"the exported answers exceed {MAX_JSON_BYTES // 1_000_000} MB"
        )
    try:
        exported = json.loads(values_path.read_bytes())
    except (ValueError, RecursionError) as error:
        return answers, dict.fromkeys(
            names, f"the exported answers are not readable ({type(error).__name__})"
        )
    decoder = _Decoder(folder)
    for name in names:
        entry = exported.get(name) if type(exported) is dict else None
        if type(entry) is not dict:
            problems[name] = "not exported"
            continue
        if "error" in entry:
            problems[name] = str(entry["error"])[:300]
            continue
        try:
            answers[name] = decoder.decode(entry.get("value"))
        # any malformed value is that answer's problem, never the grader's
        except Exception as error:
            problems[name] = f"{type(error).__name__}: {str(error)[:300]}"
    return answers, problems

"""Answers travel from a submission's run to the verdict as plain data, and nothing else gets through."""

import json
import os

import numpy as np
import pytest

from onnx_crossings.grading.answers import export_answers, read_answers
from onnx_crossings.teaching.parity import Parity

PARITY = Parity(
    "Keras", "ONNX", "logits", 3, 1.0, 0, np.array([0.5, 0.0, 0.25]), np.array([2.0, 1.0, 3.0])
)


@pytest.fixture
def run(tmp_path):
    """A run folder with one file the answer names, and the folder its export goes to."""
    (tmp_path / "model.onnx").write_bytes(b"onnx bytes")
    return tmp_path, tmp_path / "answers" / "exercise"


def test_plain_values_arrays_files_and_records_round_trip(run):
    root, folder = run
    values = {
        "number": np.float32(0.25),
        "count": np.int64(3),
        "flag": True,
        "none": None,
        "text": "PyTorch",
        "table": {"a": [1, 2.5], 3: (4, "x")},
        "operators": {"ReduceMax", "Squeeze"},
        "array": np.arange(6).reshape(2, 3),
        "parity": PARITY,
        "path": root / "model.onnx",
        "path_text": str(root / "model.onnx"),
        "missing": root / "nowhere.onnx",
    }
    export_answers(values, folder, root)
    answers, problems = read_answers(folder, list(values))
    assert problems == {}
    assert (
        answers["number"] == 0.25
        and answers["count"] == 3
        and answers["flag"] is True
        and answers["none"] is None
    )
    assert answers["text"] == "PyTorch" and answers["table"] == {"a": [1, 2.5], 3: [4, "x"]}
    # a set arrives as a list of its items, in no particular order
    assert sorted(answers["operators"]) == ["ReduceMax", "Squeeze"]
    assert np.array_equal(answers["array"], values["array"]) and answers["parity"] == PARITY
    # the record's arrays travel too (they are left out of its equality)
    assert np.array_equal(answers["parity"].differences, PARITY.differences)
    assert np.array_equal(answers["parity"].magnitudes, PARITY.magnitudes)
    for name in ("path", "path_text"):  # a copy inside the export, not the run's own file
        assert answers[name].read_bytes() == b"onnx bytes" and answers[name].is_relative_to(folder)
    assert answers["missing"] == root / "nowhere.onnx"


def test_values_that_could_carry_code_do_not_travel(run):
    root, folder = run
    outside = root.parent / "secret.txt"
    outside.write_text("secret")
    values = {
        "objects": np.array([object()]),
        "function": len,
        "keys": {(1, 2): 3},
        "outside": outside,
    }
    export_answers(values, folder, root)
    answers, problems = read_answers(folder, list(values))
    assert set(problems) == {"objects", "function", "keys"} and answers["objects"] is None
    # only a path: the verdict cannot read outside its own folders
    assert answers["outside"] == outside


def test_a_forged_export_is_refused_value_by_value(run):
    root, folder = run
    folder.mkdir(parents=True)
    (folder / "link").symlink_to(root / "model.onnx")
    np.save(folder / "pickled.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    forged = {
        "link": {"value": {"type": "file", "file": "link"}},
        "escape": {"value": {"type": "file", "file": "../../model.onnx"}},
        "pickle": {"value": {"type": "array", "file": "pickled"}},
        "kind": {"value": {"type": "module", "name": "os"}},
        "record": {
            "value": {"type": "record", "record": "Popen", "fields": {"type": "dict", "items": []}}
        },
        "nested": {
            "value": {
                "type": "list",
                "items": [{"type": "list", "items": [{"type": "list", "items": []}]}],
            }
        },
        "error": {"error": "ValueError: the student's own message"},
    }
    (folder / "values.json").write_text(json.dumps(forged))
    answers, problems = read_answers(folder, [*forged, "absent"])
    assert set(problems) == {"link", "escape", "pickle", "kind", "record", "error", "absent"}
    assert answers["nested"] == [[[]]] and problems["absent"] == "not exported"


def test_an_export_that_is_not_json_or_missing_leaves_every_answer_unset(tmp_path):
    answers, problems = read_answers(tmp_path, ["norm"])
    assert answers == {"norm": None} and "no answers were exported" in problems["norm"]
    (tmp_path / "values.json").write_text("{ not json")
    assert "not readable" in read_answers(tmp_path, ["norm"])[1]["norm"]
    os.remove(tmp_path / "values.json")
    (tmp_path / "values.json").symlink_to("/etc/hostname")
    assert "no answers were exported" in read_answers(tmp_path, ["norm"])[1]["norm"]

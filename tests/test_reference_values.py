"""A reference run is reused only while everything it depends on is unchanged, sub-packages' files included."""

from onnx_crossings.grading import reference_values


def test_the_fingerprint_covers_every_file_of_the_course_packages(tmp_path, monkeypatch):
    for name in (
        "onnx_crossings/a.py",
        "onnx_crossings/sub/deep/b.py",
        "onnx_crossings/checks/c.py",
        "requirements.txt",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x = 1\n")
    chapter = tmp_path / "chapter.ipynb"
    chapter.write_text("{}")
    monkeypatch.setattr(reference_values, "REPO_ROOT", tmp_path)
    before = reference_values.fingerprint(chapter, [])
    assert reference_values.fingerprint(chapter, []) == before, (
        "the same files give the same fingerprint"
    )
    (tmp_path / "onnx_crossings/sub/deep/b.py").write_text("x = 2\n")
    changed = reference_values.fingerprint(chapter, [])
    assert changed != before, "a module in a sub-package is part of the fingerprint"
    (tmp_path / "onnx_crossings/checks/new.py").write_text("")
    assert reference_values.fingerprint(chapter, []) != changed, "so is a new module"

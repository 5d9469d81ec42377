"""tools/gpu_parity.py measures each device here; on this CPU machine it says there is no GPU and checks the CPU."""

import re
import subprocess

from onnx_crossings.plumbing.paths import REPO_ROOT


def test_the_gpu_parity_script_measures_the_cpu_when_there_is_no_gpu():
    setup_page = (REPO_ROOT / "book" / "setup.md").read_text()
    assert ".venv/bin/python tools/gpu_parity.py" in setup_page, "the setup page shows the command"
    result = subprocess.run(
        [".venv/bin/python", "tools/gpu_parity.py", "--train-size", "500", "--steps", "2"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    # the figures' lines, not the progress bars on the same stream
    said = ("No GPU", "CNN trained", "  ONNX Runtime", "Transformer")
    lines = [line for line in result.stdout.splitlines() if line.startswith(said)]
    assert lines[0] == "No GPU here: the CPU alone is measured."
    assert lines[1].startswith("CNN trained on the CPU")
    share = float(re.search(r"([\d.]+) of chapter 1's tolerance", lines[2]).group(1))
    assert share < 1, lines[2]
    assert "labels agree on 100.0000%" in lines[2]
    assert re.fullmatch(
        r"Transformer fine-tuning on the CPU: 2 steps of 16 x 256 tokens, \d+ ms a step", lines[3]
    )

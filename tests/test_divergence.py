"""The divergence finder names the first node that differs, on small graphs built here, and says when it cannot."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from launching import NOBODY, enterable_by_everyone
from onnx import TensorProto, helper, numpy_helper

from onnx_crossings.plumbing.paths import REPO_ROOT
from onnx_crossings.teaching import divergence


def chain(scale=2.0, shift=0.5, weights=None, batch: int | str = "batch") -> onnx.ModelProto:
    """x → Mul → Add → Relu → MatMul → Tanh, one named node per step; constants chosen by the caller."""
    weights = np.arange(12, dtype=np.float32).reshape(4, 3) / 10 if weights is None else weights
    nodes = [
        helper.make_node("Mul", ["x", "scale_value"], ["scaled"], name="scale"),
        helper.make_node("Add", ["scaled", "shift_value"], ["shifted"], name="shift"),
        helper.make_node("Relu", ["shifted"], ["rectified"], name="relu"),
        helper.make_node("MatMul", ["rectified", "weights"], ["projected"], name="project"),
        helper.make_node("Tanh", ["projected"], ["y"], name="squash"),
    ]
    graph = helper.make_graph(
        nodes,
        "chain",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 3])],
        initializer=[
            numpy_helper.from_array(np.float32(scale), "scale_value"),
            numpy_helper.from_array(np.float32(shift), "shift_value"),
            numpy_helper.from_array(weights.astype(np.float32), "weights"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    onnx.checker.check_model(model, full_check=True)
    return model


INPUTS = {"x": np.random.default_rng(0).standard_normal((8, 4)).astype(np.float32)}


def first_node_over(good: onnx.ModelProto, suspect: onnx.ModelProto) -> str | None:
    """The node the finder names for two models run in ONNX Runtime, or None."""
    reference = divergence.runtime_outputs(good, INPUTS)
    found = divergence.first_divergence(
        divergence.node_differences(suspect, reference, divergence.runtime_outputs(suspect, INPUTS))
    )
    return None if found is None else found.node


def test_every_node_output_is_exposed_in_topological_order():
    outputs = divergence.runtime_outputs(chain(), INPUTS)
    assert list(outputs) == ["y", "scaled", "shifted", "rectified", "projected"]
    np.testing.assert_allclose(outputs["scaled"], 2 * INPUTS["x"])
    assert [tensor for _, _, tensor in divergence.node_outputs(chain())] == [
        "scaled",
        "shifted",
        "rectified",
        "projected",
        "y",
    ]


def test_identical_models_agree():
    assert first_node_over(chain(), chain()) is None


def test_a_difference_in_the_first_node_is_found_there():
    assert first_node_over(chain(), chain(scale=2.01)) == "scale"


def test_a_difference_in_the_last_node_is_found_there():
    weights = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
    weights[2, 1] += 0.05
    assert first_node_over(chain(), chain(weights=weights)) == "project"


def test_a_difference_masked_later_is_still_found_where_it_starts():
    # a shift of -100 makes every Relu output 0, so the models agree again after it: the first node still counts
    reference = divergence.runtime_outputs(chain(), INPUTS)
    suspect = chain(shift=-100.0)
    differences = divergence.node_differences(
        suspect, reference, divergence.runtime_outputs(suspect, INPUTS)
    )
    assert divergence.first_divergence(differences).node == "shift"
    assert [difference.diverges for difference in differences][:2] == [False, True]


def test_the_tolerance_is_fitted_to_each_tensors_scale():
    tiny = {"x": INPUTS["x"] * 1e-3}
    big = {"x": INPUTS["x"] * 1e3}
    for inputs in (tiny, big):
        reference = divergence.runtime_outputs(chain(), inputs)
        nudged = {name: value * (1 + 5e-5) for name, value in reference.items()}
        differences = divergence.node_differences(chain(), reference, nudged)
        assert divergence.first_divergence(differences) is None
        shifted = {name: value * (1 + 5e-4) for name, value in reference.items()}
        assert (
            divergence.first_divergence(divergence.node_differences(chain(), reference, shifted))
            is not None
        )
    difference = divergence.node_differences(chain(), reference, nudged)[0]
    assert difference.tolerance == pytest.approx(
        divergence.ATOL + divergence.RTOL * np.abs(reference["scaled"]).max()
    )
    assert "'scale' (Mul), output 'scaled'" in str(difference)


def test_a_tensor_of_another_shape_differs_without_limit():
    reference = divergence.runtime_outputs(chain(), INPUTS)
    suspect = dict(reference, shifted=reference["shifted"].T)
    found = divergence.first_divergence(divergence.node_differences(chain(), reference, suspect))
    assert found.tensor == "shifted" and found.max_difference == np.inf


def test_the_reference_evaluator_runs_the_same_graph_to_the_same_numbers():
    model = chain()
    reference = divergence.reference_outputs(model, INPUTS)
    assert set(reference) == {"scaled", "shifted", "rectified", "projected", "y"}
    differences = divergence.node_differences(
        model, reference, divergence.runtime_outputs(model, INPUTS)
    )
    assert len(differences) == 5 and divergence.first_divergence(differences) is None


def test_framework_activations_compare_through_a_name_mapping():
    torch.manual_seed(0)
    network = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
    x = torch.from_numpy(INPUTS["x"])
    activations = divergence.torch_activations(network, x, ["0", "1", "2"])
    assert [activations[name].shape for name in ("0", "1", "2")] == [(8, 5), (8, 5), (8, 3)]
    np.testing.assert_allclose(activations["2"], network(x).detach().numpy(), rtol=1e-6)
    assert not network._forward_hooks and not network[0]._forward_hooks  # the hooks are removed
    weights = [parameter.detach().numpy() for parameter in network.parameters()]
    nodes = [
        helper.make_node("Gemm", ["x", "w0", "b0"], ["hidden"], name="first", transB=1),
        helper.make_node("Relu", ["hidden"], ["rectified"], name="relu"),
        helper.make_node("Gemm", ["rectified", "w2", "b2"], ["y"], name="second", transB=1),
    ]
    planted = weights[2].copy()
    planted[1] *= 1.1
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])],
        initializer=[
            numpy_helper.from_array(array, name)
            for array, name in zip(
                [*weights[:2], planted, weights[3]], ["w0", "b0", "w2", "b2"], strict=True
            )
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=9)
    mapping = {"hidden": "0", "rectified": "1", "y": "2"}
    differences = divergence.node_differences(
        model, activations, divergence.runtime_outputs(model, INPUTS), mapping=mapping
    )
    assert [difference.diverges for difference in differences] == [False, False, True]


def test_bisection_finds_the_first_disagreeing_tensor_in_log_probes():
    tensors = [f"t{i}" for i in range(100)]
    for first_bad in (0, 1, 37, 98, 99):
        found, probed = divergence.bisect(tensors, lambda t, bad=first_bad: int(t[1:]) < bad)
        assert found == f"t{first_bad}" and len(probed) <= 7


def test_exposing_a_tensor_the_model_lacks_says_so():
    with pytest.raises(ValueError, match="'nowhere'"):
        divergence.with_outputs(chain(), ["nowhere"])


def test_the_runtimes_verbose_log_of_a_session_is_returned_line_by_line(tmp_path):
    onnx.save(chain(), tmp_path / "chain.onnx")
    log = divergence.runtime_log(tmp_path / "chain.onnx")
    assert any("All nodes placed on [CPUExecutionProvider]" in line for line in log)


def test_random_inputs_follow_the_declared_shapes_and_ask_for_dynamic_sizes():
    arrays = divergence.random_inputs(chain(), {"batch": 3}, seed=1)
    assert arrays["x"].shape == (3, 4) and arrays["x"].dtype == np.float32
    np.testing.assert_array_equal(
        arrays["x"], divergence.random_inputs(chain(), {"batch": 3}, seed=1)["x"]
    )
    with pytest.raises(ValueError, match="--dim batch=N"):
        divergence.random_inputs(chain(), {})


def command(*args, cwd=REPO_ROOT) -> subprocess.CompletedProcess:
    """`python -m onnx_crossings.teaching.divergence ARGS`, run as a learner types it, from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "onnx_crossings.teaching.divergence", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


INTERMEDIATES = ("scaled", "shifted", "rectified", "projected")


def renamed(model: onnx.ModelProto, prefix: str) -> onnx.ModelProto:
    """The model with its intermediate tensors renamed, as another exporter might name them."""
    for node in model.graph.node:
        node.input[:] = [prefix + t if t in INTERMEDIATES else t for t in node.input]
        node.output[:] = [prefix + t if t in INTERMEDIATES else t for t in node.output]
    return model


@pytest.fixture
def files(tmp_path):
    """The good chain and three suspects on disk, and a file that is not ONNX."""
    weights = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
    weights[0, 0] = 3.0
    models = {
        "good": chain(),
        "same": chain(),
        "first": chain(scale=-2.0),
        "last": chain(weights=weights),
        "fixed_batch": chain(batch=8),
        "other_input": chain(),
    }
    models["other_input"].graph.input[0].name = "pixels"
    models["other_input"].graph.node[0].input[0] = "pixels"
    # a second export of the first suspect: every intermediate tensor named otherwise
    models["renamed"] = renamed(chain(scale=-2.0), "renamed_")
    # another operator in the middle, and every tensor named otherwise, the output too
    models["unrelated"] = renamed(chain(), "other_")
    models["unrelated"].graph.node[2].op_type = "Sigmoid"
    models["unrelated"].graph.node[-1].output[0] = models["unrelated"].graph.output[0].name = (
        "other_y"
    )
    paths = {name: tmp_path / f"{name}.onnx" for name in models}
    for name, model in models.items():
        onnx.save(model, paths[name])
    paths["text"] = tmp_path / "notes.onnx"
    paths["text"].write_text("not a model")
    return paths


def test_the_command_names_the_planted_node_and_exits_1(files):
    for suspect, node, op_type in [("first", "scale", "Mul"), ("last", "project", "MatMul")]:
        result = command(files["good"], files[suspect], "--dim", "batch=16")
        assert result.returncode == 1, result.stderr
        assert f"'{node}' ({op_type})" in result.stdout and "max |difference|" in result.stdout


def test_the_command_pairs_the_tensors_of_two_models_of_one_structure_by_place(files):
    result = command(files["good"], files["renamed"], "--dim", "batch=4")
    assert result.returncode == 1, result.stderr
    assert "'scale' (Mul), output 'renamed_scaled'" in result.stdout


def test_the_command_exits_0_when_the_models_agree(files):
    result = command(files["good"], files["same"], "--dim", "batch=4")
    assert result.returncode == 0, result.stderr
    assert "agree: all 5 tensors" in result.stdout


def test_the_command_reads_inputs_from_npy_files(files, tmp_path):
    np.save(tmp_path / "x.npy", INPUTS["x"])
    result = command(files["good"], files["last"], "--input", f"x={tmp_path / 'x.npy'}")
    assert result.returncode == 1 and "'project' (MatMul)" in result.stdout


@pytest.mark.parametrize(
    ("arguments", "sentence"),
    [
        (["text", "good"], "is not an ONNX model"),
        (["good", "missing"], "does not exist"),
        (["good", "other_input"], "the models take different inputs"),
        (["good", "same"], "has a dynamic dimension batch: set its size with --dim batch=N"),
        (["good", "same", "--dim", "batch"], "is not NAME=VALUE"),
        (["good", "same", "--dim", "batch=0"], "positive whole number"),
        (["good", "same", "--input", "pixels=x.npy"], "the models have no input 'pixels'"),
        (["good", "fixed_batch", "--dim", "batch=4"], "ONNX Runtime cannot run"),
        (
            ["good", "unrelated", "--dim", "batch=4"],
            "share no tensor names and run different operators",
        ),
    ],
)
def test_the_command_exits_2_with_a_sentence_on_bad_input(files, tmp_path, arguments, sentence):
    paths = [
        files.get(argument, tmp_path / f"{argument}.onnx") if i < 2 else argument
        for i, argument in enumerate(arguments)
    ]
    result = command(*paths)
    assert result.returncode == 2, result.stdout
    assert sentence in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("as_nobody", [False, True], ids=["as this user", "as nobody"])
def test_the_documented_command_runs_from_the_repository_root_on_relative_paths(as_nobody):
    setup_page = (REPO_ROOT / "book" / "setup.md").read_text()
    documented = re.search(
        r"\.venv/bin/python (-m onnx_crossings\.teaching\.divergence GOOD\.onnx SUSPECT\.onnx .*)",
        setup_page,
    )
    assert documented, "the setup page shows the divergence command"
    # relative to the repository root, as a learner types paths
    folder = Path("_build") / "divergence-command"
    shutil.rmtree(REPO_ROOT / folder, ignore_errors=True)
    (REPO_ROOT / folder).mkdir(parents=True)
    onnx.save(chain(), REPO_ROOT / folder / "good.onnx")
    onnx.save(chain(shift=0.0), REPO_ROOT / folder / "suspect.onnx")
    arguments = documented.group(1).replace("GOOD.onnx", str(folder / "good.onnx"))
    arguments = arguments.replace("SUSPECT.onnx", str(folder / "suspect.onnx")).split()
    prefix = [shutil.which(NOBODY[0]), *NOBODY[1:]] if as_nobody else []
    with enterable_by_everyone(REPO_ROOT, Path(sys.executable).resolve()):
        result = subprocess.run(
            [*prefix, sys.executable, *arguments],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 1, result.stderr
    assert "node 1 'shift' (Add)" in result.stdout

"""Tests of the Graphviz graph pictures on hand-built ONNX models, plus one real torch export."""

import html
import re
import shutil
import urllib.request
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from onnx_crossings.teaching.graph import (
    OP_COLOURS,
    interface,
    onnx_to_dot,
    open_in_netron,
    operator_counts,
    render_graph,
)

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None, reason="Graphviz `dot` is not installed"
)


def initializer(name: str, array: np.ndarray) -> TensorProto:
    """A named initializer holding array."""
    return numpy_helper.from_array(array, name)


@pytest.fixture
def conv_chain() -> onnx.ModelProto:
    """images (batch×1×8×8) -> Conv 32×1×3×3 -> Relu -> Reshape -> Gemm 10×1152 -> logits."""
    nodes = [
        helper.make_node(
            "Conv", ["images", "conv.weight", "conv.bias"], ["features"], kernel_shape=[3, 3]
        ),
        helper.make_node("Relu", ["features"], ["active"]),
        helper.make_node("Reshape", ["active", "flat.shape"], ["flat"]),
        helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["logits"], transB=1),
    ]
    weights = [
        initializer("conv.weight", np.zeros((32, 1, 3, 3), np.float32)),
        initializer("conv.bias", np.zeros(32, np.float32)),
        initializer("flat.shape", np.array([-1, 32 * 6 * 6], np.int64)),
        initializer("fc.weight", np.zeros((10, 32 * 6 * 6), np.float32)),
        initializer("fc.bias", np.zeros(10, np.float32)),
    ]
    graph = helper.make_graph(
        nodes,
        "conv_chain",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", 1, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 10])],
        weights,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def identity_model(input_name: str, output_name: str) -> onnx.ModelProto:
    """One Identity node from input_name to output_name, both float vectors of length 3."""
    graph = helper.make_graph(
        [helper.make_node("Identity", [input_name], [output_name])],
        "identity",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, [3])],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, [3])],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def node_lines(dot: str) -> list[str]:
    """The DOT lines that declare a node (not the defaults, not the edges)."""
    return [line for line in dot.splitlines() if re.match(r"\s+\w+ \[label=", line)]


def test_dot_names_every_op_input_output_and_symbolic_dim(conv_chain: onnx.ModelProto) -> None:
    dot = onnx_to_dot(conv_chain)
    for op_type in ("Conv", "Relu", "Reshape", "Gemm"):
        assert f"<B>{op_type}</B>" in dot
    assert "<B>images</B>" in dot and "<B>logits</B>" in dot
    assert "batch×1×8×8" in dot and "batch×10" in dot


def test_dot_summarises_weights_inside_their_nodes(conv_chain: onnx.ModelProto) -> None:
    dot = onnx_to_dot(conv_chain)
    lines = node_lines(dot)
    conv_line = next(line for line in lines if "<B>Conv</B>" in line)
    assert "kernel 3×3" in conv_line and "W 32×1×3×3" in conv_line
    assert "W 10×1152" in next(line for line in lines if "<B>Gemm</B>" in line)
    assert "to -1×1152" in next(line for line in lines if "<B>Reshape</B>" in line)
    assert len(lines) == 4 + 2  # four ops, one input, one output; no node per initializer
    for tensor in conv_chain.graph.initializer:
        assert tensor.name not in dot


def test_dot_colours_op_families(conv_chain: onnx.ModelProto) -> None:
    lines = node_lines(onnx_to_dot(conv_chain))
    for op_type in ("Conv", "Relu", "Reshape", "Gemm"):
        line = next(line for line in lines if f"<B>{op_type}</B>" in line)
        assert f'fillcolor="{OP_COLOURS[op_type]}"' in line
    assert len(set(OP_COLOURS[op] for op in ("Conv", "Relu", "Reshape", "Gemm", "LSTM"))) == 5


def test_dot_labels_edges_with_inferred_shapes(conv_chain: onnx.ModelProto) -> None:
    edges = [line for line in onnx_to_dot(conv_chain).splitlines() if "->" in line]
    assert len(edges) == 5
    assert any("label=<batch×32×6×6>" in edge for edge in edges)
    # Reshape's -1 leaves batch unknown to inference
    assert any("label=<?×1152>" in edge for edge in edges)
    assert len(conv_chain.graph.value_info) == 0  # inference ran on a copy


def test_dot_leaves_edges_bare_and_says_why_when_inference_fails(
    conv_chain: onnx.ModelProto, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(model: onnx.ModelProto) -> onnx.ModelProto:
        raise onnx.shape_inference.InferenceError("no shapes today")

    monkeypatch.setattr(onnx.shape_inference, "infer_shapes", fail)
    with pytest.warns(
        UserWarning, match=r"shape inference failed on this model \(no shapes today\)"
    ):
        dot = onnx_to_dot(conv_chain)
    edges = [line for line in dot.splitlines() if "->" in line]
    assert len(edges) == 5 and not any("label" in edge for edge in edges)
    assert "<B>Gemm</B>" in dot


def test_dot_shows_lstm_hidden_size_and_direction() -> None:
    hidden, features = 16, 8
    lstm = helper.make_node(
        "LSTM", ["sequence", "W", "R"], ["", "Y_h"], hidden_size=hidden, direction="bidirectional"
    )
    graph = helper.make_graph(
        [
            lstm,
            helper.make_node("Clip", ["Y_h", "", ""], ["clipped"]),
        ],  # "" marks skipped optional tensors
        "lstm",
        [
            helper.make_tensor_value_info(
                "sequence", TensorProto.FLOAT, ["steps", "batch", features]
            )
        ],
        [helper.make_tensor_value_info("clipped", TensorProto.FLOAT, None)],
        [
            initializer("W", np.zeros((2, 4 * hidden, features), np.float32)),
            initializer("R", np.zeros((2, 4 * hidden, hidden), np.float32)),
        ],
    )
    dot = onnx_to_dot(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]))
    lstm_line = next(line for line in node_lines(dot) if "<B>LSTM</B>" in line)
    assert "hidden 16, bidirectional" in lstm_line
    assert f'fillcolor="{OP_COLOURS["LSTM"]}"' in lstm_line
    assert "steps×batch×8" in dot
    assert dot.count("->") == 3  # sequence -> LSTM -> Clip -> clipped, no edges for the skipped ""


def test_dot_refuses_graphs_beyond_max_nodes() -> None:
    graph = helper.make_graph(
        [helper.make_node("Relu", [f"t{i}"], [f"t{i + 1}"]) for i in range(3)],
        "relus",
        [helper.make_tensor_value_info("t0", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("t3", TensorProto.FLOAT, [2])],
    )
    model = helper.make_model(graph)
    with pytest.raises(ValueError, match=r"3 nodes.*larger max_nodes"):
        onnx_to_dot(model, max_nodes=2)
    assert onnx_to_dot(model, max_nodes=3).count("<B>Relu</B>") == 3


@needs_dot
def test_awkward_names_are_escaped_and_dot_accepts_them(tmp_path: Path) -> None:
    awkward = 'say "hi" \\ <now> & it\'s'
    dot = onnx_to_dot(identity_model(awkward, "out"))
    assert html.escape(awkward) in dot and awkward not in dot
    svg = render_graph(identity_model(awkward, "out"), tmp_path / "awkward.svg").read_text()
    assert awkward in html.unescape(svg)


@needs_dot
def test_render_graph_writes_svg(conv_chain: onnx.ModelProto, tmp_path: Path) -> None:
    path = render_graph(conv_chain, tmp_path / "pictures" / "chain.svg")
    assert path == tmp_path / "pictures" / "chain.svg"
    svg = path.read_text()
    assert svg.startswith("<?xml") and "<svg" in svg
    assert "Gemm" in svg and "batch×1×8×8" in svg


@needs_dot
def test_render_graph_reports_dot_errors(conv_chain: onnx.ModelProto, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="nosuchformat"):
        render_graph(conv_chain, tmp_path / "chain.nope", format="nosuchformat")


def test_render_graph_without_dot_says_how_to_install(
    conv_chain: onnx.ModelProto, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(RuntimeError) as caught:
        render_graph(conv_chain, tmp_path / "chain.svg")
    for advice in ("apt-get install graphviz", "brew install graphviz", "conda install graphviz"):
        assert advice in str(caught.value)
    assert not (tmp_path / "chain.svg").exists()


@needs_dot
def test_render_graph_of_a_real_torch_export(tmp_path: Path) -> None:
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(4 * 6 * 6, 10),
    ).eval()
    onnx_path = tmp_path / "tiny.onnx"
    torch.onnx.export(
        model,
        (torch.zeros(2, 1, 8, 8),),
        onnx_path,
        dynamo=True,
        opset_version=18,
        input_names=["images"],
        dynamic_shapes=({0: torch.export.Dim("batch")},),
    )
    svg = render_graph(onnx_path, tmp_path / "tiny.svg").read_text()
    assert "Conv" in svg and "Gemm" in svg
    assert "batch×1×8×8" in svg


def test_open_in_netron_serves_the_model(conv_chain: onnx.ModelProto, tmp_path: Path) -> None:
    import netron

    onnx_path = tmp_path / "chain.onnx"
    onnx.save(conv_chain, onnx_path)
    address = open_in_netron(onnx_path, port=0)
    try:
        assert address.startswith("http://localhost:")
        with urllib.request.urlopen(address, timeout=10) as response:
            assert response.status == 200
    finally:
        netron.stop(("localhost", int(address.rsplit(":", 1)[1])))


def test_operator_counts_of_a_model_and_of_its_file_agree(conv_chain: onnx.ModelProto, tmp_path):
    onnx.save(conv_chain, tmp_path / "chain.onnx")
    counts = operator_counts(conv_chain)
    assert counts == {"Conv": 1, "Gemm": 1, "Relu": 1, "Reshape": 1} and list(counts) == sorted(
        counts
    )
    assert operator_counts(tmp_path / "chain.onnx") == counts


def test_interface_names_what_a_caller_sees(conv_chain: onnx.ModelProto, tmp_path):
    conv_chain.producer_name, conv_chain.producer_version = "exporter", "1.0"
    onnx.save(conv_chain, tmp_path / "chain.onnx")
    assert interface(tmp_path / "chain.onnx") == {
        "producer": "exporter 1.0",
        "opset": "18",
        "inputs": "images: float32 batch×1×8×8",
        "outputs": "logits: float32 batch×10",
        "operators": "Conv 1, Gemm 1, Relu 1, Reshape 1",
    }

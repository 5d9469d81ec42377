"""ONNX graphs looked at: their operator census, static pictures through Graphviz, netron to explore."""

import html
import shutil
import subprocess
import warnings
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import onnx
from onnx import numpy_helper

# Soft fill colour per op family; ops not listed stay white.
OP_COLOURS = {
    **dict.fromkeys(
        ("Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool"),
        "#d4e4f7",  # convolution and pooling: blue
    ),
    **dict.fromkeys(("Gemm", "MatMul"), "#d5ecd4"),  # dense algebra: green
    **dict.fromkeys(
        (
            "Relu",
            "LeakyRelu",
            "PRelu",
            "Elu",
            "Selu",
            "Gelu",
            "Sigmoid",
            "HardSigmoid",
            "HardSwish",
            "Tanh",
            "Softmax",
            "LogSoftmax",
            "Softplus",
            "Mish",
            "Clip",
        ),
        "#fbe5c8",  # activations: apricot
    ),
    **dict.fromkeys(
        (
            "Reshape",
            "Flatten",
            "Transpose",
            "Squeeze",
            "Unsqueeze",
            "Concat",
            "Split",
            "Slice",
            "Gather",
            "Shape",
            "Expand",
        ),
        "#e8e8e8",  # shape plumbing: grey
    ),
    **dict.fromkeys(("LSTM", "GRU", "RNN"), "#e6d7ef"),  # recurrent: lavender
}
# Ops whose first initializer input is a learned weight worth showing as "W 32×1×3×3".
WEIGHTED_OPS = ("Conv", "ConvTranspose", "Gemm", "MatMul")
FONT = "Helvetica,Arial,sans-serif"
INSTALL_ADVICE = (
    "install Graphviz: `apt-get install graphviz` (Debian/Ubuntu), "
    "`brew install graphviz` (macOS) or `conda install graphviz`"
)


def graph_inputs(model: onnx.ModelProto) -> list[onnx.ValueInfoProto]:
    """The inputs a caller feeds: graph inputs that are not initializers (old exporters list weights there too)."""
    weights = {initializer.name for initializer in model.graph.initializer}
    return [value for value in model.graph.input if value.name not in weights]


def operator_counts(model: onnx.ModelProto | str | Path) -> dict[str, int]:
    """How many nodes of each operator a graph (or .onnx file) holds, operators in alphabetical order."""
    graph = (model if isinstance(model, onnx.ModelProto) else onnx.load(model)).graph
    return dict(sorted(Counter(node.op_type for node in graph.node).items()))


def operator_types_refused(model: onnx.ModelProto, opset: int) -> set[str]:
    """The operator types of the model's nodes that another opset's definitions of those operators refuse."""
    context = onnx.checker.C.CheckerContext()
    context.ir_version = model.ir_version
    context.opset_imports = {entry.domain: entry.version for entry in model.opset_import} | {
        "": opset
    }
    refused = set()
    for node in model.graph.node:
        try:
            onnx.checker.check_node(node, context, onnx.checker.C.LexicalScopeContext())
        except onnx.checker.ValidationError:
            refused.add(node.op_type)
    return refused


def interface(model: onnx.ModelProto | str | Path) -> dict[str, str]:
    """What a file shows a caller, as text: its producer, opset, inputs and outputs (name, type, shape), operators."""
    model = model if isinstance(model, onnx.ModelProto) else onnx.load(model)

    def tensors(values: Iterable[onnx.ValueInfoProto]) -> str:
        return ", ".join(
            f"{value.name}: {onnx.helper.tensor_dtype_to_np_dtype(value.type.tensor_type.elem_type)}"
            f" {_shape(value) or 'shape unknown'}"
            for value in values
        )

    opset = next(entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx"))
    return {
        "producer": f"{model.producer_name} {model.producer_version}".strip(),
        "opset": str(opset),
        "inputs": tensors(graph_inputs(model)),
        "outputs": tensors(model.graph.output),
        "operators": ", ".join(f"{op} {count}" for op, count in operator_counts(model).items()),
    }


def _dims(dims: Iterable[int | str]) -> str:
    """Dimensions joined by ×, as in 32×1×3×3."""
    return "×".join(str(dim) for dim in dims)


def _dim(dim: onnx.TensorShapeProto.Dimension) -> int | str:
    """One dimension: its size, its symbolic name, or ? (also for the unk__N names shape inference invents)."""
    if dim.HasField("dim_value"):
        return dim.dim_value
    if dim.dim_param and not dim.dim_param.startswith("unk__"):
        return dim.dim_param
    return "?"


def _shape(value: onnx.ValueInfoProto) -> str | None:
    """A tensor's shape with symbolic dims by name, "scalar" for rank 0, None if unknown."""
    tensor_type = value.type.tensor_type
    if not tensor_type.HasField("shape"):
        return None
    return _dims(_dim(dim) for dim in tensor_type.shape.dim) or "scalar"


def _known_shapes(model: onnx.ModelProto) -> dict[str, str]:
    """Shape text of each intermediate and output from shape inference on a copy ({} and a warning if it fails)."""
    try:
        graph = onnx.shape_inference.infer_shapes(model).graph
    except (onnx.shape_inference.InferenceError, ValueError) as error:
        first_line = (
            str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        )
        warnings.warn(
            f"ONNX shape inference failed on this model ({first_line}), so the picture's arrows carry no shapes",
            stacklevel=3,
        )
        return {}
    values = [*graph.value_info, *graph.output]
    return {value.name: text for value in values if (text := _shape(value)) is not None}


def _details(node: onnx.NodeProto, initializers: dict[str, onnx.TensorProto]) -> str:
    """The node's most telling facts: kernel, strides, weight shape, reshape target, axis, perm, recurrence."""
    attrs = {attr.name: onnx.helper.get_attribute_value(attr) for attr in node.attribute}
    weights = [initializers[name] for name in node.input if name in initializers]
    facts = []
    if "kernel_shape" in attrs:
        facts.append(f"kernel {_dims(attrs['kernel_shape'])}")
    if any(stride != 1 for stride in attrs.get("strides", [])):
        facts.append(f"stride {_dims(attrs['strides'])}")
    if node.op_type in ("LSTM", "GRU", "RNN"):
        facts.append(
            f"hidden {attrs.get('hidden_size', '?')}, {attrs.get('direction', b'forward').decode()}"
        )
    elif node.op_type == "Reshape" and node.input[1] in initializers:
        target = initializers[node.input[1]]
        if target.data_location != onnx.TensorProto.EXTERNAL:
            facts.append(f"to {_dims(numpy_helper.to_array(target).tolist())}")
    elif weights and node.op_type in WEIGHTED_OPS:
        facts.append(f"W {_dims(weights[0].dims)}")
    if "axis" in attrs:
        facts.append(f"axis {attrs['axis']}")
    if "perm" in attrs:
        facts.append(f"perm {list(attrs['perm'])}")
    return " · ".join(facts)


def _label(title: str, detail: str | None) -> str:
    """An HTML-like DOT label: escaped title in bold, escaped detail below in small grey type."""
    label = f"<B>{html.escape(title)}</B>"
    if detail:
        label += f'<BR/><FONT POINT-SIZE="10" COLOR="#505050">{html.escape(detail)}</FONT>'
    return f"<{label}>"


def _edge_label(shape: str | None) -> str:
    """DOT edge attributes showing a tensor shape, or nothing if the shape is unknown."""
    return f" [label=<{html.escape(shape)}>]" if shape else ""


def onnx_to_dot(model: onnx.ModelProto, *, max_nodes: int = 200) -> str:
    """Graphviz DOT text of the model's main graph: ops as boxes, inputs/outputs as ellipses, shapes on edges."""
    graph = model.graph
    if len(graph.node) > max_nodes:
        raise ValueError(
            f"the graph has {len(graph.node)} nodes, more than max_nodes={max_nodes}; "
            f"pass a larger max_nodes to draw it anyway"
        )
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    shapes = _known_shapes(model)
    lines = [
        "digraph onnx {",
        f'  graph [rankdir=TB, nodesep=0.35, ranksep=0.4, bgcolor="white", fontname="{FONT}"];',
        f'  node [shape=box, style="rounded,filled", fillcolor="white", color="#8a8a8a", '
        f'fontname="{FONT}", fontsize=12, margin="0.18,0.06"];',
        f'  edge [color="#8a8a8a", arrowsize=0.6, fontname="{FONT}", fontsize=9, fontcolor="#707070"];',
    ]
    producers = {}
    io_style = 'shape=ellipse, style=filled, fillcolor="#f7f7f7", color="#555555"'
    for index, value in enumerate(graph_inputs(model)):
        producers[value.name] = f"in{index}"
        lines.append(f"  in{index} [label={_label(value.name, _shape(value))}, {io_style}];")
    for index, node in enumerate(graph.node):
        fill = OP_COLOURS.get(node.op_type, "white")
        lines.append(
            f'  n{index} [label={_label(node.op_type, _details(node, initializers))}, fillcolor="{fill}"];'
        )
        for name in node.input:
            if name in producers:
                lines.append(f"  {producers[name]} -> n{index}{_edge_label(shapes.get(name))};")
        # Skipped optional outputs are named "", which must not link to skipped optional inputs.
        producers.update((name, f"n{index}") for name in node.output if name)
    for index, value in enumerate(graph.output):
        lines.append(f"  out{index} [label={_label(value.name, _shape(value))}, {io_style}];")
        if value.name in producers:
            lines.append(f"  {producers[value.name]} -> out{index};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_graph(
    model_or_path: onnx.ModelProto | Path | str, path: Path, *, format: str = "svg"
) -> Path:
    """Draw the model's graph with Graphviz `dot -T<format>` into path and return path."""
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError(f"Graphviz's `dot` is not on PATH; {INSTALL_ADVICE}")
    if isinstance(model_or_path, onnx.ModelProto):
        model = model_or_path
    else:
        # The picture needs only weight shapes, so large external weight files stay on disk.
        model = onnx.load(model_or_path, load_external_data=False)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [dot, f"-T{format}", "-o", str(path)],
        input=onnx_to_dot(model),
        encoding="utf-8",
        capture_output=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"dot -T{format} failed: {result.stderr.strip()}")
    return path


def open_in_netron(path: Path, port: int = 8080) -> str:
    """Serve the model with netron at localhost:port and return the address; the learner opens it in a browser."""
    import netron

    host, bound_port = netron.serve(str(path), address=("localhost", port), browse=False)
    return f"http://{host}:{bound_port}"

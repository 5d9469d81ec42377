"""Where two runs of one model part ways: every intermediate tensor exposed, compared node by node in order.

The reference run can be the same graph in ONNX's reference evaluator (does the runtime compute what the file
says?), a second ONNX model with the same structure (what did a rewrite, a converter or quantization change?),
or the source framework's own activations through a name mapping (where does the file stop doing what the
trained model does?). The first node, in topological order, whose output differs by more than a tolerance
fitted to that tensor's own scale is where to look.

    python -m onnx_crossings.teaching.divergence GOOD.onnx SUSPECT.onnx [--dim batch=8] [--input images=x.npy]

exits 1 and names that node when it finds one, 0 when the models agree, 2 when it cannot compare them.
"""

import argparse
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx

from onnx_crossings.plumbing import quiet
from onnx_crossings.teaching import graph, runtimes

# Float32 runs of one graph by two implementations agree to about 1e-6 of a tensor's scale; 1e-4 leaves room
# for the longer sums of a big layer, and is still far below what a wrong constant or layout does.
RTOL, ATOL = 1e-4, 1e-6


@dataclass(frozen=True)
class TensorDifference:
    """How far one node's output in the suspect run is from the same tensor in the reference run."""

    position: int  # the node's place in the graph's topological order, from 0
    node: str
    op_type: str
    tensor: str
    max_difference: float
    scale: float  # the reference tensor's largest magnitude: what the tolerance is fitted to
    tolerance: float

    @property
    def diverges(self) -> bool:
        """True when the difference is over the tolerance (or is not a number)."""
        return not self.max_difference <= self.tolerance

    def __str__(self) -> str:
        return (
            f"node {self.position} '{self.node}' ({self.op_type}), output '{self.tensor}': "
            f"max |difference| {self.max_difference:.3g} against a tolerance of {self.tolerance:.3g} "
            f"(its scale {self.scale:.3g})"
        )


def _node_label(node: onnx.NodeProto, position: int) -> str:
    """A node's name, or its operator type and place when the file left it unnamed."""
    return node.name or f"{node.op_type}_{position}"


def node_outputs(model: onnx.ModelProto) -> list[tuple[int, onnx.NodeProto, str]]:
    """Every node output of the main graph, in topological order: (the node's place, the node, the tensor)."""
    return [
        (position, node, tensor)
        for position, node in enumerate(model.graph.node)
        for tensor in node.output
        if tensor  # an optional output left out has an empty name
    ]


def with_outputs(model: onnx.ModelProto, tensors: Iterable[str] | None = None) -> onnx.ModelProto:
    """A copy of the model that also outputs intermediate tensors: those named, or every node's output."""
    wanted = [tensor for _, _, tensor in node_outputs(model)] if tensors is None else list(tensors)
    typed = onnx.shape_inference.infer_shapes(model)
    known = {value.name: value for value in [*typed.graph.value_info, *typed.graph.output]}
    exposed = onnx.ModelProto()
    exposed.CopyFrom(model)
    already = {output.name for output in exposed.graph.output}
    for tensor in wanted:
        if tensor in already:
            continue
        if tensor not in known:
            raise ValueError(
                f"cannot expose '{tensor}': shape inference found no type for it "
                "(is it a node output of this model's main graph?)"
            )
        exposed.graph.output.append(known[tensor])
        already.add(tensor)
    return exposed


def runtime_outputs(
    model: onnx.ModelProto, inputs: Mapping[str, np.ndarray], tensors: Iterable[str] | None = None
) -> dict[str, np.ndarray]:
    """One ONNX Runtime run, every node as written (no graph optimisation), with intermediates by name."""
    import onnxruntime as ort

    exposed = with_outputs(model, tensors)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 3  # errors only: exposing tensors makes it note unused ones
    session = runtimes.inference_session(
        exposed.SerializeToString(), options, providers=[runtimes.CPU]
    )
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(names, dict(inputs)), strict=True))


def runtime_log(path) -> list[str]:
    """ONNX Runtime's verbose log of creating a session for a model file: what it did to the graph, by line."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 0  # verbose
    with quiet.native_stderr_kept() as lines:
        runtimes.inference_session(str(path), options, providers=[runtimes.CPU])
    return lines


def reference_outputs(
    model: onnx.ModelProto, inputs: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """The same graph run by ONNX's reference evaluator (the specification in NumPy), intermediates by name."""
    from onnx.reference import ReferenceEvaluator

    results = ReferenceEvaluator(model).run(None, dict(inputs), intermediate=True)
    produced = {tensor for _, _, tensor in node_outputs(model)}
    return {name: np.asarray(value) for name, value in results.items() if name in produced}


def torch_activations(module, inputs, modules: Iterable[str]) -> dict[str, np.ndarray]:
    """A PyTorch model's outputs of the named submodules for one forward pass, caught by forward hooks."""
    import torch

    caught, hooks = {}, []
    for name in modules:

        def keep(_module, _inputs, output, name=name):
            """Keep a submodule's output (the first, for modules that return several)."""
            first = output[0] if isinstance(output, tuple) else output
            caught[name] = first.detach().cpu().numpy()

        hooks.append(module.get_submodule(name).register_forward_hook(keep))
    try:
        with torch.no_grad():
            module(inputs)
    finally:
        for hook in hooks:
            hook.remove()
    return caught


def node_differences(
    model: onnx.ModelProto,
    reference: Mapping[str, np.ndarray],
    suspect: Mapping[str, np.ndarray],
    *,
    mapping: Mapping[str, str] | None = None,
    rtol: float = RTOL,
    atol: float = ATOL,
) -> list[TensorDifference]:
    """Each node output of `model` the two runs both hold, in topological order, against its tolerance.

    `suspect` is keyed by the model's tensor names; `reference` by the same names, or by those `mapping` gives
    for them ({model tensor: reference name}, e.g. a PyTorch module's name). Tensors whose shapes differ count
    as differing without limit. The tolerance of each is atol + rtol × its largest magnitude in `reference`, one
    per tensor (parity.assert_parity's is one per element, for outputs; inside a network, values near zero
    would make an element's relative error meaningless); integer and boolean tensors must match exactly.
    """
    mapping = dict(mapping) if mapping is not None else {name: name for name in reference}
    differences = []
    for position, node, tensor in node_outputs(model):
        if tensor not in suspect or mapping.get(tensor) not in reference:
            continue
        expected = np.asarray(reference[mapping[tensor]])
        actual = np.asarray(suspect[tensor])
        exact = not np.issubdtype(expected.dtype, np.floating)
        scale = float(np.abs(expected).max(initial=0.0))
        if expected.shape != actual.shape:
            largest = np.inf
        else:
            largest = float(
                np.abs(expected.astype(np.float64) - actual.astype(np.float64)).max(initial=0.0)
            )
        differences.append(
            TensorDifference(
                position=position,
                node=_node_label(node, position),
                op_type=node.op_type,
                tensor=tensor,
                max_difference=largest,
                scale=scale,
                tolerance=0.0 if exact else atol + rtol * scale,
            )
        )
    return differences


def tensor_mapping(good: onnx.ModelProto, suspect: onnx.ModelProto) -> dict[str, str]:
    """{suspect's tensor: good's tensor}: by place when both run the same operators in the same order, else by name.

    Two exports of one model may name every tensor differently; the same structure pairs them all the same.
    """
    good_outputs = [tensor for _, _, tensor in node_outputs(good)]
    suspect_outputs = [tensor for _, _, tensor in node_outputs(suspect)]
    operators = [node.op_type for node in good.graph.node]
    if operators == [node.op_type for node in suspect.graph.node]:
        return dict(zip(suspect_outputs, good_outputs, strict=False))
    shared = set(good_outputs)
    return {tensor: tensor for tensor in suspect_outputs if tensor in shared}


def first_divergence(differences: Iterable[TensorDifference]) -> TensorDifference | None:
    """The earliest tensor over its tolerance, or None when every compared tensor is within it."""
    return next((difference for difference in differences if difference.diverges), None)


def bisect(tensors: list[str], agrees: Callable[[str], bool]) -> tuple[str, list[str]]:
    """The first tensor of a list in order whose run disagrees, in log2(n) probes; and the tensors probed.

    It assumes what the method does: the last tensor disagrees, and once a tensor disagrees so do those after
    it (a difference carries forward). A probe may be costly (a run with that tensor exposed), hence halving.
    """
    low, high, probed = 0, len(tensors) - 1, []
    while low < high:
        middle = (low + high) // 2
        probed.append(tensors[middle])
        if agrees(tensors[middle]):
            low = middle + 1
        else:
            high = middle
    return tensors[low], probed


def _load(path: str) -> onnx.ModelProto:
    """An ONNX model from a file, or SystemExit(2) with a sentence saying why it is not one."""
    if not Path(path).is_file():
        raise _bad_input(f"{path} does not exist: give the path of an .onnx file")
    try:
        model = onnx.load(path)
    except Exception as error:  # protobuf's DecodeError and friends: the bytes are not a model
        raise _bad_input(f"{path} is not an ONNX model ({type(error).__name__}): {error}") from None
    if not model.graph.node:
        raise _bad_input(f"{path} holds no ONNX graph (no nodes): is it an ONNX model?")
    return model


def _bad_input(sentence: str) -> SystemExit:
    """Print what is wrong and return the exit that says 'could not compare'."""
    print(f"error: {sentence}", file=sys.stderr)
    return SystemExit(2)


def _signature(value: onnx.ValueInfoProto) -> tuple[int, int]:
    """An input's element type and rank: what two models must share to be fed the same arrays."""
    tensor = value.type.tensor_type
    return tensor.elem_type, len(tensor.shape.dim)


def _check_same_inputs(good: onnx.ModelProto, suspect: onnx.ModelProto) -> None:
    """Raise SystemExit(2) unless both models take the same inputs (names, element types, ranks)."""
    expected = {value.name: _signature(value) for value in graph.graph_inputs(good)}
    actual = {value.name: _signature(value) for value in graph.graph_inputs(suspect)}
    if expected != actual:
        raise _bad_input(
            f"the models take different inputs, so they cannot be fed the same arrays: "
            f"GOOD takes {_describe(graph.graph_inputs(good))}, SUSPECT takes {_describe(graph.graph_inputs(suspect))}"
        )


def _describe(values: list[onnx.ValueInfoProto]) -> str:
    """Inputs as 'name (type, shape)' for a message."""
    return ", ".join(
        f"'{value.name}' ({onnx.helper.tensor_dtype_to_np_dtype(value.type.tensor_type.elem_type)}, "
        f"[{', '.join(dim.dim_param or str(dim.dim_value) for dim in value.type.tensor_type.shape.dim)}])"
        for value in values
    )


def random_inputs(
    model: onnx.ModelProto, dims: Mapping[str, int], seed: int = 0
) -> dict[str, np.ndarray]:
    """An array for each input from its declared shape, dynamic dimensions set by `dims`, drawn with a seed.

    Floats are standard normal; integers lie in [0, 10) (small enough to index an embedding); booleans are fair
    coins. Raises ValueError naming a dynamic dimension `dims` does not set.
    """
    generator = np.random.default_rng(seed)
    arrays = {}
    for value in graph.graph_inputs(model):
        tensor = value.type.tensor_type
        shape = []
        for dim in tensor.shape.dim:
            if dim.HasField("dim_value"):
                shape.append(dim.dim_value)
            elif dim.dim_param in dims:
                shape.append(dims[dim.dim_param])
            else:
                name = dim.dim_param or "(unnamed)"
                raise ValueError(
                    f"input '{value.name}' has a dynamic dimension {name}: set its size with "
                    f"--dim {dim.dim_param or 'NAME'}=N (or give the input with --input)"
                )
        dtype = onnx.helper.tensor_dtype_to_np_dtype(tensor.elem_type)
        if np.issubdtype(dtype, np.floating):
            arrays[value.name] = generator.standard_normal(shape).astype(dtype)
        elif dtype == np.bool_:
            arrays[value.name] = generator.random(shape) < 0.5
        else:
            arrays[value.name] = generator.integers(0, 10, size=shape).astype(dtype)
    return arrays


def _name_value(text: str, what: str) -> tuple[str, str]:
    """Split a NAME=VALUE option, or exit saying how to write it."""
    name, separator, value = text.partition("=")
    if not separator or not name or not value:
        raise _bad_input(f"{what} '{text}' is not NAME=VALUE")
    return name, value


def _inputs(args, good: onnx.ModelProto) -> dict[str, np.ndarray]:
    """The arrays both models are fed: those given as .npy files, the rest drawn from the declared shapes."""
    dims = {}
    for text in args.dim:
        name, value = _name_value(text, "--dim")
        if not value.isdigit() or int(value) < 1:
            raise _bad_input(f"--dim {text}: the size must be a positive whole number")
        dims[name] = int(value)
    declared = {value.name: value for value in graph.graph_inputs(good)}
    given = {}
    for text in args.input:
        name, path = _name_value(text, "--input")
        if name not in declared:
            raise _bad_input(
                f"--input {text}: the models have no input '{name}' (they take {_describe(list(declared.values()))})"
            )
        try:
            given[name] = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as error:
            raise _bad_input(
                f"--input {text}: cannot read a .npy array from {path}: {error}"
            ) from None
        expected = onnx.helper.tensor_dtype_to_np_dtype(declared[name].type.tensor_type.elem_type)
        if given[name].dtype != expected:
            raise _bad_input(
                f"--input {text}: the array is {given[name].dtype}, the input wants {expected}"
            )
    try:
        drawn = random_inputs(good, dims, seed=args.seed) if len(given) < len(declared) else {}
    except ValueError as error:
        raise _bad_input(str(error)) from None
    return drawn | given


def _run(
    model: onnx.ModelProto, inputs: dict[str, np.ndarray], label: str
) -> dict[str, np.ndarray]:
    """Every intermediate of one run, or exit saying why ONNX Runtime refused the model or its inputs."""
    try:
        return runtime_outputs(model, inputs)
    # the runtime's own errors (Fail, InvalidArgument, ...) say what is wrong
    except Exception as error:
        raise _bad_input(
            f"ONNX Runtime cannot run {label}: {' '.join(str(error).split())}"
        ) from None


def main(argv: list[str] | None = None) -> int:
    """Compare two ONNX models node by node on the same inputs; print and return 1 (diverge), 0 (agree)."""
    parser = argparse.ArgumentParser(
        prog="python -m onnx_crossings.teaching.divergence",
        description="Find the first node whose output differs between two ONNX models of the same structure.",
    )
    parser.add_argument("good", help="the model you trust (.onnx)")
    parser.add_argument("suspect", help="the model whose outputs differ (.onnx)")
    parser.add_argument(
        "--dim",
        action="append",
        default=[],
        metavar="NAME=SIZE",
        help="size of a dynamic dimension",
    )
    parser.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="an input from a .npy file",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the inputs drawn at random (default 0)"
    )
    parser.add_argument(
        "--rtol",
        type=float,
        default=RTOL,
        help=f"tolerance relative to each tensor's scale (default {RTOL})",
    )
    parser.add_argument(
        "--atol", type=float, default=ATOL, help=f"absolute tolerance (default {ATOL})"
    )
    args = parser.parse_args(argv)
    try:
        good, suspect = _load(args.good), _load(args.suspect)
        _check_same_inputs(good, suspect)
        inputs = _inputs(args, good)
        reference = _run(good, inputs, args.good)
        suspect_run = _run(suspect, inputs, args.suspect)
    except SystemExit as exit_:
        return int(exit_.code)
    mapping = tensor_mapping(good, suspect)
    differences = node_differences(
        suspect, reference, suspect_run, mapping=mapping, rtol=args.rtol, atol=args.atol
    )
    if not differences:
        print(
            "error: the models share no tensor names and run different operators, so no node can be "
            "paired with another: is SUSPECT a version of GOOD?",
            file=sys.stderr,
        )
        return 2
    found = first_divergence(differences)
    if found is None:
        print(
            f"The models agree: all {len(differences)} tensors they share are within tolerance "
            f"(rtol {args.rtol:g}, atol {args.atol:g})."
        )
        return 0
    agreeing = differences.index(found)
    print(f"First divergence: {found}.")
    print(f"Before it, {agreeing} of the {len(differences)} tensors both models hold agree.")
    return 1


if __name__ == "__main__":
    sys.exit(main())

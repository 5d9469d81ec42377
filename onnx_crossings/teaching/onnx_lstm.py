"""ONNX LSTM nodes as torch.nn.LSTM: a converter registered with onnx2torch on import, which has none for LSTM."""

from pathlib import Path

import onnx
import torch
from onnx2torch import convert
from onnx2torch.node_converters.registry import add_converter
from onnx2torch.onnx_graph import OnnxGraph
from onnx2torch.onnx_node import OnnxNode
from onnx2torch.utils.common import OnnxMapping, OperationConverterResult
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

# ONNX stacks the gates as i, o, f, c; torch.nn.LSTM as i, f, g (ONNX's c), o.
ONNX_GATES_IN_TORCH_ORDER = (0, 2, 3, 1)
DIRECTION_COUNTS = {"forward": 1, "reverse": 1, "bidirectional": 2}
OPTIONAL_INPUTS = ("sequence_lens", "initial_h", "initial_c")
DEFAULT_ACTIVATIONS = ["Sigmoid", "Tanh", "Tanh"]
# Why each attribute that changes the cell's arithmetic is refused when it is given a value other than the default.
UNSUPPORTED_ATTRIBUTES = {
    "clip": "torch.nn.LSTM has no cell clipping",
    "input_forget": "torch.nn.LSTM has separate input and forget gates",
    "activations": "torch.nn.LSTM always uses Sigmoid, Tanh, Tanh",
    "activation_alpha": "torch.nn.LSTM's activations take no parameters",
    "activation_beta": "torch.nn.LSTM's activations take no parameters",
}


def torch_gate_order(gates: torch.Tensor) -> torch.Tensor:
    """Rows of ONNX's stacked gates (i, o, f, c) in torch.nn.LSTM's order (i, f, g, o)."""
    chunks = gates.chunk(4)
    return torch.cat([chunks[index] for index in ONNX_GATES_IN_TORCH_ORDER])


def _reverse_in_time(sequence: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
    """Reverse each sample's first lengths[b] steps of a time-major sequence (all steps when lengths is None)."""
    if lengths is None:
        return sequence.flip(0)
    steps = torch.arange(sequence.shape[0], device=sequence.device).unsqueeze(1)
    lengths = lengths.to(device=sequence.device, dtype=torch.int64)
    source_steps = torch.where(steps < lengths, lengths - 1 - steps, steps)
    return sequence.gather(0, source_steps.unsqueeze(-1).expand_as(sequence))


def copy_onnx_weights(
    lstm: torch.nn.LSTM,
    weights: torch.Tensor,
    recurrence_weights: torch.Tensor,
    biases: torch.Tensor | None,
) -> None:
    """Copy an ONNX LSTM node's W, R and B into torch.nn.LSTM's parameters, direction by direction."""
    with torch.no_grad():
        for index, suffix in enumerate(["", "_reverse"][: len(weights)]):
            getattr(lstm, f"weight_ih_l0{suffix}").copy_(torch_gate_order(weights[index]))
            getattr(lstm, f"weight_hh_l0{suffix}").copy_(
                torch_gate_order(recurrence_weights[index])
            )
            if biases is not None:
                # ONNX keeps the input and recurrence biases side by side; torch keeps two vectors
                input_bias, recurrence_bias = biases[index].chunk(2)
                getattr(lstm, f"bias_ih_l0{suffix}").copy_(torch_gate_order(input_bias))
                getattr(lstm, f"bias_hh_l0{suffix}").copy_(torch_gate_order(recurrence_bias))


class OnnxLSTM(torch.nn.Module):
    """An ONNX LSTM node on torch.nn.LSTM, fed X and the optional_inputs named, in ONNX's shapes for its layout."""

    def __init__(
        self,
        weights: torch.Tensor,
        recurrence_weights: torch.Tensor,
        biases: torch.Tensor | None = None,
        *,
        direction: str = "forward",
        hidden_size: int | None = None,
        batch_first: bool = False,
        optional_inputs: tuple[str, ...] = OPTIONAL_INPUTS,
        output_count: int = 3,
    ) -> None:
        super().__init__()
        directions, gate_rows, input_size = weights.shape
        if direction not in DIRECTION_COUNTS:
            raise ValueError(
                f"direction={direction!r} is not an ONNX LSTM direction: use forward, reverse or bidirectional"
            )
        if DIRECTION_COUNTS[direction] != directions:
            raise ValueError(
                f"direction={direction!r} does not fit W of shape {tuple(weights.shape)}: expected forward or "
                f"reverse with 1 direction in W, or bidirectional with 2"
            )
        if hidden_size is not None and 4 * hidden_size != gate_rows:
            raise ValueError(
                f"hidden_size={hidden_size} contradicts W of shape {tuple(weights.shape)}, which implies hidden size "
                f"{gate_rows / 4:g} (W is [directions, 4 * hidden_size, input_size]); export the model again so "
                f"that they agree"
            )
        unknown_inputs = set(optional_inputs) - set(OPTIONAL_INPUTS)
        if unknown_inputs:
            raise ValueError(
                f"optional_inputs names {sorted(unknown_inputs)}: use names from {OPTIONAL_INPUTS}"
            )
        self.directions = directions
        self.hidden_size = gate_rows // 4
        self.reverse = direction == "reverse"
        self.batch_first = batch_first
        self.optional_inputs = optional_inputs
        self.output_count = output_count
        self.lstm = torch.nn.LSTM(
            input_size,
            self.hidden_size,
            bias=biases is not None,
            bidirectional=directions == 2,
            dtype=weights.dtype,
        )
        copy_onnx_weights(self.lstm, weights, recurrence_weights, biases)

    def forward(
        self, x: torch.Tensor, *optional_values: torch.Tensor
    ) -> torch.Tensor | tuple[torch.Tensor, ...]:
        """Y, Y_h and Y_c as the ONNX node lists them (Y alone if only Y) from X and the values of optional_inputs."""
        given = dict(zip(self.optional_inputs, optional_values, strict=False))
        sequence_lens, initial_h, initial_c = (given.get(name) for name in OPTIONAL_INPUTS)
        if self.batch_first:
            x, initial_h, initial_c = (
                None if t is None else t.transpose(0, 1) for t in (x, initial_h, initial_c)
            )
        steps, batch = x.shape[:2]
        zeros = x.new_zeros(self.directions, batch, self.hidden_size)
        state = (
            zeros if initial_h is None else initial_h,
            zeros if initial_c is None else initial_c,
        )
        if self.reverse:
            x = _reverse_in_time(x, sequence_lens)
        if sequence_lens is None:
            y, (y_h, y_c) = self.lstm(x, state)
        else:
            # pack_padded_sequence refuses length 0: such samples run one step, then get ONNX Runtime's zeros.
            packed = pack_padded_sequence(x, sequence_lens.clamp(min=1).cpu(), enforce_sorted=False)
            packed_y, (y_h, y_c) = self.lstm(packed, state)
            y = pad_packed_sequence(packed_y, total_length=steps)[0]
            is_empty = (sequence_lens == 0).to(x.device).view(1, batch, 1)
            y, y_h, y_c = (output.masked_fill(is_empty, 0) for output in (y, y_h, y_c))
        if self.reverse:
            y = _reverse_in_time(y, sequence_lens)
        y = y.view(steps, batch, self.directions, self.hidden_size)
        if self.batch_first:
            outputs = (y.transpose(0, 1), y_h.transpose(0, 1), y_c.transpose(0, 1))
        else:
            outputs = (y.transpose(1, 2), y_h, y_c)
        return outputs[0] if self.output_count == 1 else outputs[: self.output_count]


def _is_default(name: str, value: object, directions: int) -> bool:
    """Whether an attribute of UNSUPPORTED_ATTRIBUTES has its default value (activation names in any case, like ORT)."""
    if name == "activations":
        defaults = [activation.lower() for activation in DEFAULT_ACTIVATIONS] * directions
        return [activation.lower() for activation in value] == defaults
    return name == "input_forget" and value == 0


def _check_supported(node: OnnxNode, directions: int, peepholes: str) -> None:
    """Raise NotImplementedError naming the first peephole input or attribute that torch.nn.LSTM cannot reproduce."""
    if peepholes:
        raise NotImplementedError(
            f"ONNX LSTM node {node.unique_name!r}: input P (peepholes, {peepholes!r}) is not supported by the "
            f"course's converter (torch.nn.LSTM has no peephole connections)"
        )
    for name, reason in UNSUPPORTED_ATTRIBUTES.items():
        if name in node.attributes and not _is_default(name, node.attributes[name], directions):
            raise NotImplementedError(
                f"ONNX LSTM node {node.unique_name!r}: attribute {name}={node.attributes[name]} is not supported "
                f"by the course's converter ({reason})"
            )


def _constant(node: OnnxNode, graph: OnnxGraph, role: str, name: str) -> torch.Tensor:
    """The initializer feeding input role (W, R or B) of the node; ValueError if that input is computed at run time."""
    if name not in graph.initializers:
        raise ValueError(
            f"ONNX LSTM node {node.unique_name!r}: input {role} ({name!r}) must be a constant initializer, because "
            f"the course's converter copies it into torch.nn.LSTM's weights"
        )
    return graph.initializers[name].to_torch()


def _check_no_input_fed_from_omitted_outputs(node: OnnxNode, graph: OnnxGraph) -> None:
    """ValueError if the node omits an output and a non-LSTM node omits an input: onnx2torch would feed it from that."""
    if "" not in node.output_values:
        return
    for other in graph.nodes.values():
        if other.operation_type != "LSTM" and "" in other.input_values:
            raise ValueError(
                f"ONNX LSTM node {node.unique_name!r} omits an output and node {other.unique_name!r} omits an input, "
                f"which onnx2torch.convert would feed from that omitted output: convert the model with "
                f"onnx_crossings.teaching.onnx_lstm.convert_to_torch, which names omitted outputs first"
            )


@add_converter(operation_type="LSTM", version=1)
@add_converter(operation_type="LSTM", version=7)
@add_converter(operation_type="LSTM", version=14)
@add_converter(operation_type="LSTM", version=22)
def convert_lstm_node(node: OnnxNode, graph: OnnxGraph) -> OperationConverterResult:
    """onnx2torch converter of an ONNX LSTM node to OnnxLSTM, fed at run time by X and the optional inputs given."""
    _check_no_input_fed_from_omitted_outputs(node, graph)
    # omitted trailing inputs as empty names
    inputs = node.input_values + ("",) * (8 - len(node.input_values))
    x, w, r, b, sequence_lens, initial_h, initial_c, peepholes = inputs
    direction = node.attributes.get("direction", "forward")
    _check_supported(node, DIRECTION_COUNTS.get(direction, 1), peepholes)
    weights, recurrence_weights = _constant(node, graph, "W", w), _constant(node, graph, "R", r)
    biases = _constant(node, graph, "B", b) if b else None
    # onnx2torch would look omitted ('') inputs up as outputs of a node that omits one, so only given ones are mapped.
    given_inputs = {
        role: name
        for role, name in zip(OPTIONAL_INPUTS, (sequence_lens, initial_h, initial_c), strict=True)
        if name
    }
    try:
        module = OnnxLSTM(
            weights,
            recurrence_weights,
            biases,
            direction=direction,
            hidden_size=node.attributes.get("hidden_size"),
            batch_first=node.attributes.get("layout", 0) == 1,
            optional_inputs=tuple(given_inputs),
            output_count=len(node.output_values),
        )
    except ValueError as error:
        raise ValueError(f"ONNX LSTM node {node.unique_name!r}: {error}") from error
    return OperationConverterResult(
        torch_module=module,
        onnx_mapping=OnnxMapping(inputs=(x, *given_inputs.values()), outputs=node.output_values),
    )


def _name_omitted_outputs(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of the model whose omitted ('') node outputs have names, since onnx2torch feeds '' inputs from them."""
    named = onnx.ModelProto()
    named.CopyFrom(model)
    for node_index, node in enumerate(named.graph.node):
        for output_index, output in enumerate(node.output):
            if not output:
                node.output[output_index] = f"omitted_output_{output_index}_of_node_{node_index}"
    return named


def convert_to_torch(onnx_model_or_path: onnx.ModelProto | str | Path) -> torch.fx.GraphModule:
    """Convert an ONNX model (or .onnx file) to PyTorch with onnx2torch, LSTM nodes included."""
    is_model = isinstance(onnx_model_or_path, onnx.ModelProto)
    model = onnx_model_or_path if is_model else onnx.load(onnx_model_or_path)
    return convert(_name_omitted_outputs(model))

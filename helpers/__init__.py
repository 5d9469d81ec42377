"""Plumbing for the ONNX crossings course: data, plots, graphs, parity and results."""

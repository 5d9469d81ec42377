"""Chapter 2's sentiment model as a web app: served through ONNX Runtime and run in the browser."""

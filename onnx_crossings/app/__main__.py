"""`python -m onnx_crossings.app` (what `make app` runs): check chapter 2's model, then serve the app on 127.0.0.1."""

import argparse
import sys

import uvicorn

from onnx_crossings.app.model import SentimentModel, model_files
from onnx_crossings.app.server import create_app
from onnx_crossings.plumbing.files import ModelFilesError


def main() -> int:
    """Start the server, or say which file is missing and how to make it."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: this machine only)"
    )
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--no-micro-batching",
        action="store_true",
        help="score each request in its own model run (to measure what micro-batching gains)",
    )
    arguments = parser.parse_args()
    try:
        model = SentimentModel(*model_files())
        app = create_app(model, micro_batching=not arguments.no_micro_batching)
    except ModelFilesError as error:
        print(f"The app cannot start: {error}", file=sys.stderr)
        return 1
    batching = "off" if arguments.no_micro_batching else "on"
    print(
        f"Serving chapter 2's sentiment model (version {model.version}, micro-batching {batching}).\n"
        f"Open http://{arguments.host}:{arguments.port} in a browser; Ctrl+C stops the server.",
        flush=True,
    )
    uvicorn.run(
        app, host=arguments.host, port=arguments.port, access_log=False, log_level="warning"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

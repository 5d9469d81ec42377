"""The web app: POST /predict and /predict/batch through ONNX Runtime, GET /health, and the page that runs it too."""

import asyncio
import json
from contextlib import asynccontextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from onnx_crossings.app.micro_batching import MicroBatcher
from onnx_crossings.app.model import SentimentModel
from onnx_crossings.plumbing import paths
from onnx_crossings.plumbing.files import ModelFilesError

STATIC_DIR = Path(__file__).with_name("static")
MAX_BODY_BYTES = 2_000_000
MAX_REVIEW_CHARACTERS = 50_000  # about four times the longest IMDb review
MAX_BATCH_REVIEWS = 256
MAX_MICRO_BATCH = 64  # reviews scored together at most, when many requests wait at once
SINGLE_EXAMPLE = '{"review": "A gripping story with wonderful acting."}'
BATCH_EXAMPLE = '{"reviews": ["A gripping story.", "Dull and far too long."]}'


def onnxruntime_web_dir() -> Path:
    """Folder of onnxruntime-web's browser builds, installed by npm beside the datasets."""
    folder = paths.offline_packages_dir() / "onnxruntime-web" / "dist"
    if not (folder / "ort.wasm.min.js").is_file():
        raise ModelFilesError(
            f"onnxruntime-web is missing from {folder.parent}: run `npm ci --ignore-scripts` "
            "in the repository root (or `make setup`)"
        )
    return folder


def not_blank(review: str) -> str:
    """The review, refused when it holds nothing but whitespace."""
    if not review.strip():
        raise ValueError("the review is empty: send some text to score")
    return review


Review = Annotated[str, Field(max_length=MAX_REVIEW_CHARACTERS), AfterValidator(not_blank)]


class ReviewRequest(BaseModel):
    """Body of POST /predict."""

    model_config = ConfigDict(extra="forbid", strict=True)
    review: Review


class BatchRequest(BaseModel):
    """Body of POST /predict/batch."""

    model_config = ConfigDict(extra="forbid", strict=True)
    reviews: Annotated[list[Review], Field(min_length=1, max_length=MAX_BATCH_REVIEWS)]


async def json_body(request: Request) -> object:
    """The request's JSON, or a 4xx that says what is wrong: content type, size, encoding or syntax."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise HTTPException(
            415,
            f"send JSON with the header 'Content-Type: application/json', not {content_type!r}",
        )
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise HTTPException(413, f"the body is over the limit of {MAX_BODY_BYTES:,} bytes")
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise HTTPException(
            400, f"the body is not UTF-8 text (byte {error.start} is {body[error.start]:#04x})"
        ) from error
    except json.JSONDecodeError as error:
        raise HTTPException(
            400,
            f"the body is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}",
        ) from error


def validated(model: type[BaseModel], payload: object, example: str) -> BaseModel:
    """The payload as model, or a 422 listing each problem (where, what) and an example of a good body."""
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, problem['loc'])) or 'body'}: {problem['msg']}"
            for problem in error.errors()
        )
        raise HTTPException(
            422,
            f"{problems}. Limits: {MAX_REVIEW_CHARACTERS:,} characters a review, "
            f"{MAX_BATCH_REVIEWS} reviews a batch. Example: {example}",
        ) from error


def create_app(model: SentimentModel, micro_batching: bool = True) -> FastAPI:
    """The app serving model; with micro_batching, concurrent /predict requests share model runs."""
    batcher = MicroBatcher(model.score, MAX_MICRO_BATCH) if micro_batching else None
    ort_web = onnxruntime_web_dir()

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        if batcher is not None:
            batcher.start()
        yield
        if batcher is not None:
            await batcher.stop()

    app = FastAPI(title="Review sentiment (chapter 2's ONNX model)", lifespan=lifespan)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.mount("/ort", StaticFiles(directory=ort_web), name="onnxruntime-web")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    @app.get("/model/review_sentiment.onnx", include_in_schema=False)
    async def onnx_file() -> FileResponse:
        return FileResponse(model.onnx_path, media_type="application/octet-stream")

    @app.get("/model/preprocessing.json", include_in_schema=False)
    async def preprocessing_file() -> FileResponse:
        return FileResponse(model.preprocessing_path, media_type="application/json")

    @app.get("/health")
    async def health() -> dict:
        """The model's version and how the server batches."""
        runs = batcher.runs if batcher is not None else None
        return {
            "status": "ok",
            "model_version": model.version,
            "micro_batching": micro_batching,
            "model_runs": runs,
            "mean_batch": batcher.scored / runs if runs else None,
        }

    @app.post("/predict")
    async def predict(request: Request) -> dict:
        """Score one review: {"review": "..."}."""
        review = validated(ReviewRequest, await json_body(request), SINGLE_EXAMPLE).review
        if batcher is not None:
            prediction = await batcher.submit(review)
        else:
            [prediction] = await asyncio.to_thread(model.score, [review])
        return asdict(prediction) | {"model_version": model.version}

    @app.post("/predict/batch")
    async def predict_batch(request: Request) -> dict:
        """Score many reviews in one run: {"reviews": ["...", ...]}."""
        reviews = validated(BatchRequest, await json_body(request), BATCH_EXAMPLE).reviews
        predictions = await asyncio.to_thread(model.score, reviews)
        return {
            "predictions": [asdict(prediction) for prediction in predictions],
            "model_version": model.version,
        }

    return app

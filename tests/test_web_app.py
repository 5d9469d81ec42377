"""The web app's server on a tiny model of chapter 2's shape: answers, micro-batching, refusals, start-up, make app."""

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import numpy as np
import onnx
import pytest
from fastapi.testclient import TestClient
from launching import NOBODY, enterable_by_everyone, first_address, page_at
from onnx import TensorProto, helper, numpy_helper

from onnx_crossings.app.micro_batching import MicroBatcher
from onnx_crossings.app.model import MODEL_NAME, PREPROCESSING_NAME, SentimentModel
from onnx_crossings.app.server import (
    MAX_BATCH_REVIEWS,
    MAX_BODY_BYTES,
    MAX_REVIEW_CHARACTERS,
    create_app,
)
from onnx_crossings.data import imdb
from onnx_crossings.plumbing.files import ModelFilesError, sha256_of
from onnx_crossings.plumbing.paths import REPO_ROOT
from tools.local_server import free_port

CURL = (
    "curl -s -X POST http://127.0.0.1:8000/predict -H 'Content-Type: application/json' "
    """-d '{"review": "A gripping story with wonderful acting."}'"""
)
SEQUENCE_LENGTH = 6
WORDS = {"good": 4.0, "great": 6.0, "bad": -4.0, "awful": -6.0, "film": 0.0}


def write_tiny_model(folder: Path) -> None:
    """Chapter 2's interface (int32 word ids in, a logit out) on a sum of one learned number per word."""
    vocabulary = {word: imdb.FIRST_WORD_ID + rank for rank, word in enumerate(WORDS)}
    weights = np.zeros((imdb.FIRST_WORD_ID + len(WORDS), 1), np.float32)
    weights[list(vocabulary.values()), 0] = list(WORDS.values())
    graph = helper.make_graph(
        [
            helper.make_node("Cast", ["tokens"], ["ids"], to=TensorProto.INT64),
            helper.make_node("Gather", ["weights", "ids"], ["scores"]),
            helper.make_node("ReduceSum", ["scores", "axes"], ["logit"], keepdims=0),
        ],
        "tiny_sentiment",
        [helper.make_tensor_value_info("tokens", TensorProto.INT32, ["batch", SEQUENCE_LENGTH])],
        [helper.make_tensor_value_info("logit", TensorProto.FLOAT, ["batch", 1])],
        [
            numpy_helper.from_array(weights, "weights"),
            numpy_helper.from_array(np.array([1]), "axes"),
        ],
    )
    onnx.save(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10),
        folder / MODEL_NAME,
    )
    imdb.save_preprocessing(folder / PREPROCESSING_NAME, vocabulary, SEQUENCE_LENGTH)


@pytest.fixture
def model_folder(tmp_path) -> Path:
    write_tiny_model(tmp_path)
    return tmp_path


@pytest.fixture
def model(model_folder) -> SentimentModel:
    return SentimentModel(model_folder / MODEL_NAME, model_folder / PREPROCESSING_NAME)


@pytest.fixture(params=[True, False], ids=["micro-batching", "one run per request"])
def client(request, model):
    with TestClient(create_app(model, micro_batching=request.param)) as client:
        yield client


def test_predict_scores_a_review_with_its_word_counts_and_the_model_version(client, model):
    answer = client.post("/predict", json={"review": "A good<br />GREAT film, zzz!"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["logit"] == 10.0
    assert body["probability"] == pytest.approx(1 / (1 + np.exp(-10.0)), abs=1e-6)
    assert body["label"] == "positive"
    # "a" and "zzz" are not in the vocabulary
    assert (body["known_tokens"], body["unknown_tokens"]) == (3, 2)
    assert body["unknown_words"] == ["a", "zzz"]
    assert (
        body["model_version"]
        == sha256_of(model.onnx_path)[:12]
        == client.get("/health").json()["model_version"]
    )


def test_predict_batch_scores_each_review_as_predict_does(client):
    reviews = ["bad awful film", "good", "film film film film film film film bad"]
    batch = client.post("/predict/batch", json={"reviews": reviews}).json()["predictions"]
    singles = [client.post("/predict", json={"review": review}).json() for review in reviews]
    assert [answer["label"] for answer in batch] == ["negative", "positive", "negative"]
    for together, alone in zip(batch, singles, strict=True):
        assert together == {key: value for key, value in alone.items() if key != "model_version"}


def test_a_long_review_keeps_its_last_words_as_chapter_2_encodes_it(model):
    [prediction] = model.score(["awful " * 10 + "good film"])
    assert prediction.known_tokens == SEQUENCE_LENGTH and prediction.probability < 0.5


def test_the_page_and_the_files_it_runs_are_served(client, model):
    assert "in your browser" in client.get("/").text
    assert client.get("/model/review_sentiment.onnx").content == model.onnx_path.read_bytes()
    assert client.get("/model/preprocessing.json").json()["sequence_length"] == SEQUENCE_LENGTH
    assert "sentimentApp" in client.get("/static/app.js").text
    assert client.get("/ort/ort.wasm.min.js").status_code == 200


def test_concurrent_requests_share_model_runs_and_each_gets_its_own_answer():
    runs = []

    def score(items):
        runs.append(list(items))
        return [item * 10 for item in items]

    async def burst():
        batcher = MicroBatcher(score, max_batch=4)
        batcher.start()
        answers = await asyncio.gather(*(batcher.submit(number) for number in range(10)))
        await batcher.stop()
        return answers, batcher

    answers, batcher = asyncio.run(burst())
    assert answers == [number * 10 for number in range(10)]
    assert [len(run) for run in runs] == [4, 4, 2]  # all ten were queued before the first run
    assert (batcher.runs, batcher.scored) == (3, 10)


def test_a_failed_run_fails_the_requests_in_it_and_the_batcher_goes_on():
    def score(items):
        if "boom" in items:
            raise ValueError("boom")
        return items

    async def two_bursts():
        batcher = MicroBatcher(score, max_batch=8)
        batcher.start()
        first = await asyncio.gather(
            batcher.submit("boom"), batcher.submit("fine"), return_exceptions=True
        )
        second = await batcher.submit("fine")
        await batcher.stop()
        return first, second

    first, second = asyncio.run(two_bursts())
    assert all(isinstance(outcome, ValueError) for outcome in first) and second == "fine"


BAD_REQUESTS = {
    "empty review": ({"json": {"review": ""}}, 422, "the review is empty"),
    "whitespace only": ({"json": {"review": " \n\t "}}, 422, "the review is empty"),
    "1 MB review": (
        {"json": {"review": "good " * 200_000}},
        422,
        f"at most {MAX_REVIEW_CHARACTERS} characters",
    ),
    "3 MB body": ({"json": {"review": "good " * 600_000}}, 413, f"{MAX_BODY_BYTES:,} bytes"),
    "invalid JSON": (
        {"content": b'{"review": "good', "headers": {"Content-Type": "application/json"}},
        400,
        "not valid JSON",
    ),
    "review not a string": ({"json": {"review": 5}}, 422, "review: Input should be a valid string"),
    "missing field": ({"json": {"text": "good"}}, 422, "review: Field required"),
    "a list, not an object": ({"json": ["good"]}, 422, "Input should be"),
    "wrong content type": ({"content": b"review=good"}, 415, "Content-Type: application/json"),
    "non-UTF-8 bytes": (
        {"content": b'{"review": "caf\xe9"}', "headers": {"Content-Type": "application/json"}},
        400,
        "not UTF-8",
    ),
}


@pytest.mark.parametrize(
    "request_arguments, status, explanation", BAD_REQUESTS.values(), ids=BAD_REQUESTS
)
def test_bad_requests_get_a_4xx_that_says_what_is_wrong_and_the_server_goes_on(
    client, request_arguments, status, explanation
):
    answer = client.post("/predict", **request_arguments)
    assert answer.status_code == status and explanation in answer.json()["detail"], answer.text
    assert client.post("/predict", json={"review": "good film"}).json()["label"] == "positive"


def test_a_batch_of_10000_reviews_or_with_a_bad_review_is_refused_with_the_limit(client):
    too_many = client.post("/predict/batch", json={"reviews": ["good"] * 10_000})
    assert too_many.status_code == 422
    assert f"at most {MAX_BATCH_REVIEWS} items" in too_many.json()["detail"]
    one_bad = client.post("/predict/batch", json={"reviews": ["good", 7]})
    assert one_bad.status_code == 422 and "reviews.1" in one_bad.json()["detail"]
    assert client.post("/predict/batch", json={"reviews": []}).status_code == 422


@pytest.mark.parametrize("damage", ["missing model", "missing preprocessing", "corrupt model"])
def test_a_missing_or_corrupt_model_file_stops_start_up_with_what_to_do(model_folder, damage):
    target = model_folder / (
        PREPROCESSING_NAME if damage == "missing preprocessing" else MODEL_NAME
    )
    if damage == "corrupt model":
        target.write_bytes(target.read_bytes()[:100])
    else:
        target.unlink()
    with pytest.raises(ModelFilesError, match="make chapters"):
        SentimentModel(model_folder / MODEL_NAME, model_folder / PREPROCESSING_NAME)


def test_preprocessing_from_another_run_is_refused(model_folder):
    settings = json.loads((model_folder / PREPROCESSING_NAME).read_text())
    (model_folder / PREPROCESSING_NAME).write_text(json.dumps(settings | {"sequence_length": 9}))
    with pytest.raises(ModelFilesError, match="different runs"):
        SentimentModel(model_folder / MODEL_NAME, model_folder / PREPROCESSING_NAME)


def make_app(folder: Path, user: str, port: int) -> subprocess.Popen:
    """`make app` from the repository root as the setup page types it, reading chapter 2's files from folder."""
    command = (NOBODY if user == "an ordinary user" else []) + ["make", "app", f"PORT={port}"]
    return subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=os.environ | {"COURSE_OUTPUT_DIR": str(folder), "HOME": str(folder)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def test_the_book_shows_the_request_tested_here():
    page = nbformat.read(REPO_ROOT / "book" / "web_app.ipynb", as_version=4)
    assert any(CURL in cell.source for cell in page.cells)


@pytest.mark.parametrize("user", ["this user", "an ordinary user"])
def test_make_app_serves_the_model_on_this_machine(user):
    if user == "an ordinary user" and os.getuid() != 0:
        pytest.skip("this user is the ordinary user; only root can run make as another")
    folder = Path(tempfile.mkdtemp(prefix="app-run-"))  # outside root's private temporary folder
    try:
        (folder / "artifacts").mkdir()
        write_tiny_model(folder / "artifacts")
        for path in [folder, *folder.rglob("*")]:
            path.chmod(0o777 if path.is_dir() else 0o644)
        with enterable_by_everyone(REPO_ROOT, Path(sys.executable).resolve()):
            port = free_port()
            server = make_app(folder, user, port)
            try:
                address = first_address(server.stdout, r"http://127\.0\.0\.1:\d+", seconds=120)
                assert "in your browser" in page_at(address, seconds=60)
                assert json.loads(page_at(f"{address}/health", 30))["status"] == "ok"
                # the book's request, sent to this port
                curl = subprocess.run(
                    CURL.replace(":8000", f":{port}"), shell=True, capture_output=True, text=True
                )
                assert json.loads(curl.stdout)["label"] in ("positive", "negative"), curl
            finally:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(timeout=60)
    finally:
        shutil.rmtree(folder)


def test_make_app_without_chapter_2s_model_says_how_to_make_it(tmp_path):
    server = make_app(tmp_path, "this user", free_port())
    output, _ = server.communicate(timeout=120)
    assert server.returncode != 0
    assert "review_sentiment.onnx is missing" in output and "make chapters" in output, output

"""A bounded load test on loopback: latency and throughput of POST /predict at several concurrencies.

    .venv/bin/python -m tools.load_test --requests 300

starts the app twice (micro-batching on, then off) on 127.0.0.1, sends real test reviews from
`concurrency` clients at once, and prints p50/p99 latency, throughput and errors for each; then races the two
settings at 32 clients in interleaved rounds, for the throughput gain of micro-batching with its interval.
"""

import argparse
import asyncio
import itertools
import json
import re
import time

import numpy as np

from onnx_crossings.data import imdb
from onnx_crossings.teaching.benchmark import Race, SpeedRatio
from tools.local_server import health, running_server

CONCURRENCIES = (1, 8, 32)
WARM_UP_REQUESTS = 20
TIME_LIMIT_SECONDS = 120  # per level: the test stops there even if requests remain
GOAL_P99_MS_AT_8 = 50
GOAL_BATCHING_GAIN_AT_32 = 2.0
GAIN_ROUNDS = 8  # interleaved rounds of micro-batching on and off, for the gain's interval


def load_test_reviews(count: int, seed: int = 0) -> list[str]:
    """A balanced sample of real IMDb test reviews."""
    data = imdb.load_imdb()
    return [data.test_texts[i] for i in imdb.balanced_sample(data.test_labels, count, seed)]


def predict_requests(reviews: list[str], base_url: str) -> list[bytes]:
    """Each review as the raw bytes of an HTTP/1.1 POST /predict, encoded before the clock starts."""
    requests = []
    for review in reviews:
        body = json.dumps({"review": review}).encode()
        head = (
            f"POST /predict HTTP/1.1\r\nHost: {base_url.removeprefix('http://')}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        requests.append(head.encode() + body)
    return requests


async def _exchange(reader, writer, request: bytes) -> int:
    """Send one request on a kept-alive connection; read the whole answer and return its status code."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = re.search(rb"(?i)content-length: *(\d+)", head)
    await reader.readexactly(int(length.group(1)))
    return status


# A bare HTTP/1.1 client over asyncio streams: an HTTP library's client costs more CPU per request than the
# server does, and on 2 cores it would measure itself.
async def _load(base_url: str, requests: list[bytes], concurrency: int, count: int) -> dict:
    """Send count requests from concurrency kept-alive connections at once; latencies and errors."""
    port = int(base_url.rsplit(":", 1)[1])
    next_request = itertools.cycle(requests)
    remaining = iter(range(count))
    latencies, errors = [], 0
    deadline = time.perf_counter() + TIME_LIMIT_SECONDS

    async def client_loop() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for _ in range(WARM_UP_REQUESTS // concurrency + 1):
                await _exchange(reader, writer, next(next_request))
            await warmed_up.wait()
            for _ in remaining:
                if time.perf_counter() > deadline:
                    return
                started = time.perf_counter()
                try:
                    status = await asyncio.wait_for(
                        _exchange(reader, writer, next(next_request)), 30
                    )
                except (OSError, asyncio.IncompleteReadError, TimeoutError):
                    errors += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    continue
                if status == 200:
                    latencies.append(time.perf_counter() - started)
                else:
                    errors += 1
        finally:
            writer.close()

    warmed_up = asyncio.Event()
    clients = [asyncio.create_task(client_loop()) for _ in range(concurrency)]
    await asyncio.sleep(0.5)  # every connection opened and warm
    runs_before = health(base_url)["model_runs"]
    started = time.perf_counter()
    warmed_up.set()
    await asyncio.gather(*clients)
    seconds = time.perf_counter() - started
    runs = health(base_url)["model_runs"]
    milliseconds = 1000 * np.array(latencies)
    return {
        "concurrency": concurrency,
        "requests": len(latencies) + errors,
        "errors": errors,
        "p50_ms": round(float(np.percentile(milliseconds, 50)), 2),
        "p99_ms": round(float(np.percentile(milliseconds, 99)), 2),
        "per_second": round(len(latencies) / seconds, 1),
        "mean_batch": round(len(latencies) / (runs - runs_before), 2) if runs is not None else 1.0,
    }


def load_test(
    reviews: list[str], requests: int, concurrencies=CONCURRENCIES
) -> dict[str, list[dict]]:
    """The load at each concurrency, with micro-batching on and off: {"on": [...], "off": [...]}."""
    levels = {}
    for micro_batching in (True, False):
        with running_server(micro_batching) as base_url:
            request_bytes = predict_requests(reviews, base_url)
            levels["on" if micro_batching else "off"] = [
                asyncio.run(_load(base_url, request_bytes, concurrency, requests))
                for concurrency in concurrencies
            ]
    return levels


def batching_gain(
    reviews: list[str], requests_per_round: int, rounds: int = GAIN_ROUNDS, concurrency: int = 32
) -> SpeedRatio:
    """Throughput with micro-batching on against off, both servers up, their loads taking turns in each round.

    A busy moment on the machine (the load generator shares its cores) then slows both settings alike, and the
    gain gets an interval from the rounds, as every speed comparison in the course does.
    """
    settings = {"micro-batching on": True, "micro-batching off": False}
    seconds_per_request = {setting: np.empty((rounds, 1)) for setting in settings}
    order = np.random.default_rng(0)
    with running_server(True) as on_url, running_server(False) as off_url:
        urls = dict(zip(settings, (on_url, off_url), strict=True))
        requests = {setting: predict_requests(reviews, url) for setting, url in urls.items()}
        for round_ in range(rounds):
            for setting in order.permutation(list(settings)):
                level = asyncio.run(
                    _load(urls[setting], requests[setting], concurrency, requests_per_round)
                )
                seconds_per_request[setting][round_] = 1 / level["per_second"]
    return Race(seconds_per_request, batch_size=1, threads=0).ratio(*settings)


def goals(levels: dict[str, list[dict]], gain: SpeedRatio) -> dict:
    """The web app's goals, measured: p99 at concurrency 8 (batching on) and the raced throughput gain at 32."""
    on = {level["concurrency"]: level for level in levels["on"]}
    return {
        "p99_ms_at_8": on[8]["p99_ms"] if 8 in on else None,
        "p99_goal_ms": GOAL_P99_MS_AT_8,
        "batching_gain_at_32": round(gain.times, 2),
        "batching_gain_interval": [round(gain.low, 2), round(gain.high, 2)],
        "batching_gain_rounds": gain.rounds,
        "batching_gain_goal": GOAL_BATCHING_GAIN_AT_32,
    }


def goal_verdicts(measured: dict) -> list[str]:
    """Each measured goal in one sentence: the figure, and whether it meets its goal (for the gain, its interval)."""
    verdicts = []
    p99, p99_goal = measured["p99_ms_at_8"], measured["p99_goal_ms"]
    if p99 is not None:
        within = "within" if p99 <= p99_goal else "over"
        verdicts.append(
            f"p99 at 8 clients, batching on: {p99:.1f} ms, {within} the {p99_goal} ms goal."
        )
    gain, (low, high) = measured["batching_gain_at_32"], measured["batching_gain_interval"]
    goal = measured["batching_gain_goal"]
    meeting = (
        "meeting" if low >= goal else "short of" if high < goal else "too close to tell against"
    )
    verdicts.append(
        f"Throughput at 32 clients, on / off: {gain:.2f}x (95% interval {low:.2f}x to {high:.2f}x over "
        f"{measured['batching_gain_rounds']} interleaved rounds), {meeting} the {goal}x goal."
    )
    return verdicts


def table(levels: dict[str, list[dict]]) -> str:
    """The load figures as a text table."""
    lines = ["micro-batching  clients  requests  errors  p50 ms  p99 ms  requests/s  mean batch"]
    for setting, rows in levels.items():
        for row in rows:
            lines.append(
                f"{setting:>14}  {row['concurrency']:>7}  {row['requests']:>8}  {row['errors']:>6}  "
                f"{row['p50_ms']:>6.1f}  {row['p99_ms']:>6.1f}  {row['per_second']:>10.0f}  "
                f"{row['mean_batch']:>10.1f}"
            )
    return "\n".join(lines)


def main() -> None:
    """Run the load test from the command line and print its table and the goals."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--requests", type=int, default=1000, help="requests per level (default 1000)"
    )
    parser.add_argument("--concurrency", type=int, nargs="+", default=list(CONCURRENCIES))
    arguments = parser.parse_args()
    reviews = load_test_reviews(1000)
    levels = load_test(reviews, arguments.requests, arguments.concurrency)
    print(table(levels))
    print("\n".join(goal_verdicts(goals(levels, batching_gain(reviews, arguments.requests)))))


if __name__ == "__main__":
    main()

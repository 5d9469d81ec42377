"""`python -m tools.web_app_figures` (in `make chapters`): the web app's parity and load figures, and its screenshot.

Starts the app on 127.0.0.1, scores every IMDb test review (and the edge cases) in headless Chromium and in
Python, compares them, takes the screenshot the book shows, runs the load test with micro-batching on and
off, and writes results/web_app.json and results/web_app.png.
"""

from onnx_crossings.app.model import SentimentModel, model_files
from onnx_crossings.data import imdb
from onnx_crossings.plumbing.paths import results_dir
from onnx_crossings.plumbing.results import save_results
from onnx_crossings.teaching import benchmark
from tools import browser_parity, load_test
from tools.local_server import running_server

SCREENSHOT_REVIEW = (
    "The acting was superb and the score gave me chills, but the plot felt contrived and the ending "
    "was rushed. Still, a lovely film that I'd happily watch again. Cinematografy: 8/10."
)
LOAD_REQUESTS = 1000  # per concurrency level
GAIN_REQUESTS = 300  # per round of the micro-batching race
RUN_SIZES = (1, 4, 16, 64)  # reviews per model run, timed in this process


def model_ms_per_review(model: SentimentModel, reviews: list[str]) -> dict[str, float]:
    """Median milliseconds per review of one model run (preprocessing included), at each of RUN_SIZES, raced."""
    sizes = {str(size): reviews[:size] for size in RUN_SIZES}
    race = benchmark.race(
        {size: (lambda run=run: model.score(run)) for size, run in sizes.items()},
        batch_size=1,
        threads=0,
        rounds=10,
        calls=5,
    )
    return {size: round(race.median_ms(size) / len(run), 3) for size, run in sizes.items()}


def main() -> None:
    """Measure everything and save it."""
    model = SentimentModel(*model_files())
    data = imdb.load_imdb()
    reviews = [*data.test_texts, *browser_parity.EDGE_CASES]
    with running_server() as base_url, browser_parity.app_page(base_url) as page:
        parity = browser_parity.compare_with_python(page, model, reviews)
        characters = browser_parity.character_differences(page)
        latency = browser_parity.browser_latency_ms(page, data.test_texts[0])
        shot = browser_parity.screenshot(page, results_dir() / "web_app.png", SCREENSHOT_REVIEW)
    load_reviews = load_test.load_test_reviews(1000)
    per_review = model_ms_per_review(model, load_reviews)
    levels = load_test.load_test(load_reviews, LOAD_REQUESTS)
    gain = load_test.batching_gain(load_reviews, GAIN_REQUESTS)
    print(load_test.table(levels))
    figures = {
        "model_version": model.version,
        "onnx_megabytes": round(model.onnx_path.stat().st_size / 1e6, 1),
        "model_ms_per_review_by_run_size": per_review,
        "parity": parity | {"features": browser_parity.features(reviews)},
        "character_differences": {rule: len(points) for rule, points in characters.items()},
        "browser_batch_1": latency,
        "load": levels,
        "load_requests_per_level": LOAD_REQUESTS,
        "goals": load_test.goals(levels, gain),
    }
    print(f"Saved web_app.json and {shot.name}:", save_results("web_app", figures))
    print(figures)


if __name__ == "__main__":
    main()

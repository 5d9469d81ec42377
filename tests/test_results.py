"""The committed results agree with the committed notebooks and meet the course's targets."""

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from onnx_crossings.data import stocks
from onnx_crossings.plumbing import results
from onnx_crossings.plumbing.paths import REPO_ROOT
from onnx_crossings.plumbing.results import committed_results, load_results, save_results
from tools.budgets import (
    BUDGET_SECONDS,
    CI_LIMIT_SECONDS,
    GRADING_BUDGET_SECONDS,
    budget_table,
    ci_budget_seconds,
    committed_notebook_times,
    load_notebook_times,
    overruns,
    save_notebook_time,
    time_budget_report,
)

CHAPTERS = {path.stem: path for path in sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))}
ACCURACY_TARGETS = {"01_mnist_pytorch_to_tensorflow": 0.992, "02_imdb_keras_to_pytorch": 0.889}


def test_save_and_load_round_trip(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path))
    path = save_results("chapter9", {"accuracy": {"A": 0.5}})
    assert path == tmp_path / "results" / "chapter9.json"
    assert load_results() == {"chapter9": {"accuracy": {"A": 0.5}}}
    assert [p.name for p in path.parent.iterdir()] == ["chapter9.json"]


def test_a_lone_chapter_reads_the_committed_results_its_package_carries(tmp_path, monkeypatch):
    installed = tmp_path / "share" / "onnx-crossings" / "results"
    installed.mkdir(parents=True)
    (installed / "02_imdb_keras_to_pytorch.json").write_text('{"accuracy": {"ONNX Runtime": 0.9}}')
    monkeypatch.setattr(results, "REPO_ROOT", tmp_path / "no-clone")
    monkeypatch.setattr(results, "INSTALLED_RESULTS", installed)
    assert committed_results("02_imdb_keras_to_pytorch") == {"accuracy": {"ONNX Runtime": 0.9}}
    with pytest.raises(FileNotFoundError, match="reinstall the course's package"):
        committed_results("chapter9")


def test_the_package_is_one_import_package_carrying_the_committed_results(tmp_path):
    """What pip installs: onnx_crossings, the web app's page and the results; not tools/ (budgets, harness)."""
    # built from a copy, so that setuptools' build folder stays out of the clone
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "requirements.txt", "requirements-nodeps.txt"):
        shutil.copy(REPO_ROOT / name, source)
    for folder in ("onnx_crossings", "results", "tools", "tests"):
        shutil.copytree(
            REPO_ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
        + ["--wheel-dir", str(tmp_path), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {
        name.split("/")[0] for name in names if ".dist-info/" not in name and ".data/" not in name
    }
    assert top_level == {"onnx_crossings"}, f"the wheel installs {sorted(top_level)}"
    assert "onnx_crossings/app/static/index.html" in names, "the web app's page"
    carried = {
        Path(name).name for name in names if ".data/data/share/onnx-crossings/results/" in name
    }
    assert carried == {path.name for path in (REPO_ROOT / "results").glob("*.json")}


def saved_output(notebook: Path) -> str:
    """A notebook's stored output of its results cell: 'Saved <chapter>.json', then its figures or its digest."""
    for cell in nbformat.read(notebook, as_version=4).cells:
        for output in cell.get("outputs", []):
            text = output.get("text", "")
            if text.startswith("Saved "):
                return text
    raise AssertionError(
        f"{notebook.name} has no stored output of its results cell: run `make chapters`"
    )


# a figure as a notebook shows it: 9,938, 99.38%, -0.25, +13.00, 1.1e-05 (not the 1 of 01_mnist_pytorch_to_tensorflow)
FIGURE = re.compile(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?(?:e[-+]\d+)?%?(?![\w])")


def shown(cells: list) -> str:
    """Everything some code cells show: printed text, and tables as text and as HTML."""
    return "\n".join(
        output.get("text", "")
        + "".join(str(output.get("data", {}).get(kind, "")) for kind in ("text/plain", "text/html"))
        for cell in cells
        for output in cell.get("outputs", [])
    )


def test_every_figure_the_results_page_shows_is_one_its_chapter_shows():
    """Each page cell names the chapters it shows; each figure it shows must appear, so rounded, in one of them."""
    page = nbformat.read(REPO_ROOT / "book" / "results.ipynb", as_version=4)
    cells = [cell for cell in page.cells if cell.cell_type == "code" and cell.outputs]
    for cell in cells:
        assert "results" in cell.metadata, (
            f"results page cell {cell.id} does not say which chapters it shows "
            '(metadata "results": {"chapters": [...]}, empty for figures of no chapter)'
        )
    for cell in cells:
        chapters = cell.metadata["results"]["chapters"]
        if not chapters:
            continue
        chapter_cells = [
            chapter_cell
            for name in chapters
            for chapter_cell in nbformat.read(CHAPTERS[name], as_version=4).cells
        ]
        missing = sorted(
            set(FIGURE.findall(shown([cell]))) - set(FIGURE.findall(shown(chapter_cells)))
        )
        assert not missing, (
            f"results page cell {cell.id} shows {missing}, which {', '.join(chapters)} never shows: "
            "round each figure as the chapter does, or have the chapter show it"
        )


def test_reading_results_that_do_not_exist_creates_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path))
    assert load_results() == {} and load_notebook_times() == {}
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_committed_results_match_the_notebook_output(chapter):
    """The notebook printed either its figures in full or the saved file's digest: either must match the commit."""
    saved, _, figures = saved_output(CHAPTERS[chapter]).partition("\n")
    if figures.strip():
        assert committed_results(chapter) == json.loads(figures)
        return
    printed_digest = re.search(r"sha256 ([0-9a-f]{12})", saved)
    assert printed_digest, (
        f"{CHAPTERS[chapter].name} prints neither its figures nor a digest of the file it saved ({saved!r}): "
        'print results.digest(path) beside the name, as in f"Saved {path.name} (sha256 {results.digest(path)})"'
    )
    assert printed_digest[1] == results.digest(REPO_ROOT / "results" / f"{chapter}.json"), (
        f"results/{chapter}.json is not the file {CHAPTERS[chapter].name} saved: "
        "commit the results of the run its outputs show"
    )


@pytest.mark.parametrize("chapter", ACCURACY_TARGETS)
def test_committed_accuracies_meet_the_targets(chapter):
    for framework, accuracy in committed_results(chapter)["accuracy"].items():
        assert accuracy >= ACCURACY_TARGETS[chapter], framework


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_committed_parity_names_its_quantity_and_tolerance_and_labels_agree(chapter):
    figures = committed_results(chapter)
    assert figures["max_abs_diff"], "every chapter crosses at least once"
    assert figures["parity_quantity"] in ("logits", "log returns")
    for framework in figures["max_abs_diff"]:
        tolerance = figures["parity_tolerance"].get(framework, figures["parity_tolerance"])
        assert set(tolerance) == {"rtol", "atol"}, framework
        assert figures["label_agreement"][framework] >= 0.9999, framework


def test_committed_bonus_meets_its_accuracy_and_int8_goals():
    figures = committed_results("01b_mnist_deeper_smaller_faster")
    # the chapter's target: two standard errors (0.07 points each on 10,000 digits) below the 99.5% these reach
    assert figures["test_accuracy"][figures["best_model"]] >= 0.994
    static = {name: q for name, q in figures["quantized"].items() if name.endswith(", MinMax")}
    assert len(static) == 2, "the chapter's CNN and the best model are quantized"
    for name, quantized in static.items():
        model = name.removesuffix(", MinMax")
        assert quantized["megabytes"] <= 0.3 * figures["onnx_megabytes"][model], name
        assert figures["int8_rule"][model] == "meets", f"{name}: the course's lower-precision rule"
        assert quantized["agreement_with_float"] >= 0.995, name
    assert len(figures["speed_verdicts"]) >= 10 and figures["timing_rounds"] >= 6


def test_committed_transformer_bonus_meets_its_int8_goals_and_reports_the_data_size_comparison():
    figures = committed_results("02b_imdb_pretrained_transformer")
    runtimes = figures["runtimes"]
    float_accuracy = runtimes["MiniLM, ONNX Runtime"]["accuracy"]
    assert runtimes["MiniLM, PyTorch"]["accuracy"] == float_accuracy, "parity: the same labels"
    assert figures["int8_megabytes"] <= 0.3 * figures["onnx_megabytes"]
    rule = figures["int8_rule"]
    assert rule["reviews"] == figures["evaluation_reviews"], "judged on every evaluation review"
    parts = {rule["labels_kept"], rule["accuracy"]}
    expected = "misses" if "misses" in parts else "meets" if parts == {"meets"} else "undecided"
    assert rule["verdict"] == expected, "the verdict follows from its two parts"
    assert set(figures["speed_verdicts"]) and all(
        "as fast" in v or "level" in v for v in figures["speed_verdicts"].values()
    )
    sizes = figures["accuracy_by_training_reviews"]
    assert set(sizes) == {"MiniLM", "LSTM"} and set(sizes["MiniLM"]) == set(sizes["LSTM"])
    assert str(figures["training_reviews"]) in sizes["MiniLM"], "the fine-tuned model is a point"
    assert sizes["MiniLM"][str(figures["training_reviews"])] == float_accuracy


def test_committed_results_are_read_from_the_repository_wherever_runs_write(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path))
    expected = json.loads((REPO_ROOT / "results" / "02_imdb_keras_to_pytorch.json").read_text())
    assert committed_results("02_imdb_keras_to_pytorch") == expected


def test_forecast_scores_follow_from_the_errors_and_the_verdicts_from_the_p_values():
    figures = committed_results("03_aapl_keras_to_scikit_learn")
    scores = figures["test_scores"]
    assert {"persistence", "drift", "ridge", "LSTM"} <= set(scores), "the benchmarks are reported"
    for name, row in scores.items():
        for benchmark in ("persistence", "drift"):
            # on the same days, 1 − SSE / SSE_benchmark = 1 − RMSE² / RMSE_benchmark²
            expected = 1 - row["RMSE"] ** 2 / scores[benchmark]["RMSE"] ** 2
            assert row[f"R² vs {benchmark}"] == pytest.approx(expected, abs=1e-9), name
        assert abs(row["R² vs persistence"]) < 0.1, (
            f"{name}: far above 0 means a leak, far below a bug"
        )
    for test in figures["diebold_mariano"]:
        significant = test["adjusted_p_value"] < 0.05
        assert (test["verdict"] != "is not distinguishable from") == significant, test
    placebo = [test for test in figures["diebold_mariano"] if test["period"].startswith("placebo")]
    assert placebo and not any(test["verdict"] == "beats" for test in placebo), (
        "skill found in noise"
    )
    for method, interval in figures["intervals"].items():
        assert (
            0.5 < interval["coverage"] <= 1 and interval["interval score"] >= interval["width"]
        ), method


def test_notebook_times_are_kept_beside_the_results_and_reported_against_budgets(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path))
    over = BUDGET_SECONDS["03_aapl_keras_to_scikit_learn"] + 1
    save_notebook_time("03_aapl_keras_to_scikit_learn", over)
    save_notebook_time("results", 1.04)
    save_notebook_time("99_new", 5)
    assert load_notebook_times() == {
        "03_aapl_keras_to_scikit_learn": over,
        "results": 1.0,
        "99_new": 5,
    }
    assert load_results() == {}, "the times are not a chapter's results"
    report = time_budget_report(load_notebook_times()).splitlines()
    warnings = [line for line in report if line.startswith("warning:")]
    assert (
        len(warnings) == 2
        and "over its budget" in warnings[0]
        and "99_new has no time budget" in warnings[1]
    )


def test_an_overrun_or_a_missing_budget_fails_the_budget_check():
    budget = BUDGET_SECONDS["03_aapl_keras_to_scikit_learn"]
    assert overruns({"03_aapl_keras_to_scikit_learn": budget}) == [], (
        "a notebook may use its whole budget"
    )
    assert overruns({"03_aapl_keras_to_scikit_learn": budget + 1, "99_new": 5}) == [
        f"03_aapl_keras_to_scikit_learn took {budget + 1} s, over its budget of {budget} s",
        "99_new has no time budget: add one in tools/budgets.py",
    ]


def test_every_notebook_ran_within_its_budget_in_the_committed_run():
    """Whoever re-executes a chapter commits its time (results/times/notebooks.json); an overrun fails here."""
    committed = committed_notebook_times()
    assert committed.keys() == BUDGET_SECONDS.keys(), "every notebook's time is committed"
    assert not overruns(committed), (
        "; ".join(overruns(committed))
        + ": make the notebook faster, or win the seconds back elsewhere and raise its budget (tools/budgets.py)"
    )


def test_ci_budgets_cover_every_notebook_add_up_to_at_most_the_limit_and_contributing_states_them():
    chapters = {path.stem for path in REPO_ROOT.glob("notebooks/*.ipynb")}
    pages = {path.stem for path in REPO_ROOT.glob("book/*.ipynb")}
    assert set(BUDGET_SECONDS) == chapters | pages and set(GRADING_BUDGET_SECONDS) == chapters
    contributing = (REPO_ROOT / "CONTRIBUTING.md").read_text()
    assert budget_table() in contributing, (
        "run: python tools/sync_chapter_text.py notebooks/*.ipynb"
    )
    total = ci_budget_seconds()
    assert total <= CI_LIMIT_SECONDS, (
        f"CI's budgets add up to {total / 60:.1f} minutes, over {CI_LIMIT_SECONDS / 60:.0f}: "
        "win the minutes back elsewhere (CONTRIBUTING.md, Time budgets) before adding a notebook or test"
    )


def test_the_web_app_figures_meet_their_targets_and_are_the_ones_its_page_shows():
    figures = committed_results("web_app")
    parity = figures["parity"]
    assert (
        parity["identical_token_ids"]
        == parity["identical_word_counts"]
        == parity["reviews"]
        > 25_000
    )
    assert parity["share_of_tolerance"] <= 1 and parity["label_agreement"] == 1.0
    assert set(figures["character_differences"].values()) == {0}
    assert all(level["errors"] == 0 for levels in figures["load"].values() for level in levels)
    page = nbformat.read(REPO_ROOT / "book" / "web_app.ipynb", as_version=4)
    shown = "".join(
        output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
        for cell in page.cells
        for output in cell.get("outputs", [])
    )
    assert f"model version {figures['model_version']}" in shown
    assert f"{parity['reviews']:,}" in shown
    goals = figures["goals"]
    assert f"{goals['p99_ms_at_8']:.1f} ms, within the {goals['p99_goal_ms']} ms goal" in shown
    low, high = goals["batching_gain_interval"]
    assert low <= goals["batching_gain_at_32"] <= high and goals["batching_gain_rounds"] >= 6
    assert f"95% interval {low:.2f}x to {high:.2f}x" in shown


def test_chapter3_benchmark_figures_match_an_independent_computation_from_the_snapshot():
    """Persistence's and drift's scores recomputed from the snapshot's closes in plain NumPy, not the chapter's."""
    close = stocks.snapshot_prices()["Close"]
    log_returns = np.diff(np.log(close.to_numpy()))  # log_returns[i] is the move into day i + 1
    # the first forecast: 50 days of indicator history, then a 20-day window ending on day 69 forecasts day 70
    forecast_days, actual = close.index[70:], log_returns[69:]
    previous_close, next_close = close.to_numpy()[69:-1], close.to_numpy()[70:]
    drift, naive_mae = np.empty(len(actual)), np.empty(len(actual))
    for year in (2022, 2023, 2024):
        test, before = forecast_days.year == year, forecast_days < pd.Timestamp(f"{year}-01-01")
        drift[test], naive_mae[test] = actual[before].mean(), np.abs(actual[before]).mean()
    tested = np.isin(forecast_days.year, (2022, 2023, 2024))
    expected = {}
    for name, forecast in (("persistence", np.zeros(len(actual))), ("drift", drift)):
        error = actual[tested] - forecast[tested]
        price_error = next_close[tested] - previous_close[tested] * np.exp(forecast[tested])
        expected[name] = {
            "RMSE": np.sqrt(np.mean(error**2)),
            "MAE": np.mean(np.abs(error)),
            "MASE": np.mean(np.abs(error) / naive_mae[tested]),
            "RMSE ($)": np.sqrt(np.mean(price_error**2)),
        }
    expected["drift"]["R² vs persistence"] = (
        1 - (expected["drift"]["RMSE"] / expected["persistence"]["RMSE"]) ** 2
    )
    figures = committed_results("03_aapl_keras_to_scikit_learn")
    assert figures["test_examples"] == tested.sum() == 752
    for name, scores in expected.items():
        for measure, value in scores.items():
            # the chapter keeps returns in float32, as the network reads them: agreement to about 1e-6
            assert figures["test_scores"][name][measure] == pytest.approx(value, rel=1e-5), (
                name,
                measure,
            )

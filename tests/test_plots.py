import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from onnx_crossings.teaching import plots


@pytest.fixture(autouse=True)
def close_figures():
    yield
    matplotlib.pyplot.close("all")


def test_show_images_titles_every_image_and_hides_spare_axes():
    figure = plots.show_images(np.zeros((7, 28, 28)), [str(i) for i in range(7)], columns=5)
    titled = [axis.get_title() for axis in figure.axes if axis.get_title()]
    assert titled == [str(i) for i in range(7)]
    assert len(figure.axes) == 10


def test_show_images_share_one_colour_scale_and_bar_when_asked():
    images = np.stack([np.zeros((4, 4)), np.full((4, 4), 2.0)])
    images[0, 0, 0] = -1.0
    alone = plots.show_images(images, ["a", "b"], columns=2)
    assert [axis.images[0].get_clim() for axis in alone.axes] == [(-1.0, 0.0), (2.0, 2.0)]
    shared = plots.show_images(images, ["a", "b"], columns=2, colour_bar="value")
    assert {axis.images[0].get_clim() for axis in shared.axes[:2]} == {(-1.0, 2.0)}
    assert len(shared.axes) == 3 and shared.axes[-1].get_ylabel() == "value"


def test_class_balance_bars_are_shares_in_percent():
    figure = plots.plot_class_balance(
        {"a": np.array([0, 0, 0, 1]), "b": np.array([1, 1])}, ["x", "y"]
    )
    heights = [patch.get_height() for patch in figure.axes[0].patches]
    assert heights == [75.0, 25.0, 0.0, 100.0]


def test_learning_curves_plot_both_splits_per_metric():
    history = {
        "train_loss": [1, 0.5],
        "val_loss": [1.1, 0.7],
        "train_accuracy": [0.5, 0.8],
        "val_accuracy": [0.4, 0.7],
    }
    figure = plots.plot_learning_curves(history)
    loss_axis, accuracy_axis = figure.axes
    assert [line.get_ydata().tolist() for line in loss_axis.lines] == [[1, 0.5], [1.1, 0.7]]
    assert [line.get_ydata().tolist() for line in accuracy_axis.lines] == [[50, 80], [40, 70]]


def test_confusion_matrix_counts_cells():
    figure = plots.plot_confusion_matrix(
        np.array([0, 0, 1, 1, 1]), np.array([0, 1, 1, 1, 0]), ["n", "p"]
    )
    texts = [text.get_text() for text in figure.axes[0].texts]
    assert texts == ["1", "1", "1", "2"]


def test_confusion_matrices_side_by_side_share_one_colour_scale():
    true = np.array([0, 0, 1, 1, 1])
    figure = plots.plot_confusion_matrices(
        true, {"A": np.array([0, 1, 1, 1, 0]), "B": true}, ["n", "p"]
    )
    left, right = figure.axes[:2]
    assert [left.get_title(), right.get_title()] == ["A", "B"]
    assert [text.get_text() for text in right.texts] == ["2", "0", "0", "3"]
    assert left.images[0].get_clim() == right.images[0].get_clim() == (0, 1)


def test_length_histogram_reports_the_share_kept_whole():
    figure = plots.plot_length_histogram(np.array([10, 20, 30, 400]), 100)
    labels = [line.get_label() for line in figure.axes[0].lines]
    assert labels[0] == "cutoff 100 words: 75% fit whole"


def test_learning_curves_without_accuracy_plot_the_loss_only():
    figure = plots.plot_learning_curves({"train_loss": [3, 2, 1], "val_loss": [4, 3, 2]})
    (loss_axis,) = figure.axes
    assert [line.get_ydata().tolist() for line in loss_axis.lines] == [[3, 2, 1], [4, 3, 2]]


def test_price_history_shades_and_counts_each_period():
    days = pd.bdate_range("2024-01-01", periods=30)
    close = pd.Series(np.linspace(100, 130, 30), index=days)
    figure = plots.plot_price_history(close, {"train": days[0], "test": days[20]})
    labels = [text.get_text() for text in figure.axes[0].texts]
    assert labels == ["train\n20 days", "test\n10 days"]
    assert len(figure.axes[0].patches) == 2


def test_forecasts_zoom_shows_the_last_days_of_every_series():
    days = pd.bdate_range("2024-01-01", periods=50)
    actual = pd.Series(np.arange(50.0), index=days)
    figure = plots.plot_forecasts(actual, {"model": actual + 1}, zoom_days=10)
    whole, zoom = figure.axes
    assert [len(line.get_ydata()) for line in whole.lines] == [50, 50]
    assert zoom.lines[1].get_ydata().tolist() == list(np.arange(40.0, 50.0) + 1)
    assert [whole.get_title(), zoom.get_title()] == ["The whole period", "The last 10 trading days"]


def test_figures_leave_their_titles_to_the_chapters_captions():
    labels = np.array([0, 1, 1])
    close = pd.Series([1.0, 2.0], index=pd.bdate_range("2024-01-01", periods=2))
    figures = [
        plots.show_images(np.zeros((2, 28, 28)), ["a", "b"]),
        plots.plot_class_balance({"a": labels}, ["x", "y"]),
        plots.plot_learning_curves({"train_loss": [2, 1], "val_loss": [3, 2]}),
        plots.plot_confusion_matrix(labels, labels, ["x", "y"]),
        plots.plot_length_histogram(np.array([10, 20, 30]), 25),
        plots.plot_price_history(close, {"all": close.index[0]}),
    ]
    assert [figure.get_suptitle() for figure in figures] == [""] * len(figures)
    assert [figure.axes[0].get_title() for figure in figures[1:]] == [""] * (len(figures) - 1)


def test_validation_accuracy_draws_one_line_per_model_in_percent():
    figure = plots.plot_validation_accuracy(
        {"small": {"val_accuracy": [0.9, 0.95]}, "deep": {"val_accuracy": [0.92, 0.99]}}
    )
    lines = figure.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["small", "deep"]
    np.testing.assert_allclose(lines[1].get_ydata(), [92, 99])


def test_accuracy_vs_latency_marks_each_row_with_area_growing_with_size():
    points = pd.DataFrame(
        {
            "model": ["a", "a", "b"],
            "runtime": ["ORT", "ORT int8", "ORT"],
            "accuracy": [0.99, 0.985, 0.995],
            "p50_ms": [0.5, 0.3, 1.2],
            "megabytes": [1.7, 0.45, 3.0],
        }
    )
    axis = plots.plot_accuracy_vs_latency(points).axes[0]
    sizes = np.concatenate([collection.get_sizes() for collection in axis.collections])
    assert len(sizes) == 3 and sizes[0] > sizes[1] and sizes[2] == sizes.max()
    assert [text.get_text() for text in axis.texts] == ["ORT", "ORT int8", "ORT"]
    assert axis.get_xscale() == "log"


def test_file_sizes_bars_are_sorted_and_labelled():
    axis = plots.plot_file_sizes({"float": 1.7, "int8": 0.45, "fp16": 0.9}).axes[0]
    assert [label.get_text() for label in axis.get_yticklabels()] == ["int8", "fp16", "float"]
    assert [text.get_text() for text in axis.texts] == ["0.45 MB", "0.90 MB", "1.70 MB"]


def test_learning_curves_at_fractional_epochs_use_them_as_x():
    history = {"epoch": [0.5, 1.0, 1.5], "train_loss": [3, 2, 1], "val_loss": [3, 2, 2]}
    lines = plots.plot_learning_curves(history).axes[0].get_lines()
    np.testing.assert_allclose(lines[0].get_xdata(), [0.5, 1.0, 1.5])


def test_accuracy_vs_training_size_draws_a_line_per_model():
    figure = plots.plot_accuracy_vs_training_size(
        {"transformer": {500: 0.8, 250: 0.7}, "LSTM": {250: 0.55, 500: 0.6}}
    )
    axis = figure.axes[0]
    lines = [line for line in axis.get_lines() if line.get_label() in ("transformer", "LSTM")]
    assert [line.get_xdata().tolist() for line in lines] == [[250, 500], [250, 500]]
    np.testing.assert_allclose(lines[0].get_ydata(), [70, 80])
    assert axis.get_xticks().tolist() == [250, 500]
    assert axis.get_xscale() == "log" and figure.get_suptitle() == ""


def test_price_history_refuses_more_periods_than_it_has_colours():
    days = pd.bdate_range("2024-01-01", periods=30)
    close = pd.Series(np.linspace(100, 130, 30), index=days)
    with pytest.raises(ValueError, match="at most 6 periods"):
        plots.plot_price_history(close, {str(i): days[3 * i] for i in range(7)})


def test_walk_forward_draws_each_folds_three_parts_and_counts_its_forecasts():
    days = pd.bdate_range("2024-01-01", periods=30)
    folds = [
        {"training": np.arange(0, 10), "validation": np.arange(10, 15), "test": np.arange(15, 20)},
        {"training": np.arange(0, 15), "validation": np.arange(15, 20), "test": np.arange(20, 30)},
    ]
    axis = plots.plot_walk_forward(days, folds).axes[0]
    assert len(axis.patches) == 6
    assert [text.get_text() for text in axis.texts] == ["5 forecasts", "10 forecasts"]


def test_return_intervals_count_the_days_outside_each_interval():
    days = pd.bdate_range("2024-01-01", periods=4)
    actual = pd.Series([0.0, 0.03, -0.03, 0.01], index=days)
    figure = plots.plot_return_intervals(
        actual,
        {
            "wide": (np.full(4, -0.05), np.full(4, 0.05)),
            "narrow": (np.full(4, -0.02), np.full(4, 0.02)),
        },
    )
    assert [axis.get_title(loc="left") for axis in figure.axes] == [
        "wide: 0% of days outside",
        "narrow: 50% of days outside",
    ]


def test_divergence_bars_are_shares_of_tolerance_red_when_over_it():
    from onnx_crossings.teaching.divergence import TensorDifference

    def difference(tensor, largest, tolerance):
        return TensorDifference(0, tensor, "Add", tensor, largest, 1.0, tolerance)

    figure = plots.plot_divergence(
        {
            "a run": [
                difference("same", 0.0, 0.1),
                difference("close", 0.05, 0.1),
                difference("far", 10.0, 0.1),
                difference("reshaped", np.inf, 0.1),
            ]
        }
    )
    bars = figure.axes[0].patches
    assert [bar.get_height() for bar in bars] == pytest.approx([1e-3, 0.5, 100.0, 1e6])
    red = matplotlib.colors.to_rgba("tab:red")
    assert [bar.get_facecolor() == red for bar in bars] == [False, False, True, True]
    assert figure.axes[0].get_title(loc="left") == "a run"


def test_quantile_calibration_draws_each_method_its_band_and_the_diagonal():
    figure = plots.plot_quantile_calibration(
        {
            "normal": {0.5: 0.52, 0.1: 0.08, 0.9: 0.93},
            "two quantiles": {0.05: 0.1, 0.95: 0.9},
        },
        days=100,
    )
    axis = figure.axes[0]
    diagonal, normal, two = axis.get_lines()
    assert diagonal.get_xydata().tolist() == [[0, 0], [100, 100]]
    np.testing.assert_allclose(normal.get_xdata(), [10, 50, 90])
    np.testing.assert_allclose(normal.get_ydata(), [8, 52, 93])
    assert normal.get_linestyle() == "-" and normal.get_marker() == "o"
    assert two.get_linestyle() == "None" and two.get_marker() == "o"
    # the band at the median: 50 ± 1.96 × sqrt(0.25 / 100) × 100 = 50 ± 9.8 points
    (band,) = axis.collections
    vertices = band.get_paths()[0].vertices
    at_median = vertices[np.isclose(vertices[:, 0], 50)][:, 1]
    np.testing.assert_allclose(sorted(at_median), [50 - 9.79982, 50 + 9.79982], atol=1e-4)
    assert figure.get_suptitle() == "" and axis.get_title() == ""

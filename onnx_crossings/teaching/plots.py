"""Figures the chapters show, without overall titles: each chapter's figure caption names the figure."""

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd


def show_images(
    images: np.ndarray,
    titles: Sequence[str],
    *,
    columns: int = 10,
    title_colours: Sequence[str] | None = None,
    colour_bar: str | None = None,
) -> plt.Figure:
    """A grid of grey-scale images, each with a short title; given a colour bar's label, all on one colour scale."""
    rows = -(-len(images) // columns)
    width = 1.2 * columns + (0.9 if colour_bar else 0)
    figure, axes = plt.subplots(rows, columns, figsize=(width, 1.45 * rows), squeeze=False)
    # each image scaled to its own range, unless they share one: the range of them all
    shared = {"vmin": float(np.min(images)), "vmax": float(np.max(images))} if colour_bar else {}
    for index, axis in enumerate(axes.flat):
        axis.axis("off")
        if index < len(images):
            shown = axis.imshow(images[index].squeeze(), cmap="gray_r", **shared)
            color = title_colours[index] if title_colours else "black"
            axis.set_title(titles[index], fontsize=9, color=color)
    figure.tight_layout()
    if colour_bar:
        figure.colorbar(shown, ax=axes.ravel().tolist(), label=colour_bar, fraction=0.03, pad=0.02)
    return figure


def plot_class_balance(
    labels_by_split: dict[str, np.ndarray], class_names: Sequence[str]
) -> plt.Figure:
    """Grouped bars of each class's share in every split."""
    figure, axis = plt.subplots(figsize=(9, 3.2))
    width = 0.8 / len(labels_by_split)
    positions = np.arange(len(class_names))
    for offset, (split, labels) in enumerate(labels_by_split.items()):
        shares = np.bincount(labels, minlength=len(class_names)) / len(labels)
        axis.bar(
            positions + offset * width, 100 * shares, width, label=f"{split} ({len(labels):,})"
        )
    axis.set_xticks(positions + width * (len(labels_by_split) - 1) / 2, class_names)
    axis.set_ylabel("share of split (%)")
    axis.legend(frameon=False, ncols=len(labels_by_split))
    axis.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return figure


def plot_learning_curves(history: dict[str, Sequence[float]]) -> plt.Figure:
    """Each metric per epoch (or at the fractional epochs in history["epoch"]), training against validation."""
    metrics = [key.removeprefix("train_") for key in history if key.startswith("train_")]
    figure, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.5), squeeze=False)
    epochs = history.get("epoch", np.arange(1, len(history["train_loss"]) + 1))
    for axis, metric in zip(axes.flat, metrics, strict=True):
        scale = 100 if metric == "accuracy" else 1
        for split in ("train", "val"):
            values = scale * np.asarray(history[f"{split}_{metric}"])
            axis.plot(
                epochs, values, marker="o", label="training" if split == "train" else "validation"
            )
        axis.set_xlabel("epoch")
        axis.set_ylabel("accuracy (%)" if metric == "accuracy" else metric)
        axis.xaxis.set_major_locator(plt.MaxNLocator(integer="epoch" not in history))
        axis.spines[["top", "right"]].set_visible(False)
        axis.legend(frameon=False)
    figure.tight_layout()
    return figure


def plot_confusion_matrix(
    true_labels: np.ndarray,
    predicted_labels: np.ndarray,
    class_names: Sequence[str],
) -> plt.Figure:
    """Confusion matrix of counts; the colour scale shows only the mistakes."""
    return plot_confusion_matrices(true_labels, {"": predicted_labels}, class_names)


def plot_confusion_matrices(
    true_labels: np.ndarray, predictions: dict[str, np.ndarray], class_names: Sequence[str]
) -> plt.Figure:
    """Confusion matrices side by side, one per titled set of predictions, on one colour scale for mistakes."""
    classes = len(class_names)
    panels = len(predictions)
    counts = np.zeros((panels, classes, classes), dtype=int)
    for panel, predicted_labels in enumerate(predictions.values()):
        np.add.at(counts[panel], (true_labels, predicted_labels), 1)
    errors = np.where(np.eye(classes, dtype=bool), 0, counts)
    fontsize = 8 if classes > 4 else 13
    figure, axes = plt.subplots(
        1, panels, figsize=(4.2 * panels + 0.8, 4), squeeze=False, layout="constrained"
    )
    for axis, title, panel_counts, panel_errors in zip(
        axes[0], predictions, counts, errors, strict=True
    ):
        image = axis.imshow(panel_errors, cmap="Reds", vmin=0, vmax=max(errors.max(), 1))
        for row in range(classes):
            for column in range(classes):
                on_diagonal = row == column
                on_dark_red = panel_errors[row, column] > errors.max() / 2
                axis.text(
                    column,
                    row,
                    panel_counts[row, column],
                    ha="center",
                    va="center",
                    fontsize=fontsize,
                    color="tab:green" if on_diagonal else ("white" if on_dark_red else "black"),
                    fontweight="bold" if on_diagonal else "normal",
                )
        axis.set_xticks(range(classes), class_names)
        axis.set_yticks(range(classes), class_names)
        axis.set_xlabel("predicted")
        axis.set_ylabel("true")
        axis.set_title(title)
    figure.colorbar(image, ax=axes[0].tolist(), label="mistakes")
    return figure


def plot_length_histogram(lengths: np.ndarray, cutoff: int, *, unit: str = "words") -> plt.Figure:
    """Histogram of sequence lengths with the chosen cutoff and the share of sequences it keeps whole."""
    figure, axis = plt.subplots(figsize=(9, 3.2))
    axis.hist(
        lengths, bins=np.arange(0, np.percentile(lengths, 99) + 20, 20), color="tab:blue", alpha=0.8
    )
    kept = (lengths <= cutoff).mean()
    axis.axvline(
        cutoff,
        color="tab:red",
        linestyle="--",
        label=f"cutoff {cutoff} {unit}: {kept:.0%} fit whole",
    )
    axis.axvline(
        np.median(lengths),
        color="black",
        linestyle=":",
        label=f"median {np.median(lengths):.0f} {unit}",
    )
    axis.set_xlabel(f"length ({unit})")
    axis.set_ylabel("count")
    axis.legend(frameon=False)
    axis.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return figure


PERIOD_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:olive", "tab:cyan")


def plot_price_history(close: pd.Series, periods: dict[str, pd.Timestamp]) -> plt.Figure:
    """A closing-price line with each named period (keyed by its first day, at most six) shaded and labelled."""
    if len(periods) > len(PERIOD_COLORS):
        raise ValueError(
            f"at most {len(PERIOD_COLORS)} periods can be told apart, got {len(periods)}"
        )
    figure, axis = plt.subplots(figsize=(10, 3.6))
    axis.plot(close.index, close, color="black", linewidth=1)
    starts = list(periods.values())
    ends = starts[1:] + [close.index[-1] + pd.Timedelta(days=1)]
    for (name, start), end, color in zip(periods.items(), ends, PERIOD_COLORS, strict=False):
        days = close.index[(close.index >= start) & (close.index < end)]
        axis.axvspan(days[0], days[-1], color=color, alpha=0.12)
        axis.text(
            days[0] + (days[-1] - days[0]) / 2,
            0.96,
            f"{name}\n{len(days):,} days",
            transform=axis.get_xaxis_transform(),
            ha="center",
            va="top",
            fontsize=9,
        )
    axis.set_ylabel("close (USD)")
    axis.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return figure


def plot_forecasts(
    actual: pd.Series, forecasts: dict[str, pd.Series], *, zoom_days: int = 40
) -> plt.Figure:
    """Actual prices against each forecast: the whole period on the left, its last `zoom_days` on the right."""
    figure, axes = plt.subplots(1, 2, figsize=(12, 3.8), gridspec_kw={"width_ratios": [3, 2]})
    for axis, days in zip(axes, (len(actual), zoom_days), strict=True):
        axis.plot(
            actual.index[-days:], actual.iloc[-days:], color="black", linewidth=1.6, label="actual"
        )
        for name, forecast in forecasts.items():
            axis.plot(forecast.index[-days:], forecast.iloc[-days:], linewidth=1, label=name)
        axis.set_ylabel("close (USD)")
        axis.tick_params(axis="x", labelrotation=30)
        axis.spines[["top", "right"]].set_visible(False)
    axes[0].set_title("The whole period")
    axes[1].set_title(f"The last {zoom_days} trading days")
    axes[1].legend(frameon=False, fontsize=9)
    figure.tight_layout()
    return figure


def plot_validation_accuracy(histories: dict[str, dict[str, Sequence[float]]]) -> plt.Figure:
    """Validation accuracy per epoch, one line per model."""
    figure, axis = plt.subplots(figsize=(6, 3.5))
    for name, history in histories.items():
        accuracy = 100 * np.asarray(history["val_accuracy"])
        axis.plot(np.arange(1, len(accuracy) + 1), accuracy, marker="o", label=name)
    axis.set_xlabel("epoch")
    axis.set_ylabel("validation accuracy (%)")
    axis.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    axis.spines[["top", "right"]].set_visible(False)
    axis.legend(frameon=False)
    figure.tight_layout()
    return figure


def plot_accuracy_vs_latency(points: pd.DataFrame) -> plt.Figure:
    """Test accuracy against batch-1 latency, a marker per row (area ∝ file size), coloured by model.

    Labels of points at about the same accuracy (to 0.1 points) fan out above and below them, joined by
    thin lines.
    """
    figure, axis = plt.subplots(figsize=(9, 6))
    area_per_megabyte = 400 / points["megabytes"].max()
    for model, rows in points.groupby("model", sort=False):
        axis.scatter(
            rows["p50_ms"],
            100 * rows["accuracy"],
            s=20 + area_per_megabyte * rows["megabytes"],
            alpha=0.6,
            label=model,
        )
    for _, same_accuracy in points.groupby(points["accuracy"].round(3), sort=False):
        for rank, row in enumerate(same_accuracy.sort_values("p50_ms").itertuples()):
            side = 1 if rank % 2 == 0 else -1
            axis.annotate(
                row.runtime,
                (row.p50_ms, 100 * row.accuracy),
                xytext=(0, side * (14 + 11 * (rank // 2))),
                textcoords="offset points",
                fontsize=7,
                ha="center",
                va="bottom" if side > 0 else "top",
                arrowprops={"arrowstyle": "-", "lw": 0.4, "color": "grey"},
            )
    axis.set_xscale("log")
    ticks = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)
    low, high = points["p50_ms"].min(), points["p50_ms"].max()
    axis.set_xticks([t for t in ticks if low / 2 <= t <= high * 2], minor=False)
    axis.xaxis.set_major_formatter(plt.FuncFormatter(lambda value, _: f"{value:g}"))
    axis.xaxis.set_minor_formatter(plt.NullFormatter())
    axis.margins(x=0.12, y=0.35)
    axis.set_xlabel("latency at batch 1, median (ms, log scale)")
    axis.set_ylabel("test accuracy (%)")
    axis.spines[["top", "right"]].set_visible(False)
    axis.legend(
        frameon=False, title="model (area: file size)", loc="upper left", bbox_to_anchor=(1, 1)
    )
    figure.tight_layout()
    return figure


def plot_file_sizes(megabytes: dict[str, float]) -> plt.Figure:
    """Horizontal bars of model file sizes in megabytes, largest at the top."""
    names = sorted(megabytes, key=megabytes.get)
    figure, axis = plt.subplots(figsize=(7, 0.35 * len(names) + 1))
    bars = axis.barh(names, [megabytes[name] for name in names])
    axis.bar_label(bars, fmt="%.2f MB", padding=3, fontsize=8)
    axis.set_xlabel("file size (MB)")
    axis.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return figure


def plot_accuracy_vs_training_size(curves: dict[str, dict[int, float]]) -> plt.Figure:
    """Test accuracy against the number of labelled training reviews (log scale), a line per model."""
    figure, axis = plt.subplots(figsize=(7, 4))
    for name, accuracies in curves.items():
        sizes = sorted(accuracies)
        values = [100 * accuracies[size] for size in sizes]
        axis.plot(sizes, values, marker="o", label=name)
        for size, value in zip(sizes, values, strict=True):
            axis.annotate(
                f"{value:.1f}",
                (size, value),
                xytext=(0, 6),
                textcoords="offset points",
                ha="center",
                fontsize=8,
            )
    axis.set_xscale("log")
    axis.set_xticks(sorted({size for accuracies in curves.values() for size in accuracies}))
    axis.xaxis.set_major_formatter(plt.FuncFormatter(lambda value, _: f"{value:,.0f}"))
    axis.xaxis.set_minor_formatter(plt.NullFormatter())
    axis.axhline(50, color="grey", linestyle=":", linewidth=1)
    axis.set_xlabel("labelled training reviews (log scale)")
    axis.set_ylabel("test accuracy (%)")
    axis.spines[["top", "right"]].set_visible(False)
    axis.legend(frameon=False, loc="lower right")
    figure.tight_layout()
    return figure


def plot_walk_forward(days: pd.DatetimeIndex, folds: list[dict[str, np.ndarray]]) -> plt.Figure:
    """One row per fold: the days its model trains on, validates on (early stopping) and is tested on."""
    figure, axis = plt.subplots(figsize=(10, 0.6 + 0.55 * len(folds)))
    colors = {"training": "tab:blue", "validation": "tab:orange", "test": "tab:green"}
    for row, fold in enumerate(folds):
        for part, color in colors.items():
            span = days[fold[part]]
            axis.barh(
                row,
                span[-1] - span[0],
                left=span[0],
                color=color,
                alpha=0.75,
                height=0.6,
                label=part if row == 0 else None,
            )
        axis.text(
            days[fold["test"]][-1] + pd.Timedelta(days=12),
            row,
            f"{len(fold['test'])} forecasts",
            va="center",
            fontsize=9,
        )
    axis.set_yticks(range(len(folds)), [f"fold {row + 1}" for row in range(len(folds))])
    axis.invert_yaxis()
    axis.legend(frameon=False, ncol=3, loc="lower left", bbox_to_anchor=(0, 1))
    axis.spines[["top", "right", "left"]].set_visible(False)
    figure.tight_layout()
    return figure


def plot_return_intervals(
    actual: pd.Series, intervals: dict[str, tuple[np.ndarray, np.ndarray]]
) -> plt.Figure:
    """Each day's actual return against each method's prediction interval, one panel per method."""
    figure, axes = plt.subplots(
        len(intervals), 1, figsize=(10, 2.6 * len(intervals)), sharex=True, sharey=True
    )
    for axis, (name, (lower, upper)), color in zip(
        np.atleast_1d(axes),
        intervals.items(),
        ("tab:purple", "tab:orange", "tab:grey", "tab:green"),
        strict=False,
    ):
        outside = (actual < lower) | (actual > upper)
        axis.fill_between(
            actual.index, 100 * lower, 100 * upper, color=color, alpha=0.3, linewidth=0
        )
        axis.scatter(actual.index[~outside], 100 * actual[~outside], s=6, color="black")
        axis.scatter(actual.index[outside], 100 * actual[outside], s=14, color="tab:red")
        axis.set_title(f"{name}: {outside.mean():.0%} of days outside", loc="left", fontsize=10)
        axis.set_ylabel("return (%)")
        axis.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return figure


def plot_divergence(comparisons: dict[str, Sequence]) -> plt.Figure:
    """Each node output's difference as a share of its tolerance, in graph order: one panel per comparison.

    Takes divergence.TensorDifference lists; bars over the dashed line at 1 are over their tolerance.
    Identical tensors are drawn at the axis's floor, tensors of another shape at its ceiling.
    """
    floor, ceiling = 1e-3, 1e6
    figure, axes = plt.subplots(
        len(comparisons), 1, figsize=(9, 2.4 * len(comparisons)), squeeze=False
    )
    for axis, (name, differences) in zip(axes.flat, comparisons.items(), strict=True):
        shares = [
            floor
            if d.max_difference == 0
            else ceiling
            if d.tolerance == 0 or not np.isfinite(d.max_difference)
            else float(np.clip(d.max_difference / d.tolerance, floor, ceiling))
            for d in differences
        ]
        positions = np.arange(len(differences))
        colours = ["tab:red" if d.diverges else "tab:green" for d in differences]
        axis.bar(positions, shares, color=colours)
        axis.axhline(1, color="black", linestyle="--", linewidth=1)
        axis.set_yscale("log")
        axis.set_ylim(floor, ceiling)
        axis.set_xticks(positions, [f"{d.op_type}\n{d.tensor}" for d in differences], fontsize=7)
        axis.set_ylabel("difference /\ntolerance")
        axis.set_title(name, fontsize=10, loc="left")
        axis.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return figure


def plot_quantile_calibration(hit_rates: dict[str, dict[float, float]], days: int) -> plt.Figure:
    """Each method's share of days at or below its quantile forecasts against the level: calibrated on the diagonal.

    The grey band is where 95% of a calibrated method's shares fall over `days` days; a method with two levels
    (an interval's bounds) shows its points only, as nothing joins them.
    """
    figure, axis = plt.subplots(figsize=(5.5, 5))
    levels = np.linspace(0, 1, 101)
    margin = 1.959964 * np.sqrt(levels * (1 - levels) / days)
    axis.fill_between(
        100 * levels,
        100 * (levels - margin),
        100 * (levels + margin),
        color="grey",
        alpha=0.25,
        linewidth=0,
        label=f"95% band of a calibrated method ({days:,} days)",
    )
    axis.plot([0, 100], [0, 100], color="black", linestyle=":", linewidth=1)
    for name, rates in hit_rates.items():
        nominal = sorted(rates)
        axis.plot(
            [100 * level for level in nominal],
            [100 * rates[level] for level in nominal],
            marker="o",
            linestyle="-" if len(nominal) > 2 else "none",
            label=name,
        )
    axis.set_xlim(0, 100)
    axis.set_ylim(0, 100)
    axis.set_xlabel("quantile level forecast (%)")
    axis.set_ylabel("share of days at or below the forecast (%)")
    axis.spines[["top", "right"]].set_visible(False)
    axis.legend(frameon=False, fontsize=9, loc="upper left")
    figure.tight_layout()
    return figure

"""The checks of chapter 3's exercises (notebooks/03_aapl_keras_to_scikit_learn.ipynb)."""

import os

import numpy as np
import onnx
import onnx.version_converter

from grading.checks import node_signatures
from helpers import benchmark, parity


def opset_11_versions(
    converter_error, opset11_path, changed_operators, onnx_model, windows, keras_returns, RTOL, ATOL
):
    """The converter's refusal is reported, the opset 11 export matches Keras, its changed operators named."""
    try:
        onnx.version_converter.convert_version(onnx_model, 11)
        expected_error = None
    except RuntimeError as error:
        expected_error = str(error)
    assert converter_error == expected_error, (
        "store the message of the error onnx.version_converter.convert_version raises (None if it succeeds)"
    )
    assert opset11_path is not None and os.path.exists(opset11_path), (
        "export the model and set opset11_path to the file's path"
    )
    opset11 = onnx.load(opset11_path)
    assert {entry.domain: entry.version for entry in opset11.opset_import}.get("") == 11, (
        "export to opset 11"
    )
    opset11_returns = benchmark.run_onnx_in_batches(opset11_path, windows).outputs.reshape(-1)
    parity.assert_parity(
        parity.compare(
            keras_returns,
            opset11_returns,
            names=("Keras", "ONNX opset 11"),
            quantity="log returns",
            labels=np.sign,
        ),
        rtol=RTOL,
        atol=ATOL,
    )
    differing = node_signatures(onnx_model) ^ node_signatures(opset11)
    expected = {op_type for op_type, _, _ in differing}
    assert changed_operators is not None and set(changed_operators) == expected, (
        "compare every node's operator type, number of inputs and attribute names in the two files, "
        "and keep the operator types that differ"
    )
    return f"the opset 11 export matches Keras on every window; what changed: {sorted(expected)}"


def mape_of_every_forecast(test_mape, forecasts, next_close, period):
    """One mean absolute percentage error per forecast, over the test year, as a fraction."""
    assert isinstance(test_mape, dict) and set(test_mape) == set(forecasts), (
        "one MAPE per forecast in `forecasts`"
    )
    test_year = period == "test"
    for name, forecast in forecasts.items():
        expected = np.mean(
            np.abs(next_close[test_year] - forecast[test_year]) / next_close[test_year]
        )
        assert abs(test_mape[name] - expected) < 1e-9, (
            f"{name}: MAPE over the test year, as a fraction"
        )
    return "MAPE of every forecast over the test year"


def window_tuned_on_validation(
    best_days, best_days_test_rmse, close, window_ends, next_close, period
):
    """The moving average's window is chosen on the validation year, and its test RMSE reported."""
    assert best_days is not None and best_days_test_rmse is not None, (
        "set best_days and best_days_test_rmse"
    )

    def rmse_of_window(days, mask):
        """RMSE of the `days`-day moving-average forecast on the windows selected by `mask`."""
        forecast = close.rolling(days).mean().reindex(window_ends).to_numpy()
        return float(np.sqrt(np.mean((next_close[mask] - forecast[mask]) ** 2)))

    on_validation = {days: rmse_of_window(days, period == "validation") for days in range(2, 21)}
    assert best_days == min(on_validation, key=on_validation.get), (
        "choose the window on the validation year only"
    )
    assert abs(best_days_test_rmse - rmse_of_window(best_days, period == "test")) < 1e-9, (
        "report its test RMSE"
    )
    return f"{best_days} days chosen on validation; test RMSE reported"


def parity_broken_by_column_order(reversed_parity, windows, keras_returns, forecaster, RTOL, ATOL):
    """Forecasts from reversed columns are compared with Keras's and fall outside the tolerance."""
    assert reversed_parity is not None, "store the result of parity.compare(...) in reversed_parity"
    assert reversed_parity.samples == len(windows), "compare on every window"
    expected = np.abs(
        keras_returns.astype(np.float64) - forecaster.predict(windows[:, :, ::-1])
    ).max()
    assert abs(reversed_parity.max_abs_diff - expected) < 1e-9, (
        "compare keras_returns with the forecasts from reversed columns"
    )
    assert reversed_parity.share_of_tolerance(rtol=RTOL, atol=ATOL) > 1, (
        "with reversed columns the forecasts should no longer match"
    )
    return f"parity broken on purpose: max |difference| {reversed_parity.max_abs_diff:.1e}"

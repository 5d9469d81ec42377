"""The checks of chapter 3's exercises (notebooks/03_aapl_keras_to_scikit_learn.ipynb)."""

import os

import numpy as np
import onnx
import onnx.version_converter

from onnx_crossings.teaching import benchmark, graph, parity


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
    assert changed_operators is not None, (
        "store the operator types whose nodes changed in changed_operators"
    )
    # by another route than the exercise's: which nodes of each file the other opset's definitions refuse
    named = set(changed_operators)
    refused = graph.operator_types_refused(opset11, 17) | graph.operator_types_refused(
        onnx_model, 11
    )
    assert not named - refused, (
        f"{sorted(named - refused)}: the nodes of this type take the same inputs and attributes in both files"
    )
    assert not refused - named, (
        "an operator whose nodes differ is missing: compare every node's operator type, number of inputs "
        "and attribute names in the two files"
    )
    return f"the opset 11 export matches Keras on every window; what changed: {sorted(named)}"


def mape_of_every_forecast(test_mape, price_forecasts, next_close, tested):
    """One mean absolute percentage error per price forecast, over the test years, as a fraction."""
    assert isinstance(test_mape, dict) and set(test_mape) == set(price_forecasts), (
        "one MAPE per forecast in `price_forecasts`"
    )
    for name, forecast in price_forecasts.items():
        expected = np.mean(np.abs(next_close[tested] - forecast[tested]) / next_close[tested])
        assert abs(test_mape[name] - expected) < 1e-9, (
            f"{name}: MAPE over the test years, as a fraction"
        )
    return "MAPE of every price forecast over the test years"


def moving_average_tuned_before_the_test_years(
    best_days, moving_average_r2, close, window_ends, returns, forecast_days, tested
):
    """The moving average's length is chosen on 2021, and its R² against persistence reported for the test years."""
    assert best_days is not None and moving_average_r2 is not None, (
        "set best_days and moving_average_r2"
    )

    def implied_return(days):
        """The log return the `days`-day moving-average forecast implies, for every window."""
        return np.log(close.rolling(days).mean() / close).reindex(window_ends).to_numpy()

    choosing = forecast_days.year == 2021
    errors = {
        days: np.mean((returns[choosing] - implied_return(days)[choosing]) ** 2)
        for days in range(2, 21)
    }
    assert best_days == min(errors, key=errors.get), (
        "choose the length on 2021 only, by the RMSE of the return"
    )
    actual = returns[tested].astype(np.float64)
    expected = 1 - np.sum((actual - implied_return(best_days)[tested]) ** 2) / np.sum(actual**2)
    assert abs(moving_average_r2 - expected) < 1e-9, (
        "report 1 − SSE(moving average) / SSE(persistence) over the test years"
    )
    return f"{best_days} days chosen on 2021; R² against persistence over the test years reported"


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

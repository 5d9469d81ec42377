"""Made-up daily bars in yfinance's schema, for the tests of the feeds and the live loop."""

import numpy as np
import pandas as pd

from onnx_crossings.data.stocks import PRICE_COLUMNS


def bars(days: list[str] | pd.DatetimeIndex, first_close: float = 100.0) -> pd.DataFrame:
    """Plausible daily bars on the given days, the close rising by a dollar a day."""
    index = pd.DatetimeIndex(days, name="Date")
    close = first_close + np.arange(len(index), dtype=float)
    frame = pd.DataFrame(
        {
            "Open": close,
            "High": close + 1,
            "Low": close - 1,
            "Close": close,
            "Adj Close": close,
            "Volume": 1_000,
        },
        index=index,
    )
    return frame[PRICE_COLUMNS]

import numpy as np
import pytest

from onnx_crossings.teaching.benchmark import (
    Race,
    median_interval,
    race,
    run_in_batches,
    run_onnx_in_batches,
)


def test_batches_cover_every_input_in_order():
    inputs = np.arange(2_500, dtype=np.float32).reshape(-1, 1)
    seen = []

    def predict(batch):
        seen.append(len(batch))
        return batch * 2

    run = run_in_batches(predict, inputs, batch_size=1_000)
    assert seen == [1_000, 1_000, 500]
    np.testing.assert_array_equal(run.outputs, inputs * 2)
    assert run.seconds > 0
    assert run.per_second == len(inputs) / run.seconds


def test_an_onnx_file_runs_over_every_input_whatever_its_input_is_called(doubling_onnx):
    inputs = np.arange(2_500, dtype=np.float32).reshape(-1, 1)
    run = run_onnx_in_batches(doubling_onnx("pixels"), inputs, batch_size=1_000)
    np.testing.assert_array_equal(run.outputs, inputs * 2)


class FakeClock:
    """A clock that advances by the next of the given call durations whenever a call is made."""

    def __init__(self, durations):
        self.now, self.durations, self.calls = 0.0, iter(durations), 0

    def __call__(self):
        return self.now

    def call(self):
        self.calls += 1
        self.now += next(self.durations)


def test_a_race_interleaves_its_contenders_and_times_each_call_after_its_untimed_one():
    clock = FakeClock([])
    order = []

    def contender(name, seconds):
        def call():
            order.append(name)
            clock.now += seconds

        return call

    result = race(
        {"slow": contender("slow", 0.004), "fast": contender("fast", 0.001)},
        batch_size=8,
        threads=2,
        rounds=6,
        calls=3,
        warmup=2,
        clock=clock,
    )
    assert order[:4] == ["slow", "slow", "fast", "fast"]  # warm-up, before any round
    turns = order[4:]
    assert len(turns) == 6 * 2 * 4  # each round: both contenders, one untimed call and three timed
    assert {tuple(turns[k : k + 4]) for k in range(0, len(turns), 4)} == {
        ("slow",) * 4,
        ("fast",) * 4,
    }
    assert result.seconds["slow"].shape == (6, 3)
    assert result.median_ms("slow") == pytest.approx(4.0)
    assert result.per_second("fast") == pytest.approx(8_000)
    ratio = result.ratio("fast", "slow")
    assert (ratio.times, ratio.low, ratio.high, ratio.winner) == pytest.approx((4, 4, 4, "fast"))
    assert str(ratio).startswith("fast is 4.00× as fast as slow (95% interval 4.00–4.00×)")


def test_a_ratio_names_a_winner_only_where_its_interval_leaves_out_one():
    rounds = np.array([[1.0], [1.2], [0.9], [1.1], [1.05], [0.95], [1.0], [1.15]])
    result = Race({"a": rounds, "b": np.ones((8, 1))}, batch_size=1, threads=1)
    level = result.ratio("a", "b")
    assert level.low < 1 < level.high and level.winner is None
    assert "level on this machine" in str(level)
    close = Race({"a": 1.02 + rounds / 100, "b": np.ones((8, 1))}, batch_size=1, threads=1)
    negligible = close.ratio("b", "a")  # b is 3% faster, the whole interval within 5%
    assert negligible.low > 1 and negligible.negligible and negligible.winner is None
    assert "within 5% of each other" in str(negligible)
    slower = Race({"a": rounds * 2, "b": np.ones((8, 1))}, batch_size=1, threads=1).ratio("a", "b")
    assert slower.winner == "b"
    assert str(slower).startswith("b is 2.05× as fast as a")


def test_the_median_interval_is_the_sign_tests_order_statistics():
    values = np.arange(
        1, 16
    )  # 15 values: the 4th smallest and 4th largest cover the median 96.5% of the time
    assert median_interval(values) == (4, 12)
    assert median_interval(values[::-1]) == (4, 12)
    with pytest.raises(ValueError, match="at least 6 rounds"):
        median_interval(np.arange(5))


def test_a_race_of_long_calls_can_skip_the_untimed_call_of_each_turn():
    calls = []
    race(
        {"a": lambda: calls.append("a")},
        batch_size=1,
        threads=1,
        rounds=6,
        calls=2,
        warmup=1,
        untimed_each_turn=False,
    )
    assert len(calls) == 1 + 6 * 2


def test_a_race_refuses_nothing_to_time():
    with pytest.raises(ValueError, match="at least one round"):
        race({"a": lambda: None}, batch_size=1, threads=1, rounds=0, calls=1)

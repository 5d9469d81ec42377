import numpy as np
import pytest

from onnx_crossings.teaching.benchmark import measure, run_in_batches, run_onnx_in_batches


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


def test_measure_times_each_call_after_warm_up_on_its_own():
    clock = FakeClock([9.0, 9.0] + [0.001 * k for k in range(1, 101)])  # two slow warm-up calls
    timing = benchmark_measure(clock, warmup=2, repeats=100)
    assert clock.calls == 102
    assert timing.seconds == pytest.approx([0.001 * k for k in range(1, 101)])
    assert timing.milliseconds(50) == pytest.approx(50.5)
    assert timing.milliseconds(99) == pytest.approx(99.01)
    assert timing.milliseconds(100) == pytest.approx(100.0)
    assert timing.per_second == pytest.approx(256 / 0.0505)
    assert (timing.batch_size, timing.threads) == (256, 2)


def benchmark_measure(clock, *, warmup, repeats):
    """measure() on the fake clock's calls, as a 256-sample batch run with 2 threads."""
    return measure(
        clock.call, batch_size=256, threads=2, repeats=repeats, warmup=warmup, clock=clock
    )


def test_measure_refuses_nothing_to_time():
    with pytest.raises(ValueError, match="repeats"):
        benchmark_measure(FakeClock([]), warmup=0, repeats=0)

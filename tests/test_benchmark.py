import numpy as np

from helpers.benchmark import run_in_batches


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

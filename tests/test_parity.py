import numpy as np
import pytest

from onnx_crossings.teaching.parity import (
    assert_meets_lower_precision_rule,
    assert_parity,
    assert_parity_table,
    compare,
    judge_lower_precision,
    labels_of,
)

TOLERANCE = {"rtol": 1e-5, "atol": 1e-4}


def test_labels_of_takes_argmax_over_classes_and_the_sign_of_a_single_logit():
    assert labels_of(np.array([[0.1, 2.0, -1.0], [3.0, 0.0, 0.5]])).tolist() == [1, 0]
    assert labels_of(np.array([[-2.0], [0.7], [0.0]])).tolist() == [0, 1, 1]
    assert labels_of(np.array([-0.2, 0.9])).tolist() == [0, 1]


def test_identical_outputs_have_perfect_parity_and_say_so(capsys):
    logits = np.random.default_rng(0).normal(size=(50, 10)).astype(np.float32)
    parity = compare(logits, logits.copy(), names=("A", "B"), quantity="logits")
    assert parity.max_abs_diff == 0.0
    assert parity.label_agreement == 1.0
    assert parity.disagreements == 0
    assert_parity(parity, **TOLERANCE)
    assert capsys.readouterr().out == (
        "✓ B matches A on all 50 samples:\n"
        "  logits within atol 1e-04 + rtol 1e-05 × |A's|, labels agreeing on at least 99.99%\n"
    )


def test_small_numeric_noise_passes_and_is_measured_against_the_tolerance():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(200, 10)).astype(np.float32)
    noisy = logits + rng.uniform(-3e-6, 3e-6, size=logits.shape).astype(np.float32)
    parity = compare(logits, noisy, names=("A", "B"), quantity="logits")
    assert 0 < parity.max_abs_diff <= 3.1e-6
    assert 0 < parity.share_of_tolerance(**TOLERANCE) <= 0.031
    assert_parity(parity, **TOLERANCE)


def test_the_relative_part_of_the_tolerance_scales_with_the_reference():
    reference = np.array([[100.0], [0.0]])
    parity = compare(reference, reference + 5e-4, names=("A", "B"), quantity="logits")
    # at 100, 1e-4 + 1e-5 × 100 = 1.1e-3 allows 5e-4; at 0, only 1e-4 is allowed
    with pytest.raises(AssertionError, match=r"1 of 2 logits differ by more than atol 1e-04"):
        assert_parity(parity, **TOLERANCE)
    assert_parity(
        compare(reference[:1], reference[:1] + 5e-4, names=("A", "B"), quantity="logits"),
        **TOLERANCE,
    )


def test_a_large_difference_fails_with_the_measured_value():
    logits = np.zeros((10, 3), dtype=np.float32)
    logits[:, 0] = 1
    shifted = logits.copy()
    shifted[4, 0] += 0.01
    with pytest.raises(
        AssertionError,
        match=r"1 of 30 logits differ by more than atol 1e-04 \+ rtol 1e-05 × \|A's\| "
        r"\(max \|difference\| 1.00e-02\)",
    ):
        assert_parity(compare(logits, shifted, names=("A", "B"), quantity="logits"), **TOLERANCE)


def test_label_disagreement_fails_even_when_differences_are_allowed():
    logits = np.tile(np.array([[1.0, 0.0]], dtype=np.float32), (100, 1))
    flipped = logits.copy()
    flipped[7] = [0.0, 1.0]
    parity = compare(logits, flipped, names=("PyTorch", "TensorFlow"), quantity="logits")
    assert parity.disagreements == 1
    assert parity.label_agreement == pytest.approx(0.99)
    with pytest.raises(AssertionError, match="label agreement 99.0000% is below 99.99%"):
        assert_parity(parity, rtol=0, atol=10.0)


def test_every_problem_is_reported_at_once():
    logits = np.tile(np.array([[1.0, 0.0]], dtype=np.float32), (10, 1))
    with pytest.raises(AssertionError, match=r"differ by more than .*; label agreement"):
        assert_parity(
            compare(logits, logits[:, ::-1].copy(), names=("A", "B"), quantity="logits"),
            **TOLERANCE,
        )


def test_nan_outputs_break_parity():
    logits = np.zeros((4, 2), dtype=np.float32)
    broken = logits.copy()
    broken[0, 0] = np.nan
    with pytest.raises(AssertionError, match="Parity broken for B vs A"):
        assert_parity(compare(logits, broken, names=("A", "B"), quantity="logits"), **TOLERANCE)


def test_shape_mismatch_is_a_clear_error():
    with pytest.raises(
        ValueError, match=r"B outputs have shape \(3, 2\) but A outputs have \(2, 3\)"
    ):
        compare(np.zeros((2, 3)), np.zeros((3, 2)), names=("A", "B"), quantity="logits")


def test_report_reads_well():
    reference = np.array([[-2.5, 1.0], [0.0, 0.5], [1.0, 2.0]])
    parity = compare(
        reference, reference.copy(), names=("PyTorch", "ONNX Runtime"), quantity="logits"
    )
    assert str(parity) == (
        "ONNX Runtime vs PyTorch on 3 samples, logits:\n"
        "  max |difference| = 0.00e+00 (PyTorch's logits reach 2.5 in size)\n"
        "  labels agree on 100.00% (0 disagreements)"
    )


def test_forecasts_compare_by_direction_when_told():
    reference = np.array([0.010, -0.002, 0.0003])
    flipped = np.array([0.010, -0.002, -0.0001])
    parity = compare(
        reference, flipped, names=("Keras", "ONNX"), quantity="returns", labels=np.sign
    )
    assert parity.disagreements == 1 and parity.max_abs_diff == pytest.approx(4e-4)
    # taken for logits, both are the same label until they cross zero
    assert (
        compare(reference, flipped, names=("Keras", "ONNX"), quantity="returns").disagreements == 1
    )
    assert compare(reference, reference + 1e-3, names=("K", "O"), quantity="r").disagreements == 0


def two_class_logits(labels):
    """Logits whose label is each given label, far from the boundary."""
    return np.where(np.asarray(labels)[:, None] == 1, [[0.0, 3.0]], [[3.0, 0.0]])


def judged(examples, flips, wrong_after=0):
    """A float model right on every example and a lower-precision copy that flips some labels."""
    truth = np.arange(examples) % 2
    candidate = truth.copy()
    candidate[:flips] = 1 - candidate[:flips]
    reference = truth.copy()
    reference[examples - wrong_after :] = 1 - reference[examples - wrong_after :]
    return judge_lower_precision(
        two_class_logits(reference), two_class_logits(candidate), truth, names=("float", "int8")
    )


def test_the_lower_precision_rule_is_judged_on_intervals_and_can_be_undecided(capsys):
    meets = judged(10_000, flips=20)  # 99.8% kept, 0.2 points lost: both intervals on the good side
    assert (meets.agreement, meets.accuracy, meets.verdict) == ("meets", "meets", "meets")
    assert_meets_lower_precision_rule(meets)
    assert "labels kept on 99.80%" in capsys.readouterr().out
    undecided = judged(1_000, flips=8)  # 99.2% of 1,000: the interval straddles 99.5%
    assert undecided.agreement == "undecided" and undecided.verdict == "undecided"
    assert "1,000 samples are too few to tell" in str(undecided)
    misses = judged(10_000, flips=130)  # 98.7%, and 1.3 points lost
    assert (misses.agreement, misses.accuracy, misses.verdict) == ("misses", "misses", "misses")
    with pytest.raises(AssertionError, match="int8 misses the rule"):
        assert_meets_lower_precision_rule(misses)
    # flips that trade the float model's mistakes for others cost no accuracy, yet break the labels' part
    trades = judged(10_000, flips=130, wrong_after=130)
    assert trades.accuracy_change.difference == 0
    assert (trades.accuracy, trades.agreement, trades.verdict) == ("meets", "misses", "misses")


def test_the_lower_precision_rule_refuses_outputs_of_other_inputs():
    with pytest.raises(ValueError, match="same labelled inputs"):
        judge_lower_precision(
            two_class_logits([0, 1]),
            two_class_logits([0, 1, 1]),
            np.array([0, 1]),
            names=("a", "b"),
        )


def test_a_parity_table_reports_every_crossing_and_raises_naming_each_break(capsys):
    reference = np.array([[3.0, 0.0], [0.0, 2.0]], dtype=np.float32)
    close = compare(reference, reference + 1e-6, names=("PyTorch", "ONNX"), quantity="logits")
    table = assert_parity_table([close], rtol=1e-5, atol=1e-4)
    assert table.loc["ONNX", "labels agreeing"] == "100.00%" and table.loc["ONNX", "samples"] == 2
    assert "✓ all 1 within atol 1e-04" in capsys.readouterr().out
    far = compare(reference, reference + 1e-2, names=("PyTorch", "TensorFlow"), quantity="logits")
    with pytest.raises(AssertionError, match="TensorFlow vs PyTorch: 4 of 4 logits differ"):
        assert_parity_table([close, far], rtol=1e-5, atol=1e-4)

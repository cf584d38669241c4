"""Min-max normalisation: the paper's formulas, clipping, and the degenerate step."""

from __future__ import annotations

import numpy as np
import pandas as pd

from scoring.normalise import normalise_minmax

DIRECTION = pd.Series({"pos": "positive", "neg": "negative"})


def _z(values: dict[str, list[float]], lower: dict, upper: dict) -> pd.DataFrame:
    frame = pd.DataFrame(values)
    return normalise_minmax(frame, pd.Series(lower), pd.Series(upper), DIRECTION)


def test_positive_and_negative_formulas() -> None:
    # pos: (X - 0)/(10 - 0); neg: (10 - X)/(10 - 0)
    z = _z(
        {"pos": [0, 2.5, 10], "neg": [0, 2.5, 10]}, {"pos": 0, "neg": 0}, {"pos": 10, "neg": 10}
    )
    assert np.allclose(z["pos"], [0, 0.25, 1])
    assert np.allclose(z["neg"], [1, 0.75, 0])


def test_values_beyond_thresholds_are_clipped() -> None:
    z = _z({"pos": [-5, 15], "neg": [-5, 15]}, {"pos": 0, "neg": 0}, {"pos": 10, "neg": 10})
    assert z["pos"].tolist() == [0.0, 1.0]
    assert z["neg"].tolist() == [1.0, 0.0]


def test_degenerate_threshold_is_a_step_without_division_by_zero() -> None:
    with np.errstate(all="raise"):
        z = _z({"pos": [2, 3, 4], "neg": [2, 3, 4]}, {"pos": 3, "neg": 3}, {"pos": 3, "neg": 3})
    assert z["pos"].tolist() == [0.0, 0.5, 1.0]
    assert z["neg"].tolist() == [1.0, 0.5, 0.0]


def test_missing_values_and_thresholds_stay_missing() -> None:
    z = _z(
        {"pos": [np.nan, 1.0], "neg": [1.0, 1.0]},
        {"pos": 0, "neg": np.nan},
        {"pos": 2, "neg": np.nan},
    )
    assert np.isnan(z.at[0, "pos"])
    assert z.at[1, "pos"] == 0.5
    assert z["neg"].isna().all()


def test_input_is_not_mutated() -> None:
    frame = pd.DataFrame({"pos": [5.0, 50.0]})
    before = frame.copy()
    normalise_minmax(frame, pd.Series({"pos": 0}), pd.Series({"pos": 10}), DIRECTION)
    pd.testing.assert_frame_equal(frame, before)

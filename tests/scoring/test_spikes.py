"""The complaint-spike rule: its false-alarm rate on stationary series, and a real spike."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring.spikes import ALPHA, BASELINE_WEEKS, detect_spikes, is_spike, poisson_tail


def test_poisson_tail_matches_the_closed_form() -> None:
    assert poisson_tail(0, 3.0) == 1.0
    assert poisson_tail(1, 2.0) == pytest.approx(1 - np.exp(-2.0))
    assert poisson_tail(3, 1.0) == pytest.approx(1 - np.exp(-1.0) * (1 + 1 + 0.5))


@pytest.mark.parametrize("mean", [0.5, 2.0, 4.0, 15.0, 30.0])
def test_false_alarms_on_a_stationary_poisson_series_stay_near_the_documented_rate(
    mean: float,
) -> None:
    rng = np.random.default_rng(2026)
    units, weeks = 20_000, BASELINE_WEEKS + 1
    weekly = pd.DataFrame(rng.poisson(mean, size=(units, weeks)))
    rate = len(detect_spikes(weekly)) / units
    # docs: 0.02%–0.2% per compound-week (ALPHA = 0.1% with a known mean)
    assert rate <= 2.5 * ALPHA


def test_a_tripling_of_the_usual_count_is_a_spike() -> None:
    weekly = pd.DataFrame(
        [[4, 3, 5, 4, 4, 3, 5, 4, 13], [4, 3, 5, 4, 4, 3, 5, 4, 7]], index=[7, 8]
    )
    spikes = detect_spikes(weekly)
    assert [s.unit_id for s in spikes] == ["7"]
    assert spikes[0].count == 13
    assert spikes[0].baseline == pytest.approx(4.0)


def test_a_quiet_compound_is_not_alarmed_by_two_reports() -> None:
    assert is_spike(2, 0.0)[0] is False
    assert is_spike(6, 0.0)[0] is True


def test_too_short_a_history_alarms_nothing() -> None:
    assert detect_spikes(pd.DataFrame([[0, 0, 30]])) == []

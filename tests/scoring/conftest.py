"""Shared builders for the scoring tests: a tiny catalogue and long-format value frames."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import pytest

from scoring.catalog import catalog_from_records, load_catalog

VALUE_COLUMNS = ["compound_id", "housing_type", "indicator_id", "period", "value"]


def leaf(ind: str, subindex: str, direction: str = "positive", **extra: object) -> dict:
    dimension = {
        "service_precision": "management",
        "management_effect": "management",
        "party_leadership": "vitality",
        "resident_participation": "vitality",
        "subjective_satisfaction": "satisfaction",
        "objective_complaints": "satisfaction",
        "resilience": "progress",
        "self_growth": "progress",
    }[subindex]
    return {
        "id": ind,
        "zh": ind,
        "en": ind,
        "dimension": dimension,
        "subindex": subindex,
        "direction": direction,
        "source": "imported",
        "unit": "unit",
        "scaling": "count",
        "window_weeks": 0,
        **extra,
    }


@pytest.fixture(scope="session")
def mini_catalog() -> pd.DataFrame:
    """Four leaves: a, b (negative), c in 管理精细; d in 社群活力."""
    return catalog_from_records(
        [
            leaf("a", "service_precision"),
            leaf("b", "service_precision", "negative"),
            leaf("c", "management_effect"),
            leaf("d", "party_leadership"),
        ],
        source="mini",
    )


@pytest.fixture(scope="session")
def default_catalog() -> pd.DataFrame:
    return load_catalog()


def long_frame(rows: Iterable[tuple[str, str, str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=VALUE_COLUMNS)

"""The default catalogue is complete and valid; bad catalogues name file, row and column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from scoring.catalog import load_catalog
from scoring.errors import ScoringInputError
from scoring.structure import SUBINDICES


def test_default_catalogue_covers_every_subindex(default_catalog: pd.DataFrame) -> None:
    assert set(default_catalog["subindex"]) == set(SUBINDICES)
    assert 35 <= len(default_catalog) <= 45
    assert default_catalog["zh"].str.len().gt(0).all()
    derived = default_catalog[default_catalog["source"] == "derived"]
    assert derived["fields"].str.len().gt(0).all()
    assert (derived["window_weeks"] == 13).all()


def test_bot_measured_extras_are_present(default_catalog: pd.DataFrame) -> None:
    for leaf in ("deadline_compliance", "reopen_rate", "handling_rating"):
        assert default_catalog.at[leaf, "source"] == "derived"


BASE = """
[[indicator]]
id = "a"
zh = "甲"
en = "A"
dimension = "management"
subindex = "service_precision"
direction = "positive"
source = "imported"
unit = "u"
scaling = "count"
window_weeks = 0
"""


@pytest.mark.parametrize(
    ("replace", "column", "reason"),
    [
        ('direction = "positive"', "direction", "'upwards' is not one of"),
        ('dimension = "management"', "dimension", "'happiness' is not one of"),
        ('subindex = "service_precision"', "subindex", "belongs to dimension"),
    ],
)
def test_invalid_catalogue_names_file_row_and_column(
    tmp_path: Path, replace: str, column: str, reason: str
) -> None:
    bad = {
        "direction": 'direction = "upwards"',
        "dimension": 'dimension = "happiness"',
        "subindex": 'subindex = "resilience"',
    }[column]
    path = tmp_path / "cat.toml"
    path.write_text(BASE + BASE.replace('id = "a"', 'id = "b"').replace(replace, bad))
    with pytest.raises(ScoringInputError, match=reason) as caught:
        load_catalog(path)
    assert (caught.value.file, caught.value.row, caught.value.column) == (str(path), 2, column)


def test_duplicate_ids_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "cat.toml"
    path.write_text(BASE + BASE)
    with pytest.raises(ScoringInputError, match="appears twice"):
        load_catalog(path)


def test_csv_catalogue_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "cat.csv"
    path.write_text(
        "id,zh,en,dimension,subindex,direction,source,unit,scaling,window_weeks,bounds\n"
        "a,甲,A,management,service_precision,positive,imported,u,share,0,0|1\n"
    )
    catalog = load_catalog(path)
    assert catalog.at["a", "bounds"] == (0.0, 1.0)

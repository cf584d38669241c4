"""The issue-category catalogue: the packaged file, validation errors, keyword classification."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.categories import (
    CATEGORY_CLASSES,
    DEFAULT_CATALOG_PATH,
    PARTIES,
    TIERS,
    CatalogError,
    load_catalog,
)

# Every item DESIGN §3.1 names, by its Chinese name in the catalogue.
DESIGN_ITEMS = [
    "停车/乱停车",
    "地桩锁",
    "消防车道占用",
    "楼道堆物",
    "群租",
    "违法搭建",
    "违规装修",
    "垃圾分类违规",
    "小包垃圾",
    "乱堆物堆料",
    "飞线充电",
    "供水供电供气异常",
    "漏水",
    "道路破损",
    "管道堵塞",
    "绿化损坏",
    "加梯",
    "独居老人隐患",
    "流浪动物",
    "文明养宠",
    "噪声",
    "小广告",
    "物业服务纠纷",
    "邻里纠纷",
]

GOOD_ENTRY = """
[[category]]
id = "other"
zh = "其他"
en = "Other"
class = "service"
party = "committee"
tier = "normal"
sensitive = false
urgent = false
keywords_zh = []
keywords_en = []
"""


def write_catalog(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "categories.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_catalog_loads_with_valid_fields() -> None:
    catalog = load_catalog()
    ids = [category.id for category in catalog.all()]
    assert len(ids) == len(set(ids))
    for category in catalog.all():
        assert category.category_class in CATEGORY_CLASSES
        assert category.party in PARTIES
        assert category.tier in TIERS
        assert category.id.isascii()
        assert catalog.get(category.id) is category


def test_every_design_item_is_in_the_catalog() -> None:
    names = {category.zh for category in load_catalog().all()}
    assert set(DESIGN_ITEMS) <= names


def test_common_extras_and_fallback_are_present() -> None:
    catalog = load_catalog()
    for category_id in ("lift_fault", "gas_leak", "flooding", "street_light", "other"):
        assert category_id in catalog


def test_sensitive_and_urgent_flags() -> None:
    catalog = load_catalog()
    for category_id in ("group_rental", "neighbour_dispute", "elderly_living_alone"):
        assert catalog.get(category_id).sensitive
    for category_id in ("gas_leak", "fire_lane_blocked", "lift_fault", "flooding"):
        assert catalog.get(category_id).urgent
    assert not catalog.get("parking").urgent


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3号楼楼道堆物，消防通道被占", {"fire_lane_blocked", "corridor_clutter"}),
        ("闻到煤气味", {"gas_leak"}),
        ("电梯困人了，快来", {"lift_fault"}),
        ("地下车库积水", {"flooding"}),
        ("楼道里飞线充电", {"flying_wire_charging"}),
        ("小区门口乱停车", {"parking"}),
        ("车位上装了地桩锁", {"ground_lock"}),
        ("楼上装修拆承重墙", {"illegal_renovation"}),
        ("4号楼群租", {"group_rental"}),
        ("独居老人两天没开门", {"elderly_living_alone"}),
        ("邻居吵架", {"neighbour_dispute"}),
        ("加装电梯的事", {"lift_installation"}),
        ("the lift is stuck", {"lift_fault"}),
        ("I smell gas in the stairwell", {"gas_leak"}),
        ("dog mess everywhere", {"civilised_pets"}),
        ("一切都好", {"other"}),
        ("", {"other"}),
    ],
)
def test_classify_examples(text: str, expected: set[str]) -> None:
    assert load_catalog().classify(text).id in expected


def test_classify_gas_is_urgent() -> None:
    assert load_catalog().classify("闻到煤气味").urgent


def test_longest_keyword_wins() -> None:
    # 电梯 (lift fault) is inside 加装电梯 (lift retrofit): the longer keyword is more specific.
    assert load_catalog().classify("申请加装电梯").id == "lift_installation"


def test_english_keywords_match_whole_words() -> None:
    assert load_catalog().classify("a carpet competition").id == "other"  # no "pet"


def test_load_from_a_given_path(tmp_path: Path) -> None:
    catalog = load_catalog(write_catalog(tmp_path, GOOD_ENTRY))
    assert [category.id for category in catalog.all()] == ["other"]
    assert load_catalog(DEFAULT_CATALOG_PATH).get("gas_leak").zh == "燃气泄漏"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("party", '"committee"', '"mayor"'), "'party' is 'mayor'"),
        (("class", '"service"', '"tidy"'), "'class' is 'tidy'"),
        (("tier", '"normal"', '"soon"'), "'tier' is 'soon'"),
        (("sensitive", "false", '"no"'), "'sensitive' must be true or false"),
        (("keywords_zh", "[]", '"x"'), "'keywords_zh' must be a list"),
        (("zh", '"其他"', '""'), "'zh' must be a non-empty string"),
    ],
)
def test_broken_entry_names_the_file_and_the_entry(
    tmp_path: Path, change: tuple[str, str, str], message: str
) -> None:
    field, old, new = change
    broken = GOOD_ENTRY.replace(f"{field} = {old}", f"{field} = {new}", 1)
    assert broken != GOOD_ENTRY
    path = write_catalog(tmp_path, GOOD_ENTRY.replace('"other"', '"fallback"', 1) + broken)
    with pytest.raises(CatalogError) as error:
        load_catalog(path)
    assert str(path) in str(error.value)
    assert "category #2 (id 'other')" in str(error.value)
    assert message in str(error.value)


def test_bad_id_and_duplicate_id_and_unknown_field(tmp_path: Path) -> None:
    bad_id = GOOD_ENTRY.replace('id = "other"', 'id = "Gas Leak"')
    with pytest.raises(CatalogError, match="ascii snake_case"):
        load_catalog(write_catalog(tmp_path, GOOD_ENTRY + bad_id))
    with pytest.raises(CatalogError, match="duplicate id 'other'"):
        load_catalog(write_catalog(tmp_path, GOOD_ENTRY + GOOD_ENTRY))
    extra = GOOD_ENTRY.replace("urgent = false", "urgent = false\ncolour = 'red'")
    with pytest.raises(CatalogError, match="unknown field"):
        load_catalog(write_catalog(tmp_path, extra))


def test_missing_fallback_missing_file_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="'other' fallback"):
        load_catalog(write_catalog(tmp_path, GOOD_ENTRY.replace('"other"', '"misc"', 1)))
    with pytest.raises(CatalogError, match="no such catalogue file"):
        load_catalog(tmp_path / "missing.toml")
    with pytest.raises(CatalogError, match="not valid TOML"):
        load_catalog(write_catalog(tmp_path, "[[category]\n"))
    with pytest.raises(CatalogError, match=r"\[\[category\]\]"):
        load_catalog(write_catalog(tmp_path, "title = 'x'\n"))

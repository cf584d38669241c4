"""The fixed shape of the index: housing types, dimensions and sub-indices (the paper's §四, §五).

Leaf indicators are data (``catalog.toml``); this skeleton is not, because every score, column
name and test depends on it.
"""

from __future__ import annotations

from types import MappingProxyType

#: Crisp first-level classification (清晰集): every compound has exactly one.
HOUSING_TYPES: tuple[str, ...] = ("old_public", "commercial", "resettlement", "affordable")
HOUSING_TYPE_ZH = MappingProxyType(
    {
        "old_public": "老旧公房",
        "commercial": "商品房",
        "resettlement": "动迁房",
        "affordable": "保障性住房",
    }
)

#: Second-level indices (二级指标), each worth 25 of the 100 points.
DIMENSIONS: tuple[str, ...] = ("management", "vitality", "satisfaction", "progress")
DIMENSION_ZH = MappingProxyType(
    {
        "management": "管理精细",
        "vitality": "社群活力",
        "satisfaction": "居民满意",
        "progress": "能力进步",
    }
)
DIMENSION_POINTS = 25.0
TOTAL_POINTS = DIMENSION_POINTS * len(DIMENSIONS)

#: Third-level indices (三级指标) and the dimension each belongs to, in display order.
SUBINDEX_DIMENSION = MappingProxyType(
    {
        "service_precision": "management",
        "management_effect": "management",
        "party_leadership": "vitality",
        "resident_participation": "vitality",
        "subjective_satisfaction": "satisfaction",
        "objective_complaints": "satisfaction",
        "resilience": "progress",
        "self_growth": "progress",
    }
)
SUBINDICES: tuple[str, ...] = tuple(SUBINDEX_DIMENSION)
SUBINDEX_ZH = MappingProxyType(
    {
        "service_precision": "服务精准",
        "management_effect": "管理成效",
        "party_leadership": "党建引领",
        "resident_participation": "居民参与",
        "subjective_satisfaction": "主观满意",
        "objective_complaints": "客观投诉",
        "resilience": "社区韧性",
        "self_growth": "自我成长",
    }
)

DIRECTIONS: tuple[str, ...] = ("positive", "negative")
#: derived: computed from bot records by ``derive_indicators``; imported: supplied in a values
#: file; change: computed by the engine from two consecutive periods (能力进步 / 自我成长).
SOURCES: tuple[str, ...] = ("derived", "imported", "change")
SCALINGS: tuple[str, ...] = (
    "count",
    "per_1k_households",
    "per_household",
    "per_resident",
    "share",
    "boolean",
    "score",
    "days",
    "amount",
    "difference",
)

#: Columns of one scored compound, in output order (the CLI's file and ``Snapshot.scores``).
SCORE_COLUMNS: tuple[str, ...] = (
    "total",
    *DIMENSIONS,
    *SUBINDICES,
    "coverage",
)

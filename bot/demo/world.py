"""A synthetic district with the proportions of the seeds (Pudong): towns, committees, compounds
of the four housing types, buildings, grids and the people who work in them.

Pudong has 36 街镇, 1,358 居村 and 3,179 小区; 商品房 is the largest type (1,590 of 2,790 in one
count) and old public housing the next (about 1,200), with resettlement and affordable housing
far fewer. A 居委 runs several 小区. The demo keeps those shapes at a size that runs in seconds.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from storage.tables import HousingType, Role

# Share of each housing type among compounds (from the seeds' counts, rounded).
HOUSING_MIX = {
    HousingType.COMMERCIAL: 0.50,
    HousingType.OLD_PUBLIC: 0.35,
    HousingType.RESETTLEMENT: 0.10,
    HousingType.AFFORDABLE: 0.05,
}
HOUSEHOLDS = {
    HousingType.COMMERCIAL: (300, 3000),
    HousingType.OLD_PUBLIC: (400, 2500),
    HousingType.RESETTLEMENT: (800, 3000),
    HousingType.AFFORDABLE: (300, 1200),
}
SUFFIX = {
    HousingType.COMMERCIAL: ["花苑", "公寓", "苑", "名邸"],
    HousingType.OLD_PUBLIC: ["新村", "小区", "坊"],
    HousingType.RESETTLEMENT: ["家园", "新苑"],
    HousingType.AFFORDABLE: ["佳苑", "安居苑"],
}
TOWNS = ["花木街道", "洋泾街道", "张江镇", "金杨新村街道", "潍坊新村街道", "塘桥街道"]
COMMITTEE_STEMS = ["东城", "锦绣", "联洋", "梅园", "牡丹", "钦洋", "由由", "竹园", "松山", "陆家"]
COMPOUND_STEMS = [
    "阳光", "金杨", "春江", "华夏", "翠竹", "海桐", "紫薇", "玉兰", "东方", "明月", "和平",
    "幸福", "康桥", "银杏", "海棠", "枫林", "香樟", "绿洲", "景苑", "锦华", "东园", "南泉",
    "崮山", "峨山", "源深", "福山", "潍坊", "浦城", "崂山", "乳山",
]  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
GIVEN = "建国秀英桂兰志强丽华玉梅海燕红霞永明国华淑珍文杰晓东美玲春生德明凤英金花立新家豪雪梅"


@dataclass(frozen=True)
class Person:
    user_id: int
    name: str
    phone: str
    role: Role
    unit: str  # path, e.g. 花木街道/东城居委/阳光花苑/3号楼


@dataclass(frozen=True)
class Compound:
    town: str
    committee: str
    name: str
    housing: HousingType
    households: int
    residents: int
    buildings: tuple[str, ...]
    grid: str

    @property
    def path(self) -> str:
        return f"{self.town}/{self.committee}/{self.name}"


@dataclass
class World:
    towns: list[str] = field(default_factory=list)
    committees: list[tuple[str, str]] = field(default_factory=list)  # (town, committee)
    compounds: list[Compound] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)

    def roster_rows(self) -> list[list[str]]:
        """The org tree as the spreadsheet a street office would send (one row per 楼组)."""
        header = ["街镇", "居委", "小区", "房屋类型", "户数", "人口", "楼组", "网格"]
        rows = [header]
        names = {h: n for n, h in _HOUSING_NAMES.items()}
        for c in self.compounds:
            for building in c.buildings:
                rows.append([
                    c.town, c.committee, c.name, names[c.housing], str(c.households),
                    str(c.residents), building, c.grid,
                ])  # fmt: skip
        return rows

    def by_role(self, role: Role) -> list[Person]:
        return [p for p in self.people if p.role == role]


_HOUSING_NAMES = {
    "商品房": HousingType.COMMERCIAL, "老旧公房": HousingType.OLD_PUBLIC,
    "动迁房": HousingType.RESETTLEMENT, "保障性住房": HousingType.AFFORDABLE,
}  # fmt: skip


def build_world(*, towns: int, committees_per_town: int, compounds_per_committee: int,
                seed: int) -> World:  # fmt: skip
    """A district of the given size, the same for the same seed."""
    rng = random.Random(seed)
    world = World()
    compound_stems = rng.sample(COMPOUND_STEMS, len(COMPOUND_STEMS))
    user_ids = iter(range(200_001, 10_000_000))
    names = _name_source(rng)
    housing_cycle = _housing_sequence(rng, towns * committees_per_town * compounds_per_committee)
    for town in TOWNS[:towns]:
        world.towns.append(town)
        world.people.append(Person(next(user_ids), next(names), _phone(rng), Role.TOWN, town))
        for stem in rng.sample(COMMITTEE_STEMS, committees_per_town):
            committee = f"{stem}居委"
            world.committees.append((town, committee))
            committee_path = f"{town}/{committee}"
            for _ in range(2):
                world.people.append(
                    Person(
                        next(user_ids), next(names), _phone(rng), Role.COMMITTEE, committee_path
                    )
                )
            for index in range(compounds_per_committee):
                housing = next(housing_cycle)
                compound = _compound(rng, town, committee, compound_stems.pop(), housing, index)
                world.compounds.append(compound)
                _staff_compound(world, compound, rng, user_ids, names)
    return world


def _housing_sequence(rng: random.Random, count: int) -> Iterator[HousingType]:
    """Housing types in the seeds' proportions, every type present at least once."""
    types = list(HOUSING_MIX)
    weights = list(HOUSING_MIX.values())
    sequence = types + rng.choices(types, weights=weights, k=max(0, count - len(types)))
    rng.shuffle(sequence)
    return iter(sequence)


def _compound(rng: random.Random, town: str, committee: str, stem: str, housing: HousingType,
              index: int) -> Compound:  # fmt: skip
    low, high = HOUSEHOLDS[housing]
    households = rng.randrange(low, high, 10)
    buildings = tuple(f"{n}号楼" for n in range(1, rng.randint(4, 8) + 1))
    grid = f"{committee.removesuffix('居委')}{'一二三四五'[index // 2]}网格"
    # No 潍坊坊: a suffix never repeats the stem's last character.
    suffix = rng.choice([s for s in SUFFIX[housing] if s[0] != stem[-1]])
    return Compound(
        town=town,
        committee=committee,
        name=stem + suffix,
        housing=housing,
        households=households,
        residents=int(households * rng.uniform(2.3, 2.9)),
        buildings=buildings,
        grid=grid,
    )


def _staff_compound(world: World, compound: Compound, rng: random.Random,
                    user_ids: Iterator[int], names: Iterator[str]) -> None:  # fmt: skip
    def person(role: Role, unit: str) -> None:
        world.people.append(Person(next(user_ids), next(names), _phone(rng), role, unit))

    committee_path = f"{compound.town}/{compound.committee}"
    if not any(
        p.role == Role.GRID_WORKER and p.unit.endswith(compound.grid) for p in world.people
    ):
        person(Role.GRID_WORKER, f"{committee_path}/{compound.grid}")
    person(Role.PROPERTY, compound.path)
    for building in compound.buildings:
        person(Role.BUILDING_LEADER, f"{compound.path}/{building}")
    for _ in range(rng.randint(2, 4)):
        person(Role.VOLUNTEER, compound.path)
    for _ in range(rng.randint(1, 3)):
        person(Role.PARTY_MEMBER, compound.path)


def _name_source(rng: random.Random) -> Iterator[str]:
    seen: set[str] = set()
    while True:
        name = rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice((1, 2))))
        if name not in seen:
            seen.add(name)
            yield name


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"

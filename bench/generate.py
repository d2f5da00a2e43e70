"""Synthetic registries of any size, in the seed format of `seeds/`, for benchmarks.

    .venv/bin/python bench/generate.py N DIR [--seed S] [--history 0.3]

DIR receives `departments.toml`, `materials.toml`, `legal_documents.toml`, `targets.toml` (the
real catalogue, copied from seeds/) and `items/<department>.toml` with N items in all: the real
items of seeds/ first, then synthetic ones made from them. A province-wide implementation list
holds one item per department and district for each basic item, plus their 业务办理项 (新办, 变更,
延续, 注销 …): a synthetic item is a real item implemented by another unit or for another case,
with its own code, trip count, materials, time limits, venue and effective date.

The seed format holds one edition per item, so later editions go to `DIR/history/2`,
`DIR/history/3` …: complete seed folders holding only the items that changed (fewer trips, fewer
materials, shorter promised time limits — what the reform did year by year). Load them after DIR
with `onetrip seed --update` in order to give those items a history of several editions.

The output depends only on N, --seed and --history: item i is the same whichever N is asked for.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
import tomllib
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
FILE_ITEMS = 500
REFERENCE_FILES = (
    "departments.toml",
    "materials.toml",
    "legal_documents.toml",
    "targets.toml",
    "synonyms.toml",
    "topics.toml",
)

# 业务办理项: the cases one basic item is split into, and who they are for.
CASES = (
    "",
    "（新办）",
    "（变更）",
    "（延续）",
    "（注销）",
    "（补办）",
    "（个人）",
    "（企业）",
    "（告知承诺制）",
    "（跨区域通办）",
    "（委托代办）",
    "（网上申请）",
)
TRIP_REASONS = (
    "须本人到场签字确认并核验原件。",
    "需现场核查经营场所，核查后当场出具意见。",
    "须到场采集人像、指纹等生物特征信息。",
    "法律规定须本人到场办理，并当面领取证件。",
    "需现场勘验并由申请人当面确认勘验结果。",
)
EXTRA_CONDITIONS = (
    "委托他人办理的",
    "申请人为法人或其他组织的",
    "材料为外文的，需提供中文译本",
    "申请人不能亲自到场的",
    "已在其他部门办理过同类事项的",
)
EDITION_NOTES = (
    "推行“最多跑一次”改革，优化办理流程",
    "通过电子证照共享免于提交相关材料",
    "压缩承诺办结时限",
    "实行告知承诺制，减少申请材料",
    "开通全程网办，证件邮寄送达",
)


def _load(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def real_catalogue(seeds: Path = SEEDS) -> tuple[list[dict], list[dict], list[dict], list[dict]]:
    """(departments, materials, legal documents, items) of the real seed data."""
    departments = _load(seeds / "departments.toml")["department"]
    materials = _load(seeds / "materials.toml")["material"]
    documents = _load(seeds / "legal_documents.toml")["document"]
    items: list[dict] = []
    for path in sorted((seeds / "items").glob("*.toml")):
        items.extend(_load(path).get("item", []))
    return departments, materials, documents, items


def _regions(items: list[dict], departments: list[dict]) -> dict[str, str]:
    """The administrative division code each department's item codes start with."""
    regions = {d["code"]: "650100" for d in departments}
    for item in items:
        regions[item["department"]] = item["code"].split("-")[0]
    return regions


def _base_name(name: str) -> str:
    return re.sub(r"（[^（）]*）$", "", name)


def synthetic_item(
    i: int, templates: list[dict], departments: list[dict], materials: list[dict], regions: dict, seed: int
) -> dict:
    """The i-th synthetic item: a real item implemented by another unit or for another case."""
    rng = random.Random(f"{seed}-{i}")
    t = rng.choice(templates)
    by_code = {d["code"]: d for d in departments}
    districts = [d for d in departments if d["level"] == "district"]
    dept = by_code[t["department"]] if rng.random() < 0.4 else rng.choice(districts)
    case = rng.choice(CASES)
    item = json.loads(json.dumps(t))  # a deep copy of plain TOML data
    item["code"] = f"{regions[dept['code']]}-{dept['code']}-S{i:06d}"
    item["department"] = dept["code"]
    item["name"] = _base_name(t["name"]) + case
    if dept["code"] != t["department"]:
        item["summary"] = f"{dept['short_name']}：{t.get('summary', '')}"

    trips = rng.choices((0, 1, 2, 3), weights=(35, 45, 15, 5))[0]
    item["trips"] = trips
    item["trips_reason"] = rng.choice(TRIP_REASONS) if trips else ""
    item["online_depth"] = rng.choice((3, 4)) if trips == 0 else rng.randint(0, 3)
    if trips == 0 and item["online_depth"] < 4:
        item["delivery"] = "邮寄送达"  # check Q004: nobody comes, so the result is posted
    statutory = int(t.get("statutory_days", 0))
    item["statutory_days"] = statutory
    item["promised_days"] = rng.randint(0, statutory) if statutory else 0
    start = date(2015, 1, 1)
    item["effective_at"] = (start + timedelta(days=rng.randint(0, 4 * 365))).isoformat()
    item["consult_phone"] = f"0991-{rng.randint(2_000_000, 8_999_999)}"
    item["complaint_phone"] = "12345"

    used = {m["material"] for m in item.get("materials", [])}
    if item.get("materials") and rng.random() < 0.3:
        # 减证: drop one optional material, if there is one.
        optional = [m for m in item["materials"] if not m.get("required", True)]
        if optional:
            item["materials"].remove(rng.choice(optional))
    for _n in range(rng.choice((0, 0, 1, 2))):
        extra = rng.choice(materials)
        if extra["code"] in used:
            continue
        used.add(extra["code"])
        required = rng.random() < 0.5
        use = {"material": extra["code"], "form": rng.choice(("原件", "复印件", "原件和复印件"))}
        use |= {"copies": rng.randint(1, 2), "medium": rng.choice(("纸质", "电子", "纸质或电子"))}
        use["required"] = required
        if not required:
            use["condition"] = rng.choice(EXTRA_CONDITIONS)
        item.setdefault("materials", []).append(use)

    venues = item.get("venues", [])
    if dept["level"] == "district" and venues:
        venues[0]["name"] = f"{dept['short_name']}政务服务中心"
        venues[0]["address"] = f"乌鲁木齐市{dept['region']} {dept['short_name']}政务服务中心"
        venues[0]["window"] = f"{rng.randint(1, 3)}楼 {rng.randint(1, 40)}号窗口"
    if trips and not venues:
        item["venues"] = [
            {
                "name": f"{dept['short_name']}政务服务中心",
                "address": f"乌鲁木齐市{dept['region']}",
                "window": f"{rng.randint(1, 40)}号窗口",
                "hours": "周一至周五（法定节假日除外）10:00–14:00，15:30–19:30",
            }
        ]
    if len(item.get("faq", [])) > 3:
        item["faq"] = rng.sample(item["faq"], 3)
    return item


def next_edition(item: dict, version: int, seed: int) -> dict | None:
    """The item's edition `version` (2, 3 …), or None if it did not change then."""
    rng = random.Random(f"{seed}-{item['code']}-v{version}")
    changed = json.loads(json.dumps(item))
    previous = date.fromisoformat(item["effective_at"])
    effective = previous + timedelta(days=rng.randint(200, 900))
    if effective > date(2025, 12, 31):
        return None
    changed["effective_at"] = effective.isoformat()
    if changed["trips"] > 0:
        changed["trips"] -= 1
        if changed["trips"] <= 1:
            changed["trips_reason"] = changed["trips_reason"] if changed["trips"] else ""
    if changed["trips"] == 0 and rng.random() < 0.5:
        changed["online_depth"] = 4
    if changed["trips"] == 0 and changed["online_depth"] < 4:
        changed["delivery"] = "邮寄送达"
    changed["promised_days"] = max(0, changed.get("promised_days", 0) // 2)
    optional = [m for m in changed.get("materials", []) if not m.get("required", True)]
    if optional:
        changed["materials"].remove(rng.choice(optional))
    return changed


# ---- TOML writing (only what seed files use) ------------------------------------------------


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(v, date):
        return json.dumps(v.isoformat())
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):  # an inline table (a question's options)
        return "{ " + ", ".join(f"{k} = {_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v)} to TOML")


def item_toml(item: dict) -> str:
    lines = ["[[item]]"]
    tables = []
    for key, value in item.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            tables.append((key, value))
        else:
            lines.append(f"{key} = {_value(value)}")
    for key, rows in tables:
        for row in rows:
            lines.append(f"\n[[item.{key}]]")
            lines.extend(f"{k} = {_value(v)}" for k, v in row.items())
    return "\n".join(lines) + "\n\n"


def write_items(folder: Path, items: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    by_department: dict[str, list[dict]] = {}
    for item in items:
        by_department.setdefault(item["department"], []).append(item)
    for code, rows in sorted(by_department.items()):
        # Files of at most FILE_ITEMS items: a loader holds one parsed file at a time.
        for part, start in enumerate(range(0, len(rows), FILE_ITEMS), start=1):
            chunk = rows[start : start + FILE_ITEMS]
            name = f"{code}.toml" if len(rows) <= FILE_ITEMS else f"{code}-{part:03d}.toml"
            with (folder / name).open("w", encoding="utf-8") as out:
                out.write(f"# generated by bench/generate.py: {len(chunk)} items of {code}\n\n")
                for item in chunk:
                    out.write(item_toml(item))


def copy_reference(target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for name in REFERENCE_FILES:
        shutil.copyfile(SEEDS / name, target / name)


def generate(n: int, target: Path, *, seed: int = 2018, history: float = 0.3) -> dict[str, int]:
    """Write the registry; return how many items and later editions were written."""
    departments, materials, _documents, real = real_catalogue()
    regions = _regions(real, departments)
    items = [json.loads(json.dumps(x)) for x in real[:n]]
    items += [synthetic_item(i, real, departments, materials, regions, seed) for i in range(n - len(items))]
    if target.exists():
        shutil.rmtree(target)
    copy_reference(target)
    write_items(target / "items", items)
    counts = {"items": len(items)}
    version, latest = 2, items
    while history > 0:
        rng = random.Random(f"{seed}-history-{version}")
        changed = []
        for item in latest:
            if item["code"].split("-")[-1].startswith("S") and rng.random() < history:
                edition = next_edition(item, version, seed)
                if edition is not None:
                    changed.append(edition)
        if not changed:
            break
        folder = target / "history" / str(version)
        copy_reference(folder)
        write_items(folder / "items", changed)
        counts[f"edition {version}"] = len(changed)
        latest = changed
        version += 1
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, help="how many items in all")
    parser.add_argument("dir", type=Path, help="the seed folder to write (replaced)")
    parser.add_argument("--seed", type=int, default=2018)
    parser.add_argument("--history", type=float, default=0.3, help="share of items changed per edition")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("N must be at least 1")
    counts = generate(args.n, args.dir, seed=args.seed, history=args.history)
    print(", ".join(f"{k}: {v}" for k, v in counts.items()), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

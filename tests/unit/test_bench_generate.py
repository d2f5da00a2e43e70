"""bench/generate.py: synthetic registries that `onetrip seed` accepts, the same every time."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from registry.seeding import read_seeds
from registry.settings import PROJECT_ROOT

spec = importlib.util.spec_from_file_location("bench_generate", PROJECT_ROOT / "bench" / "generate.py")
generate_module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(generate_module)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.toml"))}


def test_generated_registry_is_valid_seed_data_with_history(tmp_path):
    counts = generate_module.generate(300, tmp_path / "reg", history=0.5)
    bundle = read_seeds(tmp_path / "reg")  # raises SeedError listing any problem
    assert len(bundle.items) == counts["items"] == 300
    assert len({i.code for i in bundle.items}) == 300
    # The real items come first, unchanged.
    real = read_seeds(PROJECT_ROOT / "seeds")
    assert {i.code for i in real.items} <= {i.code for i in bundle.items}
    # Varied: many departments, names, trip counts.
    assert len({i.department for i in bundle.items}) >= 20
    assert len({i.content.name for i in bundle.items}) >= 150
    assert {i.content.trips for i in bundle.items} >= {0, 1, 2}
    # Later editions are complete seed folders holding only changed items, with later dates.
    second = read_seeds(tmp_path / "reg" / "history" / "2")
    assert 0 < len(second.items) < 300
    first_by_code = {i.code: i for i in bundle.items}
    for item in second.items:
        before = first_by_code[item.code].content
        assert item.content.effective_at > before.effective_at
        assert item.content.trips <= before.trips
    assert (tmp_path / "reg" / "history" / "3").is_dir()


def test_generation_is_deterministic_and_item_i_does_not_depend_on_n(tmp_path):
    generate_module.generate(150, tmp_path / "a")
    generate_module.generate(150, tmp_path / "b")
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    generate_module.generate(200, tmp_path / "c")
    small = {i.code: i for i in read_seeds(tmp_path / "a").items}
    large = {i.code: i for i in read_seeds(tmp_path / "c").items}
    assert all(
        (large[code].department, large[code].content) == (item.department, item.content)
        for code, item in small.items()
    )

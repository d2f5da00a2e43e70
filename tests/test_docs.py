"""Every setting is documented in the README, with its environment variable and help text."""

from __future__ import annotations

from registry.settings import PROJECT_ROOT, settings_table


def test_every_setting_is_in_the_readme():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    for env, _default, help_text in settings_table():
        assert f"`{env}`" in readme, env
        assert help_text in readme, env


def test_quick_start_is_two_commands():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme
    assert "make test" in readme

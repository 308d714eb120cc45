"""Docs cannot fall behind: the rule page is generated, every rule and command is documented."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from video_audit.cli import main
from video_audit.findings import catalogue
from video_audit.rules.docs import markdown

ROOT = Path(__file__).resolve().parents[1]


def test_rules_page_is_up_to_date() -> None:
    page = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert page == markdown(), "run: video-audit rules --markdown > docs/rules.md"


def test_every_rule_is_documented_in_both_languages() -> None:
    page = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    for code, rule in catalogue().items():
        assert re.search(rf"^## {code} — ", page, re.M), f"{code} missing from docs/rules.md"
        for lang in ("zh", "en"):
            assert rule.title[lang] and rule.description[lang]
            for variant, texts in rule.messages.items():
                assert texts.get(lang), f"{code}.{variant} has no {lang} text"


def test_every_command_has_help_and_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    runner = CliRunner()
    for name, command in main.commands.items():
        assert command.help, f"video-audit {name} has no help text"
        assert runner.invoke(main, [name, "--help"]).exit_code == 0
        assert f"video-audit {name}" in readme, f"README does not mention video-audit {name}"
    assert "make demo" in readme and "make test" in readme


def test_every_setting_is_documented() -> None:
    from video_audit.settings import AuditSettings, ServiceSettings, settings_markdown

    page = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert page == settings_markdown(), "run: make docs"
    for cls in (AuditSettings, ServiceSettings):
        for name, info in cls.model_fields.items():
            assert info.description, f"{cls.__name__}.{name} has no docstring"
            assert f"`VIDEO_AUDIT_{name.upper()}`" in page

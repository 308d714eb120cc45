"""Documents for the bureau: remedies in the catalogue, the 公示 period, the PDFs, HTML and XLSX."""

from __future__ import annotations

from video_audit.findings import catalogue


def test_every_rule_has_a_remedy_in_both_languages() -> None:
    for code, rule in catalogue().items():
        assert rule.remedy.get("zh", "").strip(), f"{code} has no Chinese remedy"
        assert rule.remedy.get("en", "").strip(), f"{code} has no English remedy"

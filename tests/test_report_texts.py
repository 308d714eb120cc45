"""What an inspector reads: details in words (no raw keys), what to do, roster problems in zh."""

from __future__ import annotations

from pathlib import Path

import pytest

from video_audit.faces.roster import RosterError, parse_roster
from video_audit.findings import Bilingual, catalogue, finding, localise
from video_audit.report.details import detail_parts, details_text, remedy

# Details as real rules wrote them on the sample disc.
QA04 = finding(
    "QA04", "a/5月23日/x.mp4", "frozen", seconds=39.0, threshold=10.0, ranges=["5:00–5:39"],
    stretches=[[300.0, 339.0]], level=0.05, typical=0.65,
)  # fmt: skip
QA05 = finding(
    "QA05", "a/第三天/x.mp4", "same_class", other="a/第三天/y.mp4", others=["a/第三天/y.mp4"],
    start="0:00", end="0:09", other_start="0:00", seconds=9.4, offset=-0.0, frames=20,
    distance=0.4,
)  # fmt: skip
QA07 = finding(
    "QA07", "a/5月24日/x.mp4", "date", expected="2024-05-24", recorded="2024-05-23 09:50",
    source="clock", recorded_iso="2024-05-23T09:50:00+08:00",
)  # fmt: skip
FM04 = finding(
    "FM04", "a/5月24日/x.mp4", "truncated",
    error="Invalid data found when processing input", size=251326, modified_seconds_ago=2.6,
)  # fmt: skip
RAW_KEYS = ("stretches", "offset", "distance", "recorded_iso", "modified_seconds_ago", "_")


@pytest.mark.parametrize("f", [QA04, QA05, QA07, FM04], ids=lambda f: f.code)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_details_carry_no_raw_keys(f: object, lang: str) -> None:
    text = details_text(f, lang)  # type: ignore[arg-type]
    for key in RAW_KEYS:
        assert key not in text, text
    if lang == "zh":
        assert "Invalid data" not in text and "T09:50" not in text
    else:
        assert "：" not in text and "；" not in text


def test_distances_read_as_similarity_with_the_figure_behind() -> None:
    [part] = [p for p in detail_parts(QA05, "zh") if p.exact]
    assert part.text == "相似度 高" and "0.4" in part.exact
    assert "相似度 高（" in details_text(QA05, "zh")
    assert "similarity high (" in details_text(QA05, "en")


def test_decoder_message_only_in_english_and_size_in_words() -> None:
    assert details_text(FM04, "zh") == "文件大小：245.4 KB；最近修改：3 秒前"
    assert "decoder message: Invalid data" in details_text(FM04, "en")


def test_every_rule_has_what_to_do_in_both_languages() -> None:
    for code, rule in catalogue().items():
        f = finding(code, ".", next(iter(rule.messages), ""))
        assert remedy(f, "zh") and remedy(f, "en"), code


def test_bilingual_text_is_english_and_carries_chinese() -> None:
    text = Bilingual("empty roster", "名册是空的")
    assert text == "empty roster" and localise(text, "zh") == "名册是空的"
    assert localise([text], "en") == "empty roster"


def test_roster_errors_read_in_chinese(tmp_path: Path) -> None:
    roster = tmp_path / "名册.csv"
    roster.write_text("编号,备注\n1,x\n", encoding="utf-8")
    with pytest.raises(RosterError) as caught:
        parse_roster(roster)
    message = str(caught.value)
    assert "header lacks id, name" in message
    assert "表头缺少证件号或姓名列" in localise(message, "zh")
    roster.write_text("证件号,姓名,角色\n140100200001011234,王芳,校长\n", encoding="utf-8")
    with pytest.raises(RosterError) as caught:
        parse_roster(roster)
    shown = localise(str(caught.value), "zh")
    assert "第 2 行" in shown and "角色“校长”无法识别" in shown
    pp06 = finding("PP06", "名册.csv", "file", problem=str(caught.value))
    assert "无法识别" in pp06.message("zh") and "unknown role" in pp06.message("en")

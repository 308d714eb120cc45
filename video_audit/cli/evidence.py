"""`video-audit screenshot | evidence verify | evidence head`: evidence in the workspace's chain."""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path

import click

from video_audit.cli.common import LANGS, data_option, default_lang, fail, workspace_store


@click.command()
@click.argument("video", type=click.Path(path_type=Path))
@click.option("--at", "at_text", required=True, help="时刻：秒、MM:SS 或 HH:MM:SS.mmm / time")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="PNG 文件 / the PNG")
@click.option("--note", default="", help="备注 / note")
@click.option("--by", default=None, help="取证人（默认当前用户）/ who takes it")
@data_option
@click.option("--lang", type=LANGS, default=default_lang, show_default="zh")
def screenshot(
    video: Path,
    at_text: str,
    out: Path,
    note: str,
    by: str | None,
    data: Path | None,
    lang: str,
) -> None:
    """截图取证：取出 TIME 时刻的原始帧并记入证据链 / exact frame at TIME, logged as evidence."""
    from video_audit.evidence import EvidenceKeyError, EvidenceLog, link_of
    from video_audit.files import write_atomic
    from video_audit.media.grab import ScreenshotError, parse_time, time_code
    from video_audit.report.texts import t

    try:
        at = parse_time(at_text)
    except ValueError as exc:
        fail(str(exc))
    if not video.is_file():
        fail(f"{video}: no such file")
    with workspace_store(data, create=True, lang=lang, announce=False) as (workspace, store, said):
        try:
            log = EvidenceLog(store, workspace.evidence_dir)
            record = log.capture(video, at, by or getpass.getuser(), note)
            write_atomic(out, log.path_of(record["png"]).read_bytes())
        except ScreenshotError as exc:
            fail(str(exc))
        except EvidenceKeyError as exc:
            fail(exc.message(lang))
        except OSError as exc:
            fail(f"{exc.filename or out}: {exc.strerror or exc}")
    click.echo(said, err=True)
    click.echo(
        f"#{record['seq']}  {time_code(record['frame_time'])}  pts {record['pts']}  "
        f"{video.name}  SHA-256 {record['source_sha256'][:16]}…  → {out}"
    )
    click.echo(t(lang, "ev_head_line", head=f"{record['seq']}:{link_of(record)}"))


@click.group()
def evidence() -> None:
    """证据链 / the evidence log."""


@evidence.command("verify")
@data_option
@click.option("--head", "head_text", default=None, help="另行保存的末端 COUNT:MAC / anchored head")
@click.option(
    "--head-file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="含末端的文件（evidence head --json 的输出或 COUNT:MAC）/ a file with the head",
)
@click.option(
    "--sources/--no-sources",
    default=True,
    show_default=True,
    help="重新核对仍在原处的源视频的 SHA-256 / re-hash the source videos still present",
)
@click.option("--lang", type=LANGS, default=default_lang, show_default="zh")
def evidence_verify(
    data: Path | None, head_text: str | None, head_file: Path | None, sources: bool, lang: str
) -> None:
    """校验证据链（0 完好，1 被改动，2 无法校验）/ verify the log (0 intact, 1 tampered, 2 cannot).

    有密钥时核对每条记录的签名；给出另行保存的末端（--head 或 --head-file）时还能发现
    最新记录被删除。/ With the key, every record's signature is checked; with a head kept
    elsewhere (--head or --head-file), removed newest records show too.
    """
    from video_audit.evidence import EvidenceKeyError, EvidenceLog, Head
    from video_audit.report.texts import t

    anchor = None
    if head_text is not None or head_file is not None:
        try:
            text = head_text if head_text is not None else _read(head_file)
            anchor = Head.parse(text or "")
        except (ValueError, OSError) as exc:
            fail(t(lang, "ev_bad_head", detail=exc))
    with workspace_store(data, create=False, lang=lang) as (workspace, store, _):
        try:
            verdict = EvidenceLog(store, workspace.evidence_dir).verify(anchor, sources)
        except EvidenceKeyError as exc:
            fail(exc.message(lang))
    click.echo(verdict.message(lang), err=not verdict.ok)
    sys.exit(0 if verdict.ok else 1)


def _read(path: Path | None) -> str:
    assert path is not None
    return path.read_text(encoding="utf-8")


@evidence.command("head")
@data_option
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出，便于另行保存 / as JSON")
@click.option("--lang", type=LANGS, default=default_lang, show_default="zh")
def evidence_head(data: Path | None, as_json: bool, lang: str) -> None:
    """证据链末端 COUNT:MAC，请另行保存 / the chain's head, to keep elsewhere."""
    from video_audit.evidence import EvidenceKeyError, EvidenceLog
    from video_audit.report.texts import t
    from video_audit.store import now

    with workspace_store(data, create=False, lang=lang) as (workspace, store, _):
        log = EvidenceLog(store, workspace.evidence_dir)
        head = log.head()
        last = store.last_evidence()
        try:
            key = log.key()
        except EvidenceKeyError as exc:
            fail(exc.message(lang))
    if not as_json:
        click.echo(head.text())
        click.echo(t(lang, "ev_head_line", head=head.text()), err=True)
        return
    exported = {
        "head": head.text(),
        "records": head.count,
        "mac": head.link,
        "keyed": bool(last is not None and last["mac"]),
        "key_id": last["key_id"] if last is not None else (key.key_id if key else None),
        "last_taken_at": last["taken_at"] if last is not None else None,
        "workspace": str(workspace.root),
        "exported_at": now(),
    }
    click.echo(json.dumps(exported, ensure_ascii=False, indent=2))

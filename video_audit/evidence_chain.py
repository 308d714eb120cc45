"""The evidence chain's key, its records' keyed signatures, its head, and verification.

A hash chain alone holds only against mistakes: whoever can write the data folder can edit a
record and re-hash everything after it. So each record also carries an HMAC-SHA256 signature
(`mac`) made with a key kept outside the workspace (`$VIDEO_AUDIT_EVIDENCE_KEY_FILE`, else
`$XDG_CONFIG_HOME/video-audit/evidence.key`). The signature covers the record's content hash,
its number, the previous record's signature (its hash for an older, unkeyed record), who, when,
and the source's path and SHA-256. Removing the newest records cannot show from inside the data
folder, so the chain's head (`COUNT:MAC`) is meant to be kept elsewhere too and given back to
verification (`--head`). Records made before the key existed stay readable as "unkeyed (older)";
the first keyed record after them signs their last hash, so they cannot change unseen either.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from video_audit.report.texts import t

KEY_ENV = "VIDEO_AUDIT_EVIDENCE_KEY_FILE"
"""The environment variable naming the evidence key file."""
KEY_BYTES = 32
MAC_FIELDS = ("seq", "hash", "taken_by", "taken_at", "source_path", "source_sha256")
"""What a record's signature covers besides the previous record's link."""


class EvidenceKeyError(Exception):
    """The evidence key cannot be used: inside the workspace, malformed, lost, or another one."""

    def __init__(self, key: str, **params: Any) -> None:
        self.key, self.params = key, params
        super().__init__(self.message("en"))

    def message(self, lang: str = "zh") -> str:
        return t(lang, self.key, **self.params)

    def both(self) -> str:
        """The message in Chinese, then English (for logs and API errors)."""
        return f"{self.message('zh')} / {self.message('en')}"


def key_path(explicit: Path | None = None, env: Mapping[str, str] | None = None) -> Path:
    """Where the key is: explicit, else $VIDEO_AUDIT_EVIDENCE_KEY_FILE, else the config folder."""
    env = os.environ if env is None else env
    if explicit is not None:
        return Path(os.path.abspath(explicit.expanduser()))
    if env.get(KEY_ENV):
        return Path(os.path.abspath(Path(env[KEY_ENV]).expanduser()))
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(os.path.abspath(Path(base).expanduser())) / "video-audit" / "evidence.key"


def _inside(path: Path, folders: Sequence[Path]) -> Path | None:
    real = path.resolve()
    for folder in folders:
        if real.is_relative_to(folder.resolve()):
            return folder
    return None


@dataclass(frozen=True)
class EvidenceKey:
    """The secret that signs the chain, and the file it came from."""

    path: Path
    secret: bytes = field(repr=False)

    @property
    def key_id(self) -> str:
        """A short name of the key (not the key): tells which key signed a record."""
        return hmac.new(self.secret, b"video-audit evidence key id", "sha256").hexdigest()[:16]

    def sign(self, record: Mapping[str, Any], prev_link: str) -> str:
        """HMAC-SHA256 over the record's signed fields and the previous record's link."""
        body = {name: record[name] for name in MAC_FIELDS}
        body["prev_link"] = prev_link
        text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hmac.new(self.secret, text.encode("utf-8"), "sha256").hexdigest()

    @classmethod
    def load(cls, path: Path, forbidden: Sequence[Path] = ()) -> EvidenceKey | None:
        """The key in the file (None when there is none); refused inside a forbidden folder."""
        inside = _inside(path, forbidden)
        if inside is not None:
            raise EvidenceKeyError("ev_key_inside", path=path, root=inside)
        if not path.exists():
            return None
        try:
            text = path.read_text(encoding="ascii").strip()
            secret = bytes.fromhex(text)
        except (OSError, UnicodeDecodeError, ValueError):
            raise EvidenceKeyError("ev_key_bad", path=path) from None
        if len(secret) != KEY_BYTES:
            raise EvidenceKeyError("ev_key_bad", path=path)
        return cls(path, secret)

    @classmethod
    def create(cls, path: Path, forbidden: Sequence[Path] = ()) -> EvidenceKey:
        """A new random key, written 0600 (its folder 0700); an existing one is kept."""
        inside = _inside(path, forbidden)
        if inside is not None:
            raise EvidenceKeyError("ev_key_inside", path=path, root=inside)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        secret = secrets.token_bytes(KEY_BYTES)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(secret.hex() + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.link(tmp, path)  # fails when another process made one first: theirs is kept
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
        key = cls.load(path, forbidden)
        assert key is not None
        return key


def link_of(record: Mapping[str, Any]) -> str:
    """What the next record signs and what a head names: the MAC, else (older) the hash."""
    return str(record["mac"] or record["hash"])


@dataclass(frozen=True)
class Head:
    """The chain's head: the last record's number and link, written `COUNT:MAC`."""

    count: int
    link: str

    def text(self) -> str:
        return f"{self.count}:{self.link}"

    @classmethod
    def of(cls, rows: Sequence[Mapping[str, Any]]) -> Head:
        return cls(int(rows[-1]["seq"]), link_of(rows[-1])) if rows else cls(0, "")

    @classmethod
    def parse(cls, text: str) -> Head:
        """`COUNT:MAC`, or the JSON `video-audit evidence head --json` writes."""
        text = text.strip()
        if text.startswith("{"):
            try:
                text = str(json.loads(text)["head"])
            except (ValueError, KeyError, TypeError):
                raise ValueError("not the JSON of `video-audit evidence head --json`") from None
        count, sep, link = text.partition(":")
        if not sep or not count.isdigit() or (int(count) and len(link) != 64):
            raise ValueError(f"{text[:80]!r}: a head is COUNT:MAC (MAC of 64 hex digits)")
        if any(c not in "0123456789abcdef" for c in link.lower()):
            raise ValueError(f"{text[:80]!r}: the MAC is not hexadecimal")
        return cls(int(count), link.lower())


def sha256_now(path: Path) -> str:
    """SHA-256 of a file read now (verification never trusts a remembered digest)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Verdict:
    """What verify() found: the first record that no longer holds (if any) and the notes."""

    records: int
    seq: int | None
    problem: str | None
    file: str | None = None
    head: Head = Head(0, "")
    key_path: str | None = None
    keyed: bool = True
    unkeyed: int = 0
    anchor: Head | None = None
    expected: int | None = None
    sources_changed: tuple[int, ...] = ()
    sources_missing: tuple[int, ...] = ()
    sources_checked: bool = True
    incomplete: tuple[str, ...] = ()
    head_lag: bool = False

    @property
    def ok(self) -> bool:
        """The chain holds and no source that is still there has changed."""
        return self.problem is None and not self.sources_changed

    def lines(self, lang: str = "zh") -> list[str]:
        """What an inspector reads: the verdict first, then warnings and notes."""
        say = lambda key, **p: t(lang, key, **p)  # noqa: E731
        out: list[str] = []
        if self.sources_changed:  # first: the chain may hold, the footage did not
            out.append(say("ev_sources_changed", seqs=_seqs(self.sources_changed, lang)))
        if self.problem is not None:
            out += [say(f"ev_{self.problem}", seq=self.seq, file=self.file,
                       records=self.records, expected=self.expected)]  # fmt: skip
        elif self.records == 0:
            out += [say("ev_empty")]
        elif self.keyed:
            out += [say("ev_intact", records=self.records)]
            if self.records > self.unkeyed:
                out.append(say("ev_signed", n=self.records - self.unkeyed, path=self.key_path))
        else:
            out += [say("ev_consistent", records=self.records, path=self.key_path)]
        if self.records == 0 and self.keyed and self.problem is None:
            out.append(say("ev_empty_with_key", path=self.key_path))
        if self.unkeyed:
            out.append(say("ev_unkeyed", n=self.unkeyed))
        if self.sources_missing:
            out.append(say("ev_sources_missing", seqs=_seqs(self.sources_missing, lang)))
        if not self.sources_checked:
            out.append(say("ev_sources_skipped"))
        if self.incomplete:
            out.append(say("ev_incomplete", n=len(self.incomplete)))
        if self.head_lag:
            out.append(say("ev_head_lag"))
        if self.problem is None and self.anchor is not None:
            out.append(say("ev_anchor_ok", anchor=self.anchor.text()))
        elif self.problem is None and self.records:
            out.append(say("ev_no_anchor", head=self.head.text()))
        return out

    def message(self, lang: str = "zh") -> str:
        return "\n".join(self.lines(lang))

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        return {
            "ok": self.ok,
            "records": self.records,
            "seq": self.seq,
            "problem": self.problem,
            "file": self.file,
            "head": self.head.text(),
            "keyed": self.keyed,
            "unkeyed": self.unkeyed,
            "anchor": self.anchor.text() if self.anchor else None,
            "sources_changed": list(self.sources_changed),
            "sources_missing": list(self.sources_missing),
            "incomplete": list(self.incomplete),
            "message": self.message(lang),
        }


def _seqs(seqs: Sequence[int], lang: str) -> str:
    shown = ("、" if lang == "zh" else ", ").join(str(s) for s in seqs[:20])
    return shown + ("…" if len(seqs) > 20 else "")


@dataclass
class _Walk:
    """The first problem met while walking the chain (later ones are not looked for)."""

    seq: int | None = None
    problem: str | None = None
    file: str | None = None
    expected: int | None = None

    def found(self, seq: int | None, problem: str, file: str | None = None) -> None:
        if self.problem is None:
            self.seq, self.problem, self.file = seq, problem, file


def verify_chain(
    rows: Sequence[Mapping[str, Any]],
    folder: Path,
    key: EvidenceKey | None,
    *,
    key_file: Path,
    record_hash: Any,
    local_head: str | None = None,
    anchor: Head | None = None,
    sources: bool = True,
) -> Verdict:
    """Check numbering, hashes, signatures, images, the local HEAD, the anchor and the sources.

    local_head is the HEAD file's text (None: no file), read before the records were: it is
    written after each commit, so read first it can only lag them, even while captures go on."""
    walk = _Walk()
    prev_hash, prev_link, expected_seq, keyed_seen, unkeyed = "", "", 1, False, 0
    for record in rows:
        seq = int(record["seq"])
        if seq != expected_seq:
            walk.found(expected_seq, "missing")
        elif record["prev_hash"] != prev_hash:
            walk.found(seq, "chain")
        elif record_hash(record) != record["hash"]:
            walk.found(seq, "content")
        elif not record["mac"]:
            if keyed_seen:
                walk.found(seq, "unkeyed_after")
            unkeyed += 1
        elif key is not None and record["key_id"] != key.key_id:
            walk.found(seq, "other_key")
        elif key is not None and not hmac.compare_digest(
            key.sign(record, prev_link), str(record["mac"])
        ):
            walk.found(seq, "mac")
        keyed_seen = keyed_seen or bool(record["mac"])
        if walk.problem is None and not record.get("kind"):  # only a capture has images
            for rel_key, sha_key in (("png", "png_sha256"), ("caption_png", "caption_sha256")):
                target = folder / record[rel_key]
                if not target.is_file():
                    walk.found(seq, "file_missing", record[rel_key])
                elif sha256_now(target) != record[sha_key]:
                    walk.found(seq, "file_changed", record[rel_key])
        if walk.problem is not None:
            break
        prev_hash, prev_link, expected_seq = record["hash"], link_of(record), seq + 1
    head = Head.of(rows)
    head_lag = False
    if walk.problem is None:
        head_lag = _local_head(local_head, rows, walk)
    if walk.problem is None and anchor is not None:
        _anchored(anchor, rows, walk)
    changed, missing = _sources(rows) if sources else ((), ())
    return Verdict(
        records=len(rows),
        seq=walk.seq,
        problem=walk.problem,
        file=walk.file,
        head=head,
        key_path=str(key_file),
        keyed=key is not None,
        unkeyed=unkeyed,
        anchor=anchor,
        expected=walk.expected,
        sources_changed=changed,
        sources_missing=missing,
        sources_checked=sources,
        incomplete=_incomplete(folder, rows),
        head_lag=head_lag,
    )


def read_local_head(path: Path) -> str | None:
    """The HEAD file's text (None when there is none; unreadable reads as malformed)."""
    try:
        return path.read_text(encoding="ascii") if path.is_file() else None
    except (OSError, UnicodeDecodeError):
        return "?"


def _local_head(text: str | None, rows: Sequence[Mapping[str, Any]], walk: _Walk) -> bool:
    """The HEAD file beside the images is written after each commit, so it may lag the records
    by what a crash cut short (a note, not tampering); ahead of them, or naming another link
    than the record at its number, it shows records deleted or rewritten. True when it lags."""
    words = (text or "").split()
    if not words:
        return bool(rows)
    if len(words) != 2 or not words[0].isdigit():
        walk.found(int(rows[-1]["seq"]) if rows else 0, "head")
        return False
    count, link = int(words[0]), words[1]
    if count > len(rows):
        walk.found(len(rows) + 1, "missing")
        return False
    if count and link_of(rows[count - 1]) != link:
        walk.found(count, "head")
        return False
    return count < len(rows)


def _anchored(anchor: Head, rows: Sequence[Mapping[str, Any]], walk: _Walk) -> None:
    if anchor.count > len(rows):
        walk.found(len(rows) + 1, "anchor_short")
        walk.expected = anchor.count
    elif anchor.count and not hmac.compare_digest(link_of(rows[anchor.count - 1]), anchor.link):
        walk.found(anchor.count, "anchor_mismatch")


def _sources(rows: Sequence[Mapping[str, Any]]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Records whose source, still there, now hashes differently; records whose source is gone."""
    digests: dict[str, str | None] = {}
    changed, missing = [], []
    for record in rows:
        if record.get("kind"):  # a decision or a revocation: no source file
            continue
        path = str(record["source_path"])
        if path not in digests:
            try:
                digests[path] = sha256_now(Path(path))
            except OSError:
                digests[path] = None
        if digests[path] is None:
            missing.append(int(record["seq"]))
        elif digests[path] != record["source_sha256"]:
            changed.append(int(record["seq"]))
    return tuple(changed), tuple(missing)


def _incomplete(folder: Path, rows: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """Image files no record names: what a capture cut short left behind (not tampering)."""
    files = folder / "files"
    if not files.is_dir():
        return ()
    named = {str(r[k]) for r in rows for k in ("png", "caption_png")}
    found = (p.relative_to(folder).as_posix() for p in files.rglob("*") if p.is_file())
    return tuple(sorted(rel for rel in found if rel not in named))

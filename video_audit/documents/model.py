"""What a printed document is, before any format: a title, labelled fields, sections of
paragraphs and tables, signature lines. The PDF and HTML renderers draw this and nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Table:
    """A table: header cells, rows of text, relative column widths."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...]


@dataclass(frozen=True)
class Section:
    """A heading, then its paragraphs and tables in order."""

    heading: str
    blocks: tuple[str | Table, ...] = ()


@dataclass(frozen=True)
class Document:
    """One printable document (A4, Chinese)."""

    kind: str
    title: str
    fields: tuple[tuple[str, str], ...] = ()
    sections: tuple[Section, ...] = ()
    signatures: tuple[str, ...] = ()
    """Signature lines: each a label (经办人 …) followed by space to sign and a date."""
    closing: tuple[str, ...] = field(default_factory=tuple)
    """Right-aligned lines at the end (issuing unit, date)."""

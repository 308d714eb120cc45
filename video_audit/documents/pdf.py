"""Documents as PDF (A4) with fpdf2, the CJK face embedded (subset) so that any viewer and any
printer shows the Chinese text without fonts of its own (see docs/documents.md)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from video_audit.documents.model import Document, Table

if TYPE_CHECKING:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

FACE = "cjk"
# Noto Sans CJK's collection holds JP, KR, SC, TC, HK faces: the documents are 简体中文.
_FACE_NAME = "Noto Sans CJK SC"


class FontMissingError(RuntimeError):
    """The CJK font package is not installed."""


@cache
def cjk_font() -> tuple[Path, int]:
    """The font file and the Simplified Chinese face's index in it (noto-cjk-sans-otc)."""
    try:
        import noto_cjk_sans_otc
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise FontMissingError(
            "PDF 需要中文字体包 noto-cjk-sans-otc / PDF needs the noto-cjk-sans-otc package"
        ) from exc
    path = Path(str(noto_cjk_sans_otc.FONT_PATH))
    from fontTools.ttLib import TTCollection

    with TTCollection(str(path), lazy=True) as collection:
        for index, font in enumerate(collection.fonts):
            if font["name"].getDebugName(4) == _FACE_NAME:
                return path, index
    raise FontMissingError(f"{path} has no {_FACE_NAME} face")


def render_pdf(doc: Document) -> bytes:
    """The document as an A4 PDF."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    class _Pdf(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(FACE, size=8)
            self.cell(0, 6, f"{doc.title}　第 {self.page_no()} 页 / 共 {{nb}} 页", align="C")

    path, index = cjk_font()
    pdf = _Pdf(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_font(FACE, "", str(path), collection_font_number=index)
    pdf.set_title(doc.title)
    pdf.set_creator("video-audit")
    pdf.add_page()
    pdf.set_font(FACE, size=18)
    pdf.cell(0, 12, doc.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    heading = FontFace(emphasis="NONE", fill_color=(230, 230, 230))
    if doc.fields:
        pdf.set_font(FACE, size=10.5)
        with pdf.table(
            col_widths=(1, 4), first_row_as_headings=False, line_height=6.5, padding=1.5
        ) as table:
            for label, value in doc.fields:
                row = table.row()
                row.cell(label, style=heading)
                row.cell(value)
        pdf.ln(3)
    for section in doc.sections:
        if section.heading:
            pdf.set_font(FACE, size=13)
            pdf.cell(0, 9, section.heading, new_x="LMARGIN", new_y="NEXT")
        for block in section.blocks:
            if isinstance(block, Table):
                _table(pdf, block, heading)
            else:
                pdf.set_font(FACE, size=10.5)
                pdf.multi_cell(0, 6.5, block, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    pdf.set_font(FACE, size=11)
    for label in doc.signatures:
        pdf.ln(6)
        pdf.cell(
            0,
            8,
            f"{label}（签字）：________________　　日期：________________",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    for line in doc.closing:
        pdf.ln(2)
        pdf.cell(0, 8, line, align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _table(pdf: FPDF, table: Table, heading: FontFace) -> None:
    pdf.set_font(FACE, size=9)
    with pdf.table(
        col_widths=table.widths,
        headings_style=heading,
        line_height=5,
        padding=1.2,
        repeat_headings=1,
    ) as out:
        out.row(list(table.header))
        for cells in table.rows:
            out.row(list(cells))
    pdf.ln(2)

"""Documents as one printable HTML file (A4 print CSS, no outside resources)."""

from __future__ import annotations

from html import escape

from video_audit.documents.model import Document, Table

CSS = """
@page { size: A4; margin: 16mm 18mm; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC",
       "SimSun", sans-serif; font-size: 10.5pt; color: #000; max-width: 180mm; margin: 0 auto; }
h1 { text-align: center; font-size: 18pt; margin: 0 0 4mm; }
h2 { font-size: 13pt; margin: 5mm 0 2mm; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0; }
th, td { border: 0.3mm solid #000; padding: 1.2mm 1.5mm; vertical-align: top; font-size: 9pt; }
th { background: #e6e6e6; font-weight: normal; }
table.fields th { width: 20%; text-align: left; }
table.fields td, table.fields th { font-size: 10.5pt; }
thead { display: table-header-group; }
tr { page-break-inside: avoid; }
p { margin: 1.5mm 0; white-space: pre-wrap; }
.sign { margin-top: 8mm; }
.closing { text-align: right; }
@media screen { body { margin: 10mm auto; } }
"""


def render_html(doc: Document) -> bytes:
    """The document as an HTML page that prints on A4."""
    out = [
        "<!doctype html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{escape(doc.title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{escape(doc.title)}</h1>",
    ]
    if doc.fields:
        out.append('<table class="fields">')
        out += [f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in doc.fields]
        out.append("</table>")
    for section in doc.sections:
        if section.heading:
            out.append(f"<h2>{escape(section.heading)}</h2>")
        for block in section.blocks:
            out.append(_table(block) if isinstance(block, Table) else f"<p>{escape(block)}</p>")
    for label in doc.signatures:
        line = f"{escape(label)}（签字）：________________　　日期：________________"
        out.append(f'<p class="sign">{line}</p>')
    out += [f'<p class="closing">{escape(line)}</p>' for line in doc.closing]
    out.append("</body></html>")
    return ("\n".join(out) + "\n").encode("utf-8")


def _table(table: Table) -> str:
    total = sum(table.widths) or 1
    cols = "".join(f'<col style="width:{w / total * 100:.1f}%">' for w in table.widths)
    head = "".join(f"<th>{escape(c)}</th>" for c in table.header)
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in table.rows
    )
    return (
        f"<table><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )

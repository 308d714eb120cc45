"""The morning summary as one self-contained HTML page (no scripts, no external files)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jinja2 import Environment

from video_audit import __version__
from video_audit.rules import catalogue

if TYPE_CHECKING:
    from video_audit.scan.summary import NightSummary

_PAGE = """<!doctype html>
<html lang="{{ 'zh-CN' if lang == 'zh' else 'en' }}">
<head><meta charset="utf-8"><title>{{ w.title }} {{ s.night }}</title>
<style>
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.25em .6em}
th{background:#f2f2f2;text-align:left}.fail{color:#b00020;font-weight:bold}.pass{color:#1b7f3b}
.num{text-align:right}h2{margin-top:1.5em;border-bottom:1px solid #ddd}
.bar{display:inline-block;height:.8em;background:#b00020}.bar.ok{background:#1b7f3b}
footer{color:#777;font-size:.85em;margin-top:2em}
</style></head>
<body>
<h1>{{ w.title }} — {{ s.night }}</h1>
<table>{% for k, v in overview %}<tr><th>{{ k }}</th><td>{{ v }}</td></tr>{% endfor %}</table>

<h2>{{ w.classes_tonight }}</h2>
{% if s.classes %}<table><tr><th>{{ w.class }}</th><th>{{ w.institution }}</th>
<th>{{ w.outcome }}</th><th>{{ w.verdict }}</th><th>{{ w.errors }}</th><th>{{ w.warnings }}</th>
<th>{{ w.stat_year }}</th><th>{{ w.start_date }}</th><th>{{ w.codes }}</th></tr>
{% for c in s.classes %}<tr><td>{{ c.rel }}</td><td>{{ c.institution }}</td>
<td>{{ w[c.outcome] }}</td><td class="{{ c.verdict }}">{{ w[c.verdict] }}</td>
<td class="num">{{ c.errors }}</td><td class="num">{{ c.warnings }}</td>
<td>{{ c.stat_year or w.unknown }}</td><td>{{ c.start_date or '—' }}</td>
<td>{{ c.codes | join(' ') }}</td></tr>{% endfor %}</table>
{% else %}<p>{{ w.nothing }}</p>{% endif %}

{% if s.by_rule %}<h2>{{ w.by_rule }}</h2>
<table><tr><th>{{ w.code }}</th><th>{{ w.rule }}</th><th>{{ w.severity }}</th>
<th>{{ w.findings }}</th><th>{{ w.classes }}</th></tr>
{% for r in s.by_rule %}<tr><td>{{ r.code }}</td><td>{{ titles.get(r.code, '') }}</td>
<td>{{ r.severity }}</td><td class="num">{{ r.findings }}</td><td class="num">{{ r.classes }}</td>
</tr>{% endfor %}</table>{% endif %}

{% if s.by_institution %}<h2>{{ w.by_institution }}</h2>
<table><tr><th>{{ w.institution }}</th><th>{{ w.audited }}</th><th>{{ w.passed }}</th>
<th>{{ w.failed }}</th><th>{{ w.findings }}</th></tr>
{% for i in s.by_institution %}<tr><td>{{ i.institution }}</td><td class="num">{{ i.audited }}</td>
<td class="num">{{ i.passed }}</td><td class="num">{{ i.failed }}</td>
<td class="num">{{ i.codes }}</td></tr>{% endfor %}</table>{% endif %}

{% if s.waiting %}<h2>{{ w.waiting }}</h2>
<table><tr><th>{{ w.class }}</th><th>{{ w.outcome }}</th><th>{{ w.reason }}</th></tr>
{% for x in s.waiting %}<tr><td>{{ x.rel }}</td><td>{{ w[x.outcome] }}</td>
<td>{{ reason(x, lang) }}</td></tr>{% endfor %}</table>{% endif %}

{% if s.retention %}<h2>{{ w.retention }}</h2>
<table><tr><th>{{ w.class }}</th><th>{{ w.file }}</th><th>{{ w.message }}</th></tr>
{% for r in s.retention %}<tr><td>{{ r.rel }}</td><td>{{ r.path }}</td>
<td class="fail">{{ r.message }}</td></tr>{% endfor %}</table>{% endif %}

{% if s.unreadable %}<h2>{{ w.unreadable }}</h2>
<ul>{% for u in s.unreadable %}<li>{{ u }}</li>{% endfor %}</ul>{% endif %}

<h2>{{ w.by_year }}</h2>
<table><tr><th>{{ w.stat_year }}</th><th>{{ w.classes }}</th><th>{{ w.passed }}</th>
<th>{{ w.failed }}</th></tr>
{% for y in s.by_year %}<tr><td>{{ y.stat_year or w.unknown }}</td>
<td class="num">{{ y.classes }}</td><td class="num">{{ y.passed }}</td>
<td class="num">{{ y.failed }}</td></tr>{% endfor %}</table>

<h2>{{ w.trend }}</h2>
<table><tr><th>{{ w.night }}</th><th>{{ w.run }}</th><th>{{ w.audited }}</th><th>{{ w.passed }}</th>
<th>{{ w.failed }}</th><th>{{ w.pending }}</th><th>{{ w.findings }}</th><th>RT01</th><th></th></tr>
{% for n in s.trend %}<tr><td>{{ n.night }}</td><td>#{{ n.id }}</td>
<td class="num">{{ n.audited }}</td><td class="num">{{ n.passed }}</td>
<td class="num">{{ n.failed }}</td><td class="num">{{ n.pending }}</td>
<td class="num">{{ n.findings }}</td><td class="num">{{ n.rt01 }}</td>
<td><span class="bar ok" style="width:{{ n.passed * scale }}px"></span><span class="bar"
 style="width:{{ n.failed * scale }}px"></span></td></tr>{% endfor %}</table>
<footer>{{ w.generated }} {{ version }} · {{ s.run.root }}</footer>
</body></html>
"""

_ENV = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
_TEMPLATE = _ENV.from_string(_PAGE)


def render(
    s: NightSummary,
    lang: str,
    overview: list[tuple[str, Any]],
    reason: Callable[[dict[str, Any], str], str],
) -> str:
    """The page; OVERVIEW and REASON come from scan_summary so all renderers say the same."""
    from video_audit.scan.summary import TEXTS

    widest = max((n["audited"] for n in s.trend), default=0)
    return _TEMPLATE.render(
        s=s,
        w=TEXTS.get(lang, TEXTS["zh"]),
        lang=lang,
        overview=overview,
        reason=reason,
        titles={code: r.title[lang] for code, r in catalogue().items()},
        scale=200 / widest if widest else 0,
        version=__version__,
    )

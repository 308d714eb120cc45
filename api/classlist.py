"""Finding a class: the list's search, filters, sorting and pages, read from the query string.

The same parameters serve `GET /api/classes` and the /classes page (a plain GET form):
q, institution, verdict (pass/fail/running), uploaded_from/uploaded_to (YYYY-MM-DD), year (the
statistics year: the profile's [statistics] first_month, December counting toward the next
year), review=1, sort (uploaded/name/institution/errors), order (asc/desc), page, per_page.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from functools import cache
from typing import Any
from urllib.parse import urlencode

from fastapi import HTTPException

from api.auth import User
from video_audit.store.audits import SORTS, VERDICTS, ClassQuery

PER_PAGE = 50
MAX_PER_PAGE = 500
PARAMS = (
    "q",
    "institution",
    "verdict",
    "uploaded_from",
    "uploaded_to",
    "year",
    "review",
    "sort",
    "order",
    "per_page",
)


@cache
def first_month() -> int:
    """The month a statistics year starts in, from the service's audit standard."""
    from video_audit.settings import AuditSettings
    from video_audit.standard import load_profile

    section = load_profile(AuditSettings().standard).section("statistics")
    return int(section.get("first_month", 12))


def _bad(name: str, value: str) -> HTTPException:
    return HTTPException(400, f"查询参数 {name} 的值无效：{value[:40]} / invalid {name}")


def _int(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    value = (params.get(name) or "").strip()
    if not value:
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise _bad(name, value)
    return int(value)


def _date(params: Mapping[str, str], name: str) -> dt.date | None:
    value = (params.get(name) or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _bad(name, value) from None


def _choice(params: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = (params.get(name) or "").strip()
    if not value:
        return default
    if value not in allowed:
        raise _bad(name, value)
    return value


def class_query(params: Mapping[str, str], user: User) -> ClassQuery:
    """The list QUERY a request asks for; an institution account sees only its own classes,
    whatever it asks (400 for a value no form would send)."""
    year = (params.get("year") or "").strip()
    if year and not (year.isdigit() and 2000 <= int(year) <= 2100):
        raise _bad("year", year)
    return ClassQuery(
        visible=None if user.sees_all else user.institution or "\x00",
        q=(params.get("q") or "").strip()[:100],
        institution=(params.get("institution") or "").strip()[:200],
        verdict=_choice(params, "verdict", VERDICTS, ""),
        uploaded_from=_date(params, "uploaded_from"),
        uploaded_to=_date(params, "uploaded_to"),
        year=int(year) if year else None,
        first_month=first_month(),
        review=(params.get("review") or "") in ("1", "true", "on"),
        sort=_choice(params, "sort", tuple(SORTS), "uploaded"),
        order=_choice(params, "order", ("asc", "desc"), "desc"),
        page=_int(params, "page", 1, 1, 10**6),
        per_page=_int(params, "per_page", PER_PAGE, 1, MAX_PER_PAGE),
    )


def page_links(params: Mapping[str, str], query: ClassQuery, total: int) -> dict[str, Any]:
    """Page numbers and the query strings of the previous and next pages (filters kept)."""
    pages = max(1, math.ceil(total / query.per_page))
    kept = {k: params[k] for k in PARAMS if params.get(k)}

    def link(n: int) -> str:
        return "?" + urlencode({**kept, "page": str(n)})

    return {
        "page": query.page,
        "pages": pages,
        "total": total,
        "prev": link(query.page - 1) if query.page > 1 else None,
        "next": link(query.page + 1) if query.page < pages else None,
        "sort_links": {
            key: "?"
            + urlencode(
                {
                    **kept,
                    "sort": key,
                    "order": "asc" if query.sort == key and query.order == "desc" else "desc",
                }
            )
            for key in SORTS
        },
    }

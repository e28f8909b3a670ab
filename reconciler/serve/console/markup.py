"""HTML built so that every value is escaped: :func:`tag` escapes text and attributes unless
they are :class:`Html` (markup this module built). Pages never format raw strings into HTML."""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, urlencode

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2329;background:#f6f7f9}
header{background:#1d2939;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1.4rem;align-items:baseline}
header a{color:#cfe0ff;text-decoration:none}header strong{font-size:1.05rem}
main{padding:1rem 1.2rem;max-width:1200px}
table{border-collapse:collapse;background:#fff;margin:.4rem 0 1rem}
th,td{border:1px solid #d8dde3;padding:.25rem .5rem;text-align:left;vertical-align:top}
td:first-child a{white-space:nowrap}
th{background:#eef1f5}code,pre{font:12.5px/1.4 ui-monospace,monospace}
pre{background:#fff;border:1px solid #d8dde3;padding:.6rem;overflow-x:auto}
.ok{color:#137333}.bad{color:#b3261e}.warn{color:#8a5300}.muted{color:#69737d}
.created{color:#137333}.deleted{color:#b3261e}.configured{color:#8a5300}
"""


class Html(str):
    """Markup that is already safe to embed."""

    __slots__ = ()


def esc(value: object) -> Html:
    return value if isinstance(value, Html) else Html(html.escape(str(value), quote=True))


def join(parts: Iterable[object], sep: str = "") -> Html:
    return Html(esc(sep).join(esc(p) for p in parts))


VOID = frozenset({"br", "input", "meta"})


def tag(element: str, /, *children: object, **attrs: object) -> Html:
    """``<element attrs>children</element>``; ``class_`` is ``class``; None or False drops an attr."""
    attributes = "".join(
        f' {key.rstrip("_").replace("_", "-")}="{esc(value)}"'
        for key, value in attrs.items()
        if value is not None and value is not False
    )
    if element in VOID:
        return Html(f"<{element}{attributes}>")
    return Html(f"<{element}{attributes}>{join(children)}</{element}>")


def link(href: str, text: object) -> Html:
    return tag("a", text, href=href)


def path(*segments: str) -> str:
    """A console URL; each segment percent-encoded (names may hold any character)."""
    return "/console/" + "/".join(quote(s, safe="") for s in segments)


def table(headers: Iterable[object], rows: Iterable[Iterable[object]], **attrs: object) -> Html:
    head = tag("tr", *(tag("th", h) for h in headers))
    body = [tag("tr", *(tag("td", cell) for cell in row)) for row in rows]
    return tag("table", tag("thead", head), tag("tbody", *body), **attrs)


def fields(rows: Iterable[tuple[object, object]], **attrs: object) -> Html:
    """A two-column table of labelled values (no header row)."""
    body = [tag("tr", tag("th", label), tag("td", value)) for label, value in rows]
    return tag("table", tag("tbody", *body), **attrs)


def pre_json(value: Any) -> Html:
    return tag("pre", json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False))


def short(sha: str | None) -> str:
    return sha[:12] if sha else "-"


NAV = (("revisions", "Revisions"), ("proxies", "Proxies"), ("policies", "Policies"))


def page(title: str, *body: object) -> str:
    nav = [tag("strong", "reconciler console")]
    nav += [link(path(target), label) for target, label in NAV]
    return (
        "<!doctype html>\n"
        + tag(
            "html",
            tag(
                "head",
                Html('<meta charset="utf-8">'),
                tag("title", f"{title} - reconciler"),
                tag("style", Html(CSS)),
            ),
            tag("body", tag("header", *nav), tag("main", tag("h1", title), *body)),
            lang="en",
        )
        + "\n"
    )


PAGE_SIZE = 200
"""Rows per page of the long lists (a browser lays out 200 rows in tens of milliseconds)."""


def paged(rows: list[Any], page_number: int) -> tuple[list[Any], int, int]:
    """``(rows of that page, the page shown, the number of pages)``; out of range: the last."""
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    shown = min(max(1, page_number), pages)
    return rows[(shown - 1) * PAGE_SIZE : shown * PAGE_SIZE], shown, pages


def search_form(target: str, query: str, placeholder: str) -> Html:
    """A GET filter (read-only: the query only narrows the list)."""
    return tag(
        "form",
        tag("input", type="search", name="q", value=query, placeholder=placeholder, size="40"),
        " ",
        tag("button", "Filter", type="submit"),
        method="get",
        action=target,
    )


def pager(target: str, query: str, shown: int, pages: int, total: int) -> Html:
    def href(number: int) -> str:
        return f"{target}?{urlencode({'q': query, 'page': number} if query else {'page': number})}"

    first = (shown - 1) * PAGE_SIZE + 1 if total else 0
    parts: list[object] = [
        f"{first}-{min(shown * PAGE_SIZE, total)} of {total}, page {shown} of {pages}"
    ]
    if shown > 1:
        parts += [" ", link(href(shown - 1), "previous")]
    if shown < pages:
        parts += [" ", link(href(shown + 1), "next")]
    return tag("p", *parts, class_="pager")

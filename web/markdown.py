"""README Markdown to safe HTML: markdown-it-py renders, nh3 sanitises.

Raw HTML in the Markdown is escaped by markdown-it (``html=False``), and its
link validator already drops ``javascript:``/``vbscript:``/``data:`` URLs;
nh3 then enforces an allow-list of tags, attributes and URL schemes on the
output, so nothing a designer writes can run script in a visitor's browser.
READMEs of released versions never change, so rendered HTML is cached by
content.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table").enable(
    "strikethrough")

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i",
    "img", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"class"},
    "td": {"class"},
    "ol": {"start"},
    "code": {"class"},
}
URL_SCHEMES = {"http", "https", "mailto"}


def _shift_headings(html: str) -> str:
    # The page's own <h1> is the design title; README headings sit below it.
    for level in range(5, 0, -1):
        html = html.replace(f"<h{level}>", f"<h{level + 1}>").replace(f"</h{level}>", f"</h{level + 1}>")
    return html


#: markdown-it aligns table cells with inline styles, which the pages' CSP refuses: use classes.
_ALIGN = re.compile(r'<(th|td) style="text-align:(left|center|right)">')


@lru_cache(maxsize=2048)
def _render_cached(_digest: str, text: str) -> str:
    html = _ALIGN.sub(r'<\1 class="align-\2">', _shift_headings(_md.render(text)))
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel="noopener noreferrer nofollow", strip_comments=True)


def render_markdown(text: str) -> Markup:
    """Sanitised HTML for *text*, safe to put in a page."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Markup(_render_cached(digest, text))

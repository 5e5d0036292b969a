"""Template filters and globals."""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from urllib.parse import quote_plus

from flask import Flask, current_app, request, url_for

from .markdown import render_markdown


def filesize(n: int | None) -> str:
    if n is None:
        return ""
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{int(size)} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} bytes"


def date(value: datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value[:10]
    return value.strftime("%Y-%m-%d")


def number(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_quote = lru_cache(maxsize=8192)(quote_plus)  # facet names and values repeat on every result page


def _encoded(key: str, values: list[str]) -> str:
    name = _quote(key)
    return "&".join(f"{name}={_quote(v)}" for v in values)


def url_with(**changes) -> str:
    """The current URL with some query arguments changed (None removes one)."""
    # A search page asks for one per facet value: the request's own arguments are encoded once.
    args = request.environ.get("opendesign.url_with")
    if args is None:
        args = request.environ["opendesign.url_with"] = {
            key: _encoded(key, values) for key, values in request.args.to_dict(flat=False).items()}
    args = dict(args)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = _encoded(key, [str(value)])
    query = "&".join(part for part in args.values() if part)
    return f"{request.path}?{query}" if query else request.path


#: Path segments that ``url_for`` writes as they are (no percent-escapes).
_PLAIN_SEGMENT = re.compile(r"[A-Za-z0-9._~-]+\Z")


def _card_patterns() -> tuple[str, str, str]:
    """The card links as ``str.format`` patterns, made with ``url_for`` once per app and script root."""
    memo = current_app.extensions.setdefault("opendesign.card_url_patterns", {})
    patterns = memo.get(request.script_root)
    if patterns is None:
        def pattern(url: str) -> str:
            url = url.replace("{", "{{").replace("}", "}}")
            return url.replace("XSLUGX", "{slug}").replace("XVERSIONX", "{version}").replace("XLICENSEX", "{license}")

        patterns = memo[request.script_root] = (
            pattern(url_for("designs.version_page", slug="XSLUGX", version="XVERSIONX")),
            pattern(url_for("designs.download", slug="XSLUGX", version="XVERSIONX", name="model.svg")),
            pattern(url_for("licenses.show", license_id="XLICENSEX")))
    return patterns


def card_urls(slug: str, version: str, license: str) -> tuple[str, str, str]:
    """The page, thumbnail and license links of a design card.

    A result page has dozens of them and ``url_for`` was a quarter of its
    rendering, so plain slugs, versions and license ids are put into
    patterns ``url_for`` made once; anything else goes through ``url_for``.
    """
    license_id = license.split(" ")[0]
    if not (_PLAIN_SEGMENT.match(slug) and _PLAIN_SEGMENT.match(version) and _PLAIN_SEGMENT.match(license_id)):
        return (url_for("designs.version_page", slug=slug, version=version),
                url_for("designs.download", slug=slug, version=version, name="model.svg"),
                url_for("licenses.show", license_id=license_id))
    page, thumb, lic = _card_patterns()
    return (page.format(slug=slug, version=version), thumb.format(slug=slug, version=version),
            lic.format(license=license_id))


def init_app(app: Flask) -> None:
    app.add_template_filter(render_markdown, "markdown")
    app.add_template_filter(filesize)
    app.add_template_filter(date)
    app.add_template_filter(number)
    app.add_template_global(url_with)
    app.add_template_global(card_urls)

"""Template helpers: the fast card links and ``url_with`` give exactly what ``url_for`` / ``urlencode`` give."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from flask import request, url_for

from tests.web_support import *  # noqa: F403
from web.filters import card_urls, url_with

CARDS = [("solar-dryer-rack", "1.0.0", "CERN-OHL-S-2.0"), ("a", "2.1.0-rc.1", "CC0-1.0 AND CC-BY-4.0"),
         ("x_y~z", "1.0.0+build.5", "MIT"), ("é{x}", "1/2", "A%B"), ("XSLUGX", "XVERSIONX", "XLICENSEX")]


@pytest.mark.parametrize("script_root", ["", "/catalogue"])
def test_card_urls_equal_url_for(app, script_root):
    with app.test_request_context("/search", environ_overrides={"SCRIPT_NAME": script_root}):
        for slug, version, license in CARDS:
            assert card_urls(slug, version, license) == (
                url_for("designs.version_page", slug=slug, version=version),
                url_for("designs.download", slug=slug, version=version, name="model.svg"),
                url_for("licenses.show", license_id=license.split(" ")[0]))
            assert card_urls(slug, version, license)[0].startswith(f"{script_root}/designs/")


def _url_with_reference(**changes) -> str:
    args = request.args.to_dict(flat=False)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = [str(value)]
    query = urlencode(args, doseq=True)
    return f"{request.path}?{query}" if query else request.path


@pytest.mark.parametrize("url", ["/search", "/search?q=a+b&category=energy&category=wa%20ter&page=3",
                                 "/search?q=&page=2", "/search?q=%C3%A9t%C3%A9&sort=newest&x=1&x=&license=CC-BY-4.0"])
def test_url_with_equals_urlencode(app, url):
    changes = [{"page": None}, {"q": "sol ar", "page": None}, {"category": None, "page": None},
               {"category": "food & ag", "page": None}, {"page": 4}, {"new": "é/&"}]
    with app.test_request_context(url):
        for change in changes:
            assert url_with(**change) == _url_with_reference(**change)

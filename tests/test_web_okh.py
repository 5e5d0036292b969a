"""The design page of a design taken in from an OKH manifest shows its OKH facts and unmapped fields."""

from __future__ import annotations

import html

from opendesign.okh.importer import import_manifests
from tests.web_support import *  # noqa: F401,F403

from .okh_fixtures import write_losh_messy


def test_design_page_shows_okh_facts_and_fields_kept_as_written(client, db, tmp_path):
    write_losh_messy(tmp_path)
    assert import_manifests(db, [tmp_path]).ok
    page = client.get("/designs/solar-cooker-reflector-hinge")
    assert page.status_code == 200
    text = html.unescape(page.get_data(as_text=True))
    assert "Open Know-How manifest" in text
    assert "Taken in from okh.toml (OKH-LOSH)." in text.replace("<code>", "").replace("</code>", "")
    assert '<td>technology-readiness-level</td><td>"OTRL-5"</td>' in text
    assert '<td>paint-colour</td><td>"black"</td>' in text
    assert '<td>cpc-patent-class</td><td>"F24S"</td>' in text


def test_seed_design_page_has_no_okh_section(client, db, make_design):
    make_design("plain-widget")
    from opendesign.catalogue.importer import import_designs

    import_designs(db, [make_design.root])
    page = client.get("/designs/plain-widget").get_data(as_text=True)
    assert "Open Know-How manifest" not in page

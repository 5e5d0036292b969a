"""Design pages: content, README sanitising, the parameter form and its errors, lineage, makers, licenses."""

from __future__ import annotations

import re

import pytest

from tests.web_support import *  # noqa: F403

HOSTILE_README = """# Widget

Normal **text** and a [good link](https://example.org).

<script>alert('readme')</script>

[click me](javascript:alert('link'))

<img src="x" onerror="alert('img')">

![pic](x.png "t")
"""


@pytest.fixture
def widget(db, make_design):
    import_folder_paths(db, make_design("widget", readme=HOSTILE_README))
    return "widget"


def test_design_page_shows_the_manifest(client, widget):
    r = client.get("/designs/widget")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "<h1>Test widget widget</h1>" in html
    assert "A small parametric test part used by the test suite." in html
    assert "Test Collective" in html
    assert 'href="/licenses/CERN-OHL-S-2.0">CERN-OHL-S-2.0</a>' in html
    assert "Release modified versions under CERN-OHL-S-2.0" in html  # obligations in plain words
    assert '<table class="striped stack" id="bom">' in html and "M3 screw" in html
    assert 'name="width"' in html and 'min="5"' in html and 'max="100"' in html and 'step="0.5"' in html
    assert '<select id="p-finish" name="finish"' in html
    assert 'type="checkbox" role="switch" id="p-rounded" name="rounded" value="true" checked' in html
    assert "<strong>1.0.0</strong>" in html  # versions list


def test_readme_is_sanitised(client, widget):
    html = client.get("/designs/widget/1.0.0").get_data(as_text=True)
    readme = html.split('aria-label="README"', 1)[1].split("</section>", 1)[0]
    assert "<strong>text</strong>" in readme
    assert '<a href="https://example.org" rel="noopener noreferrer nofollow">good link</a>' in readme
    assert "<script" not in readme
    assert not re.search(r"href=\"\s*javascript:", readme, re.I)  # the link is left as inert text
    assert not re.search(r"<img[^>]*onerror", readme)  # the tag is escaped text, not an element
    assert "&lt;img src=" in readme
    assert "&lt;script&gt;" in readme  # shown as text, never run


@pytest.mark.parametrize("markdown, forbidden", [
    ("<script>alert(1)</script>", "<script"),
    ("[x](javascript:alert(1))", 'href="javascript'),
    ("[x](JaVaScRiPt:alert(1))", 'href="javascript'),
    ('<img src=x onerror="alert(1)">', "<img src=\"x\" onerror"),
    ('<a href="javascript:alert(1)">x</a>', '<a href="javascript'),
    ("![x](javascript:alert(1))", 'src="javascript'),
])
def test_markdown_neutralises(markdown, forbidden):
    from web.markdown import render_markdown

    html = str(render_markdown(markdown))
    assert forbidden.lower() not in html.lower()


def test_non_numeric_parameter_is_422_with_the_field_named(client, widget):
    r = client.get("/designs/widget/1.0.0?width=abc")
    assert r.status_code == 422
    assert "Width: must be a number, got &#39;abc&#39;" in r.get_data(as_text=True)


def test_out_of_range_parameter_is_422_with_the_field_named(client, widget):
    r = client.get("/designs/widget/1.0.0?width=500&holes=2")
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Width: must be between 5 and 100 mm, got 500" in html
    assert 'aria-invalid="true" aria-describedby="p-width-err"' in html


@pytest.mark.parametrize("query, field, message", [
    ("width=abc", "width", "must be a number, got 'abc'"),
    ("width=1e400", "width", "must be a finite number"),
    ("width=nan", "width", "must be a number, got 'nan'"),
    ("width=4", "width", "must be between 5 and 100 mm, got 4"),
    ("width=20.25", "width", "must be a multiple of 0.5 mm from 5, got 20.25"),
    ("holes=2.5", "holes", "must be a whole number, got '2.5'"),
    ("holes=7", "holes", "must be between 0 and 6, got 7"),
    ("rounded=maybe", "rounded", "must be true or false, got 'maybe'"),
    ("finish=shiny", "finish", "must be one of matte, gloss, got 'shiny'"),
    ("colour=red", "colour", "unknown parameter"),
])
def test_render_api_refuses_bad_parameters(client, widget, query, field, message):
    r = client.get(f"/api/v1/designs/widget/render?format=stl&{query}")
    assert r.status_code == 422
    assert r.json["error"]["fields"] == {field: [message]}
    assert r.json["error"]["message"] == f"invalid parameters: {field}: {message}"


def test_render_api_refuses_bad_format_and_quality(client, widget):
    r = client.get("/api/v1/designs/widget/render?format=exe&quality=ultra")
    assert r.status_code == 422
    assert r.json["error"]["fields"] == {"format": ["must be one of stl, 3mf, step, glb, svg"],
                                         "quality": ["must be one of draft, normal, fine"]}


def test_valid_parameters_keep_their_values_in_the_form(client, widget):
    html = client.get("/designs/widget/1.0.0?width=30&holes=3&rounded=false&finish=gloss").get_data(as_text=True)
    assert 'name="width" value="30"' in html
    assert 'id="p-rounded" name="rounded" value="true" >' in html or 'value="true" checked' not in html
    assert '<option value="gloss" selected>' in html
    assert "Permalink" in html


def test_lineage_graph_links_ancestors_and_descendants(client, db, make_design):
    import_folder_paths(db, make_design("base-part"))
    import_folder_paths(db, make_design("child-part", derived_from=["base-part@1.0.0"]))
    html = client.get("/designs/base-part").get_data(as_text=True)
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="lineage"' in html
    assert '<a href="/designs/child-part/1.0.0" class="node">' in html
    assert '<a href="/designs/base-part/1.0.0" class="node current">' in html
    child = client.get("/designs/child-part").get_data(as_text=True)
    assert '<a href="/designs/base-part/1.0.0" class="node">' in child
    assert "generation 1" in child  # attribution chain names the parent
    svg = client.get("/designs/child-part/1.0.0/lineage.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"


def test_api_design_versions_and_lineage(client, db, make_design):
    import_folder_paths(db, make_design("base-part"))
    import_folder_paths(db, make_design("child-part", derived_from=["base-part@1.0.0"]))
    r = client.get("/api/v1/designs/child-part")
    assert r.status_code == 200 and r.json["derived_from"] == ["base-part@1.0.0"]
    assert client.get("/api/v1/designs/base-part/versions").json["versions"][0]["version"] == "1.0.0"
    lineage = client.get("/api/v1/designs/base-part/lineage").json
    assert lineage["descendants"] == ["child-part@1.0.0"]
    assert {"parent": "base-part@1.0.0", "child": "child-part@1.0.0"} in lineage["edges"]
    listing = client.get("/api/v1/designs?per_page=1&page=2").json
    assert listing["total"] == 2 and [d["slug"] for d in listing["designs"]] == ["child-part"]
    assert client.get("/api/v1/designs?page=x").status_code == 422


def test_license_pages(client, widget):
    r = client.get("/licenses/CERN-OHL-S-2.0")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "Test widget widget" in html
    assert client.get("/licenses/NOT-A-LICENSE").status_code == 404
    assert any(lic["id"] == "CC0-1.0" for lic in client.get("/api/v1/licenses").json["licenses"])


def test_makers_pages_without_makers(client):
    assert client.get("/makers").status_code == 200
    assert client.get("/makers/nobody").status_code == 404
    assert client.get("/api/v1/makers").json == {"makers": []}
    assert client.get("/api/v1/makers/nobody").status_code == 404


def test_home_and_search(client, db, make_design):
    import_folder_paths(db, make_design("solar-widget", title="Solar widget bracket"))
    home = client.get("/").get_data(as_text=True)
    assert "Solar widget bracket" in home and "tools fabrication" in home
    r = client.get("/search?q=solar")
    assert r.status_code == 200 and "Solar widget bracket" in r.get_data(as_text=True)
    api = client.get("/api/v1/search?q=solar").json
    assert api["total"] == 1 and api["hits"][0]["slug"] == "solar-widget"
    # Whatever a person types, the search page answers.
    for q in ("NOT OR foo", "((((((", "title:[a TO", "*", "\x00", "x" * 5000):
        assert client.get("/search", query_string={"q": q}).status_code == 200
